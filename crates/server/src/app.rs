//! The HTTP surface: routes under `/api/v1/`, the session check that runs before anything
//! else, the caller's terminal, the version header, the browser refusal, body limits and the
//! sign-in flood limit. Every use case runs on the blocking pool against the local service.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State,
};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::Semaphore;
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::CaseQuery;
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::*;

use crate::backend::Backend;
use crate::error::{ApiError, ApiResult};

/// The server's version, sent in [`VERSION_HEADER`] on every response.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Response (and request) header naming the software version.
pub const VERSION_HEADER: &str = "x-unlockdesk-version";
/// Request header of an enrolled terminal: `<terminal id>:<secret>`.
pub const TERMINAL_HEADER: &str = "x-unlockdesk-terminal";
/// Request header naming a loopback client (`cli:<user>`, `desk:<host>`): its sessions are
/// bound to `local:<name>`.
pub const TERMINAL_NAME_HEADER: &str = "x-unlockdesk-terminal-name";
/// The body limit of every route but the uploads (bytes).
pub const BODY_LIMIT: usize = 1 << 20;
/// The body limit of a signed form's scan (bytes): core's limit, which answers the field error.
pub const SCAN_LIMIT: usize = unlockdesk_core::service::MAX_SCAN_BYTES + 1024;
/// The body limit of an appointment file import (bytes).
pub const IMPORT_LIMIT: usize = 16 << 20;
/// Failed sign-ins from one client address within [`FLOOD_WINDOW`] before 429.
pub const FLOOD_FAILURES: usize = 20;
/// Overrides [`FLOOD_FAILURES`] (a positive number): for a branch whose counters all share one
/// address, and for the API fuzzer, whose generated wrong passwords are not an attack.
pub const FLOOD_ENV: &str = "UNLOCKDESK_FLOOD_FAILURES";
pub const FLOOD_WINDOW: Duration = Duration::from_secs(60);
/// How long a request waits for the password gate before 503.
pub const GATE_WAIT: Duration = Duration::from_secs(10);

/// Shared by every request.
pub struct AppState {
    pub svc: Arc<dyn Backend>,
    /// Password hashing (argon2, ~12 ms of one core) at most [`password_permits`] at once, so
    /// a burst of sign-ins or approvals never starves the steps of the other counters.
    pub password_gate: Arc<Semaphore>,
    /// PDF renders (prints and exports): as many at once as the renderer runs, taken before a
    /// blocking thread is, so waiting prints never hold the blocking pool the other steps need.
    pub render_gate: Arc<Semaphore>,
    /// Failed sign-ins per client address (this process only: a flood is answered by the
    /// server it hits; lockout itself is in the store).
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    /// The last store probe of `/health` and when: one probe at a time, reused for
    /// [`HEALTH_CACHE`], so a flood of health checks never ties up the blocking pool.
    health: tokio::sync::Mutex<Option<(Instant, &'static str)>>,
    /// Failed checks per address per [`FLOOD_WINDOW`] before 429.
    flood_failures: usize,
    /// The follower of the audit trail feeding the live event streams.
    pub hub: Arc<crate::events::Hub>,
    /// Set when the server drains (SIGTERM): the event streams end.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// How many password checks the server runs at once on a machine of `cores` cores: half of
/// them, at least one, so the other half always serves the steps that need no password (the
/// case steps, prints, reads). Measured on 2 cores with the load bench (`benches/load.rs`,
/// docs/server-benchmarks.md, 2026-12-08), one check at a time instead of two: at saturation
/// the other steps answered in p50 5 ms instead of 13 (p99 14 instead of 34) for the same
/// capacity (439-460 against 445-485 steps/s); at 250 steps/s a print's p99 was 4-45 % lower
/// and the peak RSS 8 MiB lower (one argon2 buffer fewer); the approvals queue longer only at
/// saturation.
pub fn password_permits(cores: usize) -> usize {
    (cores / 2).max(1)
}

/// How long one store probe answers `/health`.
pub const HEALTH_CACHE: Duration = Duration::from_secs(2);

impl AppState {
    pub fn new(svc: Arc<dyn Backend>) -> Arc<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (stopping, stop_rx) = tokio::sync::watch::channel(false);
        let hub = crate::events::Hub::start(&svc, stop_rx);
        Arc::new(AppState {
            hub,
            stopping,
            svc,
            password_gate: Arc::new(Semaphore::new(password_permits(cores))),
            render_gate: Arc::new(Semaphore::new(unlockdesk_forms::MAX_CONCURRENT_RENDERS)),
            failures: Mutex::new(HashMap::new()),
            health: tokio::sync::Mutex::new(None),
            flood_failures: std::env::var(FLOOD_ENV)
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or(FLOOD_FAILURES),
        })
    }

    /// The server drains: end every event stream (they would hold the graceful shutdown).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// True when `ip` may try a password now: fewer than [`FLOOD_FAILURES`] failed checks
    /// within [`FLOOD_WINDOW`]. Only completed failures count, so many terminals behind one
    /// address signing in correctly at once never meet 429; attempts in flight are bounded by
    /// the password gate instead.
    fn admit(&self, ip: IpAddr) -> bool {
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if m.len() > 10_000 {
            // Bounded memory under a spray of addresses: forget the quiet ones.
            m.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) <= FLOOD_WINDOW)
            });
        }
        let q = m.entry(ip).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) > FLOOD_WINDOW)
        {
            q.pop_front();
        }
        q.len() < self.flood_failures
    }

    /// A password check (or an enrolment code) from `ip` failed.
    fn failed(&self, ip: IpAddr) {
        let mut m = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(ip).or_default().push_back(Instant::now());
    }
}

