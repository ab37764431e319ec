//! `unlockdesk-operator-sim`: a simulator of the wallet operator API and its SMS gateway, as
//! the contract in `docs/operator-api.md` defines them, for tests, demos and benchmarks.
//!
//! ```text
//! unlockdesk-operator-sim --listen ADDR:PORT [--fault-rate F] [--seed N] [--fixture FILE]
//!                         [--fault-delay-ms MS] [--token TOKEN]
//! ```
//!
//! * By default every wallet id is locked for a wrong password (`wrong-password`) and can be
//!   unlocked. A fixture file (JSON, see [`Fixture`]) or the id prefixes `FRZ` (the operator
//!   flags an authority freeze), `REJ` (the unlock is refused, code `operator-refused`) and
//!   `PND` (the unlock is pending for two status queries, then confirmed) script other answers.
//! * Each request to `/v1/…` fails with probability `F` (a transport fault, never a refusal),
//!   one of four kinds chosen evenly: the request is dropped (connection closed, nothing done);
//!   it is answered only after `--fault-delay-ms` (default 15000, past a client's total
//!   timeout; the request *is* done); 503 (nothing done); or it is done and then the answer is
//!   dropped. `--seed` makes the fault sequence repeatable.
//! * `GET /sim/ledger` returns what was done, never faulted:
//!   `{"unlocks": {"<wallet id>": <count>, …}, "messages": {"<message id>": <count>, …}}`:
//!   how many times each wallet was unlocked, and how many times each message reached a phone
//!   (a message sent again under its id is dropped as a duplicate, not counted).
//! * `--token TOKEN`: every `/v1/` request must carry `Authorization: Bearer TOKEN` (401
//!   otherwise), as an operator's API does.
//! * `GET /openapi.json` serves the contract's OpenAPI document.
//! * When it accepts requests it prints exactly one line `OPERATOR_SIM_READY <base URL>`
//!   (`http://host:port`, no path) on stdout. SIGTERM or SIGINT stops it (exit 0).
//!
//! Exit codes: 0 stopped, 1 could not listen or read the fixture, 2 usage.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Parser, Debug)]
#[command(
    name = "unlockdesk-operator-sim",
    version,
    about = "Simulator of the wallet operator API and SMS gateway (docs/operator-api.md)"
)]
struct Args {
    /// Address and port to listen on, e.g. 127.0.0.1:8088 (port 0: any free port).
    #[arg(long)]
    listen: SocketAddr,
    /// Probability (0-1) that a request to /v1/… meets a transport fault.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Seed of the fault sequence.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// JSON file scripting wallets' answers (see the crate documentation).
    #[arg(long)]
    fixture: Option<std::path::PathBuf>,
    /// How long a "slow" fault holds the answer, in milliseconds.
    #[arg(long, default_value_t = 15_000)]
    fault_delay_ms: u64,
    /// Require `Authorization: Bearer <TOKEN>` on every /v1/ request (401 otherwise), as an
    /// operator does.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
}

/// A fixture file: `{"wallets": {"<wallet id>": Script, …}}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    #[serde(default)]
    wallets: HashMap<String, Script>,
}

/// How the simulator answers for one wallet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Script {
    #[serde(default = "yes")]
    locked: bool,
    #[serde(default = "wrong_password")]
    lock_cause: String,
    #[serde(default)]
    authority_freeze: bool,
    /// `confirm` (default), `reject` or `pending`.
    #[serde(default = "confirm")]
    unlock: String,
    #[serde(default)]
    reject_code: Option<String>,
    #[serde(default)]
    reject_message: Option<String>,
    /// Status queries answered `pending` before a pending unlock is confirmed.
    #[serde(default = "two")]
    pending_queries: u32,
    /// Unknown wallet: 404.
    #[serde(default)]
    unknown: bool,
}

fn yes() -> bool {
    true
}
fn wrong_password() -> String {
    "wrong-password".into()
}
fn confirm() -> String {
    "confirm".into()
}
fn two() -> u32 {
    2
}

