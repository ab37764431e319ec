//! Crash safety: a writer process runs case transitions in a loop against a
//! real SQLite file and is killed with SIGKILL at a random moment, 50 times. After each kill
//! the file is reopened and checked:
//!
//! * every transition the writer acknowledged (printed after the use case returned, i.e.
//!   after commit) is there;
//! * nothing is half-written: each case's state is the `to_state` of its last audit event,
//!   its version is the number of its state-changing events (open = version 1), and the JSON
//!   copy agrees with the columns;
//! * `PRAGMA integrity_check` is `ok` and the audit chain verifies.
//!
//! The writer is this test binary itself, re-run with `--exact writer_child` and
//! `UNLOCKDESK_CRASH_DB` set, so no helper binary or extra dependency is needed.
//! `UNLOCKDESK_CRASH_SEED` replays a run; `UNLOCKDESK_CRASH_KILLS` changes the count.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

const PW: &str = "Counter#2026";
const ID: &str = "11010519491231002X";
const ENV_DB: &str = "UNLOCKDESK_CRASH_DB";

fn svc(path: &Path) -> Service<SqliteStore> {
    Service::new(
        SqliteStore::open(path).unwrap(),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
    )
    .with_renderer(Arc::new(unlockdesk_conformance::TextRenderer))
}

