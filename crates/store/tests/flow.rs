//! SQLite-only tests of the embedded store: the schema version fence, migrations, the audit
//! trail's triggers and tamper detection on the file, and backup. Everything the ports promise
//! is in the conformance suite (`tests/conformance.rs`).

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use unlockdesk_conformance::{clock, setup, to_submitted};
use unlockdesk_core::ports::{OsEntropy, Store};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

fn svc_at(path: &Path, clock: Arc<unlockdesk_core::ports::FixedClock>) -> Service<SqliteStore> {
    Service::new(SqliteStore::open(path).unwrap(), clock, Arc::new(OsEntropy))
        .with_renderer(Arc::new(unlockdesk_conformance::TextRenderer))
}

#[test]
fn newer_database_refuses_older_binary() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    drop(SqliteStore::open(&db).unwrap());
    Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let e = SqliteStore::open(&db).err().unwrap();
    assert_eq!(e.code, ErrorCode::Storage);
    assert!(e.message.contains("newer"), "{}", e.message);
}

#[test]
fn migrate_from_empty_and_reopen_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let s = SqliteStore::open(&db).unwrap();
    s.check_integrity().unwrap();
    drop(s);
    let s = SqliteStore::open(&db).unwrap();
    let v: i64 = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, unlockdesk_store::SCHEMA_VERSION);
    let mode: String = Connection::open(&db)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(s.verify_audit().unwrap().ok);
}

/// Populate a store, return its path.
fn populated(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("u.db");
    let svc = svc_at(&db, clock());
    let (tel01, _, sup01, _) = setup(&svc);
    let c = to_submitted(&svc, &tel01);
    svc.authorize(&tel01, c, &sup01, Decision::Approve, None, "", None)
        .unwrap();
    db
}

fn verify(db: &Path) -> unlockdesk_core::ports::AuditVerification {
    SqliteStore::open(db).unwrap().verify_audit().unwrap()
}

#[test]
fn audit_trail_refuses_update_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    assert!(conn
        .execute("UPDATE audit_events SET reason = 'x' WHERE seq = 3", [])
        .is_err());
    assert!(conn
        .execute("DELETE FROM audit_events WHERE seq = 3", [])
        .is_err());
    assert!(verify(&db).ok);
}

fn drop_triggers(conn: &Connection) {
    conn.execute_batch("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;")
        .unwrap();
}

#[test]
fn tamper_edit_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    drop_triggers(&conn);
    conn.execute(
        "UPDATE audit_events SET staff_id = 'sup02' WHERE action = 'approve'",
        [],
    )
    .unwrap();
    let v = verify(&db);
    assert!(!v.ok);
    let seq: i64 = conn
        .query_row(
            "SELECT seq FROM audit_events WHERE action = 'approve'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v.broken_at, Some(seq));
}

#[test]
fn tamper_delete_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    drop_triggers(&conn);
    conn.execute("DELETE FROM audit_events WHERE seq = 5", [])
        .unwrap();
    let v = verify(&db);
    assert!(!v.ok);
    assert_eq!(v.broken_at, Some(6));
    // Truncating the tail is caught by the head.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = populated(dir2.path());
    let conn2 = Connection::open(&db2).unwrap();
    drop_triggers(&conn2);
    conn2
        .execute(
            "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)",
            [],
        )
        .unwrap();
    assert!(!verify(&db2).ok);
}

#[test]
fn tamper_swap_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let conn = Connection::open(&db).unwrap();
    drop_triggers(&conn);
    // Swap the contents of rows 4 and 5 (keeping their seq).
    conn.execute_batch(
        "CREATE TEMP TABLE t AS SELECT * FROM audit_events WHERE seq IN (4, 5);
         UPDATE audit_events SET (at, staff_id, role, terminal, case_id, action, from_state, to_state, reason, outcome, detail, prev_hash, hash)
           = (SELECT at, staff_id, role, terminal, case_id, action, from_state, to_state, reason, outcome, detail, prev_hash, hash FROM t WHERE t.seq = 9 - audit_events.seq)
           WHERE seq IN (4, 5);",
    )
    .unwrap();
    let v = verify(&db);
    assert!(!v.ok);
    assert_eq!(v.broken_at, Some(4));
}