impl Script {
    fn default_for(wallet: &str) -> Script {
        let mut s = Script {
            locked: true,
            lock_cause: wrong_password(),
            authority_freeze: false,
            unlock: confirm(),
            reject_code: None,
            reject_message: None,
            pending_queries: 2,
            unknown: false,
        };
        let upper = wallet.to_ascii_uppercase();
        if upper.starts_with("FRZ") {
            s.authority_freeze = true;
            s.lock_cause = "authority-freeze".into();
        } else if upper.starts_with("REJ") {
            s.unlock = "reject".into();
        } else if upper.starts_with("PND") {
            s.unlock = "pending".into();
        }
        s
    }
}

/// One unlock request as remembered under its idempotency key.
#[derive(Debug, Clone)]
struct Request {
    wallet: String,
    outcome: Value,
    /// Status queries left before a pending request is confirmed.
    pending_left: u32,
    reference: String,
}

#[derive(Default)]
struct Sim {
    fixture: HashMap<String, Script>,
    /// Wallets unlocked so far (no longer locked).
    unlocked: HashMap<String, bool>,
    requests: HashMap<String, Request>,
    ledger_unlocks: BTreeMap<String, u64>,
    ledger_messages: BTreeMap<String, u64>,
    rng: u64,
    seq: u64,
}

impl Sim {
    /// splitmix64: a small, repeatable sequence (no cryptographic use).
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn script(&self, wallet: &str) -> Script {
        self.fixture
            .get(wallet)
            .cloned()
            .unwrap_or_else(|| Script::default_for(wallet))
    }
}

#[derive(Clone)]
struct St {
    sim: Arc<Mutex<Sim>>,
    fault_rate: f64,
    fault_delay: Duration,
    token: Option<Arc<str>>,
}

/// With `--token`, /v1/ requests without `Authorization: Bearer <token>` are refused (401).
async fn authorize(
    State(st): State<St>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if let (Some(t), true) = (&st.token, req.uri().path().starts_with("/v1/")) {
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(&**t) {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a bank's Bearer token is required",
            );
        }
    }
    next.run(req).await
}

impl St {
    fn sim(&self) -> std::sync::MutexGuard<'_, Sim> {
        self.sim.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// The fault this request meets, if any.
    fn fault(&self) -> Option<Fault> {
        if self.fault_rate <= 0.0 {
            return None;
        }
        let mut s = self.sim();
        let roll = (s.next() >> 11) as f64 / (1u64 << 53) as f64;
        if roll >= self.fault_rate {
            return None;
        }
        Some(match s.next() % 4 {
            0 => Fault::Drop,
            1 => Fault::Slow,
            2 => Fault::Unavailable,
            _ => Fault::DropAnswer,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    Drop,
    Slow,
    Unavailable,
    DropAnswer,
}

/// A response that closes the connection without a whole answer.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("simulated dropped connection"))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::SERVICE_UNAVAILABLE.into_response())
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// Run `work` under the request's fault, if any.
async fn faulted(st: &St, work: impl FnOnce() -> Response) -> Response {
    match st.fault() {
        None => work(),
        Some(Fault::Drop) => dropped(),
        Some(Fault::Unavailable) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "simulated outage: nothing was done",
        ),
        Some(Fault::Slow) => {
            let r = work();
            tokio::time::sleep(st.fault_delay).await;
            r
        }
        Some(Fault::DropAnswer) => {
            let _done = work();
            dropped()
        }
    }
}

fn wallet_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

async fn wallet(State(st): State<St>, Path(id): Path<String>) -> Response {
    faulted(&st.clone(), move || {
        if !wallet_ok(&id) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid-wallet-id",
                "a wallet id is 1-64 letters and digits",
            );
        }
        let s = st.sim();
        let script = s.script(&id);
        if script.unknown {
            return error(StatusCode::NOT_FOUND, "unknown-wallet", "no such wallet");
        }
        let locked = script.locked && !s.unlocked.get(&id).copied().unwrap_or(false);
        Json(json!({
            "wallet_id": id,
            "locked": locked,
            "lock_cause": if locked { Value::from(script.lock_cause.clone()) } else { Value::Null },
            "locked_since": if locked { Value::from("2026-12-01T08:00:00Z") } else { Value::Null },
            "authority_freeze": script.authority_freeze,
        }))
        .into_response()
    })
    .await
}

