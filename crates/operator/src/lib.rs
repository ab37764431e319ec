//! The wallet operator's connector and the SMS gateway over HTTP: core's
//! [`WalletOperator`] and [`SmsGateway`] ports for the contract in `docs/operator-api.md`.
//!
//! * **Timeouts**: every HTTP exchange has a connect timeout and a total timeout
//!   ([`OperatorConfig`]; 3 s and 10 s by default), and an operation (a status query, an
//!   unlock request with its status checks, an SMS) starts no attempt that would not end within
//!   `total × (1 + retries)`, so it ends within that plus the backoffs, whatever the operator
//!   does.
//! * **Retries only where safe**, with jittered exponential backoff: status queries, and the
//!   unlock request and the SMS, which carry an `Idempotency-Key` (the operator applies a key
//!   once). After a request whose answer was lost it asks the request's status before sending
//!   it again.
//! * **Circuit breaker**: after [`OperatorConfig::failure_threshold`] failures in a row the
//!   circuit opens and calls fail at once for [`OperatorConfig::cool_down`]; then one trial
//!   call is let through (half-open): success closes it, failure opens it again.
//! * **Selection**: `UNLOCKDESK_OPERATOR_URL`, when set, serves every operator (and the SMS
//!   gateway) and overrides the branch's settings; else [`Branch::operator_connectors`]. Without
//!   either the manual path stays.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use unlockdesk_core::operator::*;
use unlockdesk_core::Branch;

/// Timeouts, retries and the circuit breaker of one connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorConfig {
    /// Time to open the TCP (and TLS) connection. Default 3 s.
    pub connect_timeout: Duration,
    /// Time for one whole call, connection to last byte. Default 10 s.
    pub total_timeout: Duration,
    /// Retries of a safe call after the first attempt. Default 2.
    pub retries: u32,
    /// First backoff between retries (doubled each time, ±50 % jitter). Default 200 ms.
    pub backoff: Duration,
    /// Failures in a row that open the circuit. Default 5.
    pub failure_threshold: u32,
    /// How long an open circuit refuses calls before a trial call. Default 5 s.
    pub cool_down: Duration,
    /// The bank's credential at the operator, sent as `Authorization: Bearer <token>` on every
    /// call (`UNLOCKDESK_OPERATOR_TOKEN`); never logged.
    pub token: Option<String>,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        OperatorConfig {
            connect_timeout: Duration::from_secs(3),
            total_timeout: Duration::from_secs(10),
            retries: 2,
            backoff: Duration::from_millis(200),
            failure_threshold: 5,
            cool_down: Duration::from_secs(5),
            token: None,
        }
    }
}

impl OperatorConfig {
    /// The defaults, changed by `UNLOCKDESK_OPERATOR_CONNECT_TIMEOUT_MS`,
    /// `UNLOCKDESK_OPERATOR_TIMEOUT_MS`, `UNLOCKDESK_OPERATOR_RETRIES` and
    /// `UNLOCKDESK_OPERATOR_COOL_DOWN_MS` (tests run with short ones). An unreadable value
    /// is named and the default kept.
    pub fn from_env() -> Self {
        let mut c = OperatorConfig::default();
        let ms = |name: &str, into: &mut Duration| {
            if let Ok(v) = std::env::var(name) {
                match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => *into = Duration::from_millis(n),
                    _ => tracing::warn!(variable = name, "not a positive number of ms; ignored"),
                }
            }
        };
        ms(
            "UNLOCKDESK_OPERATOR_CONNECT_TIMEOUT_MS",
            &mut c.connect_timeout,
        );
        ms("UNLOCKDESK_OPERATOR_TIMEOUT_MS", &mut c.total_timeout);
        ms("UNLOCKDESK_OPERATOR_COOL_DOWN_MS", &mut c.cool_down);
        c.token = std::env::var("UNLOCKDESK_OPERATOR_TOKEN")
            .ok()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if let Ok(v) = std::env::var("UNLOCKDESK_OPERATOR_RETRIES") {
            match v.trim().parse::<u32>() {
                Ok(n) if n <= 10 => c.retries = n,
                _ => tracing::warn!("UNLOCKDESK_OPERATOR_RETRIES is not 0-10; ignored"),
            }
        }
        c
    }
}

/// A base URL as the contract wants it: `http(s)://host[:port]`, no path, no trailing slash.
/// Errors: the rule broken, in English.
pub fn base_url(url: &str) -> Result<String, String> {
    let u = url.trim().trim_end_matches('/');
    let lower = u.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .ok_or_else(|| format!("'{u}' is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err(format!("'{u}' must be scheme://host:port with no path"));
    }
    Ok(u.to_string())
}

// ------------------------------------------------------------------ circuit breaker

#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    /// A trial call is out (half-open): others still wait.
    trial: bool,
}

