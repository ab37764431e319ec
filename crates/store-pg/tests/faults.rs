//! Faults a branch's PostgreSQL store must survive (issue 13, item 8), on the real throwaway
//! cluster of `scripts/with-postgres.sh`:
//!
//! - the server stopped abruptly in the middle of a run (an immediate shutdown, or `kill -9` of
//!   the postmaster) and started again: no step that returned Ok is lost, the steps caught in
//!   the outage fail with a `storage` error (never a panic), and the same store, without being
//!   reopened, works again;
//! - a connection dropped in the middle of a transaction: nothing of the step is left behind.
//!
//! These tests stop and start the cluster itself, so nothing else may use it meanwhile: they
//! are a test binary of their own (cargo runs test binaries one after another) and take
//! [`CLUSTER`] one at a time. They need the cluster control `pg_virtualenv` exports
//! (`PG_CLUSTER_CONF_ROOT`, `PGVERSION`) and fail, never skip, without it. Run them with
//! `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg --test faults`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use unlockdesk_conformance::*;
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{AuditDraft, Outcome, Store};
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store_pg::PgStore;

/// One fault test at a time: each stops the cluster or kills connections that the others
/// would be using. (Poisoning is ignored: a failed test must not fail the next one.)
static CLUSTER: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    CLUSTER.lock().unwrap_or_else(|p| p.into_inner())
}

/// How long a step may keep failing after the server is back before the store is judged
/// unable to reconnect.
const RECOVERY: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------- the cluster

/// The throwaway cluster's control, as `pg_virtualenv` leaves it in the environment.
struct Cluster {
    version: String,
    conf_root: String,
    base: postgres::Config,
}

/// The application name of the tests' own admin connections, so terminating the store's
/// connections (application name `unlockdesk`) never hits them.
const ADMIN_APP: &str = "unlockdesk-fault-admin";