type St = Arc<AppState>;

/// The signed-in caller of a request, put in place by [`require_session`].
#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub token: String,
}

/// Run a use case on the blocking pool.
async fn run<T: Send + 'static>(
    st: &St,
    f: impl FnOnce(&dyn Backend) -> CoreResult<T> + Send + 'static,
) -> ApiResult<T> {
    let svc = st.svc.clone();
    tokio::task::spawn_blocking(move || f(svc.as_ref()))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "the request was interrupted"))?
        .map_err(ApiError::from)
}

/// [`run`] for a use case that checks a password: waits for the password gate first (at most
/// [`GATE_WAIT`]; then 503), and holds it until the hash is done even if the client has gone.
async fn run_pw<T: Send + 'static>(
    st: &St,
    f: impl FnOnce(&dyn Backend) -> CoreResult<T> + Send + 'static,
) -> ApiResult<T> {
    let busy = "the branch server is busy checking passwords: try again in a moment";
    run_gated(st, &st.password_gate, busy, f).await
}

/// [`run`] for a use case that renders a PDF: waits for the render gate first (at most
/// [`GATE_WAIT`]; then 503), on the async side, so prints queued behind a slow render (the
/// first rare character parses a complete font face) never occupy the blocking threads.
async fn run_render<T: Send + 'static>(
    st: &St,
    f: impl FnOnce(&dyn Backend) -> CoreResult<T> + Send + 'static,
) -> ApiResult<T> {
    let busy = "the branch server is busy printing: try again in a moment";
    run_gated(st, &st.render_gate, busy, f).await
}

/// Take a permit of `gate` (at most [`GATE_WAIT`], else 503 with `busy`), then run `f` on the
/// blocking pool holding it until `f` returns, even if the client has gone.
async fn run_gated<T: Send + 'static>(
    st: &St,
    gate: &Arc<Semaphore>,
    busy: &'static str,
    f: impl FnOnce(&dyn Backend) -> CoreResult<T> + Send + 'static,
) -> ApiResult<T> {
    let busy = || ApiError::new(ErrorCode::Unavailable, busy);
    let permit = tokio::time::timeout(GATE_WAIT, gate.clone().acquire_owned())
        .await
        .map_err(|_| busy())?
        .map_err(|_| busy())?;
    run(st, move |svc| {
        let r = f(svc);
        drop(permit);
        r
    })
    .await
}

/// [`run_pw`] for a use case that checks someone's password given in the request (a
/// supervisor's authorization, a co-check, an own password change): its failures count
/// toward the same per-address flood limit as failed sign-ins, so a terminal cannot try
/// passwords faster through a case step than through sign-in. Lockout after the branch's
/// failed attempts is the store's, exactly as on a single terminal.
async fn run_credential<T: Send + 'static>(
    st: &St,
    ip: IpAddr,
    f: impl FnOnce(&dyn Backend) -> CoreResult<T> + Send + 'static,
) -> ApiResult<T> {
    if !st.admit(ip) {
        return Err(ApiError::new(
            ErrorCode::TooManyRequests,
            "too many failed password checks from this address: wait a minute and try again",
        ));
    }
    let r = run_pw(st, f).await;
    let wrong = matches!(&r, Err(e) if matches!(e.error.code,
        ErrorCode::AuthFailed | ErrorCode::AccountLocked | ErrorCode::AccountDisabled));
    if wrong {
        st.failed(ip);
    }
    r
}

// ------------------------------------------------------------------ extractors

/// A JSON body: a malformed one is 400 naming the field (serde's path), an oversized one 413.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Refused from the announced length at once, before a byte of the body is read.
        if announced(req.headers()).is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(too_large());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(JsonBody)
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "body".to_string()
        } else {
            path
        };
        let inner = e.into_inner();
        let rule = if inner.is_syntax() || inner.is_eof() {
            "json"
        } else {
            "type"
        };
        ApiError::field(
            &field,
            rule,
            format!("the request body is not valid: {inner}"),
        )
    })
}

/// The body length a request announces (`Content-Length`), if any.
fn announced(h: &HeaderMap) -> Option<u64> {
    h.get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::TooLarge,
        "the request body is larger than this route accepts",
    )
}

fn body_rejection(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        ApiError::field("body", "read", "the request body could not be read")
    }
}

