//! Appointment book at scale: counter lookup p50/p99 over 1,000 random
//! queries per key type at N rows (default 1,000,000), and the import of a 100,000-row CSV.
//!
//! `cargo bench -p unlockdesk-store --bench appointments` (release profile). Environment:
//! `UNLOCKDESK_BENCH_ROWS` (default 1000000), `UNLOCKDESK_BENCH_IMPORT` (default 100000),
//! `UNLOCKDESK_BENCH_DB` (reuse a database file between runs; it is filled only when empty).
//! Lookups go through `Service::find_appointments` ("in core": key parsing, the store, masking).
//! The query plans of the lookup statements are printed (EXPLAIN QUERY PLAN).
//! Every person is synthetic; ID numbers carry valid check characters.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime, Utc};
use unlockdesk_core::dto::SetupInput;
use unlockdesk_core::identity::mod11_2_check_char;
use unlockdesk_core::ports::{OsEntropy, Store, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "小明", "华", "伟", "洋", "静", "帆", "磊", "敏", "婷", "强", "芳", "杰", "娜", "涛", "丽",
    "军", "霞", "鹏", "雪", "宇", "子涵", "一诺", "浩然", "欣怡",
];
const PROVINCES: &[&str] = &[
    "110105", "310104", "440305", "330106", "510107", "420106", "320102", "370202",
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One synthetic appointment; `prefix` keeps references of the bulk load and the import apart.
fn synthetic(rng: &mut Rng, prefix: &str, i: u64, today: NaiveDate) -> Appointment {
    let day = today - chrono::Duration::days(3 * 365)
        + chrono::Duration::days(rng.below(3 * 365 + 30) as i64);
    let t = NaiveTime::from_hms_opt(9 + rng.below(8) as u32, (rng.below(4) * 15) as u32, 0)
        .unwrap_or_default();
    let birth = NaiveDate::from_ymd_opt(
        1940 + rng.below(65) as i32,
        1 + rng.below(12) as u32,
        1 + rng.below(28) as u32,
    )
    .unwrap_or(NaiveDate::MIN);
    let body = format!(
        "{}{}{:03}",
        PROVINCES[rng.below(PROVINCES.len() as u64) as usize],
        birth.format("%Y%m%d"),
        rng.below(999) + 1
    );
    let id_number = format!("{body}{}", mod11_2_check_char(&body).unwrap_or('0'));
    let name = format!(
        "{}{}",
        SURNAMES[rng.below(SURNAMES.len() as u64) as usize],
        GIVEN[rng.below(GIVEN.len() as u64) as usize]
    );
    let start = day.and_time(t);
    Appointment {
        id: AppointmentId(uuid::Uuid::from_u64_pair(rng.next(), rng.next())),
        reference: format!("{prefix}{i:08}"),
        name,
        phone: format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000)),
        id_type: DocumentType::PrcId,
        id_number,
        wallet_operator: "钱包服务商B".into(),
        lock_cause: LockCause::ALL[rng.below(5) as usize],
        slot_start: start,
        slot_end: start + chrono::Duration::minutes(30),
        notes: String::new(),
        status: if day < today {
            AppointmentStatus::Done
        } else {
            AppointmentStatus::Waiting
        },
        case_id: None,
    }
}

