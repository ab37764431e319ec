//! Live latency of the supervisors' authorization desk (待授权) through the release
//! `unlockdesk-server` on the throwaway PostgreSQL of `scripts/with-postgres.sh`:
//!
//! ```text
//! scripts/with-postgres.sh cargo bench -p unlockdesk-server --bench desk
//! ```
//!
//! 1. **Baseline**, in the same run: the raw LISTEN/NOTIFY round trip on the same cluster
//!    (one connection NOTIFYs, another LISTENs), 200 times — the floor of any push through
//!    PostgreSQL.
//! 2. **Desk**: two servers on one database (as a branch with two servers runs), 8 terminals
//!    connected to their event streams (`GET /api/v1/events`): 4 supervisors' terminals on
//!    server B, 4 tellers' terminals on server A. For each of `UD_BENCH_REQUESTS` [200]
//!    requests a teller (on A) walks a case to the signed paper, then **submits** it: the
//!    time until each supervisor's terminal (on B) receives `requested` is the
//!    submit-to-queue latency; a supervisor (on B) then **approves** it at their desk: the
//!    time until each teller's terminal (on A) receives `decided` is the decision-to-teller
//!    latency. Both are timed from the start of the call (the step's own time included).
//!
//! Goal (the issue): p99 ≤ 1 s for both. Every person is synthetic (测试甲).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::NoTls;
use unlockdesk_client::{Connection, Followed, Remote};
use unlockdesk_conformance::{form, id_card, setup, PW};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;

const SERVER: &str = env!("CARGO_BIN_EXE_unlockdesk-server");

