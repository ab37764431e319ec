//! The store conformance suite (`unlockdesk_conformance`) on a real PostgreSQL, and the races a
//! branch with many counters runs into. Each test gets its own new database on the cluster
//! named by `UNLOCKDESK_DATABASE_URL` (so tests run in parallel), dropped when the test ends.
//!
//! Run with `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg` (a throwaway cluster).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Instant;

use unlockdesk_conformance::*;
use unlockdesk_core::ports::{AuditDraft, Outcome, Store};
use unlockdesk_core::service::Service;
use unlockdesk_core::{Actor, CaseId, Counter, Decision, ErrorCode, ReasonCode};
use unlockdesk_store::KeySource;
use unlockdesk_store_pg::PgStore;

/// Fresh databases on the test cluster; dropped with the fixture (the end of one test).
struct Pg {
    base: postgres::Config,
    made: Mutex<Vec<String>>,
    /// A key file: the C2 fields are encrypted (`Pg::encrypted`).
    key: Option<(tempfile::TempDir, KeySource)>,
}

impl Pg {
    /// Databases whose C2 fields are encrypted under a fresh key file.
    fn encrypted() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("branch.key");
        unlockdesk_store::keys::new_key_file(&p).unwrap();
        let mut pg = Pg::default();
        pg.key = Some((dir, KeySource::KeyFile(p)));
        pg
    }
    fn source(&self) -> KeySource {
        self.key
            .as_ref()
            .map(|(_, k)| k.clone())
            .unwrap_or(KeySource::None)
    }
}

static NEXT_DB: AtomicU32 = AtomicU32::new(0);

impl Default for Pg {
    fn default() -> Self {
        let url = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap_or_default();
        assert!(
            !url.is_empty(),
            "UNLOCKDESK_DATABASE_URL is not set: run these tests through \
             scripts/with-postgres.sh (it starts a throwaway PostgreSQL and sets it), e.g. \
             `scripts/with-postgres.sh cargo test -p unlockdesk-store-pg`"
        );
        Pg {
            base: url
                .parse()
                .expect("UNLOCKDESK_DATABASE_URL is not a PostgreSQL URL"),
            made: Mutex::new(Vec::new()),
            key: None,
        }
    }
}

impl Pg {
    fn admin(&self) -> postgres::Client {
        self.base
            .connect(postgres::NoTls)
            .expect("connect to the test cluster")
    }
    /// A plain connection to the database `fresh` made last (to tamper with it as an
    /// administrator could).
    fn client(&self) -> postgres::Client {
        let name = self
            .made
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("fresh() first");
        self.config(&name)
            .connect(postgres::NoTls)
            .expect("connect to the test database")
    }
    fn config(&self, db: &str) -> postgres::Config {
        let mut c = self.base.clone();
        c.dbname(db);
        c
    }
}

