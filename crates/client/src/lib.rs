//! # unlockdesk-client
//!
//! The use-case trait ([`Counter`]) over HTTP to a branch server (`unlockdesk-server`): the
//! remote twin of the local `Service`, so a front end holds `Arc<dyn Counter>` and never knows
//! which one it has.
//!
//! * **Sessions.** [`Counter::sign_in`] and [`Counter::authenticate`] open a session on the
//!   server; the returned actor carries its token ([`Actor::remote`]) and every call made with
//!   it sends `Authorization: Bearer <token>`. Sessions this client opened with
//!   `authenticate` (the CLI's `--as`) are signed out when the client is dropped.
//! * **Terminal.** An enrolled terminal sends `x-unlockdesk-terminal: <id>:<secret>`; on the
//!   server's own host a client needs no enrolment and names itself in
//!   `x-unlockdesk-terminal-name`.
//! * **TLS** with the server certificate pinned by fingerprint ([`tls::Pinned`]).
//! * **Retries.** A request that never reached the server (connection refused, DNS) or got
//!   503 is retried up to [`ATTEMPTS`] times with a jittered backoff; a case step always
//!   carries an idempotency key (a fresh one when the caller gave none), so a retry after a
//!   lost answer applies nothing twice and returns the step's outcome. Other writes are
//!   retried only when they were never sent.
//! * **Versions.** Every answer names the server's version; a different major version is
//!   refused with one sentence ([`ErrorCode::VersionMismatch`]).

pub mod tls;

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use unlockdesk_core::authorizations::{AuthorizationEvent, AuthorizationEvents, AuthorizationItem};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{
    AuditEvent, AuditVerification, CaseQuery, CaseSummary, DocumentRecord, TerminalRecord,
};
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::*;

/// This client's version, sent on every request.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Tries of one request that never reached the server or got 503.
pub const ATTEMPTS: u32 = 4;
/// The largest answer read (a backup or a PDF), bytes.
const MAX_BODY: u64 = 512 << 20;

/// How to reach the branch server.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// `https://host:port` or, on the server's host, `http://127.0.0.1:port`.
    pub url: String,
    /// The pinned certificate fingerprint (required for `https`, except to enrol).
    pub fingerprint: Option<String>,
    /// An enrolled terminal's id and secret.
    pub terminal: Option<(String, String)>,
    /// A loopback client's name (`cli:<user>`).
    pub terminal_name: String,
    /// Connect timeout; the whole request may take 10 times as long (a backup).
    pub connect_timeout: Duration,
}

/// What enrolment returns: keep it (mode 0600) and pass it in [`Connection`].
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub terminal_id: String,
    pub secret: String,
    /// The fingerprint seen during enrolment (`None` over plain HTTP on loopback).
    pub fingerprint: Option<String>,
}

/// The remote implementation of [`Counter`].
pub struct Remote {
    conn: Connection,
    agent: ureq::Agent,
    /// For the long-lived event stream: no total timeout, a read timeout instead.
    stream_agent: ureq::Agent,
    seen: Arc<Mutex<Option<String>>>,
    /// Tokens opened by `authenticate`, signed out on drop.
    opened: Mutex<Vec<String>>,
    /// The latest session token, for calls that carry no actor (`branch`, `today`).
    current: Mutex<Option<String>>,
    /// Tries of one request (see [`ATTEMPTS`]).
    attempts: u32,
}

/// The event stream is given up (and followed again by the caller) after this long without a
/// byte: the server sends a comment every 15 s.
pub const STREAM_READ_TIMEOUT: Duration = Duration::from_secs(40);

fn unavailable(msg: String) -> CoreError {
    CoreError::new(ErrorCode::Unavailable, msg)
}

fn base(url: &str) -> CoreResult<String> {
    let u = url.trim().trim_end_matches('/');
    let lower = u.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return Err(CoreError::field(
            "server",
            "url",
            format!("'{url}' is not a branch server URL (https://host:port)"),
        ));
    }
    if lower.starts_with("http://") && !loopback_host(&lower["http://".len()..]) {
        return Err(CoreError::field(
            "server",
            "tls",
            format!(
                "'{url}': a branch server on another host is reached only over https (plain http would send passwords in clear)"
            ),
        ));
    }
    Ok(u.to_string())
}

