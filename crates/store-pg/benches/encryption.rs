//! Encrypted against plaintext, in one run, on the same disk: what SQLCipher and sealed
//! documents cost the embedded store, and what field-level encryption costs PostgreSQL.
//!
//! ```text
//! scripts/with-postgres.sh cargo bench -p unlockdesk-store-pg --bench encryption
//! ```
//!
//! For each backend a plaintext store and an encrypted one (a key file) are measured side by
//! side, their work interleaved so a busy neighbour on the machine hits both alike:
//! 1. **open** (embedded store): `SqliteStore::open_with` of an existing store (migrations
//!    checked, key record unwrapped, first page decrypted), median and p99 of 20 opens each;
//! 2. **teller use case**: walk-in → identity → form → print (a text renderer of a bank copy's
//!    size: the store, not the PDF engine) → signed → submit, every step through `Service`;
//!    steps/s and p50/p99 per step, over `UD_BENCH_ROUNDS` rounds (default 6) of
//!    `UD_BENCH_CASES` cases (default 40);
//! 3. **appointment lookup** at `UD_BENCH_BOOK` rows (default 1,000,000): 500 queries each of
//!    full phone, full ID number (keyed hashes on encrypted PostgreSQL), last 4 and a name
//!    prefix, through `Service::find_appointments`, p50/p99;
//! 4. **import** of a `UD_BENCH_IMPORT`-row CSV (default 100,000) through
//!    `Service::import_appointments`, seconds.
//!
//! `UD_BENCH_BACKENDS` picks `sqlite`, `postgres` or both (the default).
//! The embedded stores live in `UD_BENCH_DIR` (default Cargo's `target/tmp` of the workspace,
//! its disk, never the crate's folder);
//! PostgreSQL runs when `UNLOCKDESK_DATABASE_URL` names a cluster (two databases of its own,
//! dropped at the end). Every person is synthetic; ID numbers carry valid check characters
//! (GB 11643-1999).

use std::path::PathBuf;
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
use unlockdesk_store_pg::PgStore;

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

fn service<S: Store>(store: S) -> Service<S> {
    Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy)).with_renderer(Arc::new(Text))
}

fn set_up<S: Store>(svc: &Service<S>) -> Actor {
    unlockdesk_conformance::setup(svc).0
}

/// One walk-in case to submitted; each step's latency pushed to `lat`.
fn teller_case<S: Store>(svc: &Service<S>, tel: &Actor, lat: &mut Vec<Duration>) -> bool {
    let mut step = |f: &mut dyn FnMut() -> CoreResult<()>| -> bool {
        let t = Instant::now();
        let r = f();
        lat.push(t.elapsed());
        if let Err(e) = &r {
            eprintln!("step refused: {e}");
        }
        r.is_ok()
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
            let doc = svc.print_document(tel, id, DocumentKind::Application, CopyKind::Bank)?;
            svc.record_delivery(
                tel,
                id,
                &doc.id,
                &PrintDelivery {
                    channel: PrintChannel::File,
                    printer: None,
                    job_id: None,
                    outcome: PrintOutcome::Completed,
                    message: String::new(),
                },
            )
            .map(|_| ())
        })
        && step(&mut || svc.confirm_signed(tel, id, None).map(|_| ()))
        && step(&mut || svc.submit(tel, id, None).map(|_| ()))
}

struct Settings {
    rows: u64,
    import_rows: u64,
    rounds: u64,
    cases: u64,
}