impl Fixture for Pg {
    type S = PgStore;
    fn fresh(&self) -> PgStore {
        let name = format!(
            "ud_test_{}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        self.admin()
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create a test database");
        self.made.lock().unwrap().push(name.clone());
        let store = PgStore::open_config_with(self.config(&name), self.source()).unwrap();
        assert_eq!(store.is_encrypted(), self.key.is_some());
        store
    }
    fn again(&self) -> PgStore {
        let name = self
            .made
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("fresh() first");
        PgStore::open_config_with(self.config(&name), self.source()).unwrap()
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let made = std::mem::take(&mut *self.made.lock().unwrap_or_else(|p| p.into_inner()));
        if made.is_empty() {
            return;
        }
        if let Ok(mut admin) = self.base.connect(postgres::NoTls) {
            for name in made {
                // The cluster is thrown away at the end anyway; this keeps its disk small.
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

unlockdesk_conformance::conformance_suite!(Pg::default());

/// The same suite with the C2 fields encrypted: encryption must not change a single rule.
mod encrypted {
    use super::*;
    unlockdesk_conformance::conformance_suite!(Pg::encrypted());
}

/// Rounds of the decision race. Issue 13 asks 10,000 attempts, i.e. 5,000 rounds
/// (`UNLOCKDESK_RACE_ROUNDS=5000`, as `make test` runs it: about 30 s of racing after about a
/// minute preparing the cases, on two cores); the default is 200 rounds.
fn race_rounds() -> usize {
    std::env::var("UNLOCKDESK_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Terminals preparing the submitted cases before the race: the steps of different cases
/// overlap their round trips and rendering, though their transactions still take the audit
/// head lock one at a time.
const PREPARING_TERMINALS: usize = 4;

/// `n` submitted cases of `tel01`, made by [`PREPARING_TERMINALS`] terminals at once (each its
/// own store and connections), in the order they were made.
fn submitted_cases(fix: &Pg, tel01: &Actor, n: usize) -> Vec<CaseId> {
    let handles: Vec<_> = (0..PREPARING_TERMINALS)
        .map(|t| {
            let svc = svc_again(fix, clock());
            let tel01 = tel01.clone();
            // Terminal t makes cases t, t + T, t + 2T, ...
            let mine = (t..n).step_by(PREPARING_TERMINALS).count();
            std::thread::spawn(move || {
                (0..mine)
                    .map(|_| to_submitted(&svc, &tel01))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// Two supervisors at two terminals (two stores, two services) decide the same submitted case
/// at once, one approving and one rejecting: every round gives exactly one decision, the other
/// is refused (`conflict` naming the decision, or an illegal transition), and the case's
/// history holds one decision event.
///
/// The submitted cases are made first, in bulk ([`submitted_cases`]), so a round costs only
/// the race itself: two decisions (each a check of the supervisor's password, then its
/// transaction) on two long-lived threads released by one barrier. The two supervisors'
/// password hashes are argon2id at the smallest cost ([`cheap_hashes`]): at the real cost
/// (7 MiB, 5 passes, ~12 ms a check) the checks would take most of the run, and their jitter
/// would spread the two transactions apart; cheap ones make them meet in the database more
/// often, which is what this test is for.
#[test]
fn racing_decisions_on_two_terminals_give_exactly_one() {
    let fix = Pg::default();
    let counter = svc(&fix, clock());
    let (tel01, _, sup01, sup02) = setup(&counter);
    cheap_hashes(&fix, &["sup01", "sup02"]);
    let rounds = race_rounds();
    let started = Instant::now();
    let cases = Arc::new(submitted_cases(&fix, &tel01, rounds));
    let prepared = started.elapsed().as_secs_f64();
    let barrier = Arc::new(Barrier::new(2));
    let raced = Instant::now();
    let handles: Vec<_> = [
        (svc_again(&fix, clock()), sup01, Decision::Approve),
        (svc_again(&fix, clock()), sup02, Decision::Reject),
    ]
    .into_iter()
    .map(|(svc, creds, d)| {
        let (barrier, cases, tel01) = (barrier.clone(), cases.clone(), tel01.clone());
        std::thread::spawn(move || {
            let reason = (d == Decision::Reject).then_some(ReasonCode::Other);
            cases
                .iter()
                .map(|&c| {
                    // Both supervisors start each round together.
                    barrier.wait();
                    svc.authorize(&tel01, c, &creds, d, reason, "race", None)
                        .map(|v| v.case.state)
                })
                .collect::<Vec<_>>()
        })
    })
    .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let race_secs = raced.elapsed().as_secs_f64();
    // The decisions on the record, per case, from one read of the whole trail.
    let mut decided = std::collections::HashMap::<CaseId, usize>::new();
    for e in fix.again().read(|tx| tx.audit_events(1, u32::MAX)).unwrap() {
        if let (Some(c), "approve" | "reject") = (e.case_id, e.action.as_str()) {
            *decided.entry(c).or_default() += 1;
        }
    }
    let mut doubles = 0;
    let mut wins = [0usize; 2];
    for (round, &c) in cases.iter().enumerate() {
        let pair = [&results[0][round], &results[1][round]];
        if pair.iter().filter(|r| r.is_ok()).count() != 1 {
            doubles += 1;
        }
        for (i, r) in pair.iter().enumerate() {
            match r {
                Ok(_) => wins[i] += 1,
                Err(e) => assert!(
                    matches!(e.code, ErrorCode::Conflict | ErrorCode::IllegalTransition),
                    "round {round}: {e:?}"
                ),
            }
        }
        assert_eq!(decided.get(&c), Some(&1), "round {round}: {pair:?}");
    }
    eprintln!(
        "decision race: {rounds} rounds ({} attempts) in {race_secs:.1} s ({:.1} ms a round) \
         after {prepared:.1} s preparing the submitted cases, {doubles} double decisions; \
         approve won {}, reject won {}",
        rounds * 2,
        race_secs * 1000.0 / rounds.max(1) as f64,
        wins[0],
        wins[1]
    );
    assert_eq!(doubles, 0);
    let v = counter.verify_audit(&reader(&counter)).unwrap();
    assert!(v.ok, "{v:?}");
}

/// Give `staff` an argon2id hash of [`PW`] at the smallest parameters (8 KiB, one pass), set
/// directly in the database as an administrator could: verification takes the parameters from
/// the hash, so their checks cost microseconds and the rest of the path is unchanged.
fn cheap_hashes(fix: &Pg, staff: &[&str]) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};
    let params = Params::new(8, 1, 1, None).unwrap();
    let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(PW.as_bytes(), &SaltString::encode_b64(&[5; 16]).unwrap())
        .unwrap()
        .to_string();
    let ids: Vec<String> = staff.iter().map(|s| s.to_string()).collect();
    let n = fix
        .client()
        .execute(
            "UPDATE staff SET password_hash = $1 WHERE id = ANY($2)",
            &[&phc, &ids],
        )
        .unwrap();
    assert_eq!(n as usize, staff.len());
}

/// Eight writers, each on its own store (its own connections), append 250 events each at
/// once: the chain has all 2,000, in order, unbroken.
#[test]
fn eight_concurrent_writers_leave_an_intact_chain() {
    const WRITERS: usize = 8;
    const EACH: usize = 250;
    let fix = Pg::default();
    let first = fix.fresh();
    let barrier = Arc::new(Barrier::new(WRITERS));
    let started = Instant::now();
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = fix.again();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..EACH {
                    let d = AuditDraft {
                        at: chrono::Utc::now(),
                        staff_id: format!("writer{w}"),
                        role: None,
                        terminal: format!("t{w}"),
                        case_id: None,
                        action: "test-append".into(),
                        from_state: None,
                        to_state: None,
                        reason: format!("append {i}"),
                        outcome: Outcome::Ok,
                        detail: "{}".into(),
                    };
                    store.transact(|tx| tx.append_audit(&d)).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let v = first.verify_audit().unwrap();
    eprintln!(
        "audit chain: {} appends by {WRITERS} writers in {secs:.2} s ({:.0} appends/s), ok = {}",
        WRITERS * EACH,
        (WRITERS * EACH) as f64 / secs,
        v.ok
    );
    assert!(v.ok, "{v:?}");
    assert_eq!(v.events, (WRITERS * EACH) as i64);
    let all = first.read(|tx| tx.audit_events(1, 10_000)).unwrap();
    for w in 0..WRITERS {
        let mine: Vec<_> = all
            .iter()
            .filter(|e| e.staff_id == format!("writer{w}"))
            .map(|e| e.reason.clone())
            .collect();
        let want: Vec<_> = (0..EACH).map(|i| format!("append {i}")).collect();
        assert_eq!(mine, want, "writer {w}'s events, in its own order");
    }
}

/// The version fence: a database migrated by a newer UnlockDesk is refused with one clear
/// sentence, and left exactly as it was.
#[test]
fn a_newer_schema_is_refused_and_left_unchanged() {
    let fix = Pg::default();
    drop(fix.fresh());
    let mut db = fix.client();
    let newer = unlockdesk_store_pg::SCHEMA_VERSION as i32 + 1;
    db.execute("UPDATE unlockdesk_schema SET version = $1", &[&newer])
        .unwrap();
    let e = PgStore::open_config(fix.config(&fix.made.lock().unwrap()[0]))
        .err()
        .expect("a newer schema must be refused");
    assert_eq!(e.code, ErrorCode::Storage);
    assert!(
        e.message.contains("newer than this UnlockDesk"),
        "{}",
        e.message
    );
    let v: i32 = db
        .query_one("SELECT version FROM unlockdesk_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, newer);
}

/// The trail is append-only in the database itself: an UPDATE, DELETE or TRUNCATE of
/// `audit_events` (or removing the chain head) is refused by its triggers, whoever runs it.
#[test]
fn audit_events_refuse_update_delete_and_truncate() {
    let fix = Pg::default();
    let counter = svc(&fix, clock());
    setup(&counter);
    let mut db = fix.client();
    for sql in [
        "UPDATE audit_events SET reason = 'edited'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DELETE FROM audit_head",
    ] {
        let e = db.batch_execute(sql).unwrap_err();
        let message = e.as_db_error().map(|d| d.message().to_string());
        assert!(
            message.as_deref().unwrap_or("").contains("append-only"),
            "{sql}: {message:?}"
        );
    }
    assert!(counter.verify_audit(&reader(&counter)).unwrap().ok);
}

/// Migration 4 (the past-case browser) on a database of version 3: each case gets its wallet
/// operator (the form's; before the form the booking's; none for a walk-in without a form) and
/// the day index its sort key, and lists read every case as before.
#[test]
fn migration_4_gives_every_case_its_wallet_operator() {
    let fix = Pg::default();
    let counter = svc(&fix, clock());
    let (tel01, tel02, _, _) = setup(&counter);
    let booked_line = format!(
        "P-1,王测试,13900001111,prc-id,{},运营机构B,self-locked,2026-11-29T09:00,2026-11-29T09:30,",
        id("11010519800101123")
    );
    counter
        .import_appointments(&import_actor(&counter), &rows(&[booked_line]), "book.csv")
        .unwrap();
    let appt = counter.appointments_today(&tel01).unwrap()[0].id;
    let open = unlockdesk_core::dto::OpenCaseInput {
        appointment_id: Some(appt),
        ..Default::default()
    };
    let booked = counter.open_case(&tel01, &open, None).unwrap().case.id;
    let with_form = to_submitted(&counter, &tel02);
    let walk_in = walk_in(&counter, &tel01);
    let ids =
        |l: &[unlockdesk_core::ports::CaseSummary]| l.iter().map(|c| c.id).collect::<Vec<_>>();
    let before = ids(&counter
        .list_cases(&tel01, &Default::default())
        .unwrap()
        .cases);
    drop(counter);
    // Back to version 3 as it was: the tables of 7 and 5, the column and the indexes of 4 gone,
    // 0001's day index back.
    fix.client()
        .batch_execute(
            "DROP TABLE outbox;
             DROP TABLE key_record; ALTER TABLE appointments DROP COLUMN sealed;
             DROP TABLE legal_holds, purge_batches; DROP FUNCTION unlockdesk_final_row();
             DROP INDEX cases_closed, audit_events_staff, audit_events_action, audit_events_at;
             DROP TABLE server_sessions, terminals, enrolment_codes;
             DROP INDEX cases_operator; DROP INDEX cases_day_time;
             ALTER TABLE cases DROP COLUMN wallet_operator;
             CREATE INDEX cases_day ON cases (opened_day);
             UPDATE unlockdesk_schema SET version = 3;",
        )
        .unwrap();

    let counter = svc_again(&fix, clock());
    let after = counter
        .list_cases(&tel01, &Default::default())
        .unwrap()
        .cases;
    let op = |id: CaseId| {
        after
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.wallet_operator.as_str())
    };
    assert_eq!(op(booked), Some("运营机构B"), "the booking's");
    assert_eq!(op(with_form), Some("运营机构A"), "the form's");
    assert_eq!(op(walk_in), Some(""), "a walk-in without a form");
    assert_eq!(ids(&after), before);
    assert_eq!(
        counter.case_filters(&tel01).unwrap().operators,
        vec!["运营机构A", "运营机构B"]
    );
    let indexes: Vec<String> = fix
        .client()
        .query(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'cases'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(indexes.iter().any(|i| i == "cases_day_time"), "{indexes:?}");
    assert!(!indexes.iter().any(|i| i == "cases_day"), "{indexes:?}");
}

/// Migration 5 (the branch server's sessions, terminals and enrolment codes) on a database of
/// version 4: the tables appear, and the application role the store's connections act as may
/// write them at once (the runner's grants cover a table added by an upgrade, not only a new
/// database), while the cases and the audit trail are untouched.
#[test]
fn migration_5_adds_the_branch_server_tables_with_the_role_s_rights() {
    let fix = Pg::default();
    let counter = svc(&fix, clock());
    let (tel01, _, _, _) = setup(&counter);
    let c = to_submitted(&counter, &tel01);
    drop(counter);
    fix.client()
        .batch_execute(
            "DROP TABLE outbox;
             DROP TABLE key_record; ALTER TABLE appointments DROP COLUMN sealed;
             DROP TABLE legal_holds, purge_batches; DROP FUNCTION unlockdesk_final_row();
             DROP INDEX cases_closed, audit_events_staff, audit_events_action, audit_events_at;
             DROP TABLE server_sessions, terminals, enrolment_codes;
             UPDATE unlockdesk_schema SET version = 4;",
        )
        .unwrap();

    let counter = svc_again(&fix, clock());
    let v: i32 = fix
        .client()
        .query_one("SELECT version FROM unlockdesk_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(i64::from(v), unlockdesk_store_pg::SCHEMA_VERSION);
    let admin = counter.authenticate("admin", PW, "test").unwrap();
    let (code, _) = counter.issue_enrolment_code(&admin).unwrap();
    let t = counter.enrol_terminal(&code, "counter 2").unwrap().terminal;
    let s = counter.server_sign_in("tel01", PW, &t.id).unwrap();
    counter.server_actor(&s.token, &t.id).unwrap();
    counter.revoke_terminal(&admin, &t.id).unwrap();
    let state = counter.case_view(&tel01, c).unwrap().case.state;
    assert_eq!(state, unlockdesk_core::CaseState::Submitted);
    assert!(fix.again().verify_audit().unwrap().ok);
}

/// Migration 7 (retention) on a database of version 6: the tables appear with the
/// application role's rights (no DELETE on the register or the holds), a hold can be set at
/// once, and the trail still verifies.
#[test]
fn migration_7_adds_the_retention_tables_with_the_role_s_rights() {
    let fix = Pg::default();
    let counter = svc(&fix, clock());
    let (tel01, _, _, _) = setup(&counter);
    let c = to_submitted(&counter, &tel01);
    drop(counter);
    fix.client()
        .batch_execute(
            "DROP TABLE outbox;
             DROP TABLE key_record; ALTER TABLE appointments DROP COLUMN sealed;
             DROP TABLE legal_holds, purge_batches; DROP FUNCTION unlockdesk_final_row();
             DROP INDEX cases_closed, audit_events_staff, audit_events_action, audit_events_at;
             UPDATE unlockdesk_schema SET version = 6;",
        )
        .unwrap();

    let counter = svc_again(&fix, clock());
    let v: i32 = fix
        .client()
        .query_one("SELECT version FROM unlockdesk_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(i64::from(v), unlockdesk_store_pg::SCHEMA_VERSION);
    let admin = counter.authenticate("admin", PW, "test").unwrap();
    counter
        .set_legal_hold(&admin, c, "dispute not settled")
        .unwrap();
    let mut app = fix.client();
    app.batch_execute("SET ROLE unlockdesk_app").unwrap();
    for t in ["legal_holds", "purge_batches"] {
        assert!(
            app.execute(&format!("DELETE FROM {t}"), &[]).is_err(),
            "the application role may not delete from {t}"
        );
    }
    assert!(fix.again().verify_audit().unwrap().ok);
}

/// The C2 values of the suite's walk-in and booking file, as stored (normalised).
fn c2_values() -> Vec<String> {
    vec![
        ID.to_string(),
        "13123456789".into(),
        "6200000000000005".into(),
        "0099123456789012".into(),
        id("11010519800101123"),
        id("31010419750505456"),
        "13912345671".into(),
        "13987654322".into(),
    ]
}

/// A submitted case (identity, form with card and wallet, a printed form) and the booking
/// file, in the database `fix` made last.
fn seed_c2(fix: &Pg) -> (Service<PgStore>, Actor, CaseId) {
    let counter = svc(fix, clock());
    let (tel01, _, _, _) = setup(&counter);
    let c = to_submitted(&counter, &tel01);
    counter
        .import_appointments(&import_actor(&counter), &rows(&book()), "book.csv")
        .unwrap();
    (counter, tel01, c)
}

/// `pg_dump` of the database `fix` made last (data and schema, plain SQL).
fn pg_dump(fix: &Pg) -> Vec<u8> {
    let name = fix.made.lock().unwrap().last().cloned().unwrap();
    let url = std::env::var("UNLOCKDESK_DATABASE_URL").unwrap();
    let mut cfg: postgres::Config = url.parse().unwrap();
    cfg.dbname(&name);
    let mut cmd = std::process::Command::new("pg_dump");
    cmd.arg("--no-owner").arg("-d").arg(&name);
    if let Some(postgres::config::Host::Tcp(h)) = cfg.get_hosts().first() {
        cmd.arg("-h").arg(h);
    }
    #[cfg(unix)]
    if let Some(postgres::config::Host::Unix(h)) = cfg.get_hosts().first() {
        cmd.arg("-h").arg(h);
    }
    if let Some(p) = cfg.get_ports().first() {
        cmd.arg("-p").arg(p.to_string());
    }
    if let Some(u) = cfg.get_user() {
        cmd.arg("-U").arg(u);
    }
    if let Some(pw) = cfg.get_password() {
        cmd.env("PGPASSWORD", String::from_utf8_lossy(pw).into_owned());
    }
    let out = cmd.output().expect("pg_dump runs");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // pg_dump ≥ 15.14 brackets the script with a random `\restrict` key: not data.
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

fn in_clear(dump: &[u8]) -> Vec<String> {
    c2_values()
        .into_iter()
        .filter(|v| dump.windows(v.len()).any(|w| w == v.as_bytes()))
        .collect()
}

#[test]
fn a_pg_dump_of_an_encrypted_branch_shows_no_full_c2_value() {
    let fix = Pg::encrypted();
    let (counter, tel01, c) = seed_c2(&fix);
    // Read back as typed, and found by full phone and full ID number (keyed hashes).
    let stored = fix.again().read(|tx| tx.case(c)).unwrap().unwrap();
    assert_eq!(stored.phone, "13123456789");
    assert_eq!(stored.form.as_ref().unwrap().bank_card, "6200000000000005");
    let doc = fix.again().read(|tx| {
        let d = tx.documents(c)?;
        tx.document_bytes(&d[0])
    });
    assert!(!doc.unwrap().is_empty());
    for key in ["13987654322", id("31010419750505456").as_str(), "4322"] {
        let found = counter.find_appointments(&tel01, key).unwrap();
        assert!(
            found.iter().any(|a| a.reference == "R-2"),
            "{key}: {found:?}"
        );
    }
    let dump = pg_dump(&fix);
    assert!(
        dump.windows(5).any(|w| w == b"enc1:"),
        "the dump holds sealed values"
    );
    assert_eq!(
        in_clear(&dump),
        Vec::<String>::new(),
        "full C2 values in the dump"
    );
    // The unencrypted twin shows them: the search would find them.
    let plain = Pg::default();
    drop(seed_c2(&plain));
    assert!(!in_clear(&pg_dump(&plain)).is_empty());
}

#[test]
fn a_wrong_or_missing_branch_key_is_refused_and_changes_nothing() {
    let fix = Pg::encrypted();
    drop(seed_c2(&fix));
    let name = fix.made.lock().unwrap().last().cloned().unwrap();
    let before = pg_dump(&fix);
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.key");
    unlockdesk_store::keys::new_key_file(&other).unwrap();
    let e = PgStore::open_config_with(fix.config(&name), KeySource::KeyFile(other))
        .err()
        .expect("refused");
    assert!(e.message.contains("does not open"), "{e}");
    let e = PgStore::open_config_with(fix.config(&name), KeySource::None)
        .err()
        .expect("refused");
    assert!(e.message.contains("UNLOCKDESK_KEY_FILE"), "{e}");
    assert_eq!(before, pg_dump(&fix));
}

#[test]
fn a_plaintext_branch_database_is_encrypted_at_its_first_open_with_a_key() {
    let fix = Pg::encrypted();
    // Made without the key: plaintext rows.
    let name = {
        let mut plain = Pg::default();
        plain.base = fix.base.clone();
        let (counter, tel01, c) = seed_c2(&plain);
        let v = counter.case_view(&tel01, c).unwrap();
        drop(counter);
        let name = plain.made.lock().unwrap().pop().unwrap();
        (name, c, v)
    };
    let (name, c, before) = name;
    fix.made.lock().unwrap().push(name.clone());
    assert!(!in_clear(&pg_dump(&fix)).is_empty());
    let store = PgStore::open_config_with(fix.config(&name), fix.source()).unwrap();
    assert!(store.is_encrypted());
    let counter = Service::new(store, clock(), Arc::new(unlockdesk_core::ports::OsEntropy))
        .with_renderer(Arc::new(TextRenderer));
    let tel01 = counter.authenticate("tel01", PW, "t").unwrap();
    let after = counter.case_view(&tel01, c).unwrap();
    assert_eq!(after.case, before.case);
    assert!(
        counter
            .find_appointments(&tel01, "13987654322")
            .unwrap()
            .len()
            == 1
    );
    assert_eq!(in_clear(&pg_dump(&fix)), Vec::<String>::new());
    assert!(fix.again().verify_audit().unwrap().ok);
}

#[test]
fn a_server_without_the_key_stops_writing_once_another_encrypts_the_branch() {
    let fix = Pg::encrypted();
    // First opened without a key (plaintext), as a server started without its key file.
    let (name, case) = {
        let mut plain = Pg::default();
        plain.base = fix.base.clone();
        let (_, _, case) = seed_c2(&plain);
        let name = plain.made.lock().unwrap().pop().unwrap();
        (name, case)
    };
    fix.made.lock().unwrap().push(name.clone());
    let keyless = Service::new(
        PgStore::open_config_with(fix.config(&name), KeySource::None).unwrap(),
        clock(),
        Arc::new(unlockdesk_core::ports::OsEntropy),
    )
    .with_renderer(Arc::new(TextRenderer));
    let tel = keyless.authenticate("tel01", PW, "t").unwrap();
    // Another server opens with the key: the rows are encrypted.
    drop(PgStore::open_config_with(fix.config(&name), fix.source()).unwrap());
    let e = keyless
        .import_appointments(&import_actor(&keyless), &rows(&book()), "again.csv")
        .expect_err("refused");
    assert!(e.message.contains("UNLOCKDESK_KEY_FILE"), "{e}");
    // A case step, whose lock is taken at its first write, is refused there too.
    let e = keyless
        .cancel_case(&tel, case, "the customer left", None)
        .expect_err("refused");
    assert!(e.message.contains("UNLOCKDESK_KEY_FILE"), "{e}");
    drop(tel);
    assert_eq!(in_clear(&pg_dump(&fix)), Vec::<String>::new());
}