/// What the breaker lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Closed,
    Trial,
}

// ------------------------------------------------------------------ the connector

/// One operator's API (and its SMS gateway) at a base URL.
pub struct HttpOperator {
    base: String,
    agent: ureq::Agent,
    config: OperatorConfig,
    breaker: Mutex<Breaker>,
}

/// A failed HTTP exchange: `retryable` for transport faults and 5xx (the answer may have been
/// lost), not for a 4xx (the request itself is wrong).
#[derive(Debug)]
struct CallError {
    /// Refused by the circuit breaker: nothing was sent.
    circuit_open: bool,
    retryable: bool,
    status: Option<u16>,
    message: String,
    body: Option<serde_json::Value>,
}

impl CallError {
    fn fault_kind(&self) -> FaultKind {
        if self.circuit_open {
            FaultKind::CircuitOpen
        } else {
            FaultKind::Unavailable
        }
    }
}

#[derive(Deserialize)]
struct WalletBody {
    locked: bool,
    #[serde(default)]
    lock_cause: Option<String>,
    #[serde(default)]
    locked_since: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    authority_freeze: bool,
}

fn jitter_fraction() -> f64 {
    getrandom::u32().map_or(0.5, |x| f64::from(x) / f64::from(u32::MAX))
}

impl HttpOperator {
    /// A connector for the API at `base` (see [`base_url`]).
    pub fn new(base: &str, config: OperatorConfig) -> Result<Self, String> {
        let base = base_url(base)?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(config.connect_timeout)
            .timeout(config.total_timeout)
            .build();
        Ok(HttpOperator {
            base,
            agent,
            config,
            breaker: Mutex::new(Breaker::default()),
        })
    }