/// The `Idempotency-Key` header: 1-128 visible ASCII characters, or absent.
pub struct Idem(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Idem {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get("idempotency-key") {
            None => Ok(Idem(None)),
            Some(v) => {
                let s = v.to_str().unwrap_or("");
                if s.is_empty() || s.len() > 128 || !s.bytes().all(|b| b.is_ascii_graphic()) {
                    Err(ApiError::field(
                        "Idempotency-Key",
                        "format",
                        "the Idempotency-Key header is 1-128 visible ASCII characters",
                    ))
                } else {
                    Ok(Idem(Some(s.to_string())))
                }
            }
        }
    }
}

/// A path parameter: one that is not valid UTF-8 (or missing) is 400 with the field named,
/// in the error shape of every other refusal.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(P(v)),
            Err(e) => Err(ApiError::field(
                "path",
                "format",
                format!("a path parameter is not valid: {}", e.body_text()),
            )),
        }
    }
}

fn case_id(s: &str) -> ApiResult<CaseId> {
    CaseId::parse(s).map_err(ApiError::from)
}

fn q(params: &HashMap<String, String>, name: &str) -> ApiResult<String> {
    params.get(name).cloned().ok_or_else(|| {
        ApiError::field(
            name,
            "required",
            format!("the query parameter '{name}' is required"),
        )
    })
}

// ------------------------------------------------------------------ middleware

/// Routes answered without a session token.
fn is_open(method: &Method, path: &str) -> bool {
    matches!(
        (method.as_str(), path),
        ("GET", "/api/v1/health")
            | ("GET", "/api/v1/openapi.json")
            | ("POST", "/api/v1/sessions")
            | ("POST", "/api/v1/terminals/enrol")
    )
}