/// The authority of a URL (after `scheme://`) names this host: `localhost`, 127.0.0.0/8 or
/// `[::1]`.
fn loopback_host(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Remote {
    /// A client of the server at `conn.url`. Errors: `invalid` (field `server`: not an
    /// http(s) URL; https without a pinned fingerprint).
    pub fn new(conn: Connection) -> CoreResult<Self> {
        Self::build(conn, false)
    }

    fn build(mut conn: Connection, enrolling: bool) -> CoreResult<Self> {
        conn.url = base(&conn.url)?;
        if conn.connect_timeout.is_zero() {
            conn.connect_timeout = Duration::from_secs(5);
        }
        let https = conn.url.to_ascii_lowercase().starts_with("https://");
        if https && conn.fingerprint.is_none() && !enrolling {
            return Err(CoreError::field(
                "server",
                "fingerprint",
                "no pinned certificate fingerprint for this branch server: enrol this terminal first (`enrol --code CODE`) or set UNLOCKDESK_SERVER_FINGERPRINT",
            ));
        }
        let pinned = Arc::new(tls::Pinned::new(conn.fingerprint.as_deref()));
        let seen = pinned.seen.clone();
        let tls = pinned
            .client_config()
            .map_err(|e| CoreError::new(ErrorCode::Internal, format!("TLS set-up: {e}")))?;
        let tls = Arc::new(tls);
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(conn.connect_timeout)
            .timeout(conn.connect_timeout * 12)
            .tls_config(tls.clone())
            .build();
        let stream_agent = ureq::AgentBuilder::new()
            .timeout_connect(conn.connect_timeout)
            .timeout_read(STREAM_READ_TIMEOUT)
            .tls_config(tls)
            .build();
        Ok(Remote {
            conn,
            agent,
            stream_agent,
            seen,
            opened: Mutex::new(Vec::new()),
            current: Mutex::new(None),
            attempts: ATTEMPTS,
        })
    }

    /// Try each request at most `n` times (at least once) instead of [`ATTEMPTS`]. A desktop
    /// terminal uses fewer: its window keeps a failed step and sends it again when the server
    /// answers, and should say at once that the server is away (an unroutable server costs a
    /// connect timeout per try).
    pub fn with_attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// The server's URL as given.
    pub fn url(&self) -> &str {
        &self.conn.url
    }

    /// Enrol this terminal with a one-time code from an administrator. Over https the server's
    /// certificate is accepted on first use and its fingerprint returned for the administrator
    /// to confirm (and the terminal to pin). Errors: `invalid` (`code`), `unavailable`.
    pub fn enrol(conn: Connection, code: &str, name: &str) -> CoreResult<Enrolment> {
        let r = Self::build(conn, true)?;
        let v: Value = r.call(
            "POST",
            "/api/v1/terminals/enrol",
            None,
            None,
            Some(&json!({"code": code, "name": name})),
            false,
        )?;
        let id = v["terminal"]["id"].as_str().unwrap_or_default().to_string();
        let secret = v["secret"].as_str().unwrap_or_default().to_string();
        if id.is_empty() || secret.is_empty() {
            return Err(CoreError::new(
                ErrorCode::Internal,
                "the branch server's enrolment answer has no terminal id",
            ));
        }
        let fingerprint = r.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(Enrolment {
            terminal_id: id,
            secret,
            fingerprint,
        })
    }

    /// The fingerprint of the certificate the server at `conn.url` shows (`SHA256:AB:…`),
    /// learnt from one health request and nothing else: an administrator compares it with the
    /// one the server printed before an enrolment code is sent to it. `None` over plain http
    /// (loopback only). Errors: `invalid` (field `server`), `unavailable`, `version-mismatch`.
    pub fn peek_fingerprint(conn: Connection) -> CoreResult<Option<String>> {
        let r = Self::build(conn, true)?;
        r.probe()?;
        let seen = r.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(seen)
    }

    /// `GET /api/v1/health` once, without retries (an offline banner polls it). Errors:
    /// `unavailable`, `certificate-mismatch`, `version-mismatch`.
    pub fn probe(&self) -> CoreResult<Value> {
        match self.request("GET", "/api/v1/health", None).call() {
            Ok(resp) => {
                self.check_version(&resp)?;
                let bytes = read_all(resp)?;
                serde_json::from_slice(&bytes).map_err(|e| {
                    CoreError::new(
                        ErrorCode::Internal,
                        format!("the branch server's health answer is not understood: {e}"),
                    )
                })
            }
            Err(ureq::Error::Status(status, resp)) => {
                self.check_version(&resp)?;
                Err(error_body(status, resp))
            }
            Err(e) => Err(self.transport(e, false)),
        }
    }

    /// `GET /api/v1/health` as JSON.
    pub fn health(&self) -> CoreResult<Value> {
        self.call("GET", "/api/v1/health", None, None, None, true)
    }

    /// Issue a one-time enrolment code (admin): `(code, expires_at)`.
    pub fn issue_enrolment_code(&self, actor: &Actor) -> CoreResult<(String, String)> {
        let v: Value = self.call(
            "POST",
            "/api/v1/terminals/codes",
            Some(actor),
            None,
            Some(&json!({})),
            false,
        )?;
        Ok((
            v["code"].as_str().unwrap_or_default().to_string(),
            v["expires_at"].as_str().unwrap_or_default().to_string(),
        ))
    }

    /// Every enrolled terminal (admin).
    pub fn list_terminals(&self, actor: &Actor) -> CoreResult<Vec<TerminalRecord>> {
        self.call("GET", "/api/v1/terminals", Some(actor), None, None, true)
    }

    /// Revoke a terminal (admin): its sessions end at once.
    pub fn revoke_terminal(&self, actor: &Actor, id: &str) -> CoreResult<TerminalRecord> {
        self.call(
            "POST",
            &format!("/api/v1/terminals/{}/revoke", seg(id)),
            Some(actor),
            None,
            Some(&json!({})),
            false,
        )
    }

    /// End the session of `actor` on the server.
    pub fn sign_out(&self, actor: &Actor) -> CoreResult<()> {
        if let Some(t) = actor.remote_token() {
            self.sign_out_token(t)?;
        }
        Ok(())
    }

    fn sign_out_token(&self, token: &str) -> CoreResult<()> {
        let req = self.request("DELETE", "/api/v1/sessions/current", Some(token));
        match req.call() {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(401, _)) => Ok(()),
            Err(e) => Err(self.transport(e, false)),
        }
    }

    fn request(&self, method: &str, path: &str, token: Option<&str>) -> ureq::Request {
        let mut r = self
            .agent
            .request(method, &format!("{}{path}", self.conn.url))
            .set("x-unlockdesk-version", VERSION)
            .set("accept", "application/json");
        if let Some((id, secret)) = &self.conn.terminal {
            r = r.set("x-unlockdesk-terminal", &format!("{id}:{secret}"));
        } else if !self.conn.terminal_name.is_empty() {
            r = r.set("x-unlockdesk-terminal-name", &self.conn.terminal_name);
        }
        if let Some(t) = token {
            r = r.set("authorization", &format!("Bearer {t}"));
        }
        r
    }

    fn token_of(actor: Option<&Actor>) -> CoreResult<Option<String>> {
        match actor {
            None => Ok(None),
            Some(a) => match a.remote_token() {
                Some(t) => Ok(Some(t.to_string())),
                None => Err(CoreError::new(
                    ErrorCode::SessionExpired,
                    "sign in on the branch server first (this actor has no server session)",
                )),
            },
        }
    }

    /// One JSON call with retries (see the crate docs); `safe` = may be repeated after the
    /// request was sent (reads, and steps carrying an idempotency key).
    fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        actor: Option<&Actor>,
        idem: Option<&str>,
        body: Option<&Value>,
        safe: bool,
    ) -> CoreResult<T> {
        let bytes = self.call_bytes(
            method,
            path,
            actor,
            idem,
            body.map(|b| b.to_string().into_bytes()),
            safe,
        )?;
        let bytes = if bytes.is_empty() {
            b"null".to_vec()
        } else {
            bytes
        };
        serde_json::from_slice(&bytes).map_err(|e| {
            CoreError::new(
                ErrorCode::Internal,
                format!("the branch server's answer to {method} {path} is not understood: {e}"),
            )
        })
    }

    fn call_bytes(
        &self,
        method: &str,
        path: &str,
        actor: Option<&Actor>,
        idem: Option<&str>,
        body: Option<Vec<u8>>,
        safe: bool,
    ) -> CoreResult<Vec<u8>> {
        let token = Self::token_of(actor)?;
        let mut last = None;
        // Once any attempt may have reached the server, a later "connection refused" must not
        // say that nothing was recorded.
        let mut sent_any = false;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                backoff(attempt);
            }
            let mut req = self.request(method, path, token.as_deref());
            if let Some(k) = idem {
                req = req.set("idempotency-key", k);
            }
            let result = match &body {
                Some(b) => req.set("content-type", "application/json").send_bytes(b),
                None if method == "POST" || method == "PUT" => req.send_bytes(&[]),
                None => req.call(),
            };
            match result {
                Ok(resp) => {
                    self.check_version(&resp)?;
                    return read_all(resp);
                }
                Err(ureq::Error::Status(status, resp)) => {
                    self.check_version(&resp)?;
                    let e = error_body(status, resp);
                    if status == 503 && safe && attempt + 1 < self.attempts {
                        last = Some(e);
                        continue;
                    }
                    return Err(e);
                }
                Err(e) => {
                    let never_sent = matches!(
                        e.kind(),
                        ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Dns
                    );
                    sent_any |= !never_sent;
                    let err = self.transport(e, sent_any);
                    if err.code == ErrorCode::VersionMismatch
                        || err.code == ErrorCode::CertificateMismatch
                    {
                        return Err(err);
                    }
                    if (never_sent || safe) && attempt + 1 < self.attempts {
                        last = Some(err);
                        continue;
                    }
                    return Err(err);
                }
            }
        }
        Err(last.unwrap_or_else(|| unavailable("the branch server did not answer".into())))
    }

    fn check_version(&self, resp: &ureq::Response) -> CoreResult<()> {
        let theirs = resp.header("x-unlockdesk-version").unwrap_or("");
        if theirs.is_empty() {
            return Err(CoreError::new(
                ErrorCode::VersionMismatch,
                format!(
                    "{} does not answer as an UnlockDesk branch server (no version header)",
                    self.conn.url
                ),
            ));
        }
        if major(theirs) != major(VERSION) {
            return Err(CoreError::new(
                ErrorCode::VersionMismatch,
                format!(
                    "the branch server at {} is version {theirs} and this terminal {VERSION}: they must have the same major version; update this terminal (or wait for the server's upgrade) before working",
                    self.conn.url
                ),
            ));
        }
        Ok(())
    }

    fn transport(&self, e: ureq::Error, sent: bool) -> CoreError {
        let text = e.to_string();
        if text.contains("pinned fingerprint") {
            let seen = self
                .seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            return CoreError::new(ErrorCode::CertificateMismatch, format!(
                "STOP: the branch server at {} shows a certificate ({seen}) that does not match the pinned fingerprint ({}): this may not be your branch server; call the administrator and do not continue",
                self.conn.url,
                self.conn.fingerprint.clone().unwrap_or_default()
            ));
        }
        if sent {
            unavailable(format!(
                "the connection to the branch server at {} was lost ({text}); whether the step was recorded is unknown",
                self.conn.url
            ))
        } else {
            unavailable(format!(
                "the branch server at {} cannot be reached ({text}); nothing was recorded: try again",
                self.conn.url
            ))
        }
    }

    fn remember(&self, token: &str, signed_out_on_drop: bool) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(token.to_string());
        if signed_out_on_drop {
            self.opened
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(token.to_string());
        }
    }

    fn current_actor(&self) -> CoreResult<Actor> {
        let t = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match t {
            Some(t) => Ok(Actor::remote(
                StaffId::system("remote"),
                Role::Auditor,
                &self.conn.terminal_name,
                &t,
            )),
            None => Err(CoreError::new(
                ErrorCode::SessionExpired,
                "sign in on the branch server first",
            )),
        }
    }

    fn open_session(
        &self,
        staff_id: &str,
        password: &str,
    ) -> CoreResult<(String, StaffView, String)> {
        #[derive(Deserialize)]
        struct Opened {
            token: String,
            staff: StaffView,
            terminal: String,
        }
        let o: Opened = self.call(
            "POST",
            "/api/v1/sessions",
            None,
            None,
            Some(&json!({"staff_id": staff_id, "password": password})),
            false,
        )?;
        Ok((o.token, o.staff, o.terminal))
    }

    fn step<T: DeserializeOwned>(
        &self,
        actor: &Actor,
        case_id: CaseId,
        what: &str,
        idem: Option<&str>,
        body: Value,
    ) -> CoreResult<T> {
        self.keyed(
            &format!("/api/v1/cases/{case_id}/{what}"),
            actor,
            idem,
            &body,
        )
    }

    /// POST a file's bytes (`application/octet-stream`) once, no retry (the body may be large);
    /// the JSON answer.
    fn upload<T: DeserializeOwned>(
        &self,
        path: &str,
        actor: &Actor,
        idem: Option<&str>,
        bytes: &[u8],
    ) -> CoreResult<T> {
        let token = Self::token_of(Some(actor))?;
        let mut req = self
            .request("POST", path, token.as_deref())
            .set("content-type", "application/octet-stream");
        if let Some(k) = idem {
            req = req.set("idempotency-key", k);
        }
        match req.send_bytes(bytes) {
            Ok(resp) => {
                self.check_version(&resp)?;
                let b = read_all(resp)?;
                serde_json::from_slice(&b).map_err(|e| {
                    CoreError::new(
                        ErrorCode::Internal,
                        format!("the branch server's answer to POST {path} is not understood: {e}"),
                    )
                })
            }
            Err(ureq::Error::Status(s, resp)) => {
                self.check_version(&resp)?;
                Err(error_body(s, resp))
            }
            Err(e) => Err(self.transport(e, true)),
        }
    }

    /// A case step: always with an idempotency key (a fresh one when the caller gave none), so
    /// the retries here are safe; when the answer is lost for good, the error names the key
    /// the step must be sent again with (the CLI's `--idempotency-key`) to learn its outcome
    /// without applying it twice.
    fn keyed<T: DeserializeOwned>(
        &self,
        path: &str,
        actor: &Actor,
        idem: Option<&str>,
        body: &Value,
    ) -> CoreResult<T> {
        let own = uuid::Uuid::new_v4().to_string();
        let key = idem.unwrap_or(&own);
        self.call("POST", path, Some(actor), Some(key), Some(body), true)
            .map_err(|mut e| {
                if e.code == ErrorCode::Unavailable && idem.is_none() {
                    e.message = format!(
                        "{} (to learn whether it was applied, send the same step again with idempotency key {key}: it is applied at most once)",
                        e.message
                    );
                }
                e
            })
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let opened = std::mem::take(&mut *self.opened.lock().unwrap_or_else(|p| p.into_inner()));
        for t in opened {
            let _ = self.sign_out_token(&t);
        }
    }
}

