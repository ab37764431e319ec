//! Faults a branch server must survive, on the throwaway PostgreSQL of
//! `scripts/with-postgres.sh`, with the `unlockdesk-server` binary and the remote client:
//!
//! 1. the server killed outright (`kill -9`) while tellers work, and started again on the same
//!    port a moment later: the clients retry with their idempotency keys; afterwards no step
//!    that answered Ok is lost, none was applied twice, and the audit chain verifies;
//! 2. PostgreSQL stopped and started again under a running server: requests meanwhile get 503
//!    (seen by a raw request), then everything works again without restarting the server;
//! 3. a client that loses the connection after sending a step learns its outcome by sending
//!    it again with the same key: the case moved exactly once and the answer is the step's.
//!
//! Run: `scripts/with-postgres.sh cargo test -p unlockdesk-server --test faults`. Without
//! `UNLOCKDESK_DATABASE_URL` (and, for the PostgreSQL restart, the cluster control that
//! `pg_virtualenv` exports) each test says why on stderr and passes, unless `CI=true` or
//! `UNLOCKDESK_REQUIRE_PG=1` (`make test-rust`), where it fails. The tests stop servers and the
//! cluster, so they take one lock and run one at a time.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use unlockdesk_client::{Connection, Remote};
use unlockdesk_conformance::{form, id_card, setup, PW};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{OsEntropy, Store, SystemClock};
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store_pg::PgStore;

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-server");

/// One test at a time: they kill servers and stop the cluster. (A failed test's poison is
/// ignored: it must not fail the next one.)
static ONE: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE.lock().unwrap_or_else(|p| p.into_inner())
}

/// How long a step may keep failing before the test gives up on recovery.
const RECOVERY: Duration = Duration::from_secs(45);

/// Whether a missing PostgreSQL fails the test (`CI=true`, `UNLOCKDESK_REQUIRE_PG=1`).
fn required() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
        || std::env::var("UNLOCKDESK_REQUIRE_PG").is_ok_and(|v| v == "1")
}