/// Set-up and the bulk load of both stores (not measured: the same rows in both).
fn load<S: Store>(backend: &str, svcs: &[(&str, Service<S>)], cfg: &Settings) -> Vec<Actor> {
    let mut actors = Vec::new();
    for (name, svc) in svcs {
        let tel = set_up(svc);
        let today = svc.today().expect("today");
        let mut rng = Rng(0xA11CE);
        let mut batch = Vec::with_capacity(50_000);
        let t = Instant::now();
        for i in 0..cfg.rows {
            batch.push(person(&mut rng, "GEN", i, today));
            if batch.len() == 50_000 || i + 1 == cfg.rows {
                svc.store()
                    .transact(|tx| tx.insert_appointments(&batch))
                    .expect("bulk insert");
                batch.clear();
            }
        }
        println!(
            "{backend} {name}: bulk load {} rows in {:.1} s",
            cfg.rows,
            t.elapsed().as_secs_f64()
        );
        actors.push(tel);
    }
    actors
}

/// Phases 2-4 on the pair `svcs` (plaintext first).
fn measure<S: Store>(backend: &str, svcs: &[(&str, Service<S>)], actors: &[Actor], cfg: &Settings) {
    let mut lat: Vec<Vec<Duration>> = vec![vec![], vec![]];
    let mut busy = [Duration::ZERO; 2];
    for _ in 0..cfg.rounds {
        for (i, (_, svc)) in svcs.iter().enumerate() {
            let t = Instant::now();
            for _ in 0..cfg.cases {
                assert!(teller_case(svc, &actors[i], &mut lat[i]), "a step failed");
            }
            busy[i] += t.elapsed();
        }
    }
    println!("\n| {backend}: teller use case (6 steps a case) | steps/s | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) |");
    println!("|---|---:|---:|---:|---:|---:|");
    // Each case is 6 steps in order: the p99 of each step on its own.
    let steps = ["open", "identity", "form", "print", "signed", "submit"];
    let per_step: Vec<Vec<f64>> = lat
        .iter()
        .map(|l| {
            (0..6)
                .map(|k| {
                    let mut v: Vec<Duration> = l.iter().skip(k).step_by(6).copied().collect();
                    v.sort();
                    ms(pct(&v, 0.99))
                })
                .collect()
        })
        .collect();
    let mut p99 = [0.0; 2];
    for (i, (name, _)) in svcs.iter().enumerate() {
        let n = lat[i].len();
        lat[i].sort();
        p99[i] = ms(pct(&lat[i], 0.99));
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} |",
            n as f64 / busy[i].as_secs_f64(),
            ms(pct(&lat[i], 0.5)),
            p99[i],
            ms(pct(&lat[i], 0.999)),
            ms(pct(&lat[i], 1.0))
        );
    }
    println!(
        "{backend}: encrypted p99 / plaintext p99 = {:.2}",
        p99[1] / p99[0]
    );
    println!(
        "{backend}: p99 per step (plaintext → encrypted, ms): {}",
        steps
            .iter()
            .enumerate()
            .map(|(k, s)| format!("{s} {:.2} → {:.2}", per_step[0][k], per_step[1][k]))
            .collect::<Vec<_>>()
            .join("; ")
    );

    let today = svcs[0].1.today().expect("today");
    let mut rng = Rng(0xA11CE);
    let mut samples = Vec::new();
    for i in 0..cfg.rows {
        let a = person(&mut rng, "GEN", i, today);
        if i % (cfg.rows / 500).max(1) == 0 {
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
    println!(
        "\n| {backend}: lookup at {} rows, {} queries | plaintext p50 / p99 (ms) | encrypted p50 / p99 (ms) |",
        cfg.rows,
        samples.len()
    );
    println!("|---|---:|---:|");
    for (label, q) in kinds {
        let mut per: Vec<Vec<Duration>> = vec![vec![], vec![]];
        for a in &samples {
            let text = q(a);
            for (i, (_, svc)) in svcs.iter().enumerate() {
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

    let mut csv = String::from(
        "reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes\n",
    );
    let mut rng = Rng(7);
    for i in 0..cfg.import_rows {
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
    println!(
        "\n| {backend}: import of {} rows | seconds |",
        cfg.import_rows
    );
    println!("|---|---:|");
    for (name, svc) in svcs {
        let importer = svc.system_actor(SystemActor::Import, "bench");
        let t = Instant::now();
        svc.import_appointments(&importer, csv.as_bytes(), "bench.csv")
            .expect("import");
        println!("| {name} | {:.1} |", t.elapsed().as_secs_f64());
    }
}

fn main() {
    let cfg = Settings {
        rows: env_u64("UD_BENCH_BOOK", 1_000_000),
        import_rows: env_u64("UD_BENCH_IMPORT", 100_000),
        rounds: env_u64("UD_BENCH_ROUNDS", 6),
        cases: env_u64("UD_BENCH_CASES", 40),
    };
    let dir = PathBuf::from(
        std::env::var("UD_BENCH_DIR").unwrap_or_else(|_| env!("CARGO_TARGET_TMPDIR").into()),
    )
    .join(format!("encryption-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    let key = dir.join("branch.key");
    keys::new_key_file(&key).expect("key file");
    let enc = KeySource::KeyFile(key);
    println!(
        "UnlockDesk encryption bench: {} appointment rows, {}-row import, {} rounds of {} cases",
        cfg.rows, cfg.import_rows, cfg.rounds, cfg.cases
    );

    let backends = std::env::var("UD_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    // The embedded store.
    let paths = [
        dir.join("plain").join("unlockdesk.db"),
        dir.join("enc").join("unlockdesk.db"),
    ];
    let sources = [KeySource::None, enc.clone()];
    let open =
        |i: usize| Arc::new(SqliteStore::open_with(&paths[i], sources[i].clone()).expect("open"));
    if backends.contains("sqlite") {
        let svcs = [
            ("plaintext", service(open(0))),
            ("encrypted", service(open(1))),
        ];
        let actors = load("SQLite", &svcs, &cfg);
        let mut opens: Vec<Vec<Duration>> = vec![vec![], vec![]];
        for _ in 0..20 {
            for (i, o) in opens.iter_mut().enumerate() {
                let t = Instant::now();
                let s = open(i);
                o.push(t.elapsed());
                drop(s);
            }
        }
        println!("\n| SQLite: open (20 each, interleaved) | median (ms) | p99 (ms) |");
        println!("|---|---:|---:|");
        for (i, name) in ["plaintext", "encrypted"].iter().enumerate() {
            opens[i].sort();
            println!(
                "| {name} | {:.2} | {:.2} |",
                ms(pct(&opens[i], 0.5)),
                ms(pct(&opens[i], 0.99))
            );
        }
        measure("SQLite", &svcs, &actors, &cfg);
        drop(svcs);
        let _ = std::fs::remove_dir_all(dir.join("plain"));
        let _ = std::fs::remove_dir_all(dir.join("enc"));
    }

    // PostgreSQL, when a cluster is named.
    let url = std::env::var("UNLOCKDESK_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty() && backends.contains("postgres"));
    let Some(url) = url else {
        println!("\nPostgreSQL: skipped (UNLOCKDESK_DATABASE_URL is not set)");
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let base: postgres::Config = url.parse().expect("a PostgreSQL URL");
    let mut admin = base.connect(postgres::NoTls).expect("connect");
    let names = [
        format!("ud_bench_plain_{}", std::process::id()),
        format!("ud_bench_fields_{}", std::process::id()),
    ];
    for n in &names {
        admin
            .batch_execute(&format!("CREATE DATABASE {n}"))
            .expect("create a bench database");
    }
    {
        let pg = |i: usize| {
            let mut c = base.clone();
            c.dbname(&names[i]);
            PgStore::open_config_with(c, sources[i].clone()).expect("open")
        };
        let svcs = [
            ("plaintext", service(pg(0))),
            ("field-encrypted", service(pg(1))),
        ];
        assert!(svcs[1].1.store().is_encrypted());
        let actors = load("PostgreSQL", &svcs, &cfg);
        measure("PostgreSQL", &svcs, &actors, &cfg);
    }
    for n in &names {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