/// The terminal a request comes from: an enrolled terminal's id (its header checked against
/// the store), or `local:<name>` for a client on the loopback address without one. Errors:
/// `terminal-not-enrolled`.
async fn terminal_of(st: &St, peer: IpAddr, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(v) = headers.get(TERMINAL_HEADER) {
        let s = v.to_str().unwrap_or("").to_string();
        let Some((id, secret)) = s.split_once(':') else {
            return Err(ApiError::new(
                ErrorCode::TerminalNotEnrolled,
                "the terminal header is '<terminal id>:<secret>'",
            ));
        };
        let (id, secret) = (id.to_string(), secret.to_string());
        let t = run(st, move |svc| svc.enrolled_terminal(&id, &secret)).await?;
        return Ok(t.id);
    }
    if peer.is_loopback() {
        let name = headers
            .get(TERMINAL_NAME_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(|s| {
                s.chars()
                    .filter(|c| c.is_ascii_graphic())
                    .take(64)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "loopback".into());
        return Ok(format!("local:{name}"));
    }
    Err(ApiError::new(
        ErrorCode::TerminalNotEnrolled,
        "this host is not an enrolled terminal of the branch server: enrol it with a code from an administrator",
    ))
}

/// Every response names the server's version; a browser (any `Origin`) is refused; a client
/// of another major version is refused with one sentence; the request is logged (method,
/// route, status, time: never a query string, which may hold a customer's name).
pub async fn frame(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = if req.headers().contains_key(header::ORIGIN) {
        ApiError::new(
            ErrorCode::Forbidden,
            "the branch server is not for browsers (a request with an Origin header is refused)",
        )
        .into_response()
    } else if let Some(v) = req.headers().get(VERSION_HEADER) {
        let theirs = v.to_str().unwrap_or("");
        if major(theirs) != major(VERSION) {
            ApiError::new(
                ErrorCode::VersionMismatch,
                format!(
                    "this client is version {theirs} and the branch server {VERSION}: both must have the same major version"
                ),
            )
            .into_response()
        } else {
            next.run(req).await
        }
    } else {
        next.run(req).await
    };
    resp.headers_mut()
        .insert(VERSION_HEADER, HeaderValue::from_static(VERSION));
    let status = resp.status().as_u16();
    tracing::info!(%method, path = %mask_path(&path), status, ms = started.elapsed().as_millis() as u64, "request");
    resp
}

/// The path for a log line: ids stay (UUIDs, staff ids, terminal ids are not personal data),
/// anything longer than 64 characters is cut.
fn mask_path(p: &str) -> String {
    p.chars().take(200).collect()
}

/// See [`unlockdesk_core::service::branch_server::compatible_part`].
pub fn major(v: &str) -> String {
    unlockdesk_core::service::branch_server::compatible_part(v)
}

/// The session check: every route but the open ones answers 401 without a valid token
/// before its path, body or case is looked at.
pub async fn require_session(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    if is_open(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string);
    let Some(token) = token else {
        return ApiError::new(
            ErrorCode::SessionExpired,
            "sign in first: this route needs 'Authorization: Bearer <session token>'",
        )
        .into_response();
    };
    let terminal = match terminal_of(&st, peer.ip(), req.headers()).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let t = token.clone();
    // An account that must change its password may only see its session, sign out and
    // change the password (any method on those paths: another one is then 405, not 403).
    let own = matches!(
        req.uri().path(),
        "/api/v1/sessions" | "/api/v1/sessions/current" | "/api/v1/sessions/current/password"
    );
    let found = run(&st, move |svc| {
        if own {
            svc.server_actor_before_password_change(&t, &terminal)
        } else {
            svc.server_actor(&t, &terminal)
        }
    })
    .await;
    match found {
        Ok(actor) => {
            req.extensions_mut().insert(Caller { actor, token });
            next.run(req).await
        }
        Err(e) => {
            let e = if matches!(
                e.error.code,
                ErrorCode::AccountDisabled | ErrorCode::AccountLocked
            ) {
                e.with_status(StatusCode::UNAUTHORIZED)
            } else {
                e
            };
            e.into_response()
        }
    }
}

// ------------------------------------------------------------------ the router

pub fn router(st: St) -> Router {
    let api = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/sessions", post(sign_in))
        .route("/sessions/current", get(current_session).delete(sign_out))
        .route("/sessions/current/password", post(change_own_password))
        .route("/terminals/enrol", post(enrol))
        .route("/terminals/codes", post(issue_code))
        .route("/terminals", get(list_terminals))
        .route("/terminals/{id}/revoke", post(revoke_terminal))
        .route("/branch", get(branch).put(update_branch))
        .route("/today", get(today))
        .route("/staff", get(list_staff).post(add_staff))
        .route("/staff/{id}/password", post(reset_password))
        .route("/staff/{id}/disabled", post(set_disabled))
        .route("/staff/{id}/unlock", post(unlock_staff))
        .route("/cases", post(open_case))
        .route("/cases/query", post(list_cases))
        .route("/cases/filters", get(case_filters))
        .route("/cases/search", get(find_cases))
        .route("/cases/{id}", get(case_view))
        .route("/cases/{id}/identity", post(verify_identity))
        .route("/cases/{id}/cocheck", post(cocheck))
        .route("/cases/{id}/form", post(record_form))
        .route("/cases/{id}/signed", post(confirm_signed))
        .route("/cases/{id}/submit", post(submit))
        .route("/cases/{id}/authorize", post(authorize))
        .route("/cases/{id}/contacts", post(log_contact))
        .route("/cases/{id}/unlock", post(confirm_unlock))
        .route("/cases/{id}/unlock-failure", post(unlock_failure))
        .route("/cases/{id}/close", post(close_case))
        .route("/cases/{id}/cancel", post(cancel_case))
        .route("/cases/{id}/refuse-freeze", post(refuse_freeze))
        .route("/cases/{id}/wallet-status", post(wallet_status))
        .route("/cases/{id}/request-unlock", post(request_unlock))
        .route("/notifications", get(notifications))
        .route("/notifications/deliver", post(deliver_notifications))
        .route("/cases/{id}/reveal", post(reveal))
        .route("/cases/{id}/audit", get(case_audit))
        .route("/cases/{id}/prints", post(print_document))
        .route("/cases/{id}/prints/{doc}/delivery", post(record_delivery))
        .route("/cases/{id}/documents/{doc}", get(document_bytes))
        .route("/cases/{id}/render", post(render_document))
        .route("/audit/verify", get(verify_audit))
        .route("/authorizations", get(authorization_queue))
        .route("/authorizations/events", get(authorization_events))
        .route("/authorizations/{id}/open", post(open_authorization))
        .route("/cases/{id}/unlock-request", post(request_confirm_unlock))
        .route(
            "/cases/{id}/signed-scan",
            post(attach_signed_scan).layer(DefaultBodyLimit::max(SCAN_LIMIT)),
        )
        .route("/events", get(crate::events::stream))
        .route("/appointments", post(add_appointment))
        .route("/appointments/today", get(appointments_today))
        .route("/appointments/search", get(find_appointments))
        .route(
            "/appointments/import",
            post(import_appointments).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
        )
        .route("/appointments/no-shows", post(mark_no_shows))
        .route("/backup", post(backup))
        .route("/retention", get(retention_report))
        .route("/retention/batches", get(purge_batches).post(prepare_purge))
        .route("/retention/batches/{id}/approve", post(approve_purge))
        .route("/retention/batches/{id}/withdraw", post(withdraw_purge))
        .route("/legal-holds", get(legal_holds))
        .route("/cases/{id}/legal-hold", post(set_legal_hold))
        .route("/cases/{id}/legal-hold/release", post(release_legal_hold))
        .route("/audit/search", post(search_audit))
        .route("/audit/reveals", post(audit_reveals))
        .route("/audit/export", post(export_audit));
    Router::new()
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(st.clone(), require_session))
        .layer(middleware::from_fn(frame))
        .with_state(st)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "not found: no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::Invalid, "this route does not take that method")
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
}

// ------------------------------------------------------------------ open routes

async fn health(State(st): State<St>) -> Json<Value> {
    let mut last = st.health.lock().await;
    let store = match *last {
        Some((at, store)) if at.elapsed() < HEALTH_CACHE => store,
        _ => {
            let probe = run(&st, |svc| svc.is_set_up());
            let store = match tokio::time::timeout(Duration::from_secs(5), probe).await {
                Ok(Ok(true)) => "ok",
                Ok(Ok(false)) => "not-set-up",
                _ => "unreachable",
            };
            *last = Some((Instant::now(), store));
            store
        }
    };
    Json(json!({"status": "ok", "store": store, "version": VERSION}))
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    staff_id: String,
    password: String,
}

async fn sign_in(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(b): JsonBody<SignIn>,
) -> ApiResult<Response> {
    let ip = peer.ip();
    let terminal = terminal_of(&st, ip, &headers).await?;
    let t = terminal.clone();
    let r = run_credential(&st, ip, move |svc| {
        svc.server_sign_in(&b.staff_id, &b.password, &t)
    })
    .await;
    match r {
        Ok(s) => Ok((
            StatusCode::CREATED,
            Json(json!({
                "token": s.token,
                "staff": s.staff,
                "idle_minutes": s.idle_minutes,
                "terminal": terminal,
            })),
        )
            .into_response()),
        Err(e)
            if matches!(
                e.error.code,
                ErrorCode::AuthFailed | ErrorCode::AccountLocked | ErrorCode::AccountDisabled
            ) =>
        {
            Err(e.with_status(StatusCode::UNAUTHORIZED))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnrolBody {
    code: String,
    name: String,
}

async fn enrol(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(b): JsonBody<EnrolBody>,
) -> ApiResult<Response> {
    // Guessing codes counts toward the same flood limit as wrong passwords.
    let ip = peer.ip();
    if !st.admit(ip) {
        return Err(ApiError::new(
            ErrorCode::TooManyRequests,
            "too many failed attempts from this address: wait a minute and try again",
        ));
    }
    let r = run(&st, move |svc| svc.enrol_terminal(&b.code, &b.name)).await;
    if matches!(&r, Err(e) if e.error.fields.iter().any(|f| f.field == "code")) {
        st.failed(ip);
    }
    let e = r?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"terminal": e.terminal, "secret": e.secret})),
    )
        .into_response())
}

