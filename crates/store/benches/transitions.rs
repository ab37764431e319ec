//! Durable case transitions per second, side by side with a raw SQLite
//! baseline on the same disk in the same run.
//!
//! `cargo bench -p unlockdesk-store --bench transitions` (release profile); prints a table.
//!
//! * **baseline**: raw rusqlite, WAL, `synchronous=FULL`, one `BEGIN IMMEDIATE` transaction
//!   of two plain inserts, committed — the floor any durable two-row write pays (one fsync of
//!   the WAL per commit).
//! * **store**: one `Store::transact` that loads a case, writes it back version-checked and
//!   appends its audit event (SHA-256 over all columns and the previous hash).
//! * **service**: the whole use case (`Service::record_form` amendments, `confirm_signed`,
//!   `submit`, `cancel_case`, `open_case` …): actor check, pure workflow, case + audit event in
//!   one transaction, then the masked view returned to the caller.
//!
//! Every configuration uses the store's pragmas (WAL, `synchronous=FULL`), files in one
//! directory: `UNLOCKDESK_BENCH_DIR`, default `target/tmp` (on the workspace's disk, not a
//! tmpfs `/tmp`). `UNLOCKDESK_BENCH_SECS` sets the time per configuration and round (default 1 s),
//! `UNLOCKDESK_BENCH_ROUNDS` the number of interleaved rounds (default 15).
//! Supervisor steps are left out: they authenticate with argon2 (tens of ms by design), which
//! measures the password hash, not the store.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, TransactionBehavior};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{AuditDraft, OsEntropy, Outcome, Store, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

const PW: &str = "Bench#Pass2026";
const ID: &str = "11010519491231002X";

