//! Errors on the wire: `{code, message, fields}` (the core's [`CoreError`]) with an HTTP
//! status chosen from its code. No request gets a 5xx other than 503: a store that cannot be
//! reached, a storage fault, a rendering fault and an internal error all answer 503 (the
//! client may retry a step with the same idempotency key and learn its outcome).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use unlockdesk_core::{CoreError, ErrorCode};

/// A refused request: the core error and, rarely, a status other than its code's.
#[derive(Debug)]
pub struct ApiError {
    pub error: CoreError,
    pub status: Option<StatusCode>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        ApiError {
            error,
            status: None,
        }
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CoreError::new(code, message).into()
    }
    /// 400 with one field and rule.
    pub fn field(field: &str, rule: &str, message: impl Into<String>) -> Self {
        CoreError::field(field, rule, message).into()
    }
    pub fn with_status(mut self, s: StatusCode) -> Self {
        self.status = Some(s);
        self
    }
}

/// The HTTP status of a core error code.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        Invalid | VersionMismatch => StatusCode::BAD_REQUEST,
        SessionExpired | SessionLocked => StatusCode::UNAUTHORIZED,
        // The request was authenticated; the credentials it carries for a sign-in or a
        // supervisor's authorization were not (the sign-in route answers 401 itself).
        AuthFailed
        | FourEyes
        | Forbidden
        | AccountLocked
        | AccountDisabled
        | PasswordChangeRequired
        | TerminalNotEnrolled => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        IllegalTransition | Conflict | AuthorityFreeze | NotSetUp | AlreadySetUp => {
            StatusCode::CONFLICT
        }
        TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Unavailable | Storage | Render | Internal => StatusCode::SERVICE_UNAVAILABLE,
        // The wallet operator's connector, not the branch server, is down; its words are kept.
        OperatorUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        // Raised by the client only; a server never meets it.
        CertificateMismatch => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(mut self) -> Response {
        let status = self.status.unwrap_or_else(|| status_of(self.error.code));
        use ErrorCode::*;
        if matches!(self.error.code, Unavailable | Storage | Render | Internal) {
            // The detail (database host, port, name, driver text) is for the server's log, not
            // for every client.
            tracing::warn!(code = ?self.error.code, detail = %self.error.message, "answered 503");
            if !self.error.message.starts_with("the branch server is busy") {
                self.error.message = match self.error.code {
                    Unavailable => "the branch server cannot reach its database now; nothing was recorded, or a step sent again with the same idempotency key is applied at most once: try again".into(),
                    Render => "the branch server could not render the document; see its log".into(),
                    _ => "the branch server could not complete the request; see its log".into(),
                };
            }
        }
        (status, axum::Json(self.error)).into_response()
    }
}
