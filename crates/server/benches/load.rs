//! The branch server under a branch's load (docs/server-benchmarks.md): simulated terminals,
//! each its own session, driving whole cases through the release `unlockdesk-server` on the
//! throwaway PostgreSQL of `scripts/with-postgres.sh`, in a database of its own that is
//! dropped at the end:
//!
//! ```text
//! scripts/with-postgres.sh cargo bench -p unlockdesk-server --bench load
//! ```
//!
//! 1. Set-up on the store directly (the core service on a `PgStore`): the branch, one teller
//!    per terminal and a few supervisors, every password changed so they can work.
//! 2. **Baseline** (the first half before the server starts, the second after it has
//!    stopped): plain two-INSERT READ COMMITTED transactions from as many threads as there are
//!    terminals through a pool of 16 `postgres` connections (the store's pool size), as the
//!    store's branch bench measures it.
//! 3. **Load**: the server binary started as a child (`--listen 127.0.0.1:0`, the request log
//!    at `info` into a temporary file, as a branch runs it), then each terminal a thread with
//!    two clients (`unlockdesk_client::Remote`): the teller's session drives walk-in,
//!    identity, form, print of the bank copy and its delivery, signed, submitted; a
//!    supervisor's client (its own session, as at a real counter) approves with the
//!    supervisor's password; the teller then logs the operator contact, records the
//!    operator's failed unlock (escalated) and cancels: 11 steps and **one** password check
//!    (argon2id) per case. `UD_BENCH_FLOW=closed` runs walk-in to closed instead (contact,
//!    unlock confirmed with the supervisor's password again, receipt printed and delivered,
//!    closed: 13 steps, two password checks). Two phases on the same server, each a warm-up
//!    and a measured window:
//!    - *paced* at the goal's 250 steps/s in all: each terminal starts its steps as a Poisson
//!      process (the counters of a branch are independent), so the p99 is the one a branch
//!      working at that rate sees;
//!    - *as fast as it answers*: every terminal starts its next step when the last one
//!      answered, the server's capacity (its latency then is mostly queueing for the
//!      bottleneck, by construction).
//!
//!    Every step is timed at the client; a step counts when it ends inside the window; the
//!    case in flight when the window closes is finished unmeasured, so every case ends in its
//!    final state. The server's own time per route comes from its request log; its RSS
//!    (`VmRSS` every 250 ms, `VmHWM`) and the CPU time of the server, the cluster's processes
//!    and this bench are taken over each window.
//! 4. **Check**: the server is stopped with SIGTERM (its exit is reported), then every case any
//!    terminal opened is read from the database: in its final state, each step that answered
//!    Ok recorded exactly once (audit events counted per case and action: none lost, none
//!    duplicated), no case nobody opened, and the audit chain verifies. A failed check exits 1.
//!
//! Environment (defaults in brackets): `UD_BENCH_SECS` measured seconds per phase [60],
//! `UD_BENCH_WARMUP` seconds [5], `UD_BENCH_PHASES` [paced,max], `UD_BENCH_RATE` steps/s of
//! the paced phase [250], `UD_BENCH_TERMINALS` [32], `UD_BENCH_SUPERVISORS` [4],
//! `UD_BENCH_BASELINE_SECS` [10], `UD_BENCH_FLOW` [one-check | closed], `UNLOCKDESK_LOG` for the
//! server [info], `UD_BENCH_FSYNC=on`: the throwaway cluster runs with `fsync=off`
//! (pg_virtualenv's default); this turns it on for the run (`ALTER SYSTEM`, reload; reset at
//! the end), as a branch's server runs. A quick run: `UD_BENCH_SECS=5 UD_BENCH_WARMUP=3
//! UD_BENCH_BASELINE_SECS=2`.
//!
//! Goals (the issue): ≥ 250 steps/s sustained with p99 ≤ 100 ms per step, server RSS ≤
//! 100 MiB, 0 steps lost or duplicated, the audit chain intact.
//!
//! Every person is synthetic (the conformance suite's 测试甲).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::{Client, IsolationLevel, NoTls, Statement};
use unlockdesk_client::{Connection, Remote};
use unlockdesk_conformance::{form, id_card, PW};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{OsEntropy, Store, SystemClock};
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store_pg::PgStore;

/// The server under test, built by `cargo bench` with the bench (release settings).
const SERVER: &str = env!("CARGO_BIN_EXE_unlockdesk-server");
/// The store's pool holds at most this many connections (`pool::MAX_CONNECTIONS`); the
/// baseline's pool gets the same.
const POOL_MAX: usize = 16;
/// The issue's goals.
const GOAL_STEPS: f64 = 250.0;
const GOAL_P99_MS: f64 = 100.0;
const GOAL_RSS_MIB: f64 = 100.0;

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