/// This thread's time on a CPU so far (Linux `/proc/thread-self/schedstat`, nanoseconds; the
/// kernel may account it per scheduler tick, so it is used for the seconds-long import only):
/// on a shared machine, wall time includes waiting for a core; this does not.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let rows = env_u64("UNLOCKDESK_BENCH_ROWS", 1_000_000);
    let import_rows = env_u64("UNLOCKDESK_BENCH_IMPORT", 100_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = std::env::var_os("UNLOCKDESK_BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("bench.db"));
    let store = Arc::new(SqliteStore::open(&path).expect("open"));
    let svc = Service::new(store.clone(), Arc::new(SystemClock), Arc::new(OsEntropy));
    let reader = svc.system_actor(SystemActor::CliReader, "bench");
    let fresh = !svc.is_set_up().expect("read");
    if fresh {
        svc.setup(
            &SetupInput {
                branch_code: "BENCH".into(),
                branch_name: "Bench".into(),
                time_zone: "Asia/Shanghai".into(),
                admin_id: "admin".into(),
                admin_name: "Admin".into(),
                admin_password: "Bench#Pass2026".into(),
            },
            "bench",
        )
        .expect("setup");
    }
    let today = svc.today().expect("today");
    // The same seed gives the same rows, so a reused database still matches the samples.
    let mut rng = Rng(0xA11CE);
    let mut samples = Vec::new();
    let t = Instant::now();
    let mut batch = Vec::with_capacity(50_000);
    for i in 0..rows {
        let a = synthetic(&mut rng, "GEN", i, today);
        if i % (rows / 1000).max(1) == 0 {
            samples.push(a.clone());
        }
        if fresh {
            batch.push(a);
            if batch.len() == 50_000 || i + 1 == rows {
                store
                    .transact(|tx| tx.insert_appointments(&batch))
                    .expect("bulk insert");
                batch.clear();
            }
        }
    }
    if fresh {
        println!(
            "bulk load: {rows} rows in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "database: {} ({:.0} MB)",
        path.display(),
        std::fs::metadata(&path)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    );

    explain(&path, today);

    let mut pick = Rng(42);
    type Q = fn(&Appointment) -> String;
    let kinds: &[(&str, Q)] = &[
        ("reference", |a| a.reference.clone()),
        ("phone (11 digits)", |a| a.phone.clone()),
        ("phone last 4", |a| a.phone[7..].to_string()),
        ("ID number (18)", |a| a.id_number.clone()),
        ("ID last 4", |a| a.id_number[14..].to_string()),
        ("name exact", |a| a.name.clone()),
        ("name prefix (1 char)", |a| a.name.chars().take(1).collect()),
        ("name prefix (3 chars)", |a| {
            a.name.chars().take(3).collect()
        }),
    ];
    println!(
        "\nlookup through Service::find_appointments, {} queries per key, {rows} rows:",
        1000
    );
    println!(
        "{:<24} {:>10} {:>10} {:>10} {:>6}",
        "key", "p50 (ms)", "p99 (ms)", "max (ms)", "hits"
    );
    for (label, q) in kinds {
        // Warm the statement cache and the pages of the first query.
        let _ = svc.find_appointments(&reader, &q(&samples[0]));
        let mut times = Vec::with_capacity(1000);
        let mut hits = 0usize;
        for _ in 0..1000 {
            let a = &samples[pick.below(samples.len() as u64) as usize];
            let text = q(a);
            let t = Instant::now();
            let found = svc.find_appointments(&reader, &text).expect("find");
            times.push(t.elapsed());
            if found.iter().any(|f| f.id == a.id) || found.len() == 20 {
                hits += 1;
            }
        }
        times.sort();
        println!(
            "{label:<24} {:>10.3} {:>10.3} {:>10.3} {:>6}",
            pct(&times, 0.50).as_secs_f64() * 1e3,
            pct(&times, 0.99).as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3,
            hits
        );
    }

    // Import: a CSV of new references, then the same file again (all unchanged).
    let mut rng = Rng(0xB0B + Utc::now().timestamp() as u64);
    let mut csv = String::from("reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes\n");
    let stamp = Utc::now().format("%H%M%S");
    for i in 0..import_rows {
        let a = synthetic(&mut rng, &format!("IMP{stamp}-"), i, today);
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},\n",
            a.reference,
            a.name,
            a.phone,
            a.id_type,
            a.id_number,
            a.wallet_operator,
            a.lock_cause,
            a.slot_start.format("%Y-%m-%dT%H:%M"),
            a.slot_end.format("%Y-%m-%dT%H:%M")
        ));
    }
    let actor = svc.system_actor(SystemActor::Import, "bench");
    let c = cpu_ns();
    let t = Instant::now();
    let r = svc
        .import_appointments(&actor, csv.as_bytes(), "bench.csv")
        .expect("import");
    let first = t.elapsed();
    let first_cpu = c
        .zip(cpu_ns())
        .map(|(a, b)| b.saturating_sub(a) as f64 / 1e9)
        .unwrap_or(f64::NAN);
    let t = Instant::now();
    let r2 = svc
        .import_appointments(&actor, csv.as_bytes(), "bench.csv")
        .expect("re-import");
    let second = t.elapsed();
    println!(
        "\nimport {import_rows} rows ({:.1} MB CSV) into {rows}: {:.2} s wall, {:.2} s CPU (imported {}, rejected {}); re-import: {:.2} s (unchanged {})",
        csv.len() as f64 / 1e6,
        first.as_secs_f64(),
        first_cpu,
        r.imported,
        r.rejected.len(),
        second.as_secs_f64(),
        r2.unchanged
    );
}

/// Print the query plan of each lookup statement (they must search an index, never scan the
/// table or sort with a temp B-tree).
fn explain(path: &std::path::Path, today: NaiveDate) {
    let conn = rusqlite::Connection::open(path).expect("open");
    let t0 = format!("{today}T00:00");
    let t1 = format!("{}T00:00", today.succ_opt().unwrap_or(today));
    let stmts = [
        "SELECT slot_start, rowid FROM appointments WHERE reference = ?1 ORDER BY slot_start DESC LIMIT 20",
        "SELECT slot_start, rowid FROM appointments WHERE phone_tail = substr(?1, -4) AND phone = ?1 ORDER BY slot_start DESC LIMIT 20",
        "SELECT slot_start, rowid FROM appointments WHERE phone_tail = ?1 AND slot_start >= ?2 AND slot_start < ?3 ORDER BY slot_start LIMIT 20",
        "SELECT slot_start, rowid FROM appointments WHERE phone_tail = ?1 ORDER BY slot_start DESC LIMIT 20",
        "SELECT slot_start, rowid FROM appointments WHERE id_tail = substr(?1, -4) AND id_number = ?1 ORDER BY slot_start DESC LIMIT 20",
        "SELECT slot_start, rowid FROM appointments WHERE id_tail = ?1 ORDER BY slot_start DESC LIMIT 20",
        "SELECT slot_start, appt FROM appointment_name_prefix WHERE prefix = ?1 ORDER BY slot_start DESC LIMIT 20",
        "SELECT slot_start, rowid FROM appointments WHERE name = ?1 ORDER BY slot_start DESC LIMIT 20",
        "SELECT slot_start, rowid FROM appointments WHERE name > ?1 AND name < ?2 ORDER BY slot_start DESC LIMIT 20",
    ];
    println!("\nEXPLAIN QUERY PLAN:");
    for sql in stmts {
        // The statement's highest parameter number (`?1` may appear more than once).
        let n = (1..=3)
            .filter(|i| sql.contains(&format!("?{i}")))
            .max()
            .unwrap_or(0);
        let args: Vec<String> = ["x".to_string(), t0.clone(), t1.clone()]
            .into_iter()
            .take(n)
            .collect();
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("prepare");
        let plan: Vec<String> = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                r.get::<_, String>(3)
            })
            .expect("plan")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        println!("  {}\n    -> {}", sql, plan.join(" | "));
    }
}