// ------------------------------------------------------------------ session and terminals

async fn current_session(Extension(c): Extension<Caller>) -> Json<Value> {
    Json(json!({
        "staff_id": c.actor.staff_id(),
        "role": c.actor.role(),
        "terminal": c.actor.terminal(),
    }))
}

async fn sign_out(State(st): State<St>, Extension(c): Extension<Caller>) -> ApiResult<StatusCode> {
    run(&st, move |svc| svc.server_sign_out(&c.token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OwnPassword {
    old_password: String,
    new_password: String,
}

async fn change_own_password(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<OwnPassword>,
) -> ApiResult<Json<StaffView>> {
    let v = run_credential(&st, peer.ip(), move |svc| {
        svc.change_password(
            c.actor.staff_id().as_str(),
            &b.old_password,
            &b.new_password,
            c.actor.terminal(),
        )
    })
    .await?;
    Ok(Json(v))
}

async fn issue_code(State(st): State<St>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    let (code, expires) = run(&st, move |svc| svc.issue_enrolment_code(&c.actor)).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"code": code, "expires_at": expires})),
    )
        .into_response())
}

async fn list_terminals(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Vec<unlockdesk_core::ports::TerminalRecord>>> {
    Ok(Json(
        run(&st, move |svc| svc.list_terminals(&c.actor)).await?,
    ))
}

async fn revoke_terminal(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
) -> ApiResult<Json<unlockdesk_core::ports::TerminalRecord>> {
    Ok(Json(
        run(&st, move |svc| svc.revoke_terminal(&c.actor, &id)).await?,
    ))
}

// ------------------------------------------------------------------ branch and staff

async fn branch(State(st): State<St>, Extension(_c): Extension<Caller>) -> ApiResult<Json<Branch>> {
    Ok(Json(run(&st, |svc| svc.branch()).await?))
}

async fn update_branch(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<Branch>,
) -> ApiResult<Json<Branch>> {
    Ok(Json(
        run(&st, move |svc| svc.update_branch(&c.actor, &b)).await?,
    ))
}

async fn today(State(st): State<St>, Extension(_c): Extension<Caller>) -> ApiResult<Json<Value>> {
    let d = run(&st, |svc| svc.today()).await?;
    Ok(Json(json!({ "today": d })))
}

async fn list_staff(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Vec<StaffView>>> {
    Ok(Json(run(&st, move |svc| svc.list_staff(&c.actor)).await?))
}

async fn add_staff(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<NewStaff>,
) -> ApiResult<Response> {
    let v = run_pw(&st, move |svc| svc.add_staff(&c.actor, &b)).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    new_password: String,
}

async fn reset_password(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<NewPassword>,
) -> ApiResult<Json<StaffView>> {
    Ok(Json(
        run_pw(&st, move |svc| {
            svc.reset_password(&c.actor, &id, &b.new_password)
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Disabled {
    disabled: bool,
}

async fn set_disabled(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<Disabled>,
) -> ApiResult<Json<StaffView>> {
    Ok(Json(
        run(&st, move |svc| {
            svc.set_staff_disabled(&c.actor, &id, b.disabled)
        })
        .await?,
    ))
}

async fn unlock_staff(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
) -> ApiResult<Json<StaffView>> {
    Ok(Json(
        run(&st, move |svc| svc.unlock_staff(&c.actor, &id)).await?,
    ))
}

// ------------------------------------------------------------------ case steps

type CaseResult = ApiResult<Json<CaseView>>;

async fn open_case(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<OpenCaseInput>,
) -> ApiResult<Response> {
    let v = run(&st, move |svc| svc.open_case(&c.actor, &b, k.as_deref())).await?;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn verify_identity(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<IdentityInput>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.verify_identity(&c.actor, id, &b, k.as_deref())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cocheck {
    supervisor: Credentials,
}

async fn cocheck(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<Cocheck>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run_credential(&st, peer.ip(), move |svc| {
            svc.cocheck_identity(&c.actor, id, &b.supervisor, k.as_deref())
        })
        .await?,
    ))
}

async fn record_form(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<ApplicationForm>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.record_form(&c.actor, id, &b, k.as_deref())
        })
        .await?,
    ))
}

async fn confirm_signed(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.confirm_signed(&c.actor, id, k.as_deref())
        })
        .await?,
    ))
}