/// Writes what a terminal keeps of its enrolment (its secret and the pinned fingerprint) to
/// `path`: through a temporary file beside it, created mode 0600 (a stale one is removed first,
/// as an existing file keeps its own mode), synced, then renamed over `path`, so a crash leaves
/// the old file or the new one, never half of one. Creates the parent directory.
pub fn keep_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(&tmp);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// See [`unlockdesk_core::service::branch_server::compatible_part`].
pub fn major(v: &str) -> String {
    unlockdesk_core::service::branch_server::compatible_part(v)
}

/// A path segment: ids are `[A-Za-z0-9._-]`; anything else is percent-encoded.
fn seg(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

fn query(s: &str) -> String {
    seg(s)
}

fn backoff(attempt: u32) {
    let base = 150u64 << attempt.min(5);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 255;
    std::thread::sleep(Duration::from_millis(base / 2 + jitter));
}

fn read_all(resp: ureq::Response) -> CoreResult<Vec<u8>> {
    let mut v = Vec::new();
    resp.into_reader()
        .take(MAX_BODY)
        .read_to_end(&mut v)
        .map_err(|e| unavailable(format!("the branch server's answer was cut off: {e}")))?;
    Ok(v)
}

fn error_body(status: u16, resp: ureq::Response) -> CoreError {
    let bytes = read_all(resp).unwrap_or_default();
    serde_json::from_slice::<CoreError>(&bytes).unwrap_or_else(|_| {
        let code = match status {
            401 => ErrorCode::SessionExpired,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::TooLarge,
            429 => ErrorCode::TooManyRequests,
            400..=499 => ErrorCode::Invalid,
            _ => ErrorCode::Unavailable,
        };
        CoreError::new(code, format!("the branch server answered {status}"))
    })
}

fn not_here(what: &str) -> CoreError {
    CoreError::forbidden(format!(
        "{what} is done on the store itself (unlockdesk-cli --db URL), not through the branch server"
    ))
}

impl Counter for Remote {
    fn is_set_up(&self) -> CoreResult<bool> {
        let v = self.health()?;
        Ok(v["store"] != "not-set-up")
    }
    fn branch(&self) -> CoreResult<Branch> {
        let a = self.current_actor()?;
        self.call("GET", "/api/v1/branch", Some(&a), None, None, true)
    }
    fn today(&self) -> CoreResult<NaiveDate> {
        let a = self.current_actor()?;
        let v: Value = self.call("GET", "/api/v1/today", Some(&a), None, None, true)?;
        serde_json::from_value(v["today"].clone())
            .map_err(|e| CoreError::new(ErrorCode::Internal, format!("today: {e}")))
    }
    fn setup(&self, _input: &SetupInput, _terminal: &str) -> CoreResult<()> {
        Err(not_here("branch set-up"))
    }
    fn update_branch(&self, actor: &Actor, branch: &Branch) -> CoreResult<Branch> {
        self.call(
            "PUT",
            "/api/v1/branch",
            Some(actor),
            None,
            Some(&json!(branch)),
            false,
        )
    }
    fn load_demo(&self, _actor: &Actor, _extra: u64) -> CoreResult<Value> {
        Err(not_here("loading demo data"))
    }

    fn sign_in(&self, staff_id: &str, password: &str, _terminal: &str) -> CoreResult<Session> {
        let (token, staff, terminal) = self.open_session(staff_id, password)?;
        self.remember(&token, false);
        let actor = Actor::remote(staff.id.clone(), staff.role, &terminal, &token);
        Ok(Session::remote(staff, actor, Utc::now()))
    }
    fn authenticate(&self, staff_id: &str, password: &str, _terminal: &str) -> CoreResult<Actor> {
        let (token, staff, terminal) = self.open_session(staff_id, password)?;
        if staff.must_change_password {
            let _ = self.sign_out_token(&token);
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change the password first",
            ));
        }
        self.remember(&token, true);
        Ok(Actor::remote(
            staff.id.clone(),
            staff.role,
            &terminal,
            &token,
        ))
    }
    /// The session's actor without a round trip: the server checks the token on the call
    /// itself (idle minutes, revocation) and answers `session-expired`, which the caller turns
    /// into a locked session ([`Session::mark_locked`]) so the same person signs in again.
    fn session_actor(&self, session: &mut Session) -> CoreResult<Actor> {
        let Some(actor) = session.remote_actor().cloned() else {
            return Err(CoreError::new(
                ErrorCode::SessionLocked,
                "not a branch server session",
            ));
        };
        if session.is_locked() {
            return Err(CoreError::new(
                ErrorCode::SessionLocked,
                "the session is locked",
            ));
        }
        if session.staff().must_change_password {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change the password first",
            ));
        }
        session.mark_active(Utc::now());
        Ok(actor)
    }
    /// A new server session for the same person (the locked one may have expired on the
    /// server meanwhile); the old token is signed out, best effort.
    fn unlock_session(&self, session: &mut Session, password: &str) -> CoreResult<()> {
        let id = session.staff().id.to_string();
        let old = session
            .remote_actor()
            .and_then(|a| a.remote_token())
            .map(str::to_string);
        let fresh = self.sign_in(&id, password, "")?;
        *session = fresh;
        if let Some(t) = old {
            let _ = self.sign_out_token(&t);
        }
        Ok(())
    }
    fn change_password(
        &self,
        staff_id: &str,
        old: &str,
        new: &str,
        _t: &str,
    ) -> CoreResult<StaffView> {
        let (token, staff, terminal) = self.open_session(staff_id, old)?;
        let actor = Actor::remote(staff.id.clone(), staff.role, &terminal, &token);
        let r = self.call(
            "POST",
            "/api/v1/sessions/current/password",
            Some(&actor),
            None,
            Some(&json!({"old_password": old, "new_password": new})),
            false,
        );
        let _ = self.sign_out_token(&token);
        r
    }
    fn change_own_password(&self, session: &mut Session, old: &str, new: &str) -> CoreResult<()> {
        let Some(actor) = session.remote_actor().cloned() else {
            return Err(CoreError::new(
                ErrorCode::SessionLocked,
                "not a branch server session",
            ));
        };
        let _: StaffView = self.call(
            "POST",
            "/api/v1/sessions/current/password",
            Some(&actor),
            None,
            Some(&json!({"old_password": old, "new_password": new})),
            false,
        )?;
        // The server keeps the session; sign in afresh so the session shows the change.
        let id = session.staff().id.to_string();
        let _ = self.sign_out_token(actor.remote_token().unwrap_or_default());
        *session = self.sign_in(&id, new, "")?;
        Ok(())
    }
    fn system_actor(&self, kind: SystemActor, terminal: &str) -> Actor {
        // No server session behind it: every call made with it is refused (`session-expired`).
        Actor::system(kind, terminal)
    }
    fn first_run_actor(&self, _terminal: &str) -> CoreResult<Actor> {
        Err(not_here("loading demo data"))
    }

    fn add_staff(&self, actor: &Actor, input: &NewStaff) -> CoreResult<StaffView> {
        self.call(
            "POST",
            "/api/v1/staff",
            Some(actor),
            None,
            Some(&json!(input)),
            false,
        )
    }
    fn reset_password(
        &self,
        actor: &Actor,
        staff_id: &str,
        new_password: &str,
    ) -> CoreResult<StaffView> {
        self.call(
            "POST",
            &format!("/api/v1/staff/{}/password", seg(staff_id)),
            Some(actor),
            None,
            Some(&json!({"new_password": new_password})),
            false,
        )
    }
    fn set_staff_disabled(
        &self,
        actor: &Actor,
        staff_id: &str,
        disabled: bool,
    ) -> CoreResult<StaffView> {
        self.call(
            "POST",
            &format!("/api/v1/staff/{}/disabled", seg(staff_id)),
            Some(actor),
            None,
            Some(&json!({"disabled": disabled})),
            true,
        )
    }
    fn unlock_staff(&self, actor: &Actor, staff_id: &str) -> CoreResult<StaffView> {
        self.call(
            "POST",
            &format!("/api/v1/staff/{}/unlock", seg(staff_id)),
            Some(actor),
            None,
            Some(&json!({})),
            true,
        )
    }
    fn list_staff(&self, actor: &Actor) -> CoreResult<Vec<StaffView>> {
        self.call("GET", "/api/v1/staff", Some(actor), None, None, true)
    }

    fn open_case(
        &self,
        actor: &Actor,
        input: &OpenCaseInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.keyed("/api/v1/cases", actor, idem, &json!(input))
    }
    fn verify_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &IdentityInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(actor, case_id, "identity", idem, json!(input))
    }
    fn cocheck_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(
            actor,
            case_id,
            "cocheck",
            idem,
            json!({"supervisor": supervisor}),
        )
    }
    fn record_form(
        &self,
        actor: &Actor,
        case_id: CaseId,
        form: &ApplicationForm,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(actor, case_id, "form", idem, json!(form))
    }
    fn confirm_signed(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(actor, case_id, "signed", idem, json!({}))
    }
    fn submit(&self, actor: &Actor, case_id: CaseId, idem: Option<&str>) -> CoreResult<CaseView> {
        self.step(actor, case_id, "submit", idem, json!({}))
    }
    fn authorize(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        decision: Decision,
        reason_code: Option<ReasonCode>,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(
            actor,
            case_id,
            "authorize",
            idem,
            json!({"supervisor": supervisor, "decision": decision, "reason_code": reason_code, "reason": reason}),
        )
    }
    fn log_contact(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &ContactInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(actor, case_id, "contacts", idem, json!(input))
    }
    fn confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(
            actor,
            case_id,
            "unlock",
            idem,
            json!({"supervisor": supervisor, "unlock": input}),
        )
    }
    fn record_unlock_failure(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockFailureInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(actor, case_id, "unlock-failure", idem, json!(input))
    }
    fn close_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        receipt_waiver: Option<&str>,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(
            actor,
            case_id,
            "close",
            idem,
            json!({"receipt_waiver": receipt_waiver}),
        )
    }
    fn cancel_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(actor, case_id, "cancel", idem, json!({"reason": reason}))
    }
    fn wallet_status(
        &self,
        actor: &Actor,
        case_id: CaseId,
        wallet_id: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(
            actor,
            case_id,
            "wallet-status",
            None,
            json!({ "wallet_id": wallet_id }),
        )
    }
    fn request_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(actor, case_id, "request-unlock", idem, json!({}))
    }
    fn refuse_authority_freeze(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(
            actor,
            case_id,
            "refuse-freeze",
            idem,
            json!({"reason": reason}),
        )
    }

    fn case_view(&self, actor: &Actor, case_id: CaseId) -> CoreResult<CaseView> {
        self.call(
            "GET",
            &format!("/api/v1/cases/{case_id}"),
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn list_cases(&self, actor: &Actor, q: &CaseQuery) -> CoreResult<CasePage> {
        self.call(
            "POST",
            "/api/v1/cases/query",
            Some(actor),
            None,
            Some(&json!(q)),
            true,
        )
    }
    fn case_filters(&self, actor: &Actor) -> CoreResult<CaseFilters> {
        self.call(
            "GET",
            "/api/v1/cases/filters",
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn find_cases(&self, actor: &Actor, text: &str) -> CoreResult<Vec<CaseSummary>> {
        self.call(
            "GET",
            &format!("/api/v1/cases/search?q={}", query(text)),
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn reveal(
        &self,
        actor: &Actor,
        case_id: CaseId,
        field: RevealField,
        reason: &str,
    ) -> CoreResult<String> {
        let v: Value = self.call(
            "POST",
            &format!("/api/v1/cases/{case_id}/reveal"),
            Some(actor),
            None,
            Some(&json!({"field": field, "reason": reason})),
            false,
        )?;
        Ok(v["value"].as_str().unwrap_or_default().to_string())
    }
    fn audit_events(&self, actor: &Actor, case_id: CaseId) -> CoreResult<Vec<AuditEvent>> {
        self.call(
            "GET",
            &format!("/api/v1/cases/{case_id}/audit"),
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn verify_audit(&self, actor: &Actor) -> CoreResult<AuditVerification> {
        self.call("GET", "/api/v1/audit/verify", Some(actor), None, None, true)
    }

    fn print_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<DocumentRecord> {
        self.call(
            "POST",
            &format!("/api/v1/cases/{case_id}/prints"),
            Some(actor),
            None,
            Some(&json!({"kind": kind, "copy": copy})),
            false,
        )
    }
    fn record_delivery(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
        delivery: &PrintDelivery,
    ) -> CoreResult<CaseView> {
        self.call(
            "POST",
            &format!(
                "/api/v1/cases/{case_id}/prints/{}/delivery",
                seg(document_id)
            ),
            Some(actor),
            None,
            Some(&json!(delivery)),
            false,
        )
    }
    fn document_bytes(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
    ) -> CoreResult<Vec<u8>> {
        self.call_bytes(
            "GET",
            &format!("/api/v1/cases/{case_id}/documents/{}", seg(document_id)),
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn render_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<Vec<u8>> {
        let body = json!({"kind": kind, "copy": copy}).to_string().into_bytes();
        self.call_bytes(
            "POST",
            &format!("/api/v1/cases/{case_id}/render"),
            Some(actor),
            None,
            Some(body),
            false,
        )
    }

    fn appointments_today(&self, actor: &Actor) -> CoreResult<Vec<Appointment>> {
        self.call(
            "GET",
            "/api/v1/appointments/today",
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn find_appointments(&self, actor: &Actor, text: &str) -> CoreResult<Vec<Appointment>> {
        self.call(
            "GET",
            &format!("/api/v1/appointments/search?q={}", query(text)),
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn add_appointment(&self, actor: &Actor, a: &Appointment) -> CoreResult<()> {
        let _ = self.call_bytes(
            "POST",
            "/api/v1/appointments",
            Some(actor),
            None,
            Some(json!(a).to_string().into_bytes()),
            false,
        )?;
        Ok(())
    }
    fn import_appointments(
        &self,
        actor: &Actor,
        bytes: &[u8],
        file_name: &str,
    ) -> CoreResult<ImportReport> {
        self.upload(
            &format!("/api/v1/appointments/import?file_name={}", query(file_name)),
            actor,
            None,
            bytes,
        )
    }
    fn mark_no_shows(&self, actor: &Actor, day: NaiveDate) -> CoreResult<u32> {
        let v: Value = self.call(
            "POST",
            "/api/v1/appointments/no-shows",
            Some(actor),
            None,
            Some(&json!({"day": day})),
            true,
        )?;
        Ok(v["no_shows"].as_u64().unwrap_or(0) as u32)
    }

    fn backup(&self, actor: &Actor, dest: &Path) -> CoreResult<()> {
        // Streamed to a file beside `dest`, then renamed: never held in memory, never a
        // half-written backup under the final name.
        let token = Self::token_of(Some(actor))?;
        let resp = match self
            .request("POST", "/api/v1/backup", token.as_deref())
            .send_bytes(&[])
        {
            Ok(r) => r,
            Err(ureq::Error::Status(s, r)) => {
                self.check_version(&r)?;
                return Err(error_body(s, r));
            }
            Err(e) => return Err(self.transport(e, false)),
        };
        self.check_version(&resp)?;
        let write_err =
            |e: std::io::Error| CoreError::storage(format!("cannot write {}: {e}", dest.display()));
        let part = dest.with_extension("part");
        let mut f = std::fs::File::create(&part).map_err(write_err)?;
        let copied = std::io::copy(&mut resp.into_reader(), &mut f).and_then(|_| f.sync_all());
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&part);
            return Err(unavailable(format!(
                "the backup from the branch server was cut off ({e}); nothing was written to {}",
                dest.display()
            )));
        }
        std::fs::rename(&part, dest).map_err(write_err)
    }
    fn restore(&self, _actor: &Actor, _src: &Path) -> CoreResult<()> {
        Err(not_here("restore"))
    }
    fn record_restore(&self, _actor: &Actor, _src: &Path, _replaced: bool) -> CoreResult<()> {
        Err(not_here("restore"))
    }

    fn authorization_queue(&self, actor: &Actor) -> CoreResult<Vec<AuthorizationItem>> {
        self.call(
            "GET",
            "/api/v1/authorizations",
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn open_authorization(&self, actor: &Actor, case_id: CaseId) -> CoreResult<AuthorizationItem> {
        // Opening twice only records a second opening: safe to send again.
        self.call(
            "POST",
            &format!("/api/v1/authorizations/{case_id}/open"),
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn request_confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.step(
            actor,
            case_id,
            "unlock-request",
            idem,
            json!({"unlock": input}),
        )
    }
    fn attach_signed_scan(
        &self,
        actor: &Actor,
        case_id: CaseId,
        file_name: &str,
        bytes: &[u8],
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        // Always with a key, so a retry after a lost answer attaches it once.
        let own = uuid::Uuid::new_v4().to_string();
        let key = idem.unwrap_or(&own);
        self.upload(
            &format!(
                "/api/v1/cases/{case_id}/signed-scan?file_name={}",
                query(file_name)
            ),
            actor,
            Some(key),
            bytes,
        )
    }
    fn authorization_events(
        &self,
        actor: &Actor,
        after: Option<i64>,
        limit: u32,
    ) -> CoreResult<AuthorizationEvents> {
        let path = match after {
            Some(a) => format!("/api/v1/authorizations/events?after={a}&limit={limit}"),
            None => format!("/api/v1/authorizations/events?limit={limit}"),
        };
        self.call("GET", &path, Some(actor), None, None, true)
    }

    fn retention_report(&self, actor: &Actor) -> CoreResult<auditor::RetentionReport> {
        self.call("GET", "/api/v1/retention", Some(actor), None, None, true)
    }
    fn prepare_purge(&self, actor: &Actor) -> CoreResult<PurgeBatch> {
        // Not sent again on a lost answer: a second batch would be refused as `conflict`
        // while the first waits; the register shows what happened.
        self.call(
            "POST",
            "/api/v1/retention/batches",
            Some(actor),
            None,
            None,
            false,
        )
    }
    fn approve_purge(&self, actor: &Actor, batch_id: &str) -> CoreResult<PurgeBatch> {
        self.call(
            "POST",
            &format!("/api/v1/retention/batches/{}/approve", seg(batch_id)),
            Some(actor),
            None,
            None,
            false,
        )
    }
    fn withdraw_purge(
        &self,
        actor: &Actor,
        batch_id: &str,
        reason: &str,
    ) -> CoreResult<PurgeBatch> {
        self.call(
            "POST",
            &format!("/api/v1/retention/batches/{}/withdraw", seg(batch_id)),
            Some(actor),
            None,
            Some(&json!({ "reason": reason })),
            false,
        )
    }
    fn notifications(
        &self,
        actor: &Actor,
        case_id: Option<CaseId>,
    ) -> CoreResult<Vec<unlockdesk_core::operator::OutboxMessage>> {
        let path = match case_id {
            Some(c) => format!("/api/v1/notifications?case={c}"),
            None => "/api/v1/notifications".to_string(),
        };
        self.call("GET", &path, Some(actor), None, None, true)
    }
    fn deliver_notifications(
        &self,
        actor: &Actor,
    ) -> CoreResult<unlockdesk_core::service::DeliveryRound> {
        // One round is safe to run again: what it sent is marked sent.
        self.call(
            "POST",
            "/api/v1/notifications/deliver",
            Some(actor),
            None,
            Some(&json!({})),
            false,
        )
    }
    fn purge_batches(&self, actor: &Actor) -> CoreResult<Vec<PurgeBatch>> {
        self.call(
            "GET",
            "/api/v1/retention/batches",
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn set_legal_hold(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
    ) -> CoreResult<LegalHold> {
        self.call(
            "POST",
            &format!("/api/v1/cases/{case_id}/legal-hold"),
            Some(actor),
            None,
            Some(&json!({ "reason": reason })),
            false,
        )
    }
    fn release_legal_hold(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
    ) -> CoreResult<LegalHold> {
        self.call(
            "POST",
            &format!("/api/v1/cases/{case_id}/legal-hold/release"),
            Some(actor),
            None,
            Some(&json!({ "reason": reason })),
            false,
        )
    }
    fn legal_holds(&self, actor: &Actor, active_only: bool) -> CoreResult<Vec<LegalHold>> {
        self.call(
            "GET",
            &format!("/api/v1/legal-holds?active_only={active_only}"),
            Some(actor),
            None,
            None,
            true,
        )
    }
    fn search_audit(
        &self,
        actor: &Actor,
        filter: &auditor::AuditFilter,
    ) -> CoreResult<auditor::AuditPage> {
        self.call(
            "POST",
            "/api/v1/audit/search",
            Some(actor),
            None,
            Some(&json!(filter)),
            true,
        )
    }
    fn export_audit(&self, actor: &Actor, filter: &auditor::AuditFilter) -> CoreResult<Vec<u8>> {
        // Exporting is audited; a retry records a second export, which is what happened.
        self.call_bytes(
            "POST",
            "/api/v1/audit/export",
            Some(actor),
            None,
            Some(json!(filter).to_string().into_bytes()),
            true,
        )
    }
    fn audit_reveals(
        &self,
        actor: &Actor,
        filter: &auditor::AuditFilter,
    ) -> CoreResult<auditor::RevealPage> {
        self.call(
            "POST",
            "/api/v1/audit/reveals",
            Some(actor),
            None,
            Some(&json!(filter)),
            true,
        )
    }
}

/// What [`Remote::follow_events`] hands to its callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// The stream is open: everything after the asked position comes next (a client that
    /// reconnected re-reads the queue now, so nothing in between is missed). Also sent when the
    /// server found the asked position too far behind to replay (`event: resync`): read the
    /// queue again; the events go on from now.
    Connected,
    /// One event of the queue, in audit order.
    Event(AuthorizationEvent),
    /// The server's keep-alive comment (every 15 s): a chance to stop a quiet stream.
    Alive,
}

impl Remote {
    /// Follow the queue's live events (`GET /api/v1/events`, Server-Sent Events) after audit
    /// position `after` (`None`: from now), calling `on` with [`Followed::Connected`] once the
    /// stream is open and then each event; `on` returns `false` to stop. Returns the last seq
    /// seen when the stream ends (the server stopped, the network failed, no byte for
    /// [`STREAM_READ_TIMEOUT`], or `on` said stop): call again with it to resume without a
    /// gap. Errors: as any call (`session-expired` when the session ended, `unavailable`).
    pub fn follow_events(
        &self,
        actor: &Actor,
        after: Option<i64>,
        mut on: impl FnMut(Followed) -> bool,
    ) -> CoreResult<Option<i64>> {
        let token = Self::token_of(Some(actor))?;
        let mut req = self
            .stream_agent
            .get(&format!("{}/api/v1/events", self.conn.url))
            .set("x-unlockdesk-version", VERSION)
            .set("accept", "text/event-stream");
        if let Some((id, secret)) = &self.conn.terminal {
            req = req.set("x-unlockdesk-terminal", &format!("{id}:{secret}"));
        } else if !self.conn.terminal_name.is_empty() {
            req = req.set("x-unlockdesk-terminal-name", &self.conn.terminal_name);
        }
        if let Some(t) = &token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        if let Some(a) = after {
            req = req.set("last-event-id", &a.to_string());
        }
        let resp = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(s, r)) => {
                self.check_version(&r)?;
                return Err(error_body(s, r));
            }
            Err(e) => return Err(self.transport(e, false)),
        };
        self.check_version(&resp)?;
        let mut last = after;
        if !on(Followed::Connected) {
            return Ok(last);
        }
        let reader = std::io::BufReader::new(resp.into_reader());
        let mut event = String::new();
        let mut data = String::new();
        for line in std::io::BufRead::lines(reader) {
            // A read error (timeout, reset) ends this stream; the caller resumes from `last`.
            let Ok(line) = line else { break };
            if line.is_empty() {
                if event == "session-ended" {
                    return Err(CoreError::new(
                        ErrorCode::SessionExpired,
                        "the session ended on the branch server: sign in again",
                    ));
                }
                // Too far behind for a replay: read the queue again, as after a reconnect.
                if event == "resync" && !on(Followed::Connected) {
                    return Ok(last);
                }
                if event == "authorization" && !data.is_empty() {
                    if let Ok(e) = serde_json::from_str::<AuthorizationEvent>(&data) {
                        last = Some(e.seq);
                        if !on(Followed::Event(e)) {
                            return Ok(last);
                        }
                    }
                }
                event.clear();
                data.clear();
            } else if line.starts_with(':') {
                if !on(Followed::Alive) {
                    return Ok(last);
                }
            } else if let Some(v) = line.strip_prefix("event:") {
                event = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        Ok(last)
    }
}