fn secs() -> Duration {
    let s: f64 = std::env::var("UNLOCKDESK_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(s)
}

/// Run `op` repeatedly for `budget` (after a short warm-up); returns operations per second.
fn rate(budget: Duration, mut op: impl FnMut() -> u64) -> (f64, u64) {
    let warm = Instant::now();
    while warm.elapsed() < budget / 10 {
        op();
    }
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < budget {
        n += op();
    }
    (n as f64 / t.elapsed().as_secs_f64(), n)
}

fn baseline(dir: &Path) -> impl FnMut() -> u64 {
    let path = dir.join("baseline.db");
    let _ = std::fs::remove_file(&path);
    let mut c = Connection::open(&path).unwrap();
    c.pragma_update(None, "journal_mode", "WAL").unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c.execute_batch(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT;
         CREATE TABLE b (id INTEGER PRIMARY KEY, v TEXT NOT NULL) STRICT;",
    )
    .unwrap();
    let mut i = 0i64;
    move || {
        i += 1;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        tx.execute(
            "INSERT INTO a (id, v) VALUES (?1, ?2)",
            params![i, "case row"],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO b (id, v) VALUES (?1, ?2)",
            params![i, "audit row"],
        )
        .unwrap();
        tx.commit().unwrap();
        1
    }
}

fn form() -> ApplicationForm {
    ApplicationForm {
        customer_name: "测试甲".into(),
        sex: Some(Sex::Female),
        nationality: "中国".into(),
        occupation: "职员".into(),
        address: "北京市东城区测试路1号".into(),
        phone: "13123456789".into(),
        id_type: DocumentType::PrcId,
        id_number: ID.into(),
        id_valid_until: "long-term".into(),
        wallet_operator: "运营机构A".into(),
        wallet_id: "0099123456789012".into(),
        wallet_class: "2".into(),
        lock_cause: Some(LockCause::WrongPassword),
        requested_action: Some(RequestedAction::Unlock),
        reason: "forgot password".into(),
        bank_card: "6200000000000005".into(),
        declaration_true: true,
        consent_query: true,
        risk_acknowledged: true,
        materials: vec![
            "id-document".into(),
            "bank-account".into(),
            "wallet-details".into(),
        ],
        ..Default::default()
    }
}

type Svc = Service<Arc<SqliteStore>>;

fn service(dir: &Path, name: &str) -> (Svc, Actor, Arc<SqliteStore>) {
    let path = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let svc = Service::new(store.clone(), Arc::new(SystemClock), Arc::new(OsEntropy))
        .with_renderer(Arc::new(unlockdesk_conformance::TextRenderer));
    svc.setup(
        &SetupInput {
            branch_code: "B1".into(),
            branch_name: "Bench".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "Admin".into(),
            admin_password: PW.into(),
        },
        "bench",
    )
    .unwrap();
    let admin = svc.authenticate("admin", PW, "bench").unwrap();
    svc.add_staff(
        &admin,
        &NewStaff {
            id: "tel01".into(),
            name: "tel01".into(),
            role: Role::Teller,
            password: "Initial#2026".into(),
        },
    )
    .unwrap();
    svc.change_password("tel01", "Initial#2026", PW, "bench")
        .unwrap();
    let tel = svc.authenticate("tel01", PW, "bench").unwrap();
    (svc, tel, store)
}

fn open(svc: &Svc, tel: &Actor) -> CaseId {
    let input = OpenCaseInput {
        customer_name: "测试甲".into(),
        phone: "13123456789".into(),
        lock_cause: Some(LockCause::WrongPassword),
        ..Default::default()
    };
    svc.open_case(tel, &input, None).unwrap().case.id
}

/// Store level: load the case, bump it, write it version-checked, append the audit event.
fn store_level(dir: &Path) -> impl FnMut() -> u64 {
    let (svc, tel, store) = service(dir, "store.db");
    let c = open(&svc, &tel);
    move || {
        store
            .transact(|tx| {
                let mut case = tx.case(c)?.expect("case");
                let from = case.version;
                case.version += 1;
                case.updated_at = chrono::Utc::now();
                tx.update_case(&case, from)?;
                tx.append_audit(&AuditDraft {
                    at: case.updated_at,
                    staff_id: tel.staff_id().to_string(),
                    role: tel.role(),
                    terminal: tel.terminal().to_string(),
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
            .unwrap();
        1
    }
}

/// Use-case level: a mix of the counter's teller steps, each one durable transition.
fn service_level(dir: &Path) -> impl FnMut() -> u64 {
    let (svc, tel, _store) = service(dir, "service.db");
    let f = form();
    let idn = IdentityInput {
        kind: "prc-id".into(),
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-T1".into(),
        }),
        number: ID.into(),
        name_on_document: "测试甲".into(),
        valid_until: "long-term".into(),
        ..Default::default()
    };
    move || {
        // open, verify identity, record form, amend it twice, confirm signed, submit, cancel:
        // 8 transitions.
        let c = open(&svc, &tel);
        svc.verify_identity(&tel, c, &idn, None).unwrap();
        for _ in 0..3 {
            svc.record_form(&tel, c, &f, None).unwrap();
        }
        unlockdesk_conformance::print_delivered(&svc, &tel, c, print::DocumentKind::Application);
        svc.confirm_signed(&tel, c, None).unwrap();
        svc.submit(&tel, c, None).unwrap();
        svc.cancel_case(&tel, c, "bench", None).unwrap();
        // + the print and its delivery: 10 case writes.
        10
    }
}

/// One measured operation; returns how many transitions it made.
type Op = Box<dyn FnMut() -> u64>;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let base = std::env::var_os("UNLOCKDESK_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_TARGET_TMPDIR").into());
    std::fs::create_dir_all(&base).unwrap();
    let dir = tempfile::tempdir_in(&base).unwrap();
    let budget = secs();
    let rounds: usize = std::env::var("UNLOCKDESK_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15)
        .max(1);
    println!(
        "durable transitions, synchronous=FULL, WAL, files in {}",
        dir.path().display()
    );
    println!("{rounds} interleaved rounds of {budget:?} per configuration (the disk's speed drifts; medians reported)");
    let mut configs: Vec<(&str, Op)> = vec![
        (
            "baseline: 2 plain inserts / transaction",
            Box::new(baseline(dir.path())),
        ),
        (
            "store: case update + chained audit event",
            Box::new(store_level(dir.path())),
        ),
        (
            "service: whole use case (teller steps)",
            Box::new(service_level(dir.path())),
        ),
    ];
    let mut rates = vec![Vec::new(); configs.len()];
    let mut ops = vec![0u64; configs.len()];
    let mut ratios = vec![Vec::new(); configs.len()];
    for round in 1..=rounds {
        let mut this = Vec::new();
        for (i, (_, op)) in configs.iter_mut().enumerate() {
            let (r, n) = rate(budget, op);
            rates[i].push(r);
            ops[i] += n;
            this.push(r);
        }
        for i in 0..configs.len() {
            ratios[i].push(this[i] / this[0]);
        }
        println!(
            "round {round}: {}",
            this.iter()
                .map(|r| format!("{r:.0}/s"))
                .collect::<Vec<_>>()
                .join("  ")
        );
    }
    println!();
    println!("| configuration                            |    ops | median ops/s | median vs baseline (same round) |");
    println!("|------------------------------------------|-------:|-------------:|--------------------------------:|");
    for (i, (name, _)) in configs.iter().enumerate() {
        println!(
            "| {name:<40} | {:>6} | {:>12.0} | {:>30.0}% |",
            ops[i],
            median(rates[i].clone()),
            100.0 * median(ratios[i].clone())
        );
    }
    let service_ratio = median(ratios[2].clone());
    println!();
    println!(
        "goal: service >= 50% of the baseline: {} ({:.0}%)",
        if service_ratio >= 0.5 {
            "met"
        } else {
            "NOT met"
        },
        100.0 * service_ratio
    );
}