async fn submit(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| svc.submit(&c.actor, id, k.as_deref())).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Authorize {
    supervisor: Credentials,
    decision: Decision,
    #[serde(default)]
    reason_code: Option<ReasonCode>,
    #[serde(default)]
    reason: String,
}

async fn authorize(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<Authorize>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run_credential(&st, peer.ip(), move |svc| {
            svc.authorize(
                &c.actor,
                id,
                &b.supervisor,
                b.decision,
                b.reason_code,
                &b.reason,
                k.as_deref(),
            )
        })
        .await?,
    ))
}

async fn log_contact(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<ContactInput>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.log_contact(&c.actor, id, &b, k.as_deref())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmUnlock {
    supervisor: Credentials,
    unlock: UnlockInput,
}

async fn confirm_unlock(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<ConfirmUnlock>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run_credential(&st, peer.ip(), move |svc| {
            svc.confirm_unlock(&c.actor, id, &b.supervisor, &b.unlock, k.as_deref())
        })
        .await?,
    ))
}

async fn request_confirm_unlock(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<UnlockRequestBody>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.request_confirm_unlock(&c.actor, id, &b.unlock, k.as_deref())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnlockRequestBody {
    unlock: UnlockInput,
}

async fn attach_signed_scan(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    Query(p): Query<HashMap<String, String>>,
    req: Request,
) -> CaseResult {
    let id = case_id(&id)?;
    // Answered from the announced length, before any of the body is waited for.
    if announced(req.headers()).is_some_and(|n| n > SCAN_LIMIT as u64) {
        return Err(too_large());
    }
    let name = q(&p, "file_name")?;
    let bytes = Bytes::from_request(req, &())
        .await
        .map_err(body_rejection)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.attach_signed_scan(&c.actor, id, &name, &bytes, k.as_deref())
        })
        .await?,
    ))
}

async fn authorization_queue(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Vec<authorizations::AuthorizationItem>>> {
    Ok(Json(
        run(&st, move |svc| svc.authorization_queue(&c.actor)).await?,
    ))
}

async fn open_authorization(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
) -> ApiResult<Json<authorizations::AuthorizationItem>> {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| svc.open_authorization(&c.actor, id)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsPage {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn authorization_events(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    q: Result<Query<EventsPage>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<authorizations::AuthorizationEvents>> {
    let Query(q) = q.map_err(|e| ApiError::field("query", "format", e.body_text()))?;
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::field(
            "after",
            "format",
            "after is the seq of the last event seen (a whole number ≥ 0)",
        ));
    }
    let limit = q.limit.unwrap_or(unlockdesk_core::service::MAX_EVENTS_PAGE);
    if !(1..=unlockdesk_core::service::MAX_EVENTS_PAGE).contains(&limit) {
        return Err(ApiError::field(
            "limit",
            "range",
            format!(
                "limit is 1 to {}",
                unlockdesk_core::service::MAX_EVENTS_PAGE
            ),
        ));
    }
    Ok(Json(
        run(&st, move |svc| {
            svc.authorization_events(&c.actor, q.after, limit)
        })
        .await?,
    ))
}

async fn unlock_failure(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<UnlockFailureInput>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.record_unlock_failure(&c.actor, id, &b, k.as_deref())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Close {
    #[serde(default)]
    receipt_waiver: Option<String>,
}

async fn close_case(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<Close>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.close_case(&c.actor, id, b.receipt_waiver.as_deref(), k.as_deref())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    reason: String,
}

async fn cancel_case(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<Reason>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.cancel_case(&c.actor, id, &b.reason, k.as_deref())
        })
        .await?,
    ))
}