fn setup(path: &Path) {
    let s = svc(path);
    s.setup(
        &SetupInput {
            branch_code: "c1".into(),
            branch_name: "崩溃测试支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "crash-test",
    )
    .unwrap();
    let admin = s.authenticate("admin", PW, "crash-test").unwrap();
    for (id, role) in [("tel01", Role::Teller), ("sup01", Role::Supervisor)] {
        s.add_staff(
            &admin,
            &NewStaff {
                id: id.into(),
                name: id.into(),
                role,
                password: "Initial#2026".into(),
            },
        )
        .unwrap();
        s.change_password(id, "Initial#2026", PW, "crash-test")
            .unwrap();
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

/// xorshift64*: enough randomness for kill points without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The writer: only active when re-run by [`kill_nine_fifty_times`]. Prints `READY` once
/// signed in, then `ACK <case id> <version> <state>` after every committed transition.
#[test]
fn writer_child() {
    let Some(db) = std::env::var_os(ENV_DB) else {
        return;
    };
    let s = svc(Path::new(&db));
    let tel = s.authenticate("tel01", PW, "crash-writer").unwrap();
    let sup = Credentials {
        staff_id: "sup01".into(),
        password: PW.into(),
    };
    let mut out = std::io::stdout();
    let mut ack = |v: &CaseView| {
        writeln!(out, "ACK {} {} {}", v.case.id, v.case.version, v.case.state).unwrap();
        out.flush().unwrap();
    };
    writeln!(std::io::stdout(), "READY").unwrap();
    std::io::stdout().flush().unwrap();
    let mut n = 0u64;
    loop {
        n += 1;
        let v = s
            .open_case(
                &tel,
                &OpenCaseInput {
                    customer_name: "测试甲".into(),
                    phone: "13123456789".into(),
                    lock_cause: Some(LockCause::WrongPassword),
                    ..Default::default()
                },
                None,
            )
            .unwrap();
        ack(&v);
        let c = v.case.id;
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
        ack(&s.verify_identity(&tel, c, &idn, None).unwrap());
        ack(&s.record_form(&tel, c, &form(), None).unwrap());
        if n % 3 == 2 {
            // An amendment: same state, new version.
            ack(&s.record_form(&tel, c, &form(), None).unwrap());
        }
        if n % 5 == 4 {
            ack(&s.cancel_case(&tel, c, "customer left", None).unwrap());
            continue;
        }
        ack(&unlockdesk_conformance::print_delivered(
            &s,
            &tel,
            c,
            print::DocumentKind::Application,
        ));
        ack(&s.confirm_signed(&tel, c, None).unwrap());
        ack(&s.submit(&tel, c, None).unwrap());
        ack(&s
            .authorize(&tel, c, &sup, Decision::Approve, None, "", None)
            .unwrap());
        let contact = ContactInput {
            channel: ContactChannel::Phone,
            ticket: "OP-1".into(),
            result: "unlocked".into(),
        };
        ack(&s.log_contact(&tel, c, &contact, None).unwrap());
        let unlock = UnlockInput {
            operator_reference: "OP-1".into(),
            notified_via: NotificationChannel::Sms,
        };
        ack(&s.confirm_unlock(&tel, c, &sup, &unlock, None).unwrap());
        ack(&s
            .close_case(&tel, c, Some("customer declined the receipt"), None)
            .unwrap());
    }
}

/// One acknowledged step.
#[derive(Debug, Clone)]
struct Ack {
    version: i64,
    state: String,
}

/// Check the reopened file; `acked` holds the highest acknowledged step per case over all runs.
fn check(db: &Path, acked: &HashMap<String, Ack>, ctx: &str) {
    // The store's own start-up check and verifier.
    let store = SqliteStore::open(db).unwrap_or_else(|e| panic!("{ctx}: reopen failed: {e}"));
    store
        .check_integrity()
        .unwrap_or_else(|e| panic!("{ctx}: {e}"));
    let v = unlockdesk_core::ports::Store::verify_audit(&store).unwrap();
    assert!(v.ok, "{ctx}: audit chain broken after a kill: {v:?}");
    drop(store);

    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let ic: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ic, "ok", "{ctx}");

    // Every case against its own audit events.
    let mut st = conn
        .prepare("SELECT id, state, version, data FROM cases")
        .unwrap();
    let cases: Vec<(String, String, i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut by_id = HashMap::new();
    for (id, state, version, data) in &cases {
        let events: Vec<(String, String)> = conn
            .prepare("SELECT action, to_state FROM audit_events WHERE case_id = ?1 AND outcome = 'ok' AND to_state IS NOT NULL ORDER BY seq")
            .unwrap()
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            events.first().map(|e| e.0.as_str()),
            Some("open-case"),
            "{ctx}: case {id} has no open-case event"
        );
        assert_eq!(
            *version,
            events.len() as i64,
            "{ctx}: case {id} version {version} but {} state-changing events: {events:?}",
            events.len()
        );
        assert_eq!(
            state,
            &events.last().unwrap().1,
            "{ctx}: case {id} state differs from its last audit event"
        );
        let json: serde_json::Value = serde_json::from_str(data)
            .unwrap_or_else(|e| panic!("{ctx}: case {id} JSON unreadable: {e}"));
        assert_eq!(
            json["state"].as_str(),
            Some(state.as_str()),
            "{ctx}: case {id} JSON state differs from the column"
        );
        assert_eq!(
            json["version"].as_i64(),
            Some(*version),
            "{ctx}: case {id} JSON version differs from the column"
        );
        by_id.insert(id.clone(), (state.clone(), *version));
    }

    // Every acknowledged step survived.
    for (id, a) in acked {
        let (state, version) = by_id
            .get(id)
            .unwrap_or_else(|| panic!("{ctx}: acknowledged case {id} is missing"));
        assert!(
            *version >= a.version,
            "{ctx}: case {id} acknowledged at version {} but stored at {version}",
            a.version
        );
        if *version == a.version {
            assert_eq!(
                state, &a.state,
                "{ctx}: case {id} at the acknowledged version has another state"
            );
        }
    }
}

#[test]
fn kill_nine_fifty_times() {
    let kills: u32 = std::env::var("UNLOCKDESK_CRASH_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("UNLOCKDESK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unlockdesk.db");
    setup(&db);
    let exe = std::env::current_exe().unwrap();
    let mut acked: HashMap<String, Ack> = HashMap::new();
    let started = Instant::now();
    let mut total_acks = 0usize;
    for round in 1..=kills {
        let ctx = format!("seed {seed}, kill {round}");
        let mut child = Command::new(&exe)
            .args(["writer_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(ENV_DB, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the writer to be signed in, then let it run 0–250 ms and kill it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(l) if l.ends_with("READY") => break,
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    let out = child.wait_with_output().unwrap();
                    panic!(
                        "{ctx}: the writer never became ready: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(250_000)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "{ctx}: the writer ended by itself: {status:?}"
        );
        reader.join().unwrap();
        for line in rx.try_iter() {
            // libtest may print its own text before ours on the same line.
            let Some(at) = line.find("ACK ") else {
                continue;
            };
            let mut p = line[at + 4..].split_whitespace();
            let (id, version, state) = (
                p.next().unwrap().to_string(),
                p.next().unwrap().parse().unwrap(),
                p.next().unwrap().to_string(),
            );
            total_acks += 1;
            let e = acked.entry(id).or_insert(Ack {
                version: 0,
                state: String::new(),
            });
            if version > e.version {
                *e = Ack { version, state };
            }
        }
        check(&db, &acked, &ctx);
    }
    assert!(
        total_acks > kills as usize,
        "the writer acknowledged too little to test anything ({total_acks} steps)"
    );
    eprintln!("crash test: {kills} kills, {total_acks} acknowledged steps over {} cases, {:?}, seed {seed}", acked.len(), started.elapsed());
}