#[derive(Deserialize)]
struct UnlockBody {
    case_number: String,
    branch_code: String,
}

fn idem_key(h: &HeaderMap) -> Option<String> {
    h.get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.len() <= 128)
}

async fn unlock(
    State(st): State<St>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st2 = st.clone();
    faulted(&st2, move || {
        let Some(key) = idem_key(&headers) else {
            return error(StatusCode::BAD_REQUEST, "idempotency-key-required", "the Idempotency-Key header (1-128 characters) is required");
        };
        if !wallet_ok(&id) {
            return error(StatusCode::BAD_REQUEST, "invalid-wallet-id", "a wallet id is 1-64 letters and digits");
        }
        let b: UnlockBody = match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return error(StatusCode::BAD_REQUEST, "invalid-body", &format!("the body is not {{case_number, branch_code}}: {e}")),
        };
        let _ = (&b.case_number, &b.branch_code);
        let mut s = st.sim();
        if let Some(r) = s.requests.get(&key) {
            // The same key again: the first answer, nothing done twice.
            if r.wallet != id {
                return error(StatusCode::CONFLICT, "idempotency-key-reused", "this Idempotency-Key was used for another wallet");
            }
            return answer(&r.outcome);
        }
        let script = s.script(&id);
        if script.unknown {
            return error(StatusCode::NOT_FOUND, "unknown-wallet", "no such wallet");
        }
        s.seq += 1;
        let reference = format!("SIM-UNL-{:08}", s.seq);
        let locked = script.locked && !s.unlocked.get(&id).copied().unwrap_or(false);
        let (outcome, pending_left) = if script.authority_freeze {
            (json!({"status": "rejected", "code": "authority-freeze", "message": "the wallet is frozen by an authority's order"}), 0)
        } else if !locked {
            (json!({"status": "rejected", "code": "not-locked", "message": "the wallet is not locked"}), 0)
        } else {
            match script.unlock.as_str() {
                "reject" => (json!({
                    "status": "rejected",
                    "code": script.reject_code.clone().unwrap_or_else(|| "operator-refused".into()),
                    "message": script.reject_message.clone().unwrap_or_else(|| "the operator refuses this unlock".into()),
                }), 0),
                "pending" => (json!({"status": "pending"}), script.pending_queries),
                _ => {
                    s.unlocked.insert(id.clone(), true);
                    *s.ledger_unlocks.entry(id.clone()).or_default() += 1;
                    (json!({"status": "confirmed", "reference": reference}), 0)
                }
            }
        };
        let request = Request {
            wallet: id,
            outcome: outcome.clone(),
            pending_left,
            reference,
        };
        s.requests.insert(key, request);
        answer(&outcome)
    })
    .await
}

fn answer(outcome: &Value) -> Response {
    let status = if outcome["status"] == "pending" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, Json(outcome.clone())).into_response()
}

async fn unlock_request(State(st): State<St>, Path(key): Path<String>) -> Response {
    let st2 = st.clone();
    faulted(&st2, move || {
        let mut s = st.sim();
        let Some(mut r) = s.requests.get(&key).cloned() else {
            return error(
                StatusCode::NOT_FOUND,
                "unknown-request",
                "no unlock request was received under this key",
            );
        };
        if r.outcome["status"] == "pending" {
            if r.pending_left > 0 {
                r.pending_left -= 1;
            } else {
                s.unlocked.insert(r.wallet.clone(), true);
                *s.ledger_unlocks.entry(r.wallet.clone()).or_default() += 1;
                r.outcome = json!({"status": "confirmed", "reference": r.reference});
            }
            s.requests.insert(key, r.clone());
        }
        answer(&r.outcome)
    })
    .await
}