impl Cluster {
    fn from_env() -> Self {
        let url = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap_or_default();
        let conf_root = std::env::var("PG_CLUSTER_CONF_ROOT").unwrap_or_default();
        assert!(
            !url.is_empty() && !conf_root.is_empty(),
            "the fault tests stop and start the test cluster, so they need \
             UNLOCKDESK_DATABASE_URL and the cluster control that pg_virtualenv exports \
             (PG_CLUSTER_CONF_ROOT, PGVERSION): run them through scripts/with-postgres.sh, \
             e.g. `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg --test faults`"
        );
        // PGVERSION is exported when the cluster has one version (pg_virtualenv's default);
        // otherwise the one version directory under the configuration root.
        let version = std::env::var("PGVERSION")
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| {
                let dirs: Vec<_> = std::fs::read_dir(&conf_root)
                    .ok()?
                    .filter_map(|d| d.ok()?.file_name().into_string().ok())
                    .collect();
                (dirs.len() == 1).then(|| dirs[0].clone())
            })
            .unwrap_or_else(|| panic!("PGVERSION is not set and {conf_root} holds no one version"));
        let regress = PathBuf::from(&conf_root).join(&version).join("regress");
        assert!(
            regress.is_dir(),
            "no cluster {version}/regress under PG_CLUSTER_CONF_ROOT={conf_root}: the fault \
             tests control the cluster pg_virtualenv made (scripts/with-postgres.sh)"
        );
        let mut base: postgres::Config = url
            .parse()
            .expect("UNLOCKDESK_DATABASE_URL is not a PostgreSQL URL");
        base.application_name(ADMIN_APP);
        base.connect_timeout(Duration::from_secs(5));
        Cluster {
            version,
            conf_root,
            base,
        }
    }

    /// `pg_ctlcluster ARGS` on this cluster (as root it acts as the cluster's owner, where
    /// `pg_ctl` refuses to run). Errors: its status and output.
    fn ctl(&self, args: &[&str]) -> Result<(), String> {
        let out = Command::new("pg_ctlcluster")
            .args(args)
            .env("PG_CLUSTER_CONF_ROOT", &self.conf_root)
            .output()
            .map_err(|e| format!("cannot run pg_ctlcluster: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "pg_ctlcluster {} failed ({}): {}{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// An immediate shutdown: every backend is ended at once, no checkpoint; the next start
    /// runs crash recovery.
    fn stop_immediate(&self) {
        let v = self.version.clone();
        self.ctl(&["--mode", "immediate", &v, "regress", "stop"])
            .unwrap();
    }

    fn data_dir(&self) -> PathBuf {
        let out = Command::new("pg_conftool")
            .args(["-s", &self.version, "regress", "show", "data_directory"])
            .env("PG_CLUSTER_CONF_ROOT", &self.conf_root)
            .output()
            .expect("run pg_conftool");
        assert!(out.status.success(), "pg_conftool: {out:?}");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    }

    /// `kill -9` of the postmaster (the first line of `postmaster.pid`); returns once it is
    /// gone. Its backends notice on their own and end.
    fn kill_postmaster(&self) {
        let pidfile = self.data_dir().join("postmaster.pid");
        let text = std::fs::read_to_string(&pidfile)
            .unwrap_or_else(|e| panic!("read {}: {e}", pidfile.display()));
        let pid = text.lines().next().unwrap_or("").trim().to_string();
        assert!(
            pid.parse::<u32>().is_ok(),
            "{}: no pid: {text:?}",
            pidfile.display()
        );
        let st = Command::new("kill").args(["-9", &pid]).status().unwrap();
        assert!(st.success(), "kill -9 {pid}: {st}");
        let until = Instant::now() + Duration::from_secs(10);
        while alive(&pid) {
            assert!(
                Instant::now() < until,
                "the postmaster {pid} outlived kill -9"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start the cluster and wait until it accepts connections. After `kill -9` the old
    /// postmaster's backends may still hold its shared memory for a moment, and the new one
    /// refuses to start until they have gone: that is retried.
    fn start(&self) {
        let until = Instant::now() + Duration::from_secs(60);
        let v = self.version.clone();
        loop {
            match self.ctl(&[&v, "regress", "start"]) {
                Ok(()) => break,
                Err(e) if Instant::now() < until => {
                    eprintln!("cluster start refused, trying again: {e}");
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("{e}"),
            }
        }
        while self.base.connect(postgres::NoTls).is_err() {
            assert!(Instant::now() < until, "the cluster did not come back");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn accepts_connections(&self) -> bool {
        self.base.connect(postgres::NoTls).is_ok()
    }

    fn admin(&self, db: &str) -> postgres::Client {
        let mut c = self.base.clone();
        c.dbname(db);
        c.connect(postgres::NoTls)
            .expect("connect to the test database as the admin")
    }
}

/// Process `pid` exists and is not a zombie.
fn alive(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// Leaves the cluster running when a test ends, however it ends: a test that panicked while
/// the server was down must not fail the tests after it (nor cargo's next test binaries).
struct KeepRunning<'c>(&'c Cluster);

impl Drop for KeepRunning<'_> {
    fn drop(&mut self) {
        if !self.0.accepts_connections() {
            let v = self.0.version.clone();
            let _ = self.0.ctl(&[&v, "regress", "start"]);
        }
    }
}

// ---------------------------------------------------------------- fresh databases

/// Fresh databases on the test cluster, dropped with the fixture (as in conformance.rs).
struct Pg {
    cluster: Cluster,
    made: Mutex<Vec<String>>,
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

impl Pg {
    fn new() -> Self {
        Pg {
            cluster: Cluster::from_env(),
            made: Mutex::new(Vec::new()),
        }
    }
    fn name(&self) -> String {
        self.made
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("fresh() first")
    }
    fn config(&self, db: &str) -> postgres::Config {
        let mut c = self.cluster.base.clone();
        c.dbname(db);
        // The store names its connections itself (`unlockdesk`): the tests find them by it.
        c.application_name("unlockdesk");
        c
    }
    /// An admin connection to the database `fresh` made last.
    fn admin(&self) -> postgres::Client {
        self.cluster.admin(&self.name())
    }
}

impl Fixture for Pg {
    type S = PgStore;
    fn fresh(&self) -> PgStore {
        let name = format!(
            "ud_fault_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        self.cluster
            .admin("postgres")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        self.made.lock().unwrap().push(name.clone());
        PgStore::open_config(self.config(&name)).unwrap()
    }
    fn again(&self) -> PgStore {
        PgStore::open_config(self.config(&self.name())).unwrap()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        if let Ok(mut admin) = self.cluster.base.connect(postgres::NoTls) {
            for name in made {
                // The cluster is thrown away at the end anyway; this keeps its disk small.
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

// ---------------------------------------------------------------- tellers at work

/// A step that returned Ok: the case, the audit action it records, the case's version it
/// returned (a print returns its document instead), and when the attempt that returned Ok
/// began and ended.
#[derive(Debug, Clone)]
struct OkStep {
    case: CaseId,
    action: &'static str,
    version: Option<i64>,
    document: Option<String>,
    began: Instant,
    at: Instant,
}

/// What the tellers saw: every Ok step, and every error (the step was then tried again, as
/// a teller would, with the same idempotency key).
#[derive(Default)]
struct Seen {
    oks: Vec<OkStep>,
    /// When the current step's latest attempt began.
    attempt: Option<Instant>,
    errors: Vec<CoreError>,
}

/// The counters of a branch: `threads` tellers on one service (one store, one pool), each
/// taking walk-ins from open to closed until `stop`.
#[derive(Clone)]
struct Branch {
    svc: Arc<Service<PgStore>>,
    teller: Actor,
    supervisor: Credentials,
}

impl Branch {
    fn new(fix: &Pg) -> Self {
        let svc = svc(fix, clock());
        let (tel01, _, sup01, _) = setup(&svc);
        Branch {
            svc: Arc::new(svc),
            teller: tel01,
            supervisor: sup01,
        }
    }

    fn run(&self, threads: usize, oks: Arc<AtomicUsize>, stop: Arc<AtomicBool>) -> Vec<Seen> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let svc = self.svc.clone();
                let teller = self.teller.clone();
                let sup = self.supervisor.clone();
                let (oks, stop) = (oks.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut seen = Seen::default();
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let key = format!("t{t}-case{n}");
                        walk_in_to_closed(&svc, &teller, &sup, &key, &stop, &oks, &mut seen);
                        n += 1;
                    }
                    seen
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a teller's thread panicked"))
            .collect()
    }
}

/// Run one step until it returns Ok, as a teller would retry it (with the same idempotency
/// key). Each error must be `storage`, the one code of an outage; `again` may turn the error
/// of a retry into Ok (a delivery recorded by an attempt whose answer was lost).
fn until_ok<T>(
    seen: &mut Seen,
    action: &'static str,
    mut step: impl FnMut() -> CoreResult<T>,
    again: impl Fn(&CoreError) -> bool,
) -> Option<T> {
    let mut failing_since: Option<Instant> = None;
    loop {
        seen.attempt = Some(Instant::now());
        match step() {
            Ok(v) => return Some(v),
            Err(e) if failing_since.is_some() && again(&e) => return None,
            Err(e) => {
                assert_eq!(
                    e.code,
                    ErrorCode::Unavailable,
                    "{action}: an outage must give an unavailable error: {e:?}"
                );
                let since = *failing_since.get_or_insert_with(Instant::now);
                assert!(
                    since.elapsed() < RECOVERY,
                    "{action}: still failing after {} s; the store does not reconnect: {e:?}",
                    RECOVERY.as_secs()
                );
                seen.errors.push(e);
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

fn no_retry_ok(_: &CoreError) -> bool {
    false
}

/// One walk-in from open to closed (the steps of the conformance suite's walk-in, the receipt
/// waived instead of printed), every step kept in `seen` when it returns Ok. Stops early,
/// between steps, when `stop` is set.
fn walk_in_to_closed(
    svc: &Service<PgStore>,
    tel: &Actor,
    sup: &Credentials,
    key: &str,
    stop: &AtomicBool,
    oks: &AtomicUsize,
    seen: &mut Seen,
) {
    let k = |step: &str| format!("{key}-{step}");
    let ok = |seen: &mut Seen,
              case: CaseId,
              action: &'static str,
              version: Option<i64>,
              document: Option<String>| {
        seen.oks.push(OkStep {
            case,
            action,
            version,
            document,
            began: seen.attempt.expect("an attempt"),
            at: Instant::now(),
        });
        oks.fetch_add(1, Ordering::Relaxed);
    };
    let open = OpenCaseInput {
        customer_name: "测试甲".into(),
        phone: "13123456789".into(),
        lock_cause: Some(LockCause::WrongPassword),
        ..Default::default()
    };
    let v = until_ok(
        seen,
        "open-case",
        || svc.open_case(tel, &open, Some(&k("open"))),
        no_retry_ok,
    )
    .unwrap();
    let c = v.case.id;
    ok(seen, c, "open-case", Some(v.case.version), None);
    // The steps that return the case view, by their audit action.
    type Step<'a> = Box<dyn Fn() -> CoreResult<CaseView> + 'a>;
    let before_print: Vec<(&'static str, Step)> = vec![
        (
            "verify-identity",
            Box::new(|| svc.verify_identity(tel, c, &id_card(), Some(&k("id")))),
        ),
        (
            "record-form",
            Box::new(|| svc.record_form(tel, c, &form(), Some(&k("form")))),
        ),
    ];
    for &(action, ref step) in &before_print {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let v = until_ok(seen, action, step, no_retry_ok).unwrap();
        ok(seen, c, action, Some(v.case.version), None);
    }
    // The print has no idempotency key: a retry after a lost answer prints again (a reprint,
    // as at a real counter); every print that returned Ok must be on the case.
    let doc = until_ok(
        seen,
        "print",
        || svc.print_document(tel, c, DocumentKind::Application, CopyKind::Bank),
        no_retry_ok,
    )
    .unwrap();
    ok(seen, c, "print", None, Some(doc.id.clone()));
    let delivery = PrintDelivery {
        channel: PrintChannel::File,
        printer: None,
        job_id: None,
        outcome: PrintOutcome::Completed,
        message: String::new(),
    };
    // A retry of a delivery whose first answer was lost finds it recorded: that is the
    // answer to the retry, not a fault.
    let recorded = |e: &CoreError| {
        e.code == ErrorCode::Conflict && e.message.contains("already recorded as completed")
    };
    let v = until_ok(
        seen,
        "print-delivery",
        || svc.record_delivery(tel, c, &doc.id, &delivery),
        recorded,
    );
    // Recorded by the lost attempt: on the case, at a version no answer told.
    ok(seen, c, "print-delivery", v.map(|v| v.case.version), None);
    let contact = ContactInput {
        channel: ContactChannel::Phone,
        ticket: "OP-1".into(),
        result: "unlocked".into(),
    };
    let unlock = UnlockInput {
        operator_reference: "OP-1".into(),
        notified_via: NotificationChannel::Sms,
    };
    let after_print: Vec<(&'static str, Step)> = vec![
        (
            "confirm-signed",
            Box::new(|| svc.confirm_signed(tel, c, Some(&k("signed")))),
        ),
        (
            "submit",
            Box::new(|| svc.submit(tel, c, Some(&k("submit")))),
        ),
        (
            "approve",
            Box::new(|| {
                svc.authorize(
                    tel,
                    c,
                    sup,
                    Decision::Approve,
                    None,
                    "",
                    Some(&k("approve")),
                )
            }),
        ),
        (
            "log-contact",
            Box::new(|| svc.log_contact(tel, c, &contact, Some(&k("contact")))),
        ),
        (
            "confirm-unlock",
            Box::new(|| svc.confirm_unlock(tel, c, sup, &unlock, Some(&k("unlock")))),
        ),
        (
            "close",
            Box::new(|| {
                svc.close_case(
                    tel,
                    c,
                    Some("the customer declined the receipt"),
                    Some(&k("close")),
                )
            }),
        ),
    ];
    for &(action, ref step) in &after_print {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let v = until_ok(seen, action, step, no_retry_ok).unwrap();
        ok(seen, c, action, Some(v.case.version), None);
    }
}

/// Every step that returned Ok is in the database (read on a new store, not the tellers'
/// pool): each case is at the version its last Ok step returned, its history holds every Ok
/// step in order and each keyed step once (a retry after a lost answer did not apply it
/// twice), every Ok print is stored with its bytes, and the chain verifies.
fn check_nothing_lost(fix: &Pg, seen: &[Seen]) {
    let mut by_case: HashMap<CaseId, Vec<&OkStep>> = HashMap::new();
    for s in seen.iter().flat_map(|s| &s.oks) {
        by_case.entry(s.case).or_default().push(s);
    }
    let store = fix.again();
    for (c, steps) in &by_case {
        let (case, history, docs) = store
            .read(|tx| {
                let case = tx.case(*c)?.expect("a case that returned Ok exists");
                Ok((case, tx.case_history(*c)?, tx.documents(*c)?))
            })
            .unwrap();
        // The last step a teller tried on a case returned Ok (it was tried until it did): the
        // case is at its version, or past it when that step's answer told none (a print).
        let last = steps.last().unwrap();
        let latest = steps.iter().filter_map(|s| s.version).max().unwrap();
        match last.version {
            Some(v) => assert_eq!(case.version, v, "case {}: {steps:?}", case.case_number),
            None => assert!(
                case.version > latest,
                "case {}: {steps:?}",
                case.case_number
            ),
        }
        let done: Vec<&str> = history
            .iter()
            .filter(|e| e.outcome == Outcome::Ok)
            .map(|e| e.action.as_str())
            .collect();
        // Every Ok step, in order, within the recorded actions.
        let mut rest = done.iter();
        for s in steps {
            assert!(
                rest.any(|a| *a == s.action),
                "case {}: the Ok step {} is not on the record after it: {done:?}",
                case.case_number,
                s.action
            );
        }
        for keyed in [
            "open-case",
            "verify-identity",
            "record-form",
            "confirm-signed",
            "submit",
            "approve",
            "log-contact",
            "confirm-unlock",
            "close",
        ] {
            assert!(
                done.iter().filter(|a| **a == keyed).count() <= 1,
                "case {}: {keyed} applied twice: {done:?}",
                case.case_number
            );
        }
        for id in steps.iter().filter_map(|s| s.document.as_ref()) {
            let rec = docs
                .iter()
                .find(|d| &d.id == id)
                .unwrap_or_else(|| panic!("case {}: print {id} lost", case.case_number));
            let bytes = store.read(|tx| tx.document_bytes(rec)).unwrap();
            assert!(!bytes.is_empty());
        }
    }
    let v = store.verify_audit().unwrap();
    assert!(v.ok, "{v:?}");
}

/// How an abrupt stop is made.
#[derive(Clone, Copy, Debug)]
enum Crash {
    ImmediateShutdown,
    KillPostmaster,
}

/// Tellers at work on one service; the server is crashed mid-run, left down a second, and
/// started again; the tellers carry on. Then: nothing that returned Ok is lost, every error
/// was `storage`, the same service (the same pool) did steps after the restart, and the chain
/// verifies.
fn crash_mid_run(crash: Crash) {
    const TELLERS: usize = 4;
    let _one = one_at_a_time();
    let fix = Pg::new();
    let _running = KeepRunning(&fix.cluster);
    let branch = Branch::new(&fix);
    let oks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let run = {
        let (oks, stop, branch) = (oks.clone(), stop.clone(), branch.clone());
        std::thread::spawn(move || branch.run(TELLERS, oks, stop))
    };
    let wait_for = |n: usize| {
        let until = Instant::now() + Duration::from_secs(120);
        while oks.load(Ordering::Relaxed) < n {
            assert!(!run.is_finished(), "the tellers stopped early");
            assert!(Instant::now() < until, "the tellers made no progress");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    // Mid-run: the tellers are busy when the server goes.
    wait_for(40);
    let crashed = Instant::now();
    match crash {
        Crash::ImmediateShutdown => fix.cluster.stop_immediate(),
        Crash::KillPostmaster => fix.cluster.kill_postmaster(),
    }
    let down = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    let starting = Instant::now();
    fix.cluster.start();
    let restarted = Instant::now();
    wait_for(oks.load(Ordering::Relaxed) + 40);
    stop.store(true, Ordering::Relaxed);
    let seen = run.join().expect("the tellers' threads");
    let errors: Vec<_> = seen.iter().flat_map(|s| &s.errors).collect();
    let oks: Vec<_> = seen.iter().flat_map(|s| &s.oks).collect();
    let between = |from: Option<Instant>, to: Option<Instant>| {
        oks.iter()
            .filter(|s| from.is_none_or(|f| s.at >= f) && to.is_none_or(|t| s.at < t))
            .count()
    };
    // Ok steps once the start began are the restarted server's (it was down before), most of
    // them before `pg_ctlcluster start` returns (it polls for the server's readiness).
    let after = between(Some(starting), None);
    let mut messages: HashMap<&str, usize> = HashMap::new();
    for e in &errors {
        *messages.entry(e.message.as_str()).or_default() += 1;
    }
    eprintln!(
        "{crash:?}: {} Ok steps: {} before the crash, {} while it was made ({:.2} s), {} while \
         the server was down (1 s), {after} after the start began ({} before `pg_ctlcluster \
         start` returned in {:.2} s); {} storage errors, saying:",
        oks.len(),
        between(None, Some(crashed)),
        between(Some(crashed), Some(down)),
        (down - crashed).as_secs_f64(),
        between(Some(down), Some(starting)),
        between(Some(starting), Some(restarted)),
        (restarted - starting).as_secs_f64(),
        errors.len(),
    );
    let mut messages: Vec<_> = messages.into_iter().collect();
    messages.sort();
    for (m, n) in &messages {
        eprintln!("  {n} × {m}");
    }
    // The crash did land in the middle of the run, and the same pool works again.
    assert!(!errors.is_empty(), "no step saw the crash");
    assert!(after > 0, "no step returned Ok after the restart");
    if matches!(crash, Crash::ImmediateShutdown) {
        // Nothing begun while the server was down answered Ok before it was started again.
        // (After a `kill -9` of the postmaster, its backends may still serve their
        // connections until they notice.)
        let impossible: Vec<_> = oks
            .iter()
            .filter(|s| s.began >= down && s.at < starting)
            .collect();
        assert!(impossible.is_empty(), "Ok while down: {impossible:?}");
    }
    check_nothing_lost(&fix, &seen);
    // And one more step on the same service, at once.
    let c = walk_in(&*branch.svc, &branch.teller);
    assert_eq!(
        branch.svc.case_view(&branch.teller, c).unwrap().case.state,
        CaseState::CheckedIn
    );
}

#[test]
fn immediate_shutdown_mid_run_loses_no_committed_step_and_the_store_reconnects() {
    crash_mid_run(Crash::ImmediateShutdown);
}

#[test]
fn killed_postmaster_mid_run_loses_no_committed_step_and_the_store_reconnects() {
    crash_mid_run(Crash::KillPostmaster);
}

/// Eight counters busy at once leave eight connections in the pool; the server restarts while
/// the branch is quiet (a lunch break). The next teller's first step must succeed: the store
/// reconnects by itself, the teller never sees the restart.
///
/// (Found by this test: the pool used to hand out its dead idle connections one per attempt,
/// so with [`MAX_ATTEMPTS`] or more idle at the restart the next step failed. A lost
/// connection now drops the idle ones with it.)
///
/// [`MAX_ATTEMPTS`]: unlockdesk_store_pg::MAX_ATTEMPTS
#[test]
fn a_restart_while_the_pool_is_idle_costs_the_next_step_nothing() {
    const COUNTERS: usize = 8;
    let _one = one_at_a_time();
    let fix = Pg::new();
    let _running = KeepRunning(&fix.cluster);
    let branch = Branch::new(&fix);
    // Eight steps at once: eight pooled connections, idle afterwards.
    let barrier = Arc::new(Barrier::new(COUNTERS));
    let handles: Vec<_> = (0..COUNTERS)
        .map(|_| {
            let (svc, tel, barrier) = (branch.svc.clone(), branch.teller.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                walk_in(&*svc, &tel)
            })
        })
        .collect();
    let cases: Vec<CaseId> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let pooled = idle_store_connections(&fix);
    // Fewer idle connections than the store's tries would pass even without the fix.
    assert!(
        pooled >= i64::from(unlockdesk_store_pg::MAX_ATTEMPTS),
        "only {pooled} idle connections: the scenario needs at least MAX_ATTEMPTS"
    );
    fix.cluster.stop_immediate();
    fix.cluster.start();
    let first = branch
        .svc
        .verify_identity(&branch.teller, cases[0], &id_card(), None);
    let eventually = match &first {
        Ok(_) => None,
        // Whether the store recovers on later tries (for the report).
        Err(_) => Some(
            (1..=COUNTERS * 2)
                .find(|_| branch.svc.case_view(&branch.teller, cases[0]).is_ok())
                .map_or("never".to_string(), |n| format!("after {n} more tries")),
        ),
    };
    assert!(
        first.is_ok(),
        "with {pooled} idle pooled connections when the server restarted, the \
         first step afterwards failed ({:?}); the store worked again {}",
        first.err(),
        eventually.unwrap_or_default()
    );
    assert!(fix.again().verify_audit().unwrap().ok);
}

/// The store's connections to the test database as the server sees them.
fn idle_store_connections(fix: &Pg) -> i64 {
    fix.admin()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'unlockdesk'",
            &[],
        )
        .unwrap()
        .get(0)
}

// ---------------------------------------------------------------- dropped connections

/// The database as the admin sees it: the case's document and version, the number of audit
/// events, and the chain head.
fn snapshot(admin: &mut postgres::Client, c: CaseId) -> (serde_json::Value, i64, i64, String) {
    let case = admin
        .query_one("SELECT data, version FROM cases WHERE id = $1", &[&c.0])
        .unwrap();
    let events: i64 = admin
        .query_one("SELECT count(*) FROM audit_events", &[])
        .unwrap()
        .get(0);
    let head = admin
        .query_one("SELECT hash FROM audit_head WHERE id = 1", &[])
        .unwrap();
    (case.get(0), case.get(1), events, head.get(0))
}

/// Terminate the store's connections to the test database once one of them is in `state`
/// (`pg_stat_activity.state`, and a lock wait when `lock_wait`); returns the pid found in it
/// and every pid terminated.
fn terminate_store_connections_once(
    admin: &mut postgres::Client,
    state: &str,
    lock_wait: bool,
) -> (i32, Vec<i32>) {
    let until = Instant::now() + Duration::from_secs(20);
    let pid = loop {
        let row = admin
            .query_opt(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
                 AND application_name = 'unlockdesk' AND state = $1 \
                 AND (NOT $2 OR wait_event_type = 'Lock')",
                &[&state, &lock_wait],
            )
            .unwrap();
        if let Some(r) = row {
            break r.get::<_, i32>(0);
        }
        assert!(
            Instant::now() < until,
            "no store connection became '{state}'"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    // pg_terminate_backend in the select list, never in WHERE: the planner may evaluate the
    // cheaper-looking condition first, and this admin's own session would go too.
    let killed: Vec<i32> = admin
        .query(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'unlockdesk' \
             AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap()
        .iter()
        .filter(|r| r.get::<_, bool>(1))
        .map(|r| r.get(0))
        .collect();
    (pid, killed)
}

/// A real case step (the form recorded, with an idempotency key) has updated the case and
/// appended its audit event, and waits on the key's row, which an admin transaction has
/// inserted and not committed; the step's connection is then terminated
/// (`pg_terminate_backend`, with every other connection of the store). The step fails with
/// `unavailable` saying nothing was recorded; the case is as it was (document and version), no audit event was left,
/// the chain head did not move, the key is not taken; the same service then does the step.
#[test]
fn a_connection_dropped_mid_step_leaves_no_half_written_case() {
    let _one = one_at_a_time();
    let fix = Pg::new();
    let branch = Branch::new(&fix);
    let c = identified_walk_in(&*branch.svc, &branch.teller);
    let mut admin = fix.admin();
    let before = snapshot(&mut admin, c);
    let key = "fault-dropped-mid-step";
    // The admin holds the key's row (not committed): the step's last write waits for it,
    // after the case update and the audit append.
    let mut hold = fix.admin();
    hold.batch_execute("BEGIN").unwrap();
    hold.execute(
        "INSERT INTO idempotency (key, case_id, use_case, at) VALUES ($1, $2, 'x', now())",
        &[&key, &c.0],
    )
    .unwrap();
    let step = {
        let (svc, tel) = (branch.svc.clone(), branch.teller.clone());
        std::thread::spawn(move || svc.record_form(&tel, c, &form(), Some(key)))
    };
    let (blocked, killed) = terminate_store_connections_once(&mut admin, "active", true);
    assert!(killed.contains(&blocked), "{blocked} not in {killed:?}");
    hold.batch_execute("ROLLBACK").unwrap();
    let res = step.join().expect("the step must fail, not panic");
    let e = res.expect_err("a step whose connection was terminated cannot have committed");
    assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
    // Lost before its COMMIT was sent: rolled back, and the teller is told so.
    assert!(e.message.contains("nothing was recorded"), "{e:?}");
    eprintln!("dropped mid-step: the teller saw: {}", e.message);
    assert_eq!(
        snapshot(&mut admin, c),
        before,
        "a half-written case or event"
    );
    let taken: i64 = admin
        .query_one("SELECT count(*) FROM idempotency WHERE key = $1", &[&key])
        .unwrap()
        .get(0);
    assert_eq!(taken, 0);
    assert!(fix.again().verify_audit().unwrap().ok);
    // The same service, the same key: one form recorded.
    let v = branch
        .svc
        .record_form(&branch.teller, c, &form(), Some(key))
        .unwrap();
    assert_eq!(v.case.state, CaseState::FormRecorded);
    assert_eq!(v.case.version, before.1 + 1);
    let forms = v
        .history
        .iter()
        .filter(|e| e.action == "record-form")
        .count();
    assert_eq!(forms, 1);
    assert!(fix.again().verify_audit().unwrap().ok);
}

/// The same inside one `Store::transact` closure: it writes part of a step (the case, then its
/// audit event) and pauses, idle in its transaction; its connection is terminated; its next
/// statement fails. The error is `unavailable` saying nothing was recorded, nothing it wrote
/// is left, and the same store's next transaction works (a new connection).
#[test]
fn a_connection_dropped_inside_a_transaction_rolls_it_back() {
    let _one = one_at_a_time();
    let fix = Pg::new();
    let branch = Branch::new(&fix);
    let c = identified_walk_in(&*branch.svc, &branch.teller);
    let store = Arc::new(fix.again());
    let mut admin = fix.admin();
    let before = snapshot(&mut admin, c);
    let (wrote_tx, wrote) = std::sync::mpsc::channel::<()>();
    let (gone_tx, gone) = std::sync::mpsc::channel::<()>();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.transact(|tx| {
                let mut case = tx.case(c)?.expect("the case");
                let expected = case.version;
                case.version += 1;
                case.last_reason = "half a step".into();
                tx.update_case(&case, expected)?;
                tx.append_audit(&AuditDraft {
                    at: chrono::Utc::now(),
                    staff_id: "tel01".into(),
                    role: Some(Role::Teller),
                    terminal: "t".into(),
                    case_id: Some(c),
                    action: "record-form".into(),
                    from_state: Some(case.state),
                    to_state: Some(case.state),
                    reason: String::new(),
                    outcome: Outcome::Ok,
                    detail: "{}".into(),
                })?;
                wrote_tx.send(()).unwrap();
                gone.recv().unwrap();
                // The rest of the step, on a connection that is no more.
                tx.count_cases()
            })
        })
    };
    wrote.recv().unwrap();
    let (idle, killed) = terminate_store_connections_once(&mut admin, "idle in transaction", false);
    assert!(killed.contains(&idle), "{idle} not in {killed:?}");
    gone_tx.send(()).unwrap();
    let e = writer
        .join()
        .expect("the transaction must fail, not panic")
        .expect_err("a transaction whose connection was terminated cannot commit");
    assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
    assert!(e.message.contains("nothing was recorded"), "{e:?}");
    eprintln!(
        "dropped inside a transaction: the closure saw: {}",
        e.message
    );
    assert_eq!(
        snapshot(&mut admin, c),
        before,
        "a half-written case or event"
    );
    assert!(store.verify_audit().unwrap().ok);
    let n = store.read(|tx| tx.count_cases()).unwrap();
    assert_eq!(n, 1);
}

/// An optimistic transaction (a case step's) that has read the case and loses its connection
/// before its first write: the write that would take the head lock fails, and the error says
/// that nothing was recorded: the teller may simply try again. Nothing changed.
#[test]
fn a_connection_dropped_before_an_optimistic_write_says_nothing_was_recorded() {
    let _one = one_at_a_time();
    let fix = Pg::new();
    let branch = Branch::new(&fix);
    let c = identified_walk_in(&*branch.svc, &branch.teller);
    let store = Arc::new(fix.again());
    let mut admin = fix.admin();
    let before = snapshot(&mut admin, c);
    let (read_tx, read) = std::sync::mpsc::channel::<()>();
    let (gone_tx, gone) = std::sync::mpsc::channel::<()>();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            store.transact_optimistic(|tx| {
                let mut case = tx.case(c)?.expect("the case");
                read_tx.send(()).unwrap();
                gone.recv().unwrap();
                let expected = case.version;
                case.version += 1;
                case.last_reason = "a step".into();
                tx.update_case(&case, expected)
            })
        })
    };
    read.recv().unwrap();
    let (idle, killed) = terminate_store_connections_once(&mut admin, "idle in transaction", false);
    assert!(killed.contains(&idle), "{idle} not in {killed:?}");
    gone_tx.send(()).unwrap();
    let e = writer
        .join()
        .expect("the transaction must fail, not panic")
        .expect_err("its connection was terminated before it wrote");
    assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
    assert!(e.message.contains("nothing was recorded"), "{e:?}");
    assert_eq!(snapshot(&mut admin, c), before, "nothing may have changed");
    assert!(store.verify_audit().unwrap().ok);
}