#[test]
fn backup_round_trips_content() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let store = SqliteStore::open(&db).unwrap();
    let bak = dir.path().join("backup.db");
    store.backup_to(&bak).unwrap();
    let dump = |p: &Path| -> Vec<String> {
        let c = Connection::open(p).unwrap();
        let mut out = Vec::new();
        for t in [
            "branch",
            "staff",
            "cases",
            "audit_events",
            "audit_head",
            "appointments",
            "documents",
            "case_seq",
            "idempotency",
        ] {
            let mut st = c.prepare(&format!("SELECT * FROM {t} ORDER BY 1")).unwrap();
            let n = st.column_count();
            let rows = st
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap();
            out.extend(rows.map(|r| format!("{t}:{}", r.unwrap())));
        }
        out
    };
    let before = dump(&db);
    assert!(before.len() > 10);
    assert_eq!(before, dump(&bak));
    // Restore into a fresh store gives the same content.
    let other = dir.path().join("other.db");
    let s2 = SqliteStore::open(&other).unwrap();
    s2.restore_from(&bak).unwrap();
    drop(s2);
    assert_eq!(before, dump(&other));
    let _ = store.verify_audit().unwrap();
}

/// The schema of the file at `db`: every table, index and trigger as SQLite keeps it.
fn schema(db: &Path) -> Vec<(String, String)> {
    let c = Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Migration 6 (the past-case browser) on a file of version 5: each case gets its wallet
/// operator (the form's; before the form the booking's; none for a walk-in without a form) and
/// the day index its sort key, and lists read every case as before.
#[test]
fn migration_6_gives_every_case_its_wallet_operator() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let svc = svc_at(&db, clock());
    let (tel01, tel02, _, _) = setup(&svc);
    let booked_line = format!(
        "P-1,王测试,13900001111,prc-id,{},运营机构B,self-locked,2026-11-29T09:00,2026-11-29T09:30,",
        unlockdesk_conformance::id("11010519800101123")
    );
    svc.import_appointments(
        &unlockdesk_conformance::import_actor(&svc),
        &unlockdesk_conformance::rows(&[booked_line]),
        "book.csv",
    )
    .unwrap();
    let appt = svc.appointments_today(&tel01).unwrap()[0].id;
    let booked = svc
        .open_case(
            &tel01,
            &dto::OpenCaseInput {
                appointment_id: Some(appt),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case
        .id;
    let with_form = to_submitted(&svc, &tel02);
    let walk_in = unlockdesk_conformance::walk_in(&svc, &tel01);
    let before = svc.list_cases(&tel01, &Default::default()).unwrap().cases;
    drop(svc);
    // Back to version 5 as it was: the tables of 8 and 7, the column and the indexes of 6 gone,
    // 5's day index back.
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "DROP TABLE outbox;
         DROP TABLE legal_holds; DROP TABLE purge_batches; DROP INDEX cases_closed;
         DROP INDEX audit_events_staff; DROP INDEX audit_events_action; DROP INDEX audit_events_at;
         DROP TABLE server_sessions; DROP TABLE terminals; DROP TABLE enrolment_codes;
         DROP INDEX cases_operator; DROP INDEX cases_day_time;
         ALTER TABLE cases DROP COLUMN wallet_operator;
         CREATE INDEX cases_day ON cases (opened_day);
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(c);
    let v5 = dir.path().join("v5.db");
    let fresh = Connection::open(&v5).unwrap();
    for sql in &unlockdesk_store::migrate::MIGRATIONS[..5] {
        fresh.execute_batch(sql).unwrap();
    }
    drop(fresh);
    assert_eq!(schema(&db), schema(&v5), "the file is a version-5 file");

    let svc = svc_at(&db, clock());
    let after = svc.list_cases(&tel01, &Default::default()).unwrap().cases;
    let op = |id: CaseId| {
        after
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.wallet_operator.clone())
    };
    assert_eq!(op(booked).as_deref(), Some("运营机构B"), "the booking's");
    assert_eq!(op(with_form).as_deref(), Some("运营机构A"), "the form's");
    assert_eq!(op(walk_in).as_deref(), Some(""), "a walk-in without a form");
    let ids =
        |l: &[unlockdesk_core::ports::CaseSummary]| l.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(ids(&after), ids(&before));
    assert_eq!(
        svc.case_filters(&tel01).unwrap().operators,
        vec!["运营机构A", "运营机构B"]
    );
    let names: Vec<String> = schema(&db).into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"cases_day_time".to_string()), "{names:?}");
    assert!(!names.contains(&"cases_day".to_string()), "{names:?}");
}