struct Db {
    base: postgres::Config,
    url: String,
    name: String,
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Ok(mut c) = self.base.connect(NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

fn create_db() -> Db {
    let cluster = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap_or_default();
    if cluster.trim().is_empty() {
        eprintln!("run through scripts/with-postgres.sh (UNLOCKDESK_DATABASE_URL is not set)");
        std::process::exit(1);
    }
    let cluster = cluster.trim().to_string();
    let base: postgres::Config = cluster.parse().expect("a PostgreSQL URL");
    let name = format!("ud_desk_{}", std::process::id());
    base.connect(NoTls)
        .expect("connect")
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create the bench database");
    let start = cluster.find("://").map_or(0, |i| i + 3);
    let query = cluster[start..]
        .find('?')
        .map_or(cluster.len(), |i| start + i);
    let slash = cluster[start..query].find('/').map_or(query, |i| start + i);
    let url = format!("{}/{name}{}", &cluster[..slash], &cluster[query..]);
    Db { base, url, name }
}

/// The child, its URL, and its data directory (kept until the server is gone).
struct Server(Child, String, #[allow(dead_code)] tempfile::TempDir);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn server(db: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(SERVER)
        .args(["--db", db, "--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("UNLOCKDESK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut url = String::new();
    while out.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(u) = line.trim().strip_prefix("UNLOCKDESK_SERVER_READY ") {
            url = u.to_string();
            break;
        }
        line.clear();
    }
    assert!(!url.is_empty(), "the server never said it was ready");
    std::thread::spawn(move || {
        let _ = out.read_to_end(&mut Vec::new());
    });
    Server(child, url, dir)
}

fn client(url: &str, name: &str) -> Remote {
    Remote::new(Connection {
        url: url.into(),
        fingerprint: None,
        terminal: None,
        terminal_name: name.into(),
        connect_timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The raw LISTEN/NOTIFY round trip on the cluster, `n` times.
fn notify_floor(db: &Db, n: usize) -> Vec<Duration> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut cfg = db.base.clone();
    cfg.dbname(&db.name);
    let mut listener = cfg.connect(NoTls).unwrap();
    let mut sender = cfg.connect(NoTls).unwrap();
    listener.batch_execute("LISTEN bench_floor").unwrap();
    (0..n)
        .map(|_| {
            let t = Instant::now();
            sender.batch_execute("NOTIFY bench_floor, 'x'").unwrap();
            let mut ns = listener.notifications();
            let got = ns.timeout_iter(Duration::from_secs(5)).next().unwrap();
            assert!(got.is_some(), "no NOTIFY within 5 s");
            t.elapsed()
        })
        .collect()
}

type Seen = mpsc::Sender<(CaseId, String, Instant)>;

/// One terminal following its server's stream; every event (case, event) with the time it
/// arrived.
fn terminal(remote: Arc<Remote>, who: &str, seen: Seen, ready: mpsc::Sender<()>) {
    let actor = remote.authenticate(who, PW, "").unwrap();
    let head = remote
        .authorization_events(&actor, None, 1)
        .unwrap()
        .last_seq;
    std::thread::spawn(move || {
        let _ = remote.follow_events(&actor, Some(head), |f| match f {
            Followed::Connected => ready.send(()).is_ok(),
            Followed::Event(e) => seen.send((e.case_id, e.event, Instant::now())).is_ok(),
            Followed::Alive => true,
        });
    });
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let requests: usize = std::env::var("UD_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let db = create_db();
    {
        let svc = Service::new(
            unlockdesk_store_pg::PgStore::open(&db.url).unwrap(),
            Arc::new(SystemClock),
            Arc::new(OsEntropy),
        );
        setup(&svc);
    }
    let mut floor = notify_floor(&db, 200);
    let (a, b) = (server(&db.url), server(&db.url));
    let teller = Arc::new(client(&a.1, "bench-teller"));
    let desk = Arc::new(client(&b.1, "bench-supervisor"));
    let tel01 = teller.authenticate("tel01", PW, "").unwrap();
    let sup01 = desk.authenticate("sup01", PW, "").unwrap();
    let creds = Credentials {
        staff_id: "sup01".into(),
        password: PW.into(),
    };

    // 8 terminals: 4 supervisors' on B, 4 tellers' on A.
    let (sup_tx, sup_rx) = mpsc::channel();
    let (tel_tx, tel_rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    for i in 0..4 {
        let who = if i % 2 == 0 { "sup01" } else { "sup02" };
        terminal(
            Arc::new(client(&b.1, &format!("sup-{i}"))),
            who,
            sup_tx.clone(),
            ready_tx.clone(),
        );
        let who = if i % 2 == 0 { "tel01" } else { "tel02" };
        terminal(
            Arc::new(client(&a.1, &format!("tel-{i}"))),
            who,
            tel_tx.clone(),
            ready_tx.clone(),
        );
    }
    for _ in 0..8 {
        ready_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("8 terminals connected");
    }

    let wait_for =
        |rx: &mpsc::Receiver<(CaseId, String, Instant)>, c: CaseId, ev: &str, t0: Instant| {
            let mut got = Vec::new();
            let until = Instant::now() + Duration::from_secs(10);
            while got.len() < 4 {
                let left = until.saturating_duration_since(Instant::now());
                let (case, event, at) =
                    rx.recv_timeout(left).expect("every terminal got the event");
                if case == c && event == ev {
                    got.push(at.duration_since(t0));
                }
            }
            got
        };
    let mut to_queue = Vec::new();
    let mut to_teller = Vec::new();
    for _ in 0..requests {
        let v = teller
            .open_case(
                &tel01,
                &OpenCaseInput {
                    customer_name: "测试甲".into(),
                    phone: "13123456789".into(),
                    lock_cause: Some(LockCause::WrongPassword),
                    ..Default::default()
                },
                None,
            )
            .unwrap();
        let c = v.case.id;
        teller.verify_identity(&tel01, c, &id_card(), None).unwrap();
        teller.record_form(&tel01, c, &form(), None).unwrap();
        let doc = teller
            .print_document(&tel01, c, DocumentKind::Application, CopyKind::Bank)
            .unwrap();
        teller
            .record_delivery(
                &tel01,
                c,
                &doc.id,
                &PrintDelivery {
                    channel: PrintChannel::File,
                    printer: None,
                    job_id: None,
                    outcome: PrintOutcome::Completed,
                    message: String::new(),
                },
            )
            .unwrap();
        teller.confirm_signed(&tel01, c, None).unwrap();
        let t0 = Instant::now();
        teller.submit(&tel01, c, None).unwrap();
        to_queue.extend(wait_for(&sup_rx, c, "requested", t0));
        let t1 = Instant::now();
        desk.authorize(&sup01, c, &creds, Decision::Approve, None, "", None)
            .unwrap();
        to_teller.extend(wait_for(&tel_rx, c, "decided", t1));
    }
    println!(
        "authorization desk: {requests} requests, 8 terminals (4 supervisors on server B, 4 tellers on server A), one PostgreSQL"
    );
    println!(
        "{:<36} {:>8} {:>9} {:>9} {:>9}",
        "latency", "samples", "p50 ms", "p99 ms", "max ms"
    );
    for (name, v) in [
        ("baseline: raw LISTEN/NOTIFY", &mut floor),
        ("submit-to-queue (supervisors, B)", &mut to_queue),
        ("decision-to-teller (tellers, A)", &mut to_teller),
    ] {
        let n = v.len();
        let (p50, p99, max) = (pct(v, 0.50), pct(v, 0.99), pct(v, 1.0));
        println!(
            "{name:<36} {n:>8} {:>9.2} {:>9.2} {:>9.2}",
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    let goal = Duration::from_secs(1);
    let met = pct(&mut to_queue, 0.99) <= goal && pct(&mut to_teller, 0.99) <= goal;
    println!("goal p99 ≤ 1000 ms: {}", if met { "met" } else { "MISSED" });
    drop((a, b));
    if !met {
        std::process::exit(1);
    }
}