#[derive(Deserialize)]
struct Sms {
    message_id: String,
    to: String,
    #[serde(default)]
    lang: String,
    text: String,
}

async fn sms(State(st): State<St>, headers: HeaderMap, body: Bytes) -> Response {
    let st2 = st.clone();
    faulted(&st2, move || {
        let m: Sms = match serde_json::from_slice(&body) {
            Ok(m) => m,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid-body",
                    &format!("the body is not {{message_id, to, lang, text}}: {e}"),
                )
            }
        };
        if idem_key(&headers).as_deref() != Some(m.message_id.as_str()) {
            return error(
                StatusCode::BAD_REQUEST,
                "idempotency-key-required",
                "the Idempotency-Key header must be the message_id",
            );
        }
        let digits = m.to.trim_start_matches('+');
        if digits.len() < 5 || digits.len() > 20 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid-phone",
                "'to' is a phone number in digits",
            );
        }
        if m.text.trim().is_empty() || m.text.chars().count() > 500 {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid-text",
                "'text' is 1-500 characters",
            );
        }
        let _ = &m.lang;
        let mut s = st.sim();
        let duplicate = s.ledger_messages.contains_key(&m.message_id);
        if !duplicate {
            s.ledger_messages.insert(m.message_id.clone(), 1);
        }
        (
            StatusCode::ACCEPTED,
            Json(json!({"status": "accepted", "message_id": m.message_id, "duplicate": duplicate})),
        )
            .into_response()
    })
    .await
}

#[derive(Serialize)]
struct Ledger {
    unlocks: BTreeMap<String, u64>,
    messages: BTreeMap<String, u64>,
}

async fn ledger(State(st): State<St>) -> Json<Ledger> {
    let s = st.sim();
    Json(Ledger {
        unlocks: s.ledger_unlocks.clone(),
        messages: s.ledger_messages.clone(),
    })
}

/// The contract's OpenAPI document (docs/operator-api.openapi.json).
const OPENAPI: &str = include_str!("../../../docs/operator-api.openapi.json");

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not-found", "no such route")
}

fn router(st: St) -> Router {
    Router::new()
        .route("/v1/wallets/{id}", get(wallet))
        .route("/v1/wallets/{id}/unlock", post(unlock))
        .route("/v1/unlock-requests/{key}", get(unlock_request))
        .route("/v1/sms", post(sms))
        .route("/sim/ledger", get(ledger))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(st.clone(), authorize))
        .with_state(st)
}

async fn shutdown() {
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        _ = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if !(0.0..=1.0).contains(&args.fault_rate) {
        eprintln!(
            "error: --fault-rate must be between 0 and 1 (got {})",
            args.fault_rate
        );
        return ExitCode::from(2);
    }
    let fixture = match &args.fixture {
        None => Fixture::default(),
        Some(p) => match std::fs::read(p)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice::<Fixture>(&b).map_err(|e| e.to_string()))
        {
            Ok(f) => f,
            Err(e) => {
                eprintln!("error: fixture {}: {e}", p.display());
                return ExitCode::from(1);
            }
        },
    };
    let st = St {
        sim: Arc::new(Mutex::new(Sim {
            fixture: fixture.wallets,
            rng: args.seed,
            ..Default::default()
        })),
        fault_rate: args.fault_rate,
        fault_delay: Duration::from_millis(args.fault_delay_ms),
        token: args.token.map(Arc::from),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.listen);
                return ExitCode::from(1);
            }
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        };
        println!("OPERATOR_SIM_READY http://{addr}");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        match axum::serve(listener, router(st))
            .with_graceful_shutdown(shutdown())
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        }
    })
}
