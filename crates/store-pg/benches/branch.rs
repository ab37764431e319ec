//! The PostgreSQL store under a branch's load (issue 13 item 9), in one run against the cluster
//! named by `UNLOCKDESK_DATABASE_URL`, in a database of its own that is dropped at the end:
//!
//! ```text
//! scripts/with-postgres.sh cargo bench -p unlockdesk-store-pg --bench branch
//! ```
//!
//! 1. **Writes**, with 1, 8 and 32 concurrent writers (threads sharing one store, as the
//!    branch server's requests do), interleaved in rounds so a drifting disk or a busy
//!    neighbour on the machine hits every workload alike:
//!    - *baseline*: two plain INSERTs per READ COMMITTED transaction through a pool of at most
//!      [`POOL_MAX`] connections (the store's pool size), the cluster's durability settings
//!      (the store changes none of them; printed at the start);
//!    - *store step*: one `Store::transact` loading a case, writing it back version-checked
//!      and appending its chained audit event (the head row locked, SHA-256 over the event);
//!    - *teller use case*: walk-in, identity, form, print + delivery, signed, submitted,
//!      cancelled (8 service steps, no supervisor; each a permission check, the workflow, case +
//!      audit event in one transaction, then the masked case view read back);
//!    - *walk-in to closed*: the conformance flow, approved and unlock confirmed by a
//!      supervisor (13 steps; the two supervisor sign-offs each verify an argon2id hash, about
//!      12 ms of CPU by design (m = 7 MiB, t = 5), so on two cores this one measures the
//!      password hash as much as the store).
//!
//!    Each step is timed on its own: steps/s, p50 and p99, and steps/s as a share of the
//!    baseline's transactions/s at the same number of writers. (One service step repeated on
//!    one case would read back an ever longer history with every view, so the service is
//!    measured through whole cases.)
//! 2. **Appointment lookups** in a book of `UD_BENCH_BOOK` rows (COPY-loaded, synthetic):
//!    p50/p99 per key kind through the store's own lookup (`AppointmentRead::find_appointments`
//!    in a read snapshot, today's first, at most 20). Goal: p99 ≤ 2 ms.
//! 3. **Import** of `UD_BENCH_IMPORT` new rows into that book through
//!    `Service::import_appointments` (CSV parsed and checked in core, one transaction), then
//!    the same file again (all unchanged). Goal: ≤ 10 s.
//!
//! Environment (defaults in brackets): `UD_BENCH_SECS` measured seconds per workload and round
//! [3], `UD_BENCH_ROUNDS` [2], `UD_BENCH_WRITERS` [1,8,32], `UD_BENCH_BOOK` [1000000],
//! `UD_BENCH_IMPORT` [100000], `UD_BENCH_LOOKUPS` per key kind [1000], `UD_BENCH_FSYNC=on`:
//! the cluster of `scripts/with-postgres.sh` runs with `fsync=off` (pg_virtualenv's default),
//! so a commit never waits for the disk; this turns fsync on for the run (`ALTER SYSTEM`,
//! reload; reset at the end), as a branch server runs. A quick run:
//! `UD_BENCH_SECS=0.5 UD_BENCH_ROUNDS=1 UD_BENCH_BOOK=20000 UD_BENCH_IMPORT=2000`.
//!
//! Every person is synthetic (see `book/mod.rs`).

mod book;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use postgres::{Client, IsolationLevel, NoTls, Statement};
use unlockdesk_conformance::{form, id_card, setup, TextRenderer, HEADER};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{AppointmentKey, AuditDraft, OsEntropy, Outcome, Store, SystemClock};
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store_pg::PgStore;

/// The store's pool holds at most this many connections (`pool::MAX_CONNECTIONS`, private to
/// the crate); the baseline's pool gets the same, so 32 writers queue for 16 connections in
/// both.
const POOL_MAX: usize = 16;

