//! Encrypted against plaintext, in one run, on the same disk: what SQLCipher and sealed
//! documents cost the embedded store.
//!
//! `cargo bench -p unlockdesk-store --bench encryption` (release profile). Measures, for a
//! plaintext store and an encrypted one (a key file; SQLCipher raw key, 64 MiB page cache):
//! 1. **open**: `SqliteStore::open_with` of an existing store (migrations checked, key record
//!    unwrapped, first page decrypted), median and p99 of 20 opens each, interleaved;
//! 2. **teller use case**: walk-in → identity → form → print (a text renderer: the store, not
//!    the PDF engine) → signed → submit, every step through `Service`; steps/s and p50/p99 per
//!    step, over interleaved rounds (`UNLOCKDESK_BENCH_ROUNDS`, default 6, of
//!    `UNLOCKDESK_BENCH_CASES` cases each, default 40);
//! 3. **appointment lookup** at `UNLOCKDESK_BENCH_ROWS` rows (default 1,000,000): 500 queries
//!    each of full phone, full ID number, last 4 and a name prefix, p50/p99;
//! 4. **import** of a `UNLOCKDESK_BENCH_IMPORT`-row CSV (default 100,000) through
//!    `Service::import_appointments`, seconds.
//!
//! Files live in `UNLOCKDESK_BENCH_DIR` (default `target/tmp`, the workspace's disk). Every
//! person is synthetic; ID numbers carry valid check characters (GB 11643-1999).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime};
use unlockdesk_core::dto::*;
use unlockdesk_core::identity::mod11_2_check_char;
use unlockdesk_core::ports::{OsEntropy, Store, SystemClock};
use unlockdesk_core::print::{CopyKind, DocumentKind, PrintDocument, Renderer};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::keys::{self, KeySource};
use unlockdesk_store::SqliteStore;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Text;
impl Renderer for Text {
    fn render(&self, doc: &PrintDocument) -> CoreResult<Vec<u8>> {
        // About the size of a real bank copy, so sealing costs what it would.
        let mut out = format!("{doc:?}").into_bytes();
        out.resize(60_000, b' ');
        Ok(out)
    }
}

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

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: &[&str] = &[
    "小明", "华", "伟", "洋", "静", "帆", "磊", "敏", "婷", "强", "芳",
];