async fn refuse_freeze(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
    JsonBody(b): JsonBody<Reason>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.refuse_authority_freeze(&c.actor, id, &b.reason, k.as_deref())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WalletQuery {
    #[serde(default)]
    wallet_id: Option<String>,
}

async fn wallet_status(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<WalletQuery>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.wallet_status(&c.actor, id, b.wallet_id.as_deref())
        })
        .await?,
    ))
}

async fn request_unlock(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    Idem(k): Idem,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.request_unlock(&c.actor, id, k.as_deref())
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotificationsQuery {
    case: Option<String>,
}

async fn notifications(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    q: Result<Query<NotificationsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<unlockdesk_core::operator::OutboxMessage>>> {
    let Query(q) = q.map_err(|e| ApiError::field("case", "format", e.body_text()))?;
    let case = q
        .case
        .as_deref()
        .map(|c| {
            CaseId::parse(c).map_err(|_| {
                ApiError::field("case", "format", format!("'{c}' is not a case id (UUID)"))
            })
        })
        .transpose()?;
    Ok(Json(
        run(&st, move |svc| svc.notifications(&c.actor, case)).await?,
    ))
}

async fn deliver_notifications(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<unlockdesk_core::service::DeliveryRound>> {
    Ok(Json(
        run(&st, move |svc| svc.deliver_notifications(&c.actor)).await?,
    ))
}

// ------------------------------------------------------------------ reads

async fn case_view(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| svc.case_view(&c.actor, id)).await?,
    ))
}

async fn list_cases(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<CaseQuery>,
) -> ApiResult<Json<unlockdesk_core::dto::CasePage>> {
    Ok(Json(
        run(&st, move |svc| svc.list_cases(&c.actor, &b)).await?,
    ))
}