/// The cluster of `scripts/with-postgres.sh`, or `None` (said on stderr) without it.
fn pg_cluster() -> Option<String> {
    match std::env::var("UNLOCKDESK_DATABASE_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u.trim().to_string()),
        _ => {
            assert!(
                !required(),
                "UNLOCKDESK_DATABASE_URL is not set: run through scripts/with-postgres.sh, e.g. \
                 `scripts/with-postgres.sh cargo test -p unlockdesk-server --test faults`"
            );
            eprintln!(
                "skipped: UNLOCKDESK_DATABASE_URL is not set (run through \
                 scripts/with-postgres.sh for the server's fault tests)"
            );
            None
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

/// A new database on the cluster with a set-up branch (admin, tel01, tel02, sup01, sup02,
/// every password `PW`), dropped with the value.
struct Db {
    cluster: String,
    name: String,
    url: String,
}

impl Db {
    fn new(cluster: &str, tag: &str) -> Self {
        let name = format!("ud_srvfault_{tag}_{}", std::process::id());
        let cfg: postgres::Config = cluster.parse().expect("UNLOCKDESK_DATABASE_URL parses");
        let mut admin = cfg
            .connect(postgres::NoTls)
            .expect("connect to the cluster");
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        let url = with_dbname(cluster, &name);
        let svc = Service::new(
            PgStore::open(&url).expect("open the store"),
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
        );
        setup(&svc);
        Db {
            cluster: cluster.to_string(),
            name,
            url,
        }
    }

    fn client(&self) -> postgres::Client {
        let cfg: postgres::Config = self.url.parse().unwrap();
        cfg.connect(postgres::NoTls)
            .expect("connect to the test database")
    }

    /// Audit events that recorded `action` on case `c` (outcome ok).
    fn events(&self, c: CaseId, action: &str) -> i64 {
        self.client()
            .query_one(
                "SELECT count(*) FROM audit_events \
                 WHERE case_id = $1 AND action = $2 AND outcome = 'ok'",
                &[&c.0, &action],
            )
            .unwrap()
            .get(0)
    }

    fn version(&self, c: CaseId) -> i64 {
        self.client()
            .query_one("SELECT version FROM cases WHERE id = $1", &[&c.0])
            .unwrap()
            .get(0)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let Ok(cfg) = self.cluster.parse::<postgres::Config>() else {
            return;
        };
        if let Ok(mut admin) = cfg.connect(postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

// ---------------------------------------------------------------- the server

/// A running server; killed when dropped.
struct Server {
    child: Child,
    url: String,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Start on `port` (0: any free one); a port just freed by a killed server is tried
    /// again for a while.
    fn start(db: &str, port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            match Self::try_start(db, port, &dir) {
                Ok((child, url)) => {
                    let port = url
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .expect("a port in the server's URL");
                    return Server {
                        child,
                        url,
                        port,
                        _dir: dir,
                    };
                }
                Err(e) if Instant::now() < until => {
                    eprintln!("server start refused, trying again: {e}");
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn try_start(db: &str, port: u16, dir: &tempfile::TempDir) -> Result<(Child, String), String> {
        let mut child = Command::new(BIN)
            .args(["--db", db, "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path())
            .env("UNLOCKDESK_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start {BIN}: {e}"))?;
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(u) = line.trim().strip_prefix("UNLOCKDESK_SERVER_READY ") {
                let url = u.to_string();
                std::thread::spawn(move || {
                    let mut sink = Vec::new();
                    let _ = out.read_to_end(&mut sink);
                });
                return Ok((child, url));
            }
            line.clear();
        }
        let status = child.wait().map_err(|e| e.to_string())?;
        Err(format!("the server exited before it was ready: {status}"))
    }

    /// `kill -9`, and wait until it is gone.
    fn kill(&mut self) {
        self.child.kill().expect("kill -9 the server");
        self.child.wait().expect("reap the server");
    }

    /// Start again on the same port (the killed server's).
    fn restart(&mut self, db: &str) {
        let again = Server::start(db, self.port);
        let old = std::mem::replace(self, again);
        drop(old);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(url: &str, name: &str) -> Remote {
    Remote::new(Connection {
        url: url.to_string(),
        fingerprint: None,
        terminal: None,
        terminal_name: name.into(),
        connect_timeout: Duration::from_secs(2),
    })
    .unwrap()
}

fn sup01() -> Credentials {
    Credentials {
        staff_id: "sup01".into(),
        password: PW.into(),
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

// ---------------------------------------------------------------- tellers at work

/// A step that answered Ok: the case, its audit action, and the document of a print.
#[derive(Debug, Clone)]
struct OkStep {
    case: CaseId,
    action: &'static str,
    document: Option<String>,
    at: Instant,
}

/// What one teller saw.
#[derive(Default)]
struct Seen {
    oks: Vec<OkStep>,
    errors: Vec<CoreError>,
}

/// The steps the tellers take with an idempotency key: each may be on a case at most once.
const KEYED: &[&str] = &[
    "open-case",
    "verify-identity",
    "record-form",
    "confirm-signed",
    "submit",
    "approve",
    "log-contact",
    "confirm-unlock",
    "close",
];

/// Try one step until it answers Ok, as a teller would (with the same key, which the
/// caller's closure carries). An error must be `unavailable` or `storage` (the server or
/// its database away); `done` turns the error of a retry into "already done" (a delivery
/// recorded by an attempt whose answer was lost).
fn until_ok<T>(
    seen: &mut Seen,
    action: &str,
    mut step: impl FnMut() -> CoreResult<T>,
    done: impl Fn(&CoreError) -> bool,
) -> Option<T> {
    let mut failing_since: Option<Instant> = None;
    loop {
        match step() {
            Ok(v) => return Some(v),
            Err(e) if failing_since.is_some() && done(&e) => return None,
            Err(e) => {
                assert!(
                    matches!(e.code, ErrorCode::Unavailable | ErrorCode::Storage),
                    "{action}: a fault must answer unavailable or storage: {e:?}"
                );
                let since = *failing_since.get_or_insert_with(Instant::now);
                assert!(
                    since.elapsed() < RECOVERY,
                    "{action}: still failing after {} s: {e:?}",
                    RECOVERY.as_secs()
                );
                seen.errors.push(e);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// One teller at a terminal of its own: walk-ins from open to closed until `stop`, every
/// step that answers Ok kept in `seen`.
struct Teller {
    remote: Remote,
    actor: Actor,
    name: String,
}

impl Teller {
    fn new(url: &str, staff: &str, name: &str) -> Self {
        let remote = client(url, name);
        let actor = remote.authenticate(staff, PW, "").expect("sign in");
        Teller {
            remote,
            actor,
            name: name.to_string(),
        }
    }

    fn work(&self, stop: &AtomicBool, oks: &AtomicUsize) -> Seen {
        let mut seen = Seen::default();
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            self.case(&format!("{}-{n}", self.name), stop, oks, &mut seen);
            n += 1;
        }
        seen
    }

    fn case(&self, key: &str, stop: &AtomicBool, oks: &AtomicUsize, seen: &mut Seen) {
        let (r, tel) = (&self.remote, &self.actor);
        let k = |step: &str| format!("{key}-{step}");
        let ok = |seen: &mut Seen, case, action, document| {
            seen.oks.push(OkStep {
                case,
                action,
                document,
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
        let no = |_: &CoreError| false;
        let c = until_ok(
            seen,
            "open",
            || r.open_case(tel, &open, Some(&k("open"))),
            no,
        )
        .unwrap()
        .case
        .id;
        ok(seen, c, "open-case", None);
        type Step<'a> = Box<dyn Fn() -> CoreResult<CaseView> + 'a>;
        let before_print: Vec<(&'static str, Step)> = vec![
            (
                "verify-identity",
                Box::new(|| r.verify_identity(tel, c, &id_card(), Some(&k("id")))),
            ),
            (
                "record-form",
                Box::new(|| r.record_form(tel, c, &form(), Some(&k("form")))),
            ),
        ];
        for (action, step) in &before_print {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            until_ok(seen, action, step, no).unwrap();
            ok(seen, c, action, None);
        }
        // A print has no key: after a lost answer it prints again (a reprint, as at a real
        // counter); every print that answered Ok must be on the case.
        let doc = until_ok(
            seen,
            "print",
            || r.print_document(tel, c, DocumentKind::Application, CopyKind::Bank),
            no,
        )
        .unwrap();
        ok(seen, c, "print", Some(doc.id.clone()));
        let recorded = |e: &CoreError| {
            e.code == ErrorCode::Conflict && e.message.contains("already recorded as completed")
        };
        let _ = until_ok(
            seen,
            "print-delivery",
            || r.record_delivery(tel, c, &doc.id, &delivered()),
            recorded,
        );
        ok(seen, c, "print-delivery", None);
        let sup = sup01();
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
                Box::new(|| r.confirm_signed(tel, c, Some(&k("signed")))),
            ),
            ("submit", Box::new(|| r.submit(tel, c, Some(&k("submit"))))),
            (
                "approve",
                Box::new(|| {
                    r.authorize(
                        tel,
                        c,
                        &sup,
                        Decision::Approve,
                        None,
                        "",
                        Some(&k("approve")),
                    )
                }),
            ),
            (
                "log-contact",
                Box::new(|| r.log_contact(tel, c, &contact, Some(&k("contact")))),
            ),
            (
                "confirm-unlock",
                Box::new(|| r.confirm_unlock(tel, c, &sup, &unlock, Some(&k("unlock")))),
            ),
            (
                "close",
                Box::new(|| {
                    r.close_case(
                        tel,
                        c,
                        Some("the customer declined the receipt"),
                        Some(&k("close")),
                    )
                }),
            ),
        ];
        for (action, step) in &after_print {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let v = until_ok(seen, action, step, no).unwrap();
            ok(seen, c, action, None);
            if *action == "close" {
                assert_eq!(v.case.state, CaseState::Closed);
            }
        }
    }
}

/// `n` tellers (alternately tel01 and tel02, each its own terminal and session) at work
/// until `stop`; joined by the returned handle.
fn tellers_at_work(
    url: &str,
    n: usize,
    stop: Arc<AtomicBool>,
    oks: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<Vec<Seen>> {
    let tellers: Vec<Teller> = (0..n)
        .map(|i| {
            let staff = if i % 2 == 0 { "tel01" } else { "tel02" };
            Teller::new(url, staff, &format!("fault-{i}"))
        })
        .collect();
    std::thread::spawn(move || {
        std::thread::scope(|s| {
            let hs: Vec<_> = tellers
                .iter()
                .map(|t| {
                    let (stop, oks) = (&stop, &oks);
                    s.spawn(move || t.work(stop, oks))
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().expect("a teller's thread panicked"))
                .collect()
        })
    })
}

/// Wait until the tellers have `n` Ok steps in all.
fn wait_for(oks: &AtomicUsize, n: usize, run: &std::thread::JoinHandle<Vec<Seen>>) {
    let until = Instant::now() + Duration::from_secs(90);
    while oks.load(Ordering::Relaxed) < n {
        assert!(!run.is_finished(), "the tellers stopped early");
        assert!(Instant::now() < until, "the tellers made no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Every step that answered Ok is in the database once: each keyed step at most once per
/// case (and once when it answered Ok), every Ok print stored, no case nobody saw opened,
/// and the audit chain verifies.
fn check_nothing_lost(db: &Db, seen: &[Seen]) {
    let mut by_case: HashMap<CaseId, Vec<&OkStep>> = HashMap::new();
    for s in seen.iter().flat_map(|s| &s.oks) {
        by_case.entry(s.case).or_default().push(s);
    }
    let mut c = db.client();
    let mut stored: HashMap<uuid::Uuid, BTreeMap<String, i64>> = HashMap::new();
    for r in c.query("SELECT id FROM cases", &[]).unwrap() {
        stored.insert(r.get(0), BTreeMap::new());
    }
    for r in c
        .query(
            "SELECT case_id, action, count(*) FROM audit_events \
             WHERE case_id IS NOT NULL AND outcome = 'ok' GROUP BY 1, 2",
            &[],
        )
        .unwrap()
    {
        let (id, action, n): (uuid::Uuid, String, i64) = (r.get(0), r.get(1), r.get(2));
        stored.entry(id).or_default().insert(action, n);
    }
    let docs: std::collections::HashSet<String> = c
        .query("SELECT id FROM documents", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        stored.len(),
        by_case.len(),
        "every stored case is one a teller saw opened (an open retried with its key makes \
         no second case)"
    );
    for (case, steps) in &by_case {
        let actions = stored
            .get(&case.0)
            .unwrap_or_else(|| panic!("case {} answered Ok but is not stored", case.0));
        let count = |a: &str| actions.get(a).copied().unwrap_or(0);
        for keyed in KEYED {
            let ok = steps.iter().filter(|s| s.action == *keyed).count() as i64;
            assert!(
                count(keyed) == ok,
                "case {}: {keyed} answered Ok {ok}× but is stored {}×: {actions:?}",
                case.0,
                count(keyed)
            );
        }
        let prints = steps.iter().filter(|s| s.action == "print").count() as i64;
        assert!(count("print") >= prints, "case {}: a print lost", case.0);
        for d in steps.iter().filter_map(|s| s.document.as_ref()) {
            assert!(docs.contains(d), "case {}: the print {d} is lost", case.0);
        }
        if steps.iter().any(|s| s.action == "print-delivery") {
            assert_eq!(count("print-delivery"), 1, "case {}: {actions:?}", case.0);
        }
    }
    let v = PgStore::open(&db.url).unwrap().verify_audit().unwrap();
    assert!(v.ok, "the audit chain: {v:?}");
}

// ---------------------------------------------------------------- 1: kill -9

#[test]
fn server_killed_mid_run_restarts_and_nothing_is_lost_or_doubled() {
    let _one = one_at_a_time();
    let Some(cluster) = pg_cluster() else { return };
    let db = Db::new(&cluster, "kill");
    let mut server = Server::start(&db.url, 0);
    let (stop, oks) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let run = tellers_at_work(&server.url, 4, stop.clone(), oks.clone());
    wait_for(&oks, 40, &run);
    let killed = Instant::now();
    server.kill();
    // Down longer than the client's own retries last (4 tries, about 1-3 s of backoff): a
    // step caught in it comes back `unavailable` and the teller sends it again, same key.
    std::thread::sleep(Duration::from_millis(3500));
    let restarting = Instant::now();
    server.restart(&db.url);
    wait_for(&oks, oks.load(Ordering::Relaxed) + 60, &run);
    stop.store(true, Ordering::Relaxed);
    let seen = run.join().expect("the tellers");
    let errors: Vec<&CoreError> = seen.iter().flat_map(|s| &s.errors).collect();
    let all: Vec<&OkStep> = seen.iter().flat_map(|s| &s.oks).collect();
    let after = all.iter().filter(|s| s.at >= restarting).count();
    eprintln!(
        "kill -9: {} Ok steps, {} before the kill, {after} after the restart; {} errors given \
         up on by the client and tried again by the teller",
        all.len(),
        all.iter().filter(|s| s.at < killed).count(),
        errors.len()
    );
    for e in errors.iter().take(5) {
        eprintln!("  {:?}: {}", e.code, e.message);
    }
    assert!(after > 0, "no step answered Ok after the restart");
    assert!(
        !errors.is_empty(),
        "no teller saw the server gone: the kill did not land mid-run"
    );
    check_nothing_lost(&db, &seen);
}

// ---------------------------------------------------------------- 2: PostgreSQL restarted

/// The throwaway cluster's control, as `pg_virtualenv` leaves it in the environment.
struct Cluster {
    version: String,
    conf_root: String,
}

impl Cluster {
    fn from_env() -> Option<Self> {
        let conf_root = std::env::var("PG_CLUSTER_CONF_ROOT").unwrap_or_default();
        let version = std::env::var("PGVERSION")
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| {
                let dirs: Vec<_> = std::fs::read_dir(&conf_root)
                    .ok()?
                    .filter_map(|d| d.ok()?.file_name().into_string().ok())
                    .collect();
                (dirs.len() == 1).then(|| dirs[0].clone())
            });
        match version {
            Some(version)
                if !conf_root.is_empty()
                    && PathBuf::from(&conf_root)
                        .join(&version)
                        .join("regress")
                        .is_dir() =>
            {
                Some(Cluster { version, conf_root })
            }
            _ => {
                assert!(
                    !required(),
                    "restarting PostgreSQL needs the cluster control pg_virtualenv exports \
                     (PG_CLUSTER_CONF_ROOT, PGVERSION): run through scripts/with-postgres.sh"
                );
                eprintln!(
                    "skipped: no cluster control (PG_CLUSTER_CONF_ROOT) to restart PostgreSQL \
                     with; run through scripts/with-postgres.sh"
                );
                None
            }
        }
    }

    /// `pg_ctlcluster ARGS` on this cluster (as root it acts as the cluster's owner).
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

    fn stop(&self) {
        self.ctl(&["--mode", "fast", &self.version, "regress", "stop"])
            .unwrap();
    }

    fn start(&self) {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            match self.ctl(&[&self.version, "regress", "start"]) {
                Ok(()) => return,
                Err(e) if Instant::now() < until => {
                    eprintln!("cluster start refused, trying again: {e}");
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }
}

/// Leaves the cluster running however the test ends (cargo's next test binaries need it).
struct KeepRunning<'c>(&'c Cluster, &'c str);

impl Drop for KeepRunning<'_> {
    fn drop(&mut self) {
        let up = self
            .1
            .parse::<postgres::Config>()
            .is_ok_and(|c| c.connect(postgres::NoTls).is_ok());
        if !up {
            let _ = self.0.ctl(&[&self.0.version, "regress", "start"]);
        }
    }
}

/// A raw GET with a session: (status, the error code of the answer's body or "").
fn raw_get(url: &str, path: &str, token: &str, terminal: &str) -> (u16, String) {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build();
    let res = agent
        .get(&format!("{url}{path}"))
        .set("authorization", &format!("Bearer {token}"))
        .set("x-unlockdesk-version", unlockdesk_client::VERSION)
        .set("x-unlockdesk-terminal-name", terminal)
        .call();
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let status = resp.status();
    let body: serde_json::Value = resp.into_json().unwrap_or(serde_json::Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_string())
}

#[test]
fn postgres_restarted_under_the_server_gives_503_then_works_without_a_server_restart() {
    let _one = one_at_a_time();
    let Some(cluster_url) = pg_cluster() else {
        return;
    };
    let Some(cluster) = Cluster::from_env() else {
        return;
    };
    let _running = KeepRunning(&cluster, &cluster_url);
    let db = Db::new(&cluster_url, "pg");
    let server = Server::start(&db.url, 0);
    let probe = Teller::new(&server.url, "sup01", "fault-probe");
    let token = probe.actor.remote_token().unwrap().to_string();
    let (stop, oks) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let run = tellers_at_work(&server.url, 3, stop.clone(), oks.clone());
    wait_for(&oks, 30, &run);
    cluster.stop();
    let down = Instant::now();
    // While the database is away the server answers 503 (never a hang, never a 500).
    let (status, code) = raw_get(&server.url, "/api/v1/today", &token, "fault-probe");
    assert_eq!(status, 503, "a request while PostgreSQL is down: {code}");
    assert!(
        code == "storage" || code == "unavailable",
        "the 503's code: {code}"
    );
    // The client gives up after its retries with the same code.
    let e = probe.remote.today().unwrap_err();
    assert!(
        matches!(e.code, ErrorCode::Storage | ErrorCode::Unavailable),
        "{e:?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    cluster.start();
    let started = Instant::now();
    let until = Instant::now() + RECOVERY;
    loop {
        let (status, code) = raw_get(&server.url, "/api/v1/today", &token, "fault-probe");
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < until,
            "the same server never worked again: {status} {code}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "PostgreSQL down {:.1} s; the same server answered 200 again {:.1} s after the start",
        (started - down).as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    wait_for(&oks, oks.load(Ordering::Relaxed) + 40, &run);
    stop.store(true, Ordering::Relaxed);
    let seen = run.join().expect("the tellers");
    let all: Vec<&OkStep> = seen.iter().flat_map(|s| &s.oks).collect();
    let after = all.iter().filter(|s| s.at >= started).count();
    let errors: Vec<&CoreError> = seen.iter().flat_map(|s| &s.errors).collect();
    eprintln!(
        "{} Ok steps, {after} after the start; {} errors tried again by the tellers",
        all.len(),
        errors.len()
    );
    assert!(after > 0, "no step answered Ok after PostgreSQL came back");
    // A whole new case through the same server, at once.
    let c = probe
        .remote
        .open_case(
            &probe.actor,
            &OpenCaseInput {
                customer_name: "测试乙".into(),
                ..Default::default()
            },
            None,
        )
        .expect("a step after the restart");
    let mut seen = seen;
    seen.push(Seen {
        oks: vec![OkStep {
            case: c.case.id,
            action: "open-case",
            document: None,
            at: Instant::now(),
        }],
        errors: vec![],
    });
    check_nothing_lost(&db, &seen);
}

// ---------------------------------------------------------------- 3: a lost answer

/// A step sent over a plain socket: the request bytes, written in full.
fn send_raw(
    server: &Server,
    path: &str,
    token: &str,
    terminal: &str,
    key: &str,
    body: &str,
) -> TcpStream {
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{}\r\nauthorization: Bearer {token}\r\n\
         x-unlockdesk-version: {}\r\nx-unlockdesk-terminal-name: {terminal}\r\n\
         idempotency-key: {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        server.port,
        unlockdesk_client::VERSION,
        body.len()
    );
    s.write_all(req.as_bytes()).expect("send the step");
    s.flush().unwrap();
    s
}

/// Wait until case `c` has `action` recorded (or `wait` passes); whether it was.
fn recorded(db: &Db, c: CaseId, action: &str, wait: Duration) -> bool {
    let until = Instant::now() + wait;
    loop {
        if db.events(c, action) > 0 {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_step_whose_answer_was_lost_is_learnt_by_sending_it_again_with_its_key() {
    let _one = one_at_a_time();
    let Some(cluster) = pg_cluster() else { return };
    let db = Db::new(&cluster, "lost");
    let mut server = Server::start(&db.url, 0);
    let t = Teller::new(&server.url, "tel01", "lost-answer");
    let token = t.actor.remote_token().unwrap().to_string();
    let c = t
        .remote
        .open_case(
            &t.actor,
            &OpenCaseInput {
                customer_name: "测试甲".into(),
                phone: "13123456789".into(),
                lock_cause: Some(LockCause::WrongPassword),
                ..Default::default()
            },
            Some("lost-open"),
        )
        .unwrap()
        .case
        .id;

    // (a) Recorded, then the connection dropped before the answer was read.
    let body = serde_json::to_string(&id_card()).unwrap();
    let path = format!("/api/v1/cases/{c}/identity");
    let sock = send_raw(&server, &path, &token, &t.name, "lost-id", &body);
    assert!(
        recorded(&db, c, "verify-identity", Duration::from_secs(20)),
        "the step sent was never recorded"
    );
    drop(sock);
    let version = db.version(c);
    let v = t
        .remote
        .verify_identity(&t.actor, c, &id_card(), Some("lost-id"))
        .expect("the same step again, with its key");
    assert_eq!(v.case.state, CaseState::IdentityVerified);
    assert_eq!(v.case.version, version, "the answer is the recorded step's");
    assert_eq!(db.version(c), version, "nothing applied again");
    assert_eq!(db.events(c, "verify-identity"), 1);

    // (b) The socket closed right after sending: recorded or not, the retry with the key
    // makes it exactly once.
    let body = serde_json::to_string(&form()).unwrap();
    let path = format!("/api/v1/cases/{c}/form");
    let sock = send_raw(&server, &path, &token, &t.name, "lost-form", &body);
    let _ = sock.shutdown(std::net::Shutdown::Both);
    drop(sock);
    let before = recorded(&db, c, "record-form", Duration::from_millis(500));
    let v = t
        .remote
        .record_form(&t.actor, c, &form(), Some("lost-form"))
        .expect("the same step again, with its key");
    eprintln!(
        "closed right after sending: the server had {} it when the retry came",
        if before { "recorded" } else { "not recorded" }
    );
    assert_eq!(v.case.state, CaseState::FormRecorded);
    assert_eq!(v.case.version, db.version(c));
    assert_eq!(db.events(c, "record-form"), 1);

    // (c) The server killed right after the request was sent, started again on its port.
    let doc = t
        .remote
        .print_document(&t.actor, c, DocumentKind::Application, CopyKind::Bank)
        .unwrap();
    t.remote
        .record_delivery(&t.actor, c, &doc.id, &delivered())
        .unwrap();
    let path = format!("/api/v1/cases/{c}/signed");
    let sock = send_raw(&server, &path, &token, &t.name, "lost-signed", "{}");
    server.kill();
    drop(sock);
    let before = db.events(c, "confirm-signed");
    server.restart(&db.url);
    let v = t
        .remote
        .confirm_signed(&t.actor, c, Some("lost-signed"))
        .expect("the same step again after the restart, with its key");
    eprintln!(
        "killed right after sending: the server had {} it",
        if before > 0 {
            "recorded"
        } else {
            "not recorded"
        }
    );
    assert_eq!(v.case.state, CaseState::FormSigned);
    assert_eq!(v.case.version, db.version(c));
    assert_eq!(db.events(c, "confirm-signed"), 1);

    // The key of a step is not another step's: sent with another request it is refused.
    let e = t
        .remote
        .submit(&t.actor, c, Some("lost-signed"))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert_eq!(db.events(c, "submit"), 0);
    let v = PgStore::open(&db.url).unwrap().verify_audit().unwrap();
    assert!(v.ok, "{v:?}");
}