fn person(rng: &mut Rng, prefix: &str, i: u64, today: NaiveDate) -> Appointment {
    let body = format!(
        "110105{:04}{:02}{:02}{:03}",
        1950 + rng.below(50),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(1000)
    );
    let id = format!("{body}{}", mod11_2_check_char(&body).expect("17 digits"));
    let day = today - chrono::Duration::days(rng.below(3 * 365) as i64);
    let t = NaiveTime::from_hms_opt(9 + rng.below(8) as u32, 0, 0).expect("time");
    Appointment {
        id: AppointmentId(uuid::Uuid::from_u64_pair(rng.next(), rng.next())),
        reference: format!("{prefix}-{i:08}"),
        name: format!(
            "{}{}",
            SURNAMES[rng.below(SURNAMES.len() as u64) as usize],
            GIVEN[rng.below(GIVEN.len() as u64) as usize]
        ),
        phone: format!("13{:09}", rng.below(1_000_000_000)),
        id_type: "prc-id".parse().expect("document type"),
        id_number: id,
        wallet_operator: "运营机构A".into(),
        lock_cause: LockCause::WrongPassword,
        slot_start: day.and_time(t),
        slot_end: day.and_time(t) + chrono::Duration::minutes(30),
        notes: String::new(),
        status: AppointmentStatus::Waiting,
        case_id: None,
    }
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

type Svc = Service<Arc<SqliteStore>>;

struct Variant {
    name: &'static str,
    path: PathBuf,
    source: KeySource,
}

impl Variant {
    fn open(&self) -> Arc<SqliteStore> {
        Arc::new(SqliteStore::open_with(&self.path, self.source.clone()).expect("open"))
    }
    fn service(&self) -> Svc {
        Service::new(self.open(), Arc::new(SystemClock), Arc::new(OsEntropy))
            .with_renderer(Arc::new(Text))
    }
}

fn set_up(svc: &Svc) -> Actor {
    unlockdesk_conformance::setup(svc).0
}

/// One walk-in case to submitted; each step's latency pushed to `lat`.
fn teller_case(svc: &Svc, tel: &Actor, lat: &mut Vec<Duration>) -> bool {
    let mut step = |f: &mut dyn FnMut() -> CoreResult<()>| -> bool {
        let t = Instant::now();
        let ok = f().is_ok();
        lat.push(t.elapsed());
        ok
    };
    let mut id = None;
    let opened = step(&mut || {
        id = Some(
            svc.open_case(
                tel,
                &OpenCaseInput {
                    appointment_id: None,
                    customer_name: "测试甲".into(),
                    phone: "13123456789".into(),
                    lock_cause: Some(LockCause::WrongPassword),
                },
                None,
            )?
            .case
            .id,
        );
        Ok(())
    });
    let Some(id) = id.filter(|_| opened) else {
        return false;
    };
    let idn = unlockdesk_conformance::id_card();
    step(&mut || svc.verify_identity(tel, id, &idn, None).map(|_| ()))
        && step(&mut || {
            svc.record_form(tel, id, &unlockdesk_conformance::form(), None)
                .map(|_| ())
        })
        && step(&mut || {
            svc.print_document(tel, id, DocumentKind::Application, CopyKind::Bank)
                .map(|_| ())
        })
        && step(&mut || svc.confirm_signed(tel, id, None).map(|_| ()))
        && step(&mut || svc.submit(tel, id, None).map(|_| ()))
}

fn main() {
    let dir = PathBuf::from(
        std::env::var("UNLOCKDESK_BENCH_DIR").unwrap_or_else(|_| "target/tmp".into()),
    )
    .join(format!("encryption-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let rows = env_u64("UNLOCKDESK_BENCH_ROWS", 1_000_000);
    let import_rows = env_u64("UNLOCKDESK_BENCH_IMPORT", 100_000);
    let rounds = env_u64("UNLOCKDESK_BENCH_ROUNDS", 6);
    let cases = env_u64("UNLOCKDESK_BENCH_CASES", 40);
    let key = dir.join("branch.key");
    keys::new_key_file(&key).expect("key file");
    let variants = [
        Variant {
            name: "plaintext",
            path: dir.join("plain").join("unlockdesk.db"),
            source: KeySource::None,
        },
        Variant {
            name: "encrypted",
            path: dir.join("enc").join("unlockdesk.db"),
            source: KeySource::KeyFile(key),
        },
    ];
    println!("UnlockDesk encryption bench: {rows} appointment rows, {import_rows}-row import, {rounds} rounds of {cases} cases");

    // Set-up and the bulk load (not measured: the same rows in both).
    let mut actors = Vec::new();
    for v in &variants {
        let svc = v.service();
        let tel = set_up(&svc);
        let today = svc.today().expect("today");
        let mut rng = Rng(0xA11CE);
        let mut batch = Vec::with_capacity(50_000);
        let t = Instant::now();
        for i in 0..rows {
            batch.push(person(&mut rng, "GEN", i, today));
            if batch.len() == 50_000 || i + 1 == rows {
                svc.store()
                    .transact(|tx| tx.insert_appointments(&batch))
                    .expect("bulk insert");
                batch.clear();
            }
        }
        println!(
            "{}: bulk load {rows} rows in {:.1} s, file {:.0} MB",
            v.name,
            t.elapsed().as_secs_f64(),
            std::fs::metadata(&v.path)
                .map(|m| m.len() as f64 / 1e6)
                .unwrap_or(0.0)
        );
        actors.push(tel);
    }

    // 1. Open.
    let mut opens: Vec<Vec<Duration>> = vec![vec![], vec![]];
    for _ in 0..20 {
        for (i, v) in variants.iter().enumerate() {
            let t = Instant::now();
            let s = SqliteStore::open_with(&v.path, v.source.clone()).expect("open");
            opens[i].push(t.elapsed());
            drop(s);
        }
    }
    println!("\n| open (20 each, interleaved) | median (ms) | p99 (ms) |");
    println!("|---|---:|---:|");
    for (i, v) in variants.iter().enumerate() {
        opens[i].sort();
        println!(
            "| {} | {:.2} | {:.2} |",
            v.name,
            ms(pct(&opens[i], 0.5)),
            ms(pct(&opens[i], 0.99))
        );
    }

    // 2. The teller use case, interleaved rounds.
    let svcs: Vec<Svc> = variants.iter().map(|v| v.service()).collect();
    let mut lat: Vec<Vec<Duration>> = vec![vec![], vec![]];
    let mut busy = [Duration::ZERO; 2];
    for _ in 0..rounds {
        for (i, svc) in svcs.iter().enumerate() {
            let t = Instant::now();
            for _ in 0..cases {
                assert!(teller_case(svc, &actors[i], &mut lat[i]), "a step failed");
            }
            busy[i] += t.elapsed();
        }
    }
    println!("\n| teller use case (6 steps a case) | steps/s | p50 (ms) | p99 (ms) |");
    println!("|---|---:|---:|---:|");
    let mut p99 = [0.0; 2];
    for (i, v) in variants.iter().enumerate() {
        let n = lat[i].len();
        lat[i].sort();
        p99[i] = ms(pct(&lat[i], 0.99));
        println!(
            "| {} | {:.0} | {:.2} | {:.2} |",
            v.name,
            n as f64 / busy[i].as_secs_f64(),
            ms(pct(&lat[i], 0.5)),
            p99[i]
        );
    }
    println!("encrypted p99 / plaintext p99 = {:.2}", p99[1] / p99[0]);

    // 3. Lookups: the same sampled people in both stores.
    let today = svcs[0].today().expect("today");
    let mut rng = Rng(0xA11CE);
    let mut samples = Vec::new();
    for i in 0..rows {
        let a = person(&mut rng, "GEN", i, today);
        if i % (rows / 500).max(1) == 0 {
            samples.push(a);
        }
    }
    type Q = fn(&Appointment) -> String;
    let kinds: [(&str, Q); 4] = [
        ("phone (11 digits)", |a| a.phone.clone()),
        ("ID number (18)", |a| a.id_number.clone()),
        ("phone last 4", |a| a.phone[7..].to_string()),
        ("name prefix (2 chars)", |a| {
            a.name.chars().take(2).collect()
        }),
    ];
    println!("\n| lookup at {rows} rows, {} queries | plaintext p50 / p99 (ms) | encrypted p50 / p99 (ms) |", samples.len());
    println!("|---|---:|---:|");
    for (label, q) in kinds {
        let mut per: Vec<Vec<Duration>> = vec![vec![], vec![]];
        for a in &samples {
            let text = q(a);
            for (i, svc) in svcs.iter().enumerate() {
                let t = Instant::now();
                let found = svc.find_appointments(&actors[i], &text).expect("lookup");
                per[i].push(t.elapsed());
                assert!(!found.is_empty(), "{label} {text}: no match");
            }
        }
        for p in &mut per {
            p.sort();
        }
        println!(
            "| {label} | {:.2} / {:.2} | {:.2} / {:.2} |",
            ms(pct(&per[0], 0.5)),
            ms(pct(&per[0], 0.99)),
            ms(pct(&per[1], 0.5)),
            ms(pct(&per[1], 0.99))
        );
    }

    // 4. Import.
    let mut csv = String::from(
        "reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes\n",
    );
    let mut rng = Rng(7);
    for i in 0..import_rows {
        let a = person(&mut rng, "IMP", i, today);
        csv.push_str(&format!(
            "{},{},{},prc-id,{},B,wrong-password,{},{},\n",
            a.reference,
            a.name,
            a.phone,
            a.id_number,
            a.slot_start.format("%Y-%m-%dT%H:%M"),
            a.slot_end.format("%Y-%m-%dT%H:%M")
        ));
    }
    println!("\n| import of {import_rows} rows | seconds |");
    println!("|---|---:|");
    for (i, svc) in svcs.iter().enumerate() {
        let importer = svc.system_actor(SystemActor::Import, "bench");
        let t = Instant::now();
        svc.import_appointments(&importer, csv.as_bytes(), "bench.csv")
            .expect("import");
        println!(
            "| {} | {:.1} |",
            variants[i].name,
            t.elapsed().as_secs_f64()
        );
    }
    drop(svcs);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = Path::new(&dir);
}