async fn case_filters(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<CaseFilters>> {
    Ok(Json(run(&st, move |svc| svc.case_filters(&c.actor)).await?))
}

async fn find_cases(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    Query(p): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<unlockdesk_core::ports::CaseSummary>>> {
    let text = q(&p, "q")?;
    Ok(Json(
        run(&st, move |svc| svc.find_cases(&c.actor, &text)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reveal {
    field: RevealField,
    reason: String,
}

async fn reveal(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<Reveal>,
) -> ApiResult<Json<Value>> {
    let id = case_id(&id)?;
    let v = run(&st, move |svc| svc.reveal(&c.actor, id, b.field, &b.reason)).await?;
    Ok(Json(json!({ "value": v })))
}

async fn case_audit(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
) -> ApiResult<Json<Vec<unlockdesk_core::ports::AuditEvent>>> {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| svc.audit_events(&c.actor, id)).await?,
    ))
}

async fn verify_audit(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<unlockdesk_core::ports::AuditVerification>> {
    Ok(Json(run(&st, move |svc| svc.verify_audit(&c.actor)).await?))
}

// ------------------------------------------------------------------ printing

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocChoice {
    kind: DocumentKind,
    copy: CopyKind,
}

async fn print_document(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<DocChoice>,
) -> ApiResult<Response> {
    let id = case_id(&id)?;
    let r = run_render(&st, move |svc| {
        svc.print_document(&c.actor, id, b.kind, b.copy)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

async fn record_delivery(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P((id, doc)): P<(String, String)>,
    JsonBody(b): JsonBody<PrintDelivery>,
) -> CaseResult {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| svc.record_delivery(&c.actor, id, &doc, &b)).await?,
    ))
}

fn pdf(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response()
}

async fn document_bytes(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P((id, doc)): P<(String, String)>,
) -> ApiResult<Response> {
    let id = case_id(&id)?;
    let bytes = run(&st, move |svc| svc.document_bytes(&c.actor, id, &doc)).await?;
    // A printed document is a PDF; an attached scan has the type its content has.
    let media = unlockdesk_core::service::scan_type(&bytes).unwrap_or("application/pdf");
    Ok(([(header::CONTENT_TYPE, media)], bytes).into_response())
}

async fn render_document(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<DocChoice>,
) -> ApiResult<Response> {
    let id = case_id(&id)?;
    Ok(pdf(run_render(&st, move |svc| {
        svc.render_document(&c.actor, id, b.kind, b.copy)
    })
    .await?))
}

// ------------------------------------------------------------------ appointments

async fn appointments_today(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Vec<Appointment>>> {
    Ok(Json(
        run(&st, move |svc| svc.appointments_today(&c.actor)).await?,
    ))
}

async fn find_appointments(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    Query(p): Query<HashMap<String, String>>,
) -> ApiResult<Json<Vec<Appointment>>> {
    let text = q(&p, "q")?;
    Ok(Json(
        run(&st, move |svc| svc.find_appointments(&c.actor, &text)).await?,
    ))
}

async fn add_appointment(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<Appointment>,
) -> ApiResult<StatusCode> {
    run(&st, move |svc| svc.add_appointment(&c.actor, &b)).await?;
    Ok(StatusCode::CREATED)
}

async fn import_appointments(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    Query(p): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    if announced(&headers).is_some_and(|n| n > IMPORT_LIMIT as u64) {
        return Err(too_large());
    }
    let name = q(&p, "file_name")?;
    let bytes = body.map_err(body_rejection)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.import_appointments(&c.actor, &bytes, &name)
        })
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Day {
    day: chrono::NaiveDate,
}

async fn mark_no_shows(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(b): JsonBody<Day>,
) -> ApiResult<Json<Value>> {
    let n = run(&st, move |svc| svc.mark_no_shows(&c.actor, b.day)).await?;
    Ok(Json(json!({ "no_shows": n })))
}

// ------------------------------------------------------------------ backup

/// A consistent snapshot of the store as the backup file's bytes (the client writes it).
async fn backup(State(st): State<St>, Extension(c): Extension<Caller>) -> ApiResult<Response> {
    // Written to a temporary file, unlinked at once (the open handle keeps it readable), and
    // streamed: a store of any size never sits in the server's memory.
    let (file, len) = run(&st, move |svc| {
        let dir = tempfile::tempdir()
            .map_err(|e| CoreError::storage(format!("no temporary directory: {e}")))?;
        let path = dir.path().join("backup.db");
        svc.backup(&c.actor, &path)?;
        let f = std::fs::File::open(&path)
            .map_err(|e| CoreError::storage(format!("cannot read the backup: {e}")))?;
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        Ok((f, len))
    })
    .await?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

// ------------------------------------------------------------------ retention and the auditor

async fn retention_report(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<auditor::RetentionReport>> {
    Ok(Json(
        run(&st, move |svc| svc.retention_report(&c.actor)).await?,
    ))
}

async fn purge_batches(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<Json<Vec<PurgeBatch>>> {
    Ok(Json(
        run(&st, move |svc| svc.purge_batches(&c.actor)).await?,
    ))
}

async fn prepare_purge(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
) -> ApiResult<(StatusCode, Json<PurgeBatch>)> {
    let b = run(&st, move |svc| svc.prepare_purge(&c.actor)).await?;
    Ok((StatusCode::CREATED, Json(b)))
}

async fn approve_purge(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
) -> ApiResult<Json<PurgeBatch>> {
    Ok(Json(
        run(&st, move |svc| svc.approve_purge(&c.actor, &id)).await?,
    ))
}

async fn withdraw_purge(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<Reason>,
) -> ApiResult<Json<PurgeBatch>> {
    Ok(Json(
        run(&st, move |svc| svc.withdraw_purge(&c.actor, &id, &b.reason)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldsQuery {
    #[serde(default)]
    active_only: Option<bool>,
}

async fn legal_holds(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    q: Result<Query<HoldsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<LegalHold>>> {
    let Query(q) = q.map_err(|e| ApiError::field("active_only", "format", e.body_text()))?;
    let active = q.active_only.unwrap_or(true);
    Ok(Json(
        run(&st, move |svc| svc.legal_holds(&c.actor, active)).await?,
    ))
}

async fn set_legal_hold(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<Reason>,
) -> ApiResult<(StatusCode, Json<LegalHold>)> {
    let id = case_id(&id)?;
    let h = run(&st, move |svc| svc.set_legal_hold(&c.actor, id, &b.reason)).await?;
    Ok((StatusCode::CREATED, Json(h)))
}

async fn release_legal_hold(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    P(id): P<String>,
    JsonBody(b): JsonBody<Reason>,
) -> ApiResult<Json<LegalHold>> {
    let id = case_id(&id)?;
    Ok(Json(
        run(&st, move |svc| {
            svc.release_legal_hold(&c.actor, id, &b.reason)
        })
        .await?,
    ))
}

async fn search_audit(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(f): JsonBody<auditor::AuditFilter>,
) -> ApiResult<Json<auditor::AuditPage>> {
    Ok(Json(
        run(&st, move |svc| svc.search_audit(&c.actor, &f)).await?,
    ))
}

async fn audit_reveals(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(f): JsonBody<auditor::AuditFilter>,
) -> ApiResult<Json<auditor::RevealPage>> {
    Ok(Json(
        run(&st, move |svc| svc.audit_reveals(&c.actor, &f)).await?,
    ))
}

async fn export_audit(
    State(st): State<St>,
    Extension(c): Extension<Caller>,
    JsonBody(f): JsonBody<auditor::AuditFilter>,
) -> ApiResult<Response> {
    let csv = run(&st, move |svc| svc.export_audit(&c.actor, &f)).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn password_checks_leave_half_the_cores_to_the_other_steps() {
        let permits: Vec<usize> = [0, 1, 2, 3, 4, 16].map(super::password_permits).into();
        assert_eq!(permits, [1, 1, 1, 1, 2, 8]);
    }
}