fn secs(v: f64) -> Duration {
    Duration::from_secs_f64(v.max(0.0))
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

// ------------------------------------------------------------------ the bench's database

/// A new database on the cluster, dropped (with any connection left to it) when this is
/// dropped, also when the bench panics.
struct BenchDb {
    base: postgres::Config,
    url: String,
    name: String,
}

impl BenchDb {
    fn create() -> Self {
        let cluster = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap_or_default();
        if cluster.trim().is_empty() {
            eprintln!(
                "UNLOCKDESK_DATABASE_URL is not set: run this bench through \
                 scripts/with-postgres.sh (it starts a throwaway PostgreSQL and sets it):\n  \
                 scripts/with-postgres.sh cargo bench -p unlockdesk-server --bench load"
            );
            std::process::exit(1);
        }
        let cluster = cluster.trim().to_string();
        let base: postgres::Config = cluster
            .parse()
            .expect("UNLOCKDESK_DATABASE_URL is not a PostgreSQL URL");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("ud_load_{}_{nanos}", std::process::id());
        base.connect(NoTls)
            .expect("connect to the cluster")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the bench database");
        let url = with_dbname(&cluster, &name);
        BenchDb { base, url, name }
    }

    fn config(&self) -> postgres::Config {
        let mut c = self.base.clone();
        c.dbname(&self.name);
        c
    }

    fn client(&self) -> Client {
        self.config()
            .connect(NoTls)
            .expect("connect to the bench database")
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = self.base.connect(NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// `fsync = on` for the whole cluster while this lives (`UD_BENCH_FSYNC=on`), then reset: the
/// throwaway cluster runs with `fsync=off`, a branch's does not.
struct Fsync {
    base: postgres::Config,
}

impl Fsync {
    fn on(db: &BenchDb) -> Option<Self> {
        if std::env::var("UD_BENCH_FSYNC").as_deref() != Ok("on") {
            return None;
        }
        let mut c = db.base.connect(NoTls).expect("connect to the cluster");
        // Two statements: one query string would be one transaction, which ALTER SYSTEM
        // refuses.
        c.batch_execute("ALTER SYSTEM SET fsync = on")
            .expect("turn fsync on (needs a superuser URL)");
        c.batch_execute("SELECT pg_reload_conf()").expect("reload");
        for _ in 0..50 {
            if show(&mut db.client(), "fsync") == "on" {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Fsync {
            base: db.base.clone(),
        })
    }
}

impl Drop for Fsync {
    fn drop(&mut self) {
        if let Ok(mut c) = self.base.connect(NoTls) {
            let _ = c.batch_execute("ALTER SYSTEM RESET fsync");
            let _ = c.batch_execute("SELECT pg_reload_conf()");
        }
    }
}

/// `url` naming the database `name` instead (TCP or socket form of the URL).
fn with_dbname(url: &str, name: &str) -> String {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let query = url[start..]
        .find('?')
        .map(|i| start + i)
        .unwrap_or(url.len());
    let slash = url[start..query]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(query);
    format!("{}/{name}{}", &url[..slash], &url[query..])
}

fn show(c: &mut Client, what: &str) -> String {
    c.query_one(&format!("SHOW {what}"), &[])
        .map(|r| r.get::<_, String>(0))
        .unwrap_or_else(|e| format!("? ({e})"))
}

// ------------------------------------------------------------------ set-up

struct Staffing {
    tellers: Vec<String>,
    supervisors: Vec<String>,
}

/// The branch, `terminals` tellers and `sups` supervisors (each password changed from the
/// initial one, as at a first sign-in), on the store directly.
fn set_up(store: Arc<PgStore>, terminals: usize, sups: usize) -> Staffing {
    let svc = Arc::new(Service::new(
        store,
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
    ));
    svc.setup(
        &SetupInput {
            branch_code: "ld1".into(),
            branch_name: "压测支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "bench",
    )
    .expect("set up the branch");
    let admin = svc.authenticate("admin", PW, "bench").expect("admin");
    let tellers: Vec<String> = (1..=terminals).map(|i| format!("tel{i:02}")).collect();
    let supervisors: Vec<String> = (1..=sups).map(|i| format!("sup{i:02}")).collect();
    let all: Vec<(String, Role)> = tellers
        .iter()
        .map(|t| (t.clone(), Role::Teller))
        .chain(supervisors.iter().map(|s| (s.clone(), Role::Supervisor)))
        .collect();
    // Two threads: each account costs three argon2 hashes.
    std::thread::scope(|s| {
        for half in all.chunks(all.len().div_ceil(2)) {
            let (svc, admin) = (svc.clone(), admin.clone());
            s.spawn(move || {
                for (id, role) in half {
                    svc.add_staff(
                        &admin,
                        &NewStaff {
                            id: id.clone(),
                            name: format!("职员{id}"),
                            role: *role,
                            password: "Initial#2026".into(),
                        },
                    )
                    .expect("add staff");
                    svc.change_password(id, "Initial#2026", PW, "bench")
                        .expect("first password change");
                }
            });
        }
    });
    Staffing {
        tellers,
        supervisors,
    }
}

// ------------------------------------------------------------------ the server

struct Server {
    child: Child,
    url: String,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// The server binary the bench runs: `UD_BENCH_SERVER` when set, else this build's.
fn server_binary() -> String {
    std::env::var("UD_BENCH_SERVER").unwrap_or_else(|_| SERVER.to_string())
}

impl Server {
    fn start(db_url: &str) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let log = dir.path().join("server.log");
        let level = std::env::var("UNLOCKDESK_LOG").unwrap_or_else(|_| "info".into());
        // `UD_BENCH_SERVER=PATH` runs another build of the server (an A/B against an older
        // commit's binary, on the same machine in the same hour).
        let bin = server_binary();
        let mut child = Command::new(&bin)
            .args(["--db", db_url, "--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(dir.path())
            .env("UNLOCKDESK_LOG", level)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("the server's log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e}"));
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut url = String::new();
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(u) = line.trim().strip_prefix("UNLOCKDESK_SERVER_READY ") {
                url = u.to_string();
                break;
            }
            line.clear();
        }
        if url.is_empty() {
            let _ = child.kill();
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("the server never said it was ready; its log:\n{text}");
        }
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = out.read_to_end(&mut sink);
        });
        Server {
            child,
            url,
            log,
            _dir: dir,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, and the exit status once it has drained.
    fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(40);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                return st;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                return self.child.wait().expect("wait for the server");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A field of `/proc/PID/status` in kB (`VmRSS`, `VmHWM`).
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU seconds (user + system) of process `pid`, all its threads (`/proc/PID/stat`, clock
/// ticks of 1/100 s, Linux's `USER_HZ`).
fn cpu_secs(pid: &str) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = s.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3; utime and stime are fields 14 and 15.
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    Some((ut + st) / 100.0)
}

/// The machine's (busy, total) CPU ticks since boot (`/proc/stat`).
fn machine_ticks() -> (f64, f64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// CPU seconds of every process of the cluster (backends and background processes, as
/// `pg_stat_activity` lists them), by pid.
fn cluster_cpu(c: &mut Client) -> HashMap<i32, f64> {
    c.query("SELECT pid FROM pg_stat_activity", &[])
        .map(|rows| {
            rows.iter()
                .filter_map(|r| {
                    let pid: i32 = r.get(0);
                    Some((pid, cpu_secs(&pid.to_string())?))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// CPU seconds spent between two snapshots (a process that appeared counts from zero).
fn cpu_between(a: &HashMap<i32, f64>, b: &HashMap<i32, f64>) -> f64 {
    b.iter()
        .map(|(pid, t)| t - a.get(pid).copied().unwrap_or(0.0))
        .sum()
}

// ------------------------------------------------------------------ baseline

struct RawConn {
    client: Client,
    a: Statement,
    b: Statement,
}

/// The baseline's pool: idle connections handed out last-in first-out and waited for when
/// all are out, as the store's pool does.
struct RawPool {
    idle: Mutex<Vec<RawConn>>,
    freed: Condvar,
}

impl RawPool {
    fn new(db: &BenchDb, size: usize) -> Self {
        let idle = (0..size)
            .map(|_| {
                let mut client = db.client();
                let a = client
                    .prepare("INSERT INTO bench_a (v) VALUES ($1)")
                    .expect("prepare");
                let b = client
                    .prepare("INSERT INTO bench_b (v) VALUES ($1)")
                    .expect("prepare");
                RawConn { client, a, b }
            })
            .collect();
        RawPool {
            idle: Mutex::new(idle),
            freed: Condvar::new(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut RawConn) -> T) -> T {
        let mut idle = self.idle.lock().expect("pool lock");
        let mut conn = loop {
            match idle.pop() {
                Some(c) => break c,
                None => idle = self.freed.wait(idle).expect("pool lock"),
            }
        };
        drop(idle);
        let out = f(&mut conn);
        self.idle.lock().expect("pool lock").push(conn);
        self.freed.notify_one();
        out
    }
}

fn baseline_tx(c: &mut RawConn) {
    let mut tx = c
        .client
        .build_transaction()
        .isolation_level(IsolationLevel::ReadCommitted)
        .start()
        .expect("begin");
    tx.execute(&c.a, &[&"case row"]).expect("insert a");
    tx.execute(&c.b, &[&"audit row"]).expect("insert b");
    tx.commit().expect("commit");
}

/// `threads` writers for `budget` (after a short warm-up): transactions/s and latencies.
fn baseline(pool: &RawPool, threads: usize, budget: Duration) -> (f64, Vec<Duration>) {
    let from = Instant::now() + Duration::from_millis(300);
    let to = from + budget;
    let mut lat: Vec<Duration> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let mut lat = Vec::new();
                    while Instant::now() < to {
                        let t = Instant::now();
                        pool.with(baseline_tx);
                        let e = Instant::now();
                        if e >= from && e < to {
                            lat.push(e - t);
                        }
                    }
                    lat
                })
            })
            .collect();
        hs.into_iter()
            .flat_map(|h| h.join().expect("a baseline writer panicked"))
            .collect()
    });
    lat.sort();
    (lat.len() as f64 / budget.as_secs_f64(), lat)
}

// ------------------------------------------------------------------ the cases

/// One kind of step, as timed and as its audit event names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Open,
    Identity,
    Form,
    Print,
    Delivery,
    Signed,
    Submit,
    Approve,
    Contact,
    UnlockFailure,
    Cancel,
    Unlock,
    ReceiptPrint,
    ReceiptDelivery,
    Close,
}

impl Kind {
    const ALL: [Kind; 15] = [
        Kind::Open,
        Kind::Identity,
        Kind::Form,
        Kind::Print,
        Kind::Delivery,
        Kind::Signed,
        Kind::Submit,
        Kind::Approve,
        Kind::Contact,
        Kind::UnlockFailure,
        Kind::Cancel,
        Kind::Unlock,
        Kind::ReceiptPrint,
        Kind::ReceiptDelivery,
        Kind::Close,
    ];

    fn label(self) -> &'static str {
        match self {
            Kind::Open => "open walk-in",
            Kind::Identity => "verify identity",
            Kind::Form => "record form",
            Kind::Print => "print application (PDF)",
            Kind::Delivery => "record delivery",
            Kind::Signed => "confirm signed",
            Kind::Submit => "submit",
            Kind::Approve => "approve (supervisor, argon2)",
            Kind::Contact => "log contact",
            Kind::UnlockFailure => "record unlock failure",
            Kind::Cancel => "cancel",
            Kind::Unlock => "confirm unlock (argon2)",
            Kind::ReceiptPrint => "print receipt (PDF)",
            Kind::ReceiptDelivery => "record receipt delivery",
            Kind::Close => "close",
        }
    }

    /// The audit action the step records on the case.
    fn action(self) -> &'static str {
        match self {
            Kind::Open => "open-case",
            Kind::Identity => "verify-identity",
            Kind::Form => "record-form",
            Kind::Print | Kind::ReceiptPrint => "print",
            Kind::Delivery | Kind::ReceiptDelivery => "print-delivery",
            Kind::Signed => "confirm-signed",
            Kind::Submit => "submit",
            Kind::Approve => "approve",
            Kind::Contact => "log-contact",
            Kind::UnlockFailure => "record-unlock-failure",
            Kind::Cancel => "cancel",
            Kind::Unlock => "confirm-unlock",
            Kind::Close => "close",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// The supervisor's decision is the case's one password check.
    OneCheck,
    /// Walk-in to closed: the decision and the unlock confirmation, two checks.
    Closed,
}

impl Flow {
    fn from_env() -> Self {
        match std::env::var("UD_BENCH_FLOW").as_deref() {
            Ok("closed") => Flow::Closed,
            Ok("" | "one-check") | Err(_) => Flow::OneCheck,
            Ok(other) => panic!("UD_BENCH_FLOW={other}: expected one-check or closed"),
        }
    }
    fn steps(self) -> usize {
        match self {
            Flow::OneCheck => 11,
            Flow::Closed => 13,
        }
    }
    fn final_state(self) -> CaseState {
        match self {
            Flow::OneCheck => CaseState::Cancelled,
            Flow::Closed => CaseState::Closed,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Flow::OneCheck => {
                "walk-in, identity, form, print + delivery, signed, submitted; approved by a \
                 supervisor's client with its password; contact, unlock failed (escalated), \
                 cancelled: 11 steps, 1 password check"
            }
            Flow::Closed => {
                "walk-in, identity, form, print + delivery, signed, submitted; approved by a \
                 supervisor's client with its password; contact, unlock confirmed with the \
                 supervisor's password, receipt printed + delivered, closed: 13 steps, 2 \
                 password checks"
            }
        }
    }
}

/// A case as its terminal saw it: every step that answered Ok, and the errors.
#[derive(Debug)]
struct CaseSeen {
    id: CaseId,
    oks: Vec<Kind>,
    errors: Vec<Kind>,
}

/// What one terminal did.
#[derive(Default)]
struct Tally {
    /// Latencies of the steps that ended inside the window.
    lat: Vec<(Kind, Duration)>,
    /// How late paced steps inside the window started after their slot.
    lag: Vec<Duration>,
    /// The next step's slot when paced.
    next: Option<Instant>,
    cases: Vec<CaseSeen>,
    /// Opens that failed (no case id known).
    failed_opens: usize,
    /// Errors the clients returned, by step, code and message, counted.
    errors: BTreeMap<String, usize>,
}

impl Tally {
    /// Paced: wait for this terminal's next slot. Each terminal starts its steps as a
    /// Poisson process (exponential gaps averaging `interval`), the first anywhere within a
    /// case's length, so the terminals never fall into step (32 counters opening their cases
    /// at once would bring 32 supervisor decisions at once every case, a burst no branch
    /// sees). A terminal behind its schedule starts at once. The case in flight when the
    /// window closes is finished at the same pace (all 32 finishing at once would be a burst
    /// of their own).
    fn pace(&mut self, w: &Window) {
        let Some(iv) = w.interval else {
            return;
        };
        let slot = *self
            .next
            .get_or_insert_with(|| w.start + iv.mul_f64(uniform() * w.case_steps as f64));
        std::thread::sleep(slot.saturating_duration_since(Instant::now()));
        let now = Instant::now();
        if now >= w.from && now < w.to {
            self.lag.push(now - slot);
        }
        // More than a step behind: the schedule moves on rather than bursting to catch up,
        // so a server that cannot keep up shows as a rate below the one asked for.
        let gap = iv.mul_f64(-(1.0 - uniform()).ln());
        self.next = Some(if now > slot + iv {
            now + gap
        } else {
            slot + gap
        });
    }
}

/// A uniform random number in [0, 1).
fn uniform() -> f64 {
    // The top 48 bits of a v4 UUID are random (its version and variant bits lie below).
    (uuid::Uuid::new_v4().as_u128() >> 80) as f64 / (1u64 << 48) as f64
}

/// One simulated terminal: the teller's client and session, and a supervisor's.
struct Terminal {
    teller: Remote,
    tel: Actor,
    sup_client: Remote,
    sup: Actor,
    sup_creds: Credentials,
}

impl Terminal {
    fn new(url: &str, n: usize, teller: &str, supervisor: &str) -> Self {
        let conn = |name: String| Connection {
            url: url.to_string(),
            fingerprint: None,
            terminal: None,
            terminal_name: name,
            connect_timeout: Duration::from_secs(5),
        };
        let teller_client = Remote::new(conn(format!("bench-{n}"))).expect("client");
        let tel = teller_client
            .authenticate(teller, PW, "")
            .unwrap_or_else(|e| panic!("sign in {teller}: {e:?}"));
        let sup_client = Remote::new(conn(format!("bench-{n}-sup"))).expect("client");
        let sup = sup_client
            .authenticate(supervisor, PW, "")
            .unwrap_or_else(|e| panic!("sign in {supervisor}: {e:?}"));
        Terminal {
            teller: teller_client,
            tel,
            sup_client,
            sup,
            sup_creds: Credentials {
                staff_id: supervisor.into(),
                password: PW.into(),
            },
        }
    }
}

/// One phase's measuring window: a step counts when it ends inside `[from, to)`.
struct Window {
    start: Instant,
    from: Instant,
    to: Instant,
    /// Paced: each terminal starts a step every `interval` on average.
    interval: Option<Duration>,
    /// Steps per case (the paced terminals' first step falls anywhere within one case).
    case_steps: usize,
}

/// A step timed at the client; `Some` when it answered Ok.
fn timed<T>(
    w: &Window,
    tally: &mut Tally,
    seen: &mut CaseSeen,
    kind: Kind,
    f: impl FnOnce() -> CoreResult<T>,
) -> Option<T> {
    tally.pace(w);
    let s = Instant::now();
    let r = f();
    let e = Instant::now();
    match r {
        Ok(v) => {
            if e >= w.from && e < w.to {
                tally.lat.push((kind, e - s));
            }
            seen.oks.push(kind);
            Some(v)
        }
        Err(err) => {
            let what = format!("{}: {:?} ({})", kind.label(), err.code, err.message);
            *tally.errors.entry(what).or_default() += 1;
            seen.errors.push(kind);
            None
        }
    }
}

fn delivered() -> PrintDelivery {
    PrintDelivery {
        channel: PrintChannel::File,
        printer: None,
        job_id: None,
        outcome: PrintOutcome::Completed,
        message: String::new(),
    }
}

/// The rest of one case after it was opened; stops at the first error.
fn case_steps(t: &Terminal, flow: Flow, w: &Window, tally: &mut Tally, seen: &mut CaseSeen) {
    let (cl, tel, c) = (&t.teller, &t.tel, seen.id);
    let _: Option<()> = (|| {
        timed(w, tally, seen, Kind::Identity, || {
            cl.verify_identity(tel, c, &id_card(), None)
        })?;
        timed(w, tally, seen, Kind::Form, || {
            cl.record_form(tel, c, &form(), None)
        })?;
        let doc = timed(w, tally, seen, Kind::Print, || {
            cl.print_document(tel, c, DocumentKind::Application, CopyKind::Bank)
        })?;
        timed(w, tally, seen, Kind::Delivery, || {
            cl.record_delivery(tel, c, &doc.id, &delivered())
        })?;
        timed(w, tally, seen, Kind::Signed, || {
            cl.confirm_signed(tel, c, None)
        })?;
        timed(w, tally, seen, Kind::Submit, || cl.submit(tel, c, None))?;
        timed(w, tally, seen, Kind::Approve, || {
            t.sup_client
                .authorize(&t.sup, c, &t.sup_creds, Decision::Approve, None, "", None)
        })?;
        let contact = ContactInput {
            channel: ContactChannel::Phone,
            ticket: "OP-1".into(),
            result: "operator reached".into(),
        };
        timed(w, tally, seen, Kind::Contact, || {
            cl.log_contact(tel, c, &contact, None)
        })?;
        let last = match flow {
            Flow::OneCheck => {
                let failure = UnlockFailureInput {
                    reason: "the operator's system refused the unlock".into(),
                    next: UnlockFailureNext::Escalate,
                    operator_ticket: "OP-1".into(),
                };
                timed(w, tally, seen, Kind::UnlockFailure, || {
                    cl.record_unlock_failure(tel, c, &failure, None)
                })?;
                timed(w, tally, seen, Kind::Cancel, || {
                    cl.cancel_case(tel, c, "escalated to the operator", None)
                })?
            }
            Flow::Closed => {
                let unlock = UnlockInput {
                    operator_reference: "OP-1".into(),
                    notified_via: NotificationChannel::Sms,
                };
                timed(w, tally, seen, Kind::Unlock, || {
                    cl.confirm_unlock(tel, c, &t.sup_creds, &unlock, None)
                })?;
                let doc = timed(w, tally, seen, Kind::ReceiptPrint, || {
                    cl.print_document(tel, c, DocumentKind::Receipt, CopyKind::Bank)
                })?;
                timed(w, tally, seen, Kind::ReceiptDelivery, || {
                    cl.record_delivery(tel, c, &doc.id, &delivered())
                })?;
                timed(w, tally, seen, Kind::Close, || {
                    cl.close_case(tel, c, None, None)
                })?
            }
        };
        assert_eq!(last.case.state, flow.final_state());
        Some(())
    })();
}

/// Whole cases until the window closes; the case in flight then is finished.
fn terminal_loop(t: &Terminal, flow: Flow, w: &Window) -> Tally {
    let mut tally = Tally::default();
    let open = OpenCaseInput {
        customer_name: "测试甲".into(),
        phone: "13912345678".into(),
        lock_cause: Some(LockCause::WrongPassword),
        ..Default::default()
    };
    while Instant::now() < w.to {
        if tally.next.is_some_and(|n| n >= w.to) {
            break;
        }
        tally.pace(w);
        if Instant::now() >= w.to {
            break;
        }
        let s = Instant::now();
        let r = t.teller.open_case(&t.tel, &open, None);
        let e = Instant::now();
        let v = match r {
            Ok(v) => v,
            Err(err) => {
                tally.failed_opens += 1;
                let what = format!("open walk-in: {:?} ({})", err.code, err.message);
                *tally.errors.entry(what).or_default() += 1;
                continue;
            }
        };
        if e >= w.from && e < w.to {
            tally.lat.push((Kind::Open, e - s));
        }
        let mut seen = CaseSeen {
            id: v.case.id,
            oks: vec![Kind::Open],
            errors: Vec::new(),
        };
        case_steps(t, flow, w, &mut tally, &mut seen);
        tally.cases.push(seen);
    }
    tally
}

// ------------------------------------------------------------------ the check

struct Check {
    cases_seen: usize,
    cases_stored: i64,
    steps_ok: usize,
    steps_stored: i64,
    lost: usize,
    duplicated: usize,
    wrong_state: usize,
    unknown_cases: usize,
    refused_events: i64,
    chain_ok: bool,
    chain_events: i64,
    problems: Vec<String>,
}

/// Every case the terminals opened, read back from the database.
fn check(db: &BenchDb, store: &PgStore, flow: Flow, tallies: &[Tally]) -> Check {
    let mut c = db.client();
    let mut stored: HashMap<uuid::Uuid, (String, BTreeMap<String, i64>)> = HashMap::new();
    for r in c
        .query("SELECT id, state FROM cases", &[])
        .expect("read cases")
    {
        stored.insert(r.get(0), (r.get(1), BTreeMap::new()));
    }
    let mut steps_stored = 0;
    for r in c
        .query(
            "SELECT case_id, action, count(*) FROM audit_events \
             WHERE case_id IS NOT NULL AND outcome = 'ok' GROUP BY 1, 2",
            &[],
        )
        .expect("count audit events")
    {
        let (id, action, n): (uuid::Uuid, String, i64) = (r.get(0), r.get(1), r.get(2));
        steps_stored += n;
        if let Some((_, m)) = stored.get_mut(&id) {
            m.insert(action, n);
        }
    }
    let refused_events: i64 = c
        .query_one(
            "SELECT count(*) FROM audit_events WHERE outcome <> 'ok'",
            &[],
        )
        .expect("count refusals")
        .get(0);
    let mut out = Check {
        cases_seen: 0,
        cases_stored: stored.len() as i64,
        steps_ok: 0,
        steps_stored,
        lost: 0,
        duplicated: 0,
        wrong_state: 0,
        unknown_cases: 0,
        refused_events,
        chain_ok: false,
        chain_events: 0,
        problems: Vec::new(),
    };
    let mut known = std::collections::HashSet::new();
    for seen in tallies.iter().flat_map(|t| &t.cases) {
        out.cases_seen += 1;
        out.steps_ok += seen.oks.len();
        known.insert(seen.id.0);
        let Some((state, actions)) = stored.get(&seen.id.0) else {
            out.lost += seen.oks.len();
            out.problems
                .push(format!("case {} answered Ok but is not stored", seen.id.0));
            continue;
        };
        let mut want: BTreeMap<&str, i64> = BTreeMap::new();
        for k in &seen.oks {
            *want.entry(k.action()).or_default() += 1;
        }
        let mut unsure: BTreeMap<&str, i64> = BTreeMap::new();
        for k in &seen.errors {
            *unsure.entry(k.action()).or_default() += 1;
        }
        let mut all: Vec<&str> = want.keys().copied().collect();
        all.extend(actions.keys().map(String::as_str));
        all.sort();
        all.dedup();
        for a in all {
            let w = want.get(a).copied().unwrap_or(0);
            let u = unsure.get(a).copied().unwrap_or(0);
            let s = actions.get(a).copied().unwrap_or(0);
            if s < w {
                out.lost += (w - s) as usize;
                out.problems
                    .push(format!("case {}: {a} Ok {w}× but stored {s}×", seen.id.0));
            } else if s > w + u {
                out.duplicated += (s - w - u) as usize;
                out.problems
                    .push(format!("case {}: {a} Ok {w}× but stored {s}×", seen.id.0));
            }
        }
        if seen.errors.is_empty() && state != flow.final_state().as_str() {
            out.wrong_state += 1;
            out.problems
                .push(format!("case {} ended {state}", seen.id.0));
        }
    }
    out.unknown_cases = stored.keys().filter(|id| !known.contains(*id)).count();
    let v = store.verify_audit().expect("verify the audit chain");
    out.chain_ok = v.ok;
    out.chain_events = v.events;
    out
}

// ------------------------------------------------------------------ phases

/// CPU seconds at one moment: the server, the cluster's processes, this bench, and the
/// machine's (busy, total) ticks.
struct CpuAt {
    server: f64,
    cluster: HashMap<i32, f64>,
    bench: f64,
    machine: (f64, f64),
}

impl CpuAt {
    fn now(server_pid: &str, admin: &mut Client) -> Self {
        CpuAt {
            server: cpu_secs(server_pid).unwrap_or(0.0),
            cluster: cluster_cpu(admin),
            bench: cpu_secs("self").unwrap_or(0.0),
            machine: machine_ticks(),
        }
    }
}

/// Cores used over a window, by whom.
struct CpuUse {
    server: f64,
    cluster: f64,
    bench: f64,
    machine: f64,
}

fn cpu_use(a: &CpuAt, b: &CpuAt, secs: f64, cores: usize) -> CpuUse {
    let (busy, total) = (b.machine.0 - a.machine.0, b.machine.1 - a.machine.1);
    CpuUse {
        server: (b.server - a.server) / secs,
        cluster: cpu_between(&a.cluster, &b.cluster) / secs,
        bench: (b.bench - a.bench) / secs,
        machine: if total > 0.0 {
            busy / total * cores as f64
        } else {
            0.0
        },
    }
}

struct PhaseResult {
    name: String,
    /// The paced rate asked for, steps/s.
    target: Option<f64>,
    secs: f64,
    by_kind: BTreeMap<Kind, Vec<Duration>>,
    all: Vec<Duration>,
    lag: Vec<Duration>,
    rss_kb: Vec<u64>,
    hwm_kb: u64,
    /// `RssAnon` and `RssFile` (the binary and the fonts compiled into it) at the window's end.
    rss_split_kb: (u64, u64),
    cpu: CpuUse,
    /// The window on the wall clock, to find the server's log lines of this phase.
    wall: (DateTime<Utc>, DateTime<Utc>),
    /// Server-side milliseconds per route, from its request log.
    server_ms: BTreeMap<String, Vec<u64>>,
    tallies: Vec<Tally>,
}

impl PhaseResult {
    fn rate(&self) -> f64 {
        self.all.len() as f64 / self.secs
    }
    fn p(&self, q: f64) -> f64 {
        ms(pct(&self.all, q))
    }
    /// Steps that answered an error in this phase.
    fn errors(&self) -> usize {
        self.tallies.iter().flat_map(|t| t.errors.values()).sum()
    }
}

/// Every terminal driving cases through one window: paced at `target` steps/s in all, or
/// as fast as the server answers.
fn run_phase(
    terms: &[Terminal],
    flow: Flow,
    target: Option<f64>,
    warmup: Duration,
    budget: Duration,
    pid: u32,
    admin: &mut Client,
) -> PhaseResult {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let start = Instant::now();
    let from = start + warmup;
    let window = Window {
        start,
        from,
        to: from + budget,
        interval: target.map(|r| Duration::from_secs_f64(terms.len() as f64 / r)),
        case_steps: flow.steps(),
    };
    let stop = AtomicBool::new(false);
    let rss: Mutex<Vec<u64>> = Mutex::new(Vec::new());
    let pid_s = pid.to_string();
    let (tallies, cpu0, cpu1, wall, rss_split_kb) = std::thread::scope(|s| {
        let hs: Vec<_> = terms
            .iter()
            .map(|t| {
                let window = &window;
                s.spawn(move || terminal_loop(t, flow, window))
            })
            .collect();
        // RSS every 250 ms while the window is open.
        let sampler = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now >= window.from && now < window.to {
                    if let Some(kb) = status_kb(pid, "VmRSS") {
                        rss.lock().expect("rss").push(kb);
                    }
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        std::thread::sleep(window.from.saturating_duration_since(Instant::now()));
        let cpu0 = CpuAt::now(&pid_s, admin);
        let wall0 = Utc::now();
        std::thread::sleep(window.to.saturating_duration_since(Instant::now()));
        let cpu1 = CpuAt::now(&pid_s, admin);
        let wall1 = Utc::now();
        let split = (
            status_kb(pid, "RssAnon").unwrap_or(0),
            status_kb(pid, "RssFile").unwrap_or(0),
        );
        let tallies: Vec<Tally> = hs
            .into_iter()
            .map(|h| h.join().expect("a terminal panicked"))
            .collect();
        stop.store(true, Ordering::Relaxed);
        sampler.join().expect("sampler");
        (tallies, cpu0, cpu1, (wall0, wall1), split)
    });
    let secs = budget.as_secs_f64();
    let mut by_kind: BTreeMap<Kind, Vec<Duration>> = BTreeMap::new();
    let mut all = Vec::new();
    let mut lag = Vec::new();
    for t in &tallies {
        for (k, d) in &t.lat {
            by_kind.entry(*k).or_default().push(*d);
            all.push(*d);
        }
        lag.extend(&t.lag);
    }
    all.sort();
    lag.sort();
    for v in by_kind.values_mut() {
        v.sort();
    }
    PhaseResult {
        name: match target {
            Some(r) => format!("paced at {r:.0} steps/s"),
            None => "as fast as it answers".into(),
        },
        target,
        secs,
        by_kind,
        all,
        lag,
        rss_kb: rss.into_inner().expect("rss"),
        hwm_kb: status_kb(pid, "VmHWM").unwrap_or(0),
        rss_split_kb,
        cpu: cpu_use(&cpu0, &cpu1, secs, cores),
        wall,
        server_ms: BTreeMap::new(),
        tallies,
    }
}

/// A request's route as the router names it: ids in the path become `{id}`, `{doc}`.
fn route_of(method: &str, path: &str) -> String {
    let mut out = String::from(method);
    out.push(' ');
    let mut prev = "";
    for seg in path.trim_start_matches("/api/v1").split('/') {
        if seg.is_empty() {
            continue;
        }
        out.push('/');
        if uuid::Uuid::parse_str(seg).is_ok() {
            out.push_str("{id}");
        } else if prev == "prints" || prev == "documents" {
            out.push_str("{doc}");
        } else {
            out.push_str(seg);
        }
        prev = seg;
    }
    out
}

/// The server's own time per route and phase, from its request log (one line per request,
/// `UNLOCKDESK_LOG=info`: `<time> INFO ... request method=M path=P status=S ms=N`): from
/// the request's arrival at the router to its answer, so a wait for the password gate or the
/// blocking pool is in it, the TCP accept queue and the client are not.
fn read_server_log(log: &str, results: &mut [PhaseResult]) {
    for line in log.lines() {
        if !line.contains(" request ") {
            continue;
        }
        let Some(at) = line
            .split_whitespace()
            .next()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            continue;
        };
        let at = at.with_timezone(&Utc);
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        };
        let (Some(method), Some(path), Some(ms)) = (field("method"), field("path"), field("ms"))
        else {
            continue;
        };
        let Ok(ms) = ms.parse::<u64>() else {
            continue;
        };
        if let Some(r) = results.iter_mut().find(|r| at >= r.wall.0 && at < r.wall.1) {
            r.server_ms
                .entry(route_of(method, path))
                .or_default()
                .push(ms);
        }
    }
    for r in results {
        for v in r.server_ms.values_mut() {
            v.sort();
        }
    }
}

fn print_server_table(results: &[PhaseResult]) {
    let mut routes: Vec<&String> = results.iter().flat_map(|r| r.server_ms.keys()).collect();
    routes.sort();
    routes.dedup();
    if routes.is_empty() {
        println!("\n(no request log: the server ran with UNLOCKDESK_LOG below info)");
        return;
    }
    println!("\nserver-side time per route (its request log; whole milliseconds):\n");
    let mut head = String::from("| route                                   ");
    let mut rule = String::from("|-----------------------------------------");
    for r in results {
        head.push_str(&format!("| {:^24} ", r.name));
        rule.push_str("|--------------------------");
    }
    println!("{head}|");
    let mut sub = String::from("|                                         ");
    for _ in results {
        sub.push_str("|  count | p50 ms | p99 ms ");
    }
    println!("{sub}|");
    println!("{rule}|");
    let pick = |v: &[u64], q: f64| {
        if v.is_empty() {
            0
        } else {
            v[((v.len() as f64 - 1.0) * q).round() as usize]
        }
    };
    for route in routes {
        let mut line = format!("| {route:<39} ");
        for r in results {
            let v = r.server_ms.get(route).map(Vec::as_slice).unwrap_or(&[]);
            line.push_str(&format!(
                "| {:>6} | {:>6} | {:>6} ",
                v.len(),
                pick(v, 0.5),
                pick(v, 0.99)
            ));
        }
        println!("{line}|");
    }
}

/// The phases to run: `UD_BENCH_PHASES` (`paced`, `max`, comma-separated) [paced,max].
fn phases() -> Vec<Option<f64>> {
    let rate = env_f64("UD_BENCH_RATE", GOAL_STEPS).max(1.0);
    let list = std::env::var("UD_BENCH_PHASES").unwrap_or_else(|_| "paced,max".into());
    let v: Vec<Option<f64>> = list
        .split(',')
        .filter_map(|p| match p.trim() {
            "paced" => Some(Some(rate)),
            "max" => Some(None),
            "" => None,
            other => panic!("UD_BENCH_PHASES: {other}: expected paced or max"),
        })
        .collect();
    if v.is_empty() {
        vec![Some(rate), None]
    } else {
        v
    }
}

fn print_table(results: &[PhaseResult], base_lat: &[Duration], base_rate: f64) {
    let mut head = String::from("| step                          ");
    let mut rule = String::from("|-------------------------------");
    for r in results {
        head.push_str(&format!("| {:^31} ", r.name));
        rule.push_str("|----------------------------------");
    }
    println!("{head}|");
    let mut sub = String::from("|                               ");
    for _ in results {
        sub.push_str("|  count |    /s | p50 ms | p99 ms ");
    }
    println!("{sub}|");
    println!("{rule}|");
    let cell = |v: &[Duration], secs: f64| {
        format!(
            "| {:>6} | {:>5.1} | {:>6.1} | {:>6.1} ",
            v.len(),
            v.len() as f64 / secs,
            ms(pct(v, 0.5)),
            ms(pct(v, 0.99))
        )
    };
    for k in Kind::ALL {
        if results.iter().all(|r| !r.by_kind.contains_key(&k)) {
            continue;
        }
        let mut line = format!("| {:<29} ", k.label());
        for r in results {
            line.push_str(&cell(
                r.by_kind.get(&k).map(Vec::as_slice).unwrap_or(&[]),
                r.secs,
            ));
        }
        println!("{line}|");
    }
    let mut line = format!("| {:<29} ", "EVERY STEP");
    for r in results {
        line.push_str(&cell(&r.all, r.secs));
    }
    println!("{line}|");
    println!(
        "\nbaseline (2 plain INSERTs per transaction, same threads, pool of {POOL_MAX}): \
         {base_rate:.0} tx/s, p50 {:.2} ms, p99 {:.2} ms",
        ms(pct(base_lat, 0.5)),
        ms(pct(base_lat, 0.99))
    );
}

fn print_phase(r: &PhaseResult, flow: Flow, base_rate: f64, cores: usize) {
    let mib = |kb: f64| kb / 1024.0;
    let rss_max = r.rss_kb.iter().copied().max().unwrap_or(0);
    let rss_mean = r.rss_kb.iter().sum::<u64>() as f64 / r.rss_kb.len().max(1) as f64;
    println!("\n{} ({:.0} s):", r.name, r.secs);
    println!(
        "  {:.1} steps/s ({:.1} cases/s), {:.1}% of the baseline's tx/s ({:.3}×); per step p50 \
         {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        r.rate(),
        r.rate() / flow.steps() as f64,
        100.0 * r.rate() / base_rate,
        r.rate() / base_rate,
        r.p(0.5),
        r.p(0.99),
        r.p(1.0)
    );
    let errors = r.errors();
    if errors > 0 {
        println!("  {errors} steps answered an error (listed under the check below)");
    }
    if let Some(t) = r.target {
        println!(
            "  pacing: {:.1}% of the {t:.0} steps/s asked for; steps started late by p50 {:.1} \
             ms, p99 {:.1} ms (a terminal behind its schedule: the server did not keep up)",
            100.0 * r.rate() / t,
            ms(pct(&r.lag, 0.5)),
            ms(pct(&r.lag, 0.99))
        );
    }
    println!(
        "  server RSS mean {:.1} MiB, max {:.1} MiB ({} samples); peak so far (VmHWM) {:.1} \
         MiB; at the end {:.1} MiB anonymous + {:.1} MiB file-backed",
        mib(rss_mean),
        mib(rss_max as f64),
        r.rss_kb.len(),
        mib(r.hwm_kb as f64),
        mib(r.rss_split_kb.0 as f64),
        mib(r.rss_split_kb.1 as f64)
    );
    let c = &r.cpu;
    println!(
        "  CPU in cores of {cores}: server {:.2}, PostgreSQL {:.2}, the terminals' clients \
         {:.2}, whole machine {:.2} (others {:.2})",
        c.server,
        c.cluster,
        c.bench,
        c.machine,
        (c.machine - c.server - c.cluster - c.bench).max(0.0)
    );
}

// ------------------------------------------------------------------ main

fn main() {
    // `cargo bench` passes `--bench`; there is nothing else to parse.
    let budget = secs(env_f64("UD_BENCH_SECS", 60.0).max(0.5));
    let warmup = secs(env_f64("UD_BENCH_WARMUP", 5.0));
    let base_budget = secs(env_f64("UD_BENCH_BASELINE_SECS", 10.0).max(0.5));
    let terminals = env_usize("UD_BENCH_TERMINALS", 32);
    let sups = env_usize("UD_BENCH_SUPERVISORS", 4);
    let flow = Flow::from_env();
    let phases = phases();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());

    let db = BenchDb::create();
    let fsync = Fsync::on(&db);
    let mut admin = db.client();
    println!("# UnlockDesk branch server: load bench");
    println!(
        "PostgreSQL {}: fsync={}, synchronous_commit={}, full_page_writes={}, \
         shared_buffers={}; {cores} CPU(s); load average before: {}",
        show(&mut admin, "server_version"),
        show(&mut admin, "fsync"),
        show(&mut admin, "synchronous_commit"),
        show(&mut admin, "full_page_writes"),
        show(&mut admin, "shared_buffers"),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("server: {}", server_binary());
    println!(
        "{terminals} terminals (each a teller's session and a supervisor's; {sups} \
         supervisors); each phase {:.0} s measured after {:.0} s of warm-up; each case: {}",
        budget.as_secs_f64(),
        warmup.as_secs_f64(),
        flow.describe()
    );

    let t0 = Instant::now();
    let store = Arc::new(PgStore::open_config(db.config()).expect("open the store"));
    let staff = set_up(store.clone(), terminals, sups);
    println!(
        "set-up on the store: branch, {terminals} tellers, {sups} supervisors in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    // Baseline, first half.
    admin
        .batch_execute(
            "CREATE TABLE bench_a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             v text NOT NULL);
             CREATE TABLE bench_b (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             v text NOT NULL);",
        )
        .expect("baseline tables");
    let pool = RawPool::new(&db, terminals.min(POOL_MAX));
    let (base1, mut base_lat) = baseline(&pool, terminals, base_budget / 2);

    // The load.
    let mut server = Server::start(&db.url);
    let pid = server.pid();
    let rss_start = status_kb(pid, "VmRSS").unwrap_or(0);
    let t1 = Instant::now();
    // Tellers sign in a few at a time, as a branch opens: every terminal here shares one
    // address (loopback), and the server counts password checks in flight from an address
    // toward its flood limit.
    let mut terms: Vec<Terminal> = Vec::with_capacity(terminals);
    for chunk in (0..terminals).collect::<Vec<_>>().chunks(4) {
        terms.extend(std::thread::scope(|s| {
            let hs: Vec<_> = chunk
                .iter()
                .map(|&n| {
                    let (url, staff) = (&server.url, &staff);
                    s.spawn(move || {
                        Terminal::new(
                            url,
                            n + 1,
                            &staff.tellers[n],
                            &staff.supervisors[n % staff.supervisors.len()],
                        )
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("sign-in"))
                .collect::<Vec<_>>()
        }));
    }
    println!(
        "server RSS when ready {:.1} MiB; {} sessions signed in through it in {:.1} s; RSS \
         then {:.1} MiB",
        rss_start as f64 / 1024.0,
        terminals * 2,
        t1.elapsed().as_secs_f64(),
        status_kb(pid, "VmRSS").unwrap_or(0) as f64 / 1024.0
    );
    let mut results: Vec<PhaseResult> = phases
        .iter()
        .map(|&target| run_phase(&terms, flow, target, warmup, budget, pid, &mut admin))
        .collect();
    let hwm = status_kb(pid, "VmHWM").unwrap_or(0);
    drop(terms); // signs the sessions out
    let exit = server.stop();
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    read_server_log(&log, &mut results);

    // Baseline, second half.
    let (base2, lat2) = baseline(&pool, terminals, base_budget / 2);
    base_lat.extend(lat2);
    base_lat.sort();
    let base_rate = (base1 + base2) / 2.0;

    println!();
    print_table(&results, &base_lat, base_rate);
    println!("  ({base1:.0} tx/s before the server ran, {base2:.0} after)");
    print_server_table(&results);
    for r in &results {
        print_phase(r, flow, base_rate, cores);
    }
    let clean_stop = exit.success();
    println!(
        "\nserver stopped with SIGTERM: {exit}{}; its log {:.1} MiB",
        if clean_stop {
            ""
        } else {
            " (NOT a clean exit)"
        },
        log.len() as f64 / (1 << 20) as f64
    );
    if !clean_stop {
        if let Some(i) = log.find("panicked") {
            let end = log[i..]
                .find("stack backtrace")
                .map_or(log.len(), |j| i + j);
            println!("  server log: thread '…' {}", log[i..end].trim());
        }
    }

    // The goals, before the phases' cases go to the check.
    let hwm_mib = hwm as f64 / 1024.0;
    let mut goals: Vec<(String, Option<bool>)> = Vec::new();
    if let Some(r) = results.iter().find(|r| r.target.is_some()) {
        let t = r.target.unwrap_or(GOAL_STEPS);
        goals.push((
            format!(
                "sustained {:.1} of {t:.0} steps/s asked for, p99 {:.1} ms ≤ {GOAL_P99_MS:.0} ms",
                r.rate(),
                r.p(0.99)
            ),
            // Poisson arrivals: the rate reached wanders by a percent or two.
            Some(r.rate() >= 0.97 * t && r.p(0.99) <= GOAL_P99_MS),
        ));
    }
    // A phase whose steps answered errors does not measure capacity: its abandoned cases
    // leave out their later (and costlier) steps.
    for r in results.iter().filter(|r| r.target.is_none()) {
        goals.push(if r.errors() == 0 {
            (
                format!("capacity {:.1} steps/s ≥ {GOAL_STEPS:.0}", r.rate()),
                Some(r.rate() >= GOAL_STEPS),
            )
        } else {
            (
                format!(
                    "capacity not measured: {} steps answered an error {}",
                    r.errors(),
                    r.name
                ),
                None,
            )
        });
    }
    goals.push((
        format!("server RSS peak (VmHWM) {hwm_mib:.1} MiB ≤ {GOAL_RSS_MIB:.0} MiB"),
        Some(hwm_mib <= GOAL_RSS_MIB),
    ));
    // Not a goal: at saturation the latency is the queue for the bottleneck.
    let saturated: Vec<String> = results
        .iter()
        .filter(|r| r.target.is_none())
        .map(|r| {
            let gate = r
                .by_kind
                .iter()
                .filter(|(k, _)| matches!(k, Kind::Approve | Kind::Unlock))
                .map(|(_, v)| ms(pct(v, 0.5)))
                .fold(0.0_f64, f64::max);
            format!(
                "{}: p99 {:.1} ms, the password checks' p50 {gate:.1} ms (the queue for the \
                 password gate)",
                r.name,
                r.p(0.99)
            )
        })
        .collect();

    // The check, over every phase's cases.
    let tallies: Vec<Tally> = results.into_iter().flat_map(|r| r.tallies).collect();
    let mut errors: BTreeMap<&String, usize> = BTreeMap::new();
    for (what, n) in tallies.iter().flat_map(|t| &t.errors) {
        *errors.entry(what).or_default() += n;
    }
    let error_count: usize = errors.values().sum();
    let failed_opens: usize = tallies.iter().map(|t| t.failed_opens).sum();
    let ck = check(&db, &store, flow, &tallies);
    println!(
        "check: {} cases opened by the terminals, {} stored ({} stored that no terminal \
         opened), {} in the wrong final state; {} steps answered Ok, {} step events stored; \
         lost {}, duplicated {}; {} refused events; {} errors seen by the clients ({} failed \
         opens); audit chain: {} events, intact: {}",
        ck.cases_seen,
        ck.cases_stored,
        ck.unknown_cases,
        ck.wrong_state,
        ck.steps_ok,
        ck.steps_stored,
        ck.lost,
        ck.duplicated,
        ck.refused_events,
        error_count,
        failed_opens,
        ck.chain_events,
        ck.chain_ok
    );
    for (what, n) in &errors {
        println!("  client errors: {n} × {what}");
    }
    for p in ck.problems.iter().take(10) {
        println!("  problem: {p}");
    }
    let sound = ck.lost == 0
        && ck.duplicated == 0
        && ck.unknown_cases == 0
        && ck.wrong_state == 0
        && ck.chain_ok
        && errors.is_empty();
    goals.push((
        "0 steps lost or duplicated, audit chain intact, no client error".into(),
        Some(sound),
    ));
    println!("\ngoals (the issue):");
    for (what, ok) in &goals {
        println!("  {:<7} {what}", ok.map_or("n/a", yes));
    }
    for line in &saturated {
        println!("  (info)  {line}");
    }
    drop(pool);
    drop(fsync);
    drop(admin);
    drop(store);
    drop(db);
    if !sound {
        std::process::exit(1);
    }
}
