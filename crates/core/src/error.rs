//! The one error shape that crosses every boundary: `{code, message, fields?}`.
//!
//! The UI translates `code` (and each field's `rule`); it never parses `message`, which is
//! English text meant for logs and the CLI.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable, small set of error codes. Serialised kebab-case on the wire and in CLI JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum ErrorCode {
    /// Input failed validation; see `fields`.
    Invalid,
    /// The case's state does not allow this step.
    IllegalTransition,
    /// Four-eyes (maker-checker): the authorizer did one of the teller steps on this case.
    FourEyes,
    /// The actor's role may not perform this action.
    Forbidden,
    /// Wrong staff id or password.
    AuthFailed,
    /// The account is locked after too many failed sign-ins; an admin must unlock it.
    AccountLocked,
    /// The account is disabled.
    AccountDisabled,
    /// The account must change its password before doing anything else.
    PasswordChangeRequired,
    /// The session is locked (idle) or signed out.
    SessionLocked,
    /// Something that should exist does not.
    NotFound,
    /// Someone else changed the record first (optimistic concurrency), e.g. "already decided".
    Conflict,
    /// A court- or police-ordered freeze: the counter can never lift it.
    AuthorityFreeze,
    /// The store is not set up yet (no branch).
    NotSetUp,
    /// The store already holds data where an empty one is required.
    AlreadySetUp,
    /// Storage or IO failure.
    Storage,
    /// Rendering a document failed.
    Render,
    /// The store (or, for a terminal, the branch server) cannot be reached now; nothing was
    /// recorded, or the step's outcome is learnt by retrying it with the same idempotency key.
    /// HTTP 503.
    Unavailable,
    /// No session token, or one that is unknown, revoked or idle past the branch's idle
    /// minutes: sign in again. HTTP 401.
    SessionExpired,
    /// Too many failed sign-ins from one client in a short time: wait and try again. HTTP 429.
    TooManyRequests,
    /// The request came from a host that is not an enrolled terminal of the branch server (or
    /// from a revoked one). HTTP 403.
    TerminalNotEnrolled,
    /// The branch server and this client differ in their major version. HTTP 400 / refused by
    /// the client.
    VersionMismatch,
    /// The request body is larger than the route accepts. HTTP 413.
    TooLarge,
    /// The branch server showed a TLS certificate whose SHA-256 fingerprint is not the one this
    /// terminal pinned at enrolment: it may not be the branch's server. Raised by the client
    /// only (never an HTTP answer); the terminal stops until an administrator settles it.
    CertificateMismatch,
    /// The wallet operator's connector cannot be reached now (it timed out, failed, or its
    /// circuit breaker is open after repeated failures): nothing was decided; try again
    /// later or take the manual path. HTTP 503.
    OperatorUnavailable,
    /// Anything else; a bug.
    Internal,
}

/// One failed rule on one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FieldError {
    /// The field's name as the UI and CLI know it (snake_case, dotted for nested:
    /// `customer.phone`).
    pub field: String,
    /// Stable rule id (kebab-case), e.g. `required`, `check-digit`, `length`.
    pub rule: String,
    /// English explanation for logs and the CLI.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

/// The error every use case returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error, TS)]
#[error("{code:?}: {message}")]
#[ts(export)]
pub struct CoreError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<FieldError>>", optional)]
    pub fields: Vec<FieldError>,
}

impl CoreError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }
    /// Validation failure carrying every failed field rule.
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: ErrorCode::Invalid,
            message,
            fields,
        }
    }
    pub fn field(field: &str, rule: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, rule, message)])
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, format!("not found: {}", what.into()))
    }
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Storage, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