type Svc = Service<Arc<PgStore>>;

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn writer_counts() -> Vec<usize> {
    let v: Vec<usize> = std::env::var("UD_BENCH_WRITERS")
        .unwrap_or_else(|_| "1,8,32".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect();
    if v.is_empty() {
        vec![1, 8, 32]
    } else {
        v
    }
}

// ------------------------------------------------------------------ the bench's database

/// A new database on the cluster, dropped (with any connection left to it) when this is
/// dropped, also when the bench panics.
struct BenchDb {
    base: postgres::Config,
    name: String,
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

impl BenchDb {
    fn create() -> Self {
        let url = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap_or_default();
        if url.is_empty() {
            eprintln!(
                "UNLOCKDESK_DATABASE_URL is not set: run this bench through \
                 scripts/with-postgres.sh (it starts a throwaway PostgreSQL and sets it):\n  \
                 scripts/with-postgres.sh cargo bench -p unlockdesk-store-pg --bench branch"
            );
            std::process::exit(1);
        }
        let base: postgres::Config = url
            .parse()
            .expect("UNLOCKDESK_DATABASE_URL is not a PostgreSQL URL");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "ud_bench_{}_{}_{nanos}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed)
        );
        base.connect(NoTls)
            .expect("connect to the cluster")
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create the bench database");
        BenchDb { base, name }
    }

    fn config(&self) -> postgres::Config {
        let mut c = self.base.clone();
        c.dbname(&self.name);
        c
    }

    /// A plain connection as the URL's user (the cluster's owner in a test cluster).
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

/// `fsync = on` for the whole cluster while this lives (`UD_BENCH_FSYNC=on`), then reset.
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
        // Each backend rereads the configuration at its next command: wait until a new
        // session sees it.
        for _ in 0..50 {
            let v: String = db
                .client()
                .query_one("SHOW fsync", &[])
                .expect("show")
                .get(0);
            if v == "on" {
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

// ------------------------------------------------------------------ timing

/// One writer's measuring window: a step counts when it ends inside `[from, to)`, so steps
/// that straddle an edge are neither lost nor counted twice across the run.
struct Window {
    from: Instant,
    to: Instant,
    lat: Vec<Duration>,
}

impl Window {
    fn step<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let s = Instant::now();
        let out = f();
        let e = Instant::now();
        if e >= self.from && e < self.to {
            self.lat.push(e - s);
        }
        out
    }
}

/// One writer's unit of work (a transaction, a step, a whole use case), repeated until the
/// window closes.
type Unit = Box<dyn FnMut(&mut Window) + Send>;

/// What one workload gives one writer: its unit, after any setup that is not measured.
type MakeUnit<'a> = &'a dyn Fn(usize) -> Unit;

/// Run `writers` threads, each repeating its unit through a warm-up and then `budget`.
/// Returns every counted step's latency and the window's length in seconds.
fn run(writers: usize, budget: Duration, make: MakeUnit<'_>) -> (Vec<Duration>, f64) {
    let units: Vec<Unit> = (0..writers).map(make).collect();
    // Long enough for the pool to open its connections and the statements to be prepared.
    let warm = (budget / 5).max(Duration::from_millis(300));
    let from = Instant::now() + warm;
    let to = from + budget;
    let lat = std::thread::scope(|s| {
        let handles: Vec<_> = units
            .into_iter()
            .map(|mut unit| {
                s.spawn(move || {
                    let mut w = Window {
                        from,
                        to,
                        lat: Vec::new(),
                    };
                    while Instant::now() < to {
                        unit(&mut w);
                    }
                    w.lat
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a writer panicked"))
            .collect::<Vec<_>>()
    });
    (lat, budget.as_secs_f64())
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

// ------------------------------------------------------------------ the use cases

struct Branch {
    svc: Arc<Svc>,
    store: Arc<PgStore>,
    teller: Actor,
    supervisor: Credentials,
}

fn walk_in(b: &Branch) -> CaseId {
    let input = OpenCaseInput {
        customer_name: "测试甲".into(),
        phone: "13912345678".into(),
        lock_cause: Some(LockCause::WrongPassword),
        ..Default::default()
    };
    b.svc
        .open_case(&b.teller, &input, None)
        .expect("open case")
        .case
        .id
}

/// The printed copy handed out as a file, as the CLI records it without `--printer`.
fn delivered() -> PrintDelivery {
    PrintDelivery {
        channel: PrintChannel::File,
        printer: None,
        job_id: None,
        outcome: PrintOutcome::Completed,
        message: String::new(),
    }
}

/// Walk-in to submitted, each step timed; returns the case.
fn teller_steps(b: &Branch, w: &mut Window) -> CaseId {
    let (svc, tel) = (&b.svc, &b.teller);
    let c = w.step(|| walk_in(b));
    w.step(|| svc.verify_identity(tel, c, &id_card(), None))
        .expect("identity");
    w.step(|| svc.record_form(tel, c, &form(), None))
        .expect("form");
    let doc = w
        .step(|| svc.print_document(tel, c, DocumentKind::Application, CopyKind::Bank))
        .expect("print");
    w.step(|| svc.record_delivery(tel, c, &doc.id, &delivered()))
        .expect("delivery");
    w.step(|| svc.confirm_signed(tel, c, None)).expect("signed");
    w.step(|| svc.submit(tel, c, None)).expect("submit");
    c
}

fn teller_use_case(b: &Branch, w: &mut Window) {
    let c = teller_steps(b, w);
    w.step(|| b.svc.cancel_case(&b.teller, c, "bench", None))
        .expect("cancel");
}

fn walk_in_to_closed(b: &Branch, w: &mut Window) {
    let c = teller_steps(b, w);
    let (svc, tel, sup) = (&b.svc, &b.teller, &b.supervisor);
    w.step(|| svc.authorize(tel, c, sup, Decision::Approve, None, "", None))
        .expect("approve");
    let contact = ContactInput {
        channel: ContactChannel::Phone,
        ticket: "OP-1".into(),
        result: "unlocked".into(),
    };
    w.step(|| svc.log_contact(tel, c, &contact, None))
        .expect("contact");
    let unlock = UnlockInput {
        operator_reference: "OP-1".into(),
        notified_via: NotificationChannel::Sms,
    };
    w.step(|| svc.confirm_unlock(tel, c, sup, &unlock, None))
        .expect("unlock");
    let doc = w
        .step(|| svc.print_document(tel, c, DocumentKind::Receipt, CopyKind::Bank))
        .expect("print receipt");
    w.step(|| svc.record_delivery(tel, c, &doc.id, &delivered()))
        .expect("delivery");
    let v = w
        .step(|| svc.close_case(tel, c, None, None))
        .expect("close");
    assert_eq!(v.case.state, CaseState::Closed);
}

/// The store level of one step: the case read, written back version-checked, and its audit
/// event chained, in one transaction (what every service step does underneath).
fn store_step(b: &Branch, c: CaseId) {
    b.store
        .transact(|tx| {
            let mut case = tx.case(c)?.expect("the writer's case");
            let from = case.version;
            case.version += 1;
            case.updated_at = chrono::Utc::now();
            tx.update_case(&case, from)?;
            tx.append_audit(&AuditDraft {
                at: case.updated_at,
                staff_id: b.teller.staff_id().to_string(),
                role: b.teller.role(),
                terminal: b.teller.terminal().to_string(),
                case_id: Some(c),
                action: "record-form".into(),
                from_state: Some(case.state),
                to_state: Some(case.state),
                reason: String::new(),
                outcome: Outcome::Ok,
                detail: "{}".into(),
            })?;
            Ok(())
        })
        .expect("store step");
}

// ------------------------------------------------------------------ part 1: writes

struct Workload {
    name: &'static str,
    /// Steps per unit when a unit is a whole use case (for cases/s).
    case_steps: Option<usize>,
    make: Box<dyn Fn(usize) -> Unit>,
}

#[derive(Default)]
struct Tally {
    lat: Vec<Duration>,
    secs: f64,
    /// Steps/s of each round, and the same round's baseline tx/s.
    rounds: Vec<(f64, f64)>,
}

fn writes(db: &BenchDb, b: &Arc<Branch>) {
    let budget = Duration::from_secs_f64(env_f64("UD_BENCH_SECS", 3.0).max(0.1));
    let rounds = env_u64("UD_BENCH_ROUNDS", 2).max(1) as usize;
    let counts = writer_counts();
    db.client()
        .batch_execute(
            "CREATE TABLE bench_a (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             v text NOT NULL);
             CREATE TABLE bench_b (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             v text NOT NULL);",
        )
        .expect("baseline tables");
    println!(
        "\n## Writes: {rounds} interleaved round(s) of {:.1} s per workload and writer count",
        budget.as_secs_f64()
    );
    let mut table: Vec<(String, usize, Option<usize>, Tally)> = Vec::new();
    for &writers in &counts {
        let pool = Arc::new(RawPool::new(db, writers.min(POOL_MAX)));
        let workloads: Vec<Workload> = vec![
            Workload {
                name: "baseline: 2 plain INSERTs / tx",
                case_steps: None,
                make: Box::new({
                    let pool = pool.clone();
                    move |_| {
                        let pool = pool.clone();
                        Box::new(move |w: &mut Window| w.step(|| pool.with(baseline_tx)))
                    }
                }),
            },
            Workload {
                name: "store: case write + chained audit event",
                case_steps: None,
                make: Box::new({
                    let b = b.clone();
                    move |_| {
                        let b = b.clone();
                        let c = walk_in(&b);
                        Box::new(move |w: &mut Window| w.step(|| store_step(&b, c)))
                    }
                }),
            },
            Workload {
                name: "teller use case: walk-in .. cancelled",
                case_steps: Some(8),
                make: Box::new({
                    let b = b.clone();
                    move |_| {
                        let b = b.clone();
                        Box::new(move |w: &mut Window| teller_use_case(&b, w))
                    }
                }),
            },
            Workload {
                name: "walk-in to closed (2 supervisor sign-offs)",
                case_steps: Some(13),
                make: Box::new({
                    let b = b.clone();
                    move |_| {
                        let b = b.clone();
                        Box::new(move |w: &mut Window| walk_in_to_closed(&b, w))
                    }
                }),
            },
        ];
        let mut tallies: Vec<Tally> = workloads.iter().map(|_| Tally::default()).collect();
        for round in 1..=rounds {
            let mut base_rate = f64::NAN;
            let mut line = Vec::new();
            for (i, wl) in workloads.iter().enumerate() {
                let (lat, secs) = run(writers, budget, &*wl.make);
                let rate = lat.len() as f64 / secs;
                if i == 0 {
                    base_rate = rate;
                }
                line.push(format!("{rate:.0}/s"));
                let t = &mut tallies[i];
                t.lat.extend(lat);
                t.secs += secs;
                t.rounds.push((rate, base_rate));
            }
            println!("{writers:>2} writers, round {round}: {}", line.join("  "));
        }
        for (wl, t) in workloads.iter().zip(tallies) {
            table.push((wl.name.to_string(), writers, wl.case_steps, t));
        }
    }
    println!();
    println!(
        "| workload                                   | writers |  steps | steps/s | cases/s \
         | p50 ms | p99 ms | of baseline |"
    );
    println!(
        "|--------------------------------------------|--------:|-------:|--------:|--------:\
         |-------:|-------:|------------:|"
    );
    let mut base: std::collections::HashMap<usize, f64> = Default::default();
    for (name, writers, case_steps, mut t) in table {
        t.lat.sort();
        let rate = t.lat.len() as f64 / t.secs;
        let base_rate = *base.entry(writers).or_insert(rate);
        let cases = case_steps
            .map(|n| format!("{:.1}", rate / n as f64))
            .unwrap_or_default();
        println!(
            "| {name:<42} | {writers:>7} | {:>6} | {rate:>7.0} | {cases:>7} | {:>6.2} | {:>6.2} \
             | {:>10.0}% |",
            t.lat.len(),
            ms(pct(&t.lat, 0.50)),
            ms(pct(&t.lat, 0.99)),
            100.0 * rate / base_rate
        );
    }
}

// ------------------------------------------------------------------ part 2: lookups

type KeyOf = fn(&Appointment) -> AppointmentKey;

/// The key kinds of the counter's search box, made from a booked row the way
/// `appointments::appointment_key` makes them from what a teller types.
const KINDS: &[(&str, KeyOf)] = &[
    ("reference", |a| {
        AppointmentKey::Reference(a.reference.clone())
    }),
    ("phone (11 digits)", |a| {
        AppointmentKey::Phone(a.phone.clone())
    }),
    ("ID number (18)", |a| {
        AppointmentKey::IdNumber(a.id_number.clone())
    }),
    ("last 4 (phone or ID)", |a| {
        AppointmentKey::PhoneTail(a.phone[a.phone.len() - 4..].to_string())
    }),
    ("ID last 4 (IdTail)", |a| {
        AppointmentKey::IdTail(a.id_number[a.id_number.len() - 4..].to_string())
    }),
    ("name (full)", |a| {
        AppointmentKey::NamePrefix(a.name.clone())
    }),
    ("name prefix (1 char)", |a| {
        AppointmentKey::NamePrefix(a.name.chars().take(1).collect())
    }),
    ("name prefix (3 chars)", |a| {
        AppointmentKey::NamePrefix(a.name.chars().take(3).collect())
    }),
];

fn lookups(db: &BenchDb, b: &Branch, rows: u64, today: NaiveDate) {
    let n = env_u64("UD_BENCH_LOOKUPS", 1000).max(1) as usize;
    println!("\n## Appointment book: {rows} rows");
    let t = Instant::now();
    let samples = book::copy_book(&mut db.client(), rows, today, 1000).expect("load the book");
    println!(
        "bulk load (COPY into the indexed table, then VACUUM ANALYZE): {:.1} s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "\nlookups through the store (AppointmentRead::find_appointments in a read snapshot, \
         today = {today}, limit 20), {n} per key kind:\n"
    );
    println!(
        "| key kind              | p50 ms | p99 ms | max ms | found | p99 ≤ 2 ms | slowest key"
    );
    println!(
        "|-----------------------|-------:|-------:|-------:|------:|:----------:|------------"
    );
    let mut pick = book::Rng(42);
    // Warm each kind's prepared statements and the pages a first query touches.
    for (_, key_of) in KINDS {
        for a in samples.iter().take(20) {
            let key = key_of(a);
            b.store
                .read(|tx| tx.find_appointments(&key, today, 20))
                .expect("lookup");
        }
    }
    // Kinds taken in turn, query by query, so a burst of load from the machine's other users
    // falls on every kind alike rather than on whichever kind was running.
    let mut times: Vec<Vec<(Duration, AppointmentKey)>> =
        KINDS.iter().map(|_| Vec::new()).collect();
    let mut found = vec![0usize; KINDS.len()];
    for _ in 0..n {
        for (k, (_, key_of)) in KINDS.iter().enumerate() {
            let a = &samples[pick.below(samples.len() as u64) as usize];
            let key = key_of(a);
            let t = Instant::now();
            let got = b
                .store
                .read(|tx| tx.find_appointments(&key, today, 20))
                .expect("lookup");
            times[k].push((t.elapsed(), key));
            // The booked row itself, or a full page of others that match the key.
            if got.iter().any(|g| g.id == a.id) || got.len() == 20 {
                found[k] += 1;
            }
        }
    }
    for (k, (label, _)) in KINDS.iter().enumerate() {
        let t = &mut times[k];
        t.sort_by_key(|x| x.0);
        let d: Vec<Duration> = t.iter().map(|x| x.0).collect();
        let p99 = pct(&d, 0.99);
        let slowest = &t[t.len() - 1];
        println!(
            "| {label:<21} | {:>6.3} | {:>6.3} | {:>6.3} | {:>5} | {:^10} | {:?}",
            ms(pct(&d, 0.50)),
            ms(p99),
            ms(slowest.0),
            found[k],
            if p99 <= Duration::from_millis(2) {
                "yes"
            } else {
                "NO"
            },
            slowest.1
        );
    }
}

// ------------------------------------------------------------------ part 3: import

fn import(db: &BenchDb, b: &Branch, rows: u64, book_rows: u64, today: NaiveDate) {
    let mut rng = book::Rng(0xB0B);
    let mut csv = format!("{HEADER}\n");
    for i in 0..rows {
        let a = book::synthetic(&mut rng, "IMP-", i, today);
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},\n",
            a.reference,
            a.name,
            a.phone,
            a.id_type.as_str(),
            a.id_number,
            a.wallet_operator,
            a.lock_cause.as_str(),
            a.slot_start.format("%Y-%m-%dT%H:%M"),
            a.slot_end.format("%Y-%m-%dT%H:%M")
        ));
    }
    let actor = b.svc.system_actor(SystemActor::Import, "bench");
    println!(
        "\n## Import: {rows} new rows ({:.1} MB CSV) into the {book_rows}-row book",
        csv.len() as f64 / 1e6
    );
    let t = Instant::now();
    let r = b
        .svc
        .import_appointments(&actor, csv.as_bytes(), "bench.csv")
        .expect("import");
    let first = t.elapsed();
    let t = Instant::now();
    let again = b
        .svc
        .import_appointments(&actor, csv.as_bytes(), "bench.csv")
        .expect("re-import");
    let second = t.elapsed();
    let total: i64 = db
        .client()
        .query_one("SELECT count(*) FROM appointments", &[])
        .expect("count")
        .get(0);
    println!(
        "import: {:.2} s ({:.0} rows/s; imported {}, rejected {}) -> goal ≤ 10 s {}",
        first.as_secs_f64(),
        rows as f64 / first.as_secs_f64(),
        r.imported,
        r.rejected.len(),
        if first <= Duration::from_secs(10) {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "same file again: {:.2} s (unchanged {}); the book now holds {total} rows",
        second.as_secs_f64(),
        again.unchanged
    );
}

// ------------------------------------------------------------------ main

fn print_settings(db: &BenchDb) {
    let mut c = db.client();
    let show = |c: &mut Client, what: &str| -> String {
        c.query_one(&format!("SHOW {what}"), &[])
            .map(|r| r.get::<_, String>(0))
            .unwrap_or_else(|e| format!("? ({e})"))
    };
    println!("# UnlockDesk PostgreSQL store: branch bench");
    println!(
        "server {}; synchronous_commit={}, fsync={}, wal_sync_method={}, \
         full_page_writes={}, shared_buffers={}; {} CPU(s) seen by this process",
        show(&mut c, "server_version"),
        show(&mut c, "synchronous_commit"),
        show(&mut c, "fsync"),
        show(&mut c, "wal_sync_method"),
        show(&mut c, "full_page_writes"),
        show(&mut c, "shared_buffers"),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    // A per-role or per-database durability setting would give the store's sessions (which
    // SET ROLE) and the baseline's different durability: say so if there is one.
    let overrides: Vec<String> = c
        .query(
            "SELECT coalesce(array_to_string(setconfig, ', '), '') FROM pg_db_role_setting",
            &[],
        )
        .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect())
        .unwrap_or_default();
    let durability: Vec<&String> = overrides
        .iter()
        .filter(|s| s.contains("synchronous_commit") || s.contains("fsync"))
        .collect();
    if !durability.is_empty() {
        println!("WARNING: per-role/database durability settings: {durability:?}");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing else to parse.
    let db = BenchDb::create();
    let fsync = Fsync::on(&db);
    print_settings(&db);
    let started = Instant::now();
    let store = Arc::new(PgStore::open_config(db.config()).expect("open the store"));
    let svc = Arc::new(
        Service::new(store.clone(), Arc::new(SystemClock), Arc::new(OsEntropy))
            .with_renderer(Arc::new(TextRenderer)),
    );
    let (teller, _, supervisor, _) = setup(&*svc);
    let today = svc.today().expect("today");
    let branch = Arc::new(Branch {
        svc,
        store,
        teller,
        supervisor,
    });
    writes(&db, &branch);
    let book_rows = env_u64("UD_BENCH_BOOK", 1_000_000).max(1);
    lookups(&db, &branch, book_rows, today);
    import(
        &db,
        &branch,
        env_u64("UD_BENCH_IMPORT", 100_000).max(1),
        book_rows,
        today,
    );
    let v = branch.store.verify_audit().expect("verify the audit chain");
    println!(
        "\naudit chain after the run: {} events, intact: {}; whole run {:.0} s",
        v.events,
        v.ok,
        started.elapsed().as_secs_f64()
    );
    drop(branch);
    drop(fsync);
    drop(db);
}