    /// The base URL served.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `Some(why)` while the circuit is open (one breaker for the operator API and its SMS
    /// gateway: they answer at one base URL).
    pub fn circuit_open(&self) -> Option<String> {
        let b = self.breaker();
        match b.open_until {
            Some(t) if Instant::now() < t => Some(self.open_fault(t).message),
            _ => None,
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn gate(&self) -> Result<Gate, OperatorFault> {
        let mut b = self.breaker();
        match b.open_until {
            None => Ok(Gate::Closed),
            Some(t) if Instant::now() < t => Err(self.open_fault(t)),
            Some(_) if b.trial => Err(OperatorFault::new(
                FaultKind::CircuitOpen,
                format!(
                    "the wallet operator at {} is not answering; a trial call is in progress",
                    self.base
                ),
            )),
            Some(_) => {
                b.trial = true;
                Ok(Gate::Trial)
            }
        }
    }

    fn open_fault(&self, until: Instant) -> OperatorFault {
        let secs = until
            .saturating_duration_since(Instant::now())
            .as_secs_f64();
        OperatorFault::new(
            FaultKind::CircuitOpen,
            format!(
                "the wallet operator at {} is not answering (circuit open after {} failures in a row; next try in {:.0} s)",
                self.base,
                self.config.failure_threshold,
                secs.ceil()
            ),
        )
    }

    /// Count one call's outcome. While the circuit is open only the trial call's outcome
    /// counts: a call started before it opened (and finishing late) neither closes it nor
    /// ends the trial.
    fn record(&self, ok: bool, gate: Gate) {
        let mut b = self.breaker();
        match gate {
            Gate::Trial => b.trial = false,
            Gate::Closed if b.open_until.is_some() => return,
            Gate::Closed => {}
        }
        if ok {
            b.failures = 0;
            if b.open_until.take().is_some() {
                tracing::info!(operator = %self.base, "circuit closed");
            }
        } else {
            b.failures += 1;
            if b.failures >= self.config.failure_threshold || b.open_until.is_some() {
                b.open_until = Some(Instant::now() + self.config.cool_down);
                tracing::warn!(operator = %self.base, failures = b.failures, "circuit open");
            }
        }
    }

    /// One HTTP exchange through the breaker. `Ok((status, body))` for 2xx.
    fn exchange(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), CallError> {
        let gate = self.gate().map_err(|f| CallError {
            circuit_open: true,
            retryable: false,
            status: None,
            message: f.message,
            body: None,
        })?;
        let mut req = self
            .agent
            .request(method, &format!("{}{}", self.base, path))
            .set("accept", "application/json");
        if let Some(k) = key {
            req = req.set("idempotency-key", k);
        }
        if let Some(t) = &self.config.token {
            req = req.set("authorization", &format!("Bearer {t}"));
        }
        let result = match body {
            Some(b) => req.send_json(b.clone()),
            None => req.call(),
        };
        let out = match result {
            Ok(resp) => {
                let status = resp.status();
                let text = resp.into_string().map_err(|e| CallError {
                    circuit_open: false,
                    retryable: true,
                    status: Some(status),
                    message: format!("the answer was cut off: {e}"),
                    body: None,
                });
                text.and_then(|t| {
                    serde_json::from_str(&t)
                        .map(|v| (status, v))
                        .map_err(|e| CallError {
                            circuit_open: false,
                            retryable: true,
                            status: Some(status),
                            message: format!("the answer is not the contract's JSON: {e}"),
                            body: None,
                        })
                })
            }
            Err(ureq::Error::Status(status, resp)) => {
                let body = resp
                    .into_string()
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
                let message = if matches!(status, 401 | 403) {
                    format!(
                        "the operator refused this bank's credentials (HTTP {status}): check UNLOCKDESK_OPERATOR_TOKEN"
                    )
                } else {
                    format!("the operator answered HTTP {status}")
                };
                Err(CallError {
                    circuit_open: false,
                    retryable: status >= 500 || status == 429,
                    status: Some(status),
                    message,
                    body,
                })
            }
            Err(e) => Err(CallError {
                circuit_open: false,
                retryable: true,
                status: None,
                message: transport_words(&e),
                body: None,
            }),
        };
        // A 4xx is an answer about the request: the operator is up. Refused credentials are
        // not: they fail every call, so they open the circuit like an outage.
        let answered = out.as_ref().map_or_else(
            |e| !e.retryable && matches!(e.status, Some(400 | 404 | 409)),
            |_| true,
        );
        self.record(answered, gate);
        out
    }

    /// [`Self::exchange`] with retries (jittered exponential backoff) of retryable failures;
    /// only for calls that are safe to repeat.
    fn safe(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), CallError> {
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            match self.exchange(method, path, key, body) {
                Err(e) if e.retryable && attempt < self.config.retries && self.time_left(start) => {
                    attempt += 1;
                    self.pause(attempt);
                }
                other => return other,
            }
        }
    }

    /// Whether one more whole attempt fits in the operation's budget: `total_timeout × (1 +
    /// retries)` from `start` (so an operation ends within it, plus the backoffs).
    fn time_left(&self, start: Instant) -> bool {
        let budget = self.config.total_timeout * (self.config.retries + 1);
        start.elapsed() + self.config.total_timeout <= budget
    }

    /// One status query of the request sent under `key`, no retry: `Ok(None)` when the
    /// operator never received it.
    fn status_once(&self, key: &str) -> Result<Option<UnlockOutcome>, CallError> {
        match self.exchange(
            "GET",
            &format!("/v1/unlock-requests/{}", seg(key)),
            None,
            None,
        ) {
            Ok((_, v)) => Ok(outcome_of(&v)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn pause(&self, attempt: u32) {
        let base = self.config.backoff.as_secs_f64() * f64::from(1u32 << attempt.min(8));
        let d = base * (0.5 + jitter_fraction());
        std::thread::sleep(Duration::from_secs_f64(d.min(5.0)));
    }
}

fn transport_words(e: &ureq::Error) -> String {
    match e.kind() {
        ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Dns => {
            "could not connect to the operator".into()
        }
        ureq::ErrorKind::Io => "no answer in time, or the connection was dropped".into(),
        _ => format!("the call failed ({:?})", e.kind()),
    }
}

/// Path segment encoding for ids (letters and digits pass; anything else is %-encoded).
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// An unlock answer body (`{"status": …}`) as an outcome.
fn outcome_of(v: &serde_json::Value) -> Option<UnlockOutcome> {
    let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    match v.get("status").and_then(|s| s.as_str())? {
        "confirmed" => Some(UnlockOutcome::Confirmed {
            reference: text("reference"),
        }),
        "rejected" => Some(UnlockOutcome::Rejected {
            code: text("code"),
            message: text("message"),
        }),
        "pending" => Some(UnlockOutcome::Pending),
        _ => None,
    }
}

impl WalletOperator for HttpOperator {
    fn status(&self, wallet_id: &str) -> Result<WalletStatus, OperatorFault> {
        let fault = |e: CallError| OperatorFault::new(e.fault_kind(), e.message);
        let (_, v) = self
            .safe(
                "GET",
                &format!("/v1/wallets/{}", seg(wallet_id)),
                None,
                None,
            )
            .map_err(|e| match e.status {
                Some(404) => OperatorFault::new(
                    FaultKind::UnknownWallet,
                    "the operator does not know this wallet id",
                ),
                _ => fault(e),
            })?;
        let b: WalletBody = serde_json::from_value(v).map_err(|e| {
            OperatorFault::new(
                FaultKind::Unavailable,
                format!("the operator's answer is not the contract's wallet: {e}"),
            )
        })?;
        Ok(WalletStatus {
            locked: b.locked,
            lock_cause: b.lock_cause.unwrap_or_default(),
            locked_since: b.locked_since,
            authority_freeze: b.authority_freeze,
        })
    }

    fn request_unlock(&self, call: &UnlockCall, key: &str) -> UnlockOutcome {
        let path = format!("/v1/wallets/{}/unlock", seg(&call.wallet_id));
        let body = serde_json::json!({
            "case_number": call.case_number,
            "branch_code": call.branch_code,
        });
        let start = Instant::now();
        let mut attempt = 0;
        loop {
            match self.exchange("POST", &path, Some(key), Some(&body)) {
                Ok((_, v)) => {
                    return outcome_of(&v).unwrap_or(UnlockOutcome::Unknown {
                        reason: "the answer has no contract status".into(),
                    })
                }
                // The contract's refusals of the request as sent (400 malformed, 404 unknown
                // wallet, 409 key reused for another wallet), with their code: final.
                Err(e)
                    if matches!(e.status, Some(400 | 404 | 409))
                        && e.body.as_ref().is_some_and(|b| b.get("code").is_some()) =>
                {
                    let b = e.body.unwrap_or_default();
                    let text = |k: &str| b.get(k).and_then(|x| x.as_str()).map(str::to_string);
                    return UnlockOutcome::Rejected {
                        code: text("code").unwrap_or_default(),
                        message: text("message").unwrap_or(e.message),
                    };
                }
                // Any other refusal (credentials, a proxy's 408/413, the circuit open): no
                // final answer; the case waits and its status is asked later.
                Err(e) if !e.retryable => return UnlockOutcome::Unknown { reason: e.message },
                Err(e) => {
                    // The answer may be lost: ask what became of the key before sending again.
                    if attempt >= self.config.retries || !self.time_left(start) {
                        return UnlockOutcome::Unknown { reason: e.message };
                    }
                    attempt += 1;
                    self.pause(attempt);
                    match self.status_once(key) {
                        Ok(Some(o)) => return o,
                        Ok(None) if self.time_left(start) => continue,
                        Ok(None) => return UnlockOutcome::Unknown { reason: e.message },
                        Err(f) => return UnlockOutcome::Unknown { reason: f.message },
                    }
                }
            }
        }
    }

    fn unlock_status(
        &self,
        _wallet_id: &str,
        key: &str,
    ) -> Result<Option<UnlockOutcome>, OperatorFault> {
        match self.safe(
            "GET",
            &format!("/v1/unlock-requests/{}", seg(key)),
            None,
            None,
        ) {
            Ok((_, v)) => Ok(Some(outcome_of(&v).ok_or_else(|| {
                OperatorFault::new(FaultKind::Unavailable, "the answer has no contract status")
            })?)),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(OperatorFault::new(e.fault_kind(), e.message)),
        }
    }

    fn circuit_open(&self) -> Option<String> {
        HttpOperator::circuit_open(self)
    }
}

impl SmsGateway for HttpOperator {
    fn circuit_open(&self) -> Option<String> {
        HttpOperator::circuit_open(self)
    }

    fn send(&self, msg: &SmsMessage) -> Result<(), DeliveryFault> {
        let body = serde_json::json!({
            "message_id": msg.message_id,
            "to": msg.to,
            "lang": msg.lang,
            "text": msg.text,
        });
        match self.safe("POST", "/v1/sms", Some(&msg.message_id), Some(&body)) {
            Ok(_) => Ok(()),
            Err(e) => Err(DeliveryFault {
                retryable: e.retryable || e.status.is_none(),
                message: e.message,
            }),
        }
    }
}

// ------------------------------------------------------------------ selection

/// The connectors of a terminal or server: `UNLOCKDESK_OPERATOR_URL` or the branch's settings,
/// one [`HttpOperator`] (one circuit breaker) per base URL for the process's life.
pub struct HttpConnectors {
    override_url: Option<String>,
    config: OperatorConfig,
    cache: Mutex<HashMap<String, Arc<HttpOperator>>>,
}

impl HttpConnectors {
    /// From the environment: `UNLOCKDESK_OPERATOR_URL` (checked: an unusable URL is an error
    /// naming the variable) and [`OperatorConfig::from_env`].
    pub fn from_env() -> Result<Self, String> {
        let url = match std::env::var("UNLOCKDESK_OPERATOR_URL") {
            Ok(u) if !u.trim().is_empty() => {
                Some(base_url(&u).map_err(|e| format!("UNLOCKDESK_OPERATOR_URL: {e}"))?)
            }
            _ => None,
        };
        Ok(Self::new(url, OperatorConfig::from_env()))
    }

    /// `override_url` serves every operator when given.
    pub fn new(override_url: Option<String>, config: OperatorConfig) -> Self {
        HttpConnectors {
            override_url,
            config,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn at(&self, url: &str) -> Option<Arc<HttpOperator>> {
        let base = base_url(url).ok()?;
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(op) = cache.get(&base) {
            return Some(op.clone());
        }
        let op = Arc::new(HttpOperator::new(&base, self.config.clone()).ok()?);
        cache.insert(base, op.clone());
        Some(op)
    }
}

impl Connectors for HttpConnectors {
    fn operator(&self, branch: &Branch, wallet_operator: &str) -> Option<Arc<dyn WalletOperator>> {
        let url = match &self.override_url {
            Some(u) => u.clone(),
            None => branch
                .operator_connectors
                .as_deref()?
                .iter()
                .find(|c| {
                    c.wallet_operator
                        .trim()
                        .eq_ignore_ascii_case(wallet_operator.trim())
                })?
                .base_url
                .clone(),
        };
        self.at(&url).map(|o| o as Arc<dyn WalletOperator>)
    }

    fn sms(&self, branch: &Branch) -> Option<Arc<dyn SmsGateway>> {
        // The gateway answers at the operator API's base URL; with several connectors, the
        // first one listed carries the branch's SMS.
        let url = match &self.override_url {
            Some(u) => u.clone(),
            None => branch
                .operator_connectors
                .as_deref()?
                .first()?
                .base_url
                .clone(),
        };
        self.at(&url).map(|o| o as Arc<dyn SmsGateway>)
    }
}

// ------------------------------------------------------------------ the outbox worker

/// The outbox worker of a process (the desktop app standalone, or the branch server): rounds
/// of [`unlockdesk_core::Counter::deliver_notifications`] as the `outbox-worker` system actor,
/// sleeping until the next message is due (at least 50 ms, at most 1 s, so a message queued
/// by another process is picked up within a second). `service` gives the service for each
/// round; the worker ends when it gives `None` (the service was replaced or dropped) or when
/// `stop` is set.
pub fn spawn_outbox_worker(
    service: impl Fn() -> Option<Arc<dyn unlockdesk_core::Counter>> + Send + 'static,
    terminal: &str,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    use std::sync::atomic::Ordering;
    let terminal = terminal.to_string();
    std::thread::Builder::new()
        .name("outbox-worker".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Some(svc) = service() else { return };
                let actor = svc.system_actor(unlockdesk_core::SystemActor::OutboxWorker, &terminal);
                let wait = match svc.deliver_notifications(&actor) {
                    Ok(r) => {
                        if r.claimed > 0 {
                            tracing::info!(
                                sent = r.sent,
                                failed = r.failed,
                                retried = r.retried,
                                settled = r.settled,
                                queued = r.queued,
                                "outbox round"
                            );
                        }
                        r.until_next_due(chrono::Utc::now())
                            .unwrap_or(Duration::from_secs(1))
                            .clamp(Duration::from_millis(50), Duration::from_secs(1))
                    }
                    // Not set up yet, or the store is down: try again shortly.
                    Err(e) => {
                        tracing::debug!(code = ?e.code, "outbox round skipped");
                        Duration::from_secs(1)
                    }
                };
                drop(svc);
                std::thread::sleep(wait);
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_scheme_host_port() {
        assert_eq!(
            base_url("http://127.0.0.1:9/").unwrap(),
            "http://127.0.0.1:9"
        );
        assert!(base_url("ftp://x").is_err());
        assert!(base_url("http://x/v1").is_err());
        assert!(base_url("http://").is_err());
    }

    #[test]
    fn ids_are_path_safe() {
        assert_eq!(seg("W123abc"), "W123abc");
        assert_eq!(seg("a/b"), "a%2Fb");
    }

    #[test]
    fn outcomes_read_the_contract_status() {
        let v = serde_json::json!({"status": "confirmed", "reference": "R1"});
        assert_eq!(
            outcome_of(&v),
            Some(UnlockOutcome::Confirmed {
                reference: "R1".into()
            })
        );
        assert_eq!(outcome_of(&serde_json::json!({"status": "odd"})), None);
    }
}