/// Migration 7 (the branch server's sessions, terminals and enrolment codes) on a file of
/// version 6: the three tables and the session indexes appear, the cases and the audit trail
/// are untouched, and sessions can be written at once.
#[test]
fn migration_7_adds_the_branch_server_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "DROP TABLE outbox;
         DROP TABLE legal_holds; DROP TABLE purge_batches; DROP INDEX cases_closed;
         DROP INDEX audit_events_staff; DROP INDEX audit_events_action; DROP INDEX audit_events_at;
         DROP TABLE server_sessions; DROP TABLE terminals; DROP TABLE enrolment_codes;
         PRAGMA user_version = 6;",
    )
    .unwrap();
    drop(c);
    let v6 = dir.path().join("v6.db");
    let fresh = Connection::open(&v6).unwrap();
    for sql in &unlockdesk_store::migrate::MIGRATIONS[..6] {
        fresh.execute_batch(sql).unwrap();
    }
    drop(fresh);
    assert_eq!(schema(&db), schema(&v6), "the file is a version-6 file");

    let svc = svc_at(&db, clock());
    let names: Vec<String> = schema(&db).into_iter().map(|(n, _)| n).collect();
    for t in [
        "server_sessions",
        "server_sessions_terminal",
        "server_sessions_staff",
        "terminals",
        "enrolment_codes",
    ] {
        assert!(names.contains(&t.to_string()), "{t}: {names:?}");
    }
    let cases: i64 = Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cases, 1);
    assert!(verify(&db).ok, "the trail still verifies");
    let s = svc
        .server_sign_in("tel01", unlockdesk_conformance::PW, "local:c1")
        .unwrap();
    svc.server_actor(&s.token, "local:c1").unwrap();
}

/// Migration 8 (retention: legal holds, the destruction register, the purge and console
/// indexes) on a file of version 7: the tables appear, the cases and the audit trail are
/// untouched, and a hold can be set at once.
#[test]
fn migration_8_adds_the_retention_tables() {
    let dir = tempfile::tempdir().unwrap();
    let db = populated(dir.path());
    let c = Connection::open(&db).unwrap();
    c.execute_batch(
        "DROP TABLE outbox;
         DROP TABLE legal_holds; DROP TABLE purge_batches; DROP INDEX cases_closed;
         DROP INDEX audit_events_staff; DROP INDEX audit_events_action; DROP INDEX audit_events_at;
         PRAGMA user_version = 7;",
    )
    .unwrap();
    drop(c);
    let v7 = dir.path().join("v7.db");
    let fresh = Connection::open(&v7).unwrap();
    for sql in &unlockdesk_store::migrate::MIGRATIONS[..7] {
        fresh.execute_batch(sql).unwrap();
    }
    drop(fresh);
    assert_eq!(schema(&db), schema(&v7), "the file is a version-7 file");

    let svc = svc_at(&db, clock());
    let names: Vec<String> = schema(&db).into_iter().map(|(n, _)| n).collect();
    for t in [
        "legal_holds",
        "purge_batches",
        "cases_closed",
        "audit_events_staff",
        "purge_batches_final",
    ] {
        assert!(names.contains(&t.to_string()), "{t}: {names:?}");
    }
    assert!(verify(&db).ok, "the trail still verifies");
    let admin = svc
        .authenticate("admin", unlockdesk_conformance::PW, "t")
        .unwrap();
    let tel01 = svc
        .authenticate("tel01", unlockdesk_conformance::PW, "t")
        .unwrap();
    let case = svc.list_cases(&tel01, &Default::default()).unwrap().cases[0].id;
    svc.set_legal_hold(&admin, case, "dispute not settled")
        .unwrap();
}
