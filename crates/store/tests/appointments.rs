//! The appointment book on a real SQLite file (issue 7): import idempotency and auditing,
//! checked-in appointments keep their case link, end-of-day no-shows, permissions, the
//! name-prefix table kept in step by triggers, and the lookup statements' query plans.
//! Every person is synthetic; ID numbers carry valid check characters.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use rusqlite::Connection;
use unlockdesk_core::identity::mod11_2_check_char;
use unlockdesk_core::ports::{FixedClock, OsEntropy};
use unlockdesk_core::service::*;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;

const PW: &str = "Counter#2026";
const HEADER: &str =
    "reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes";

fn id(body17: &str) -> String {
    format!("{body17}{}", mod11_2_check_char(body17).unwrap())
}

/// 2026-11-29 10:00 in Shanghai.
fn service(path: &Path) -> Service<SqliteStore> {
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap(),
    ));
    let svc = Service::new(SqliteStore::open(path).unwrap(), clock, Arc::new(OsEntropy));
    svc.setup(
        &SetupInput {
            branch_code: "t1".into(),
            branch_name: "测试支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "test",
    )
    .unwrap();
    let admin = svc.actor_for("admin", PW, "test").unwrap();
    for (sid, role) in [("tel01", Role::Teller), ("aud01", Role::Auditor)] {
        svc.add_staff(
            &admin,
            &NewStaff {
                id: sid.into(),
                name: sid.into(),
                role,
                password: "Initial#2026".into(),
            },
        )
        .unwrap();
        svc.change_password(sid, "Initial#2026", PW, "test")
            .unwrap();
    }
    svc
}

fn import_actor() -> Actor {
    Actor {
        staff_id: StaffId::system("import"),
        role: None,
        terminal: "test".into(),
    }
}

fn rows(lines: &[String]) -> Vec<u8> {
    format!("{HEADER}\n{}\n", lines.join("\n")).into_bytes()
}

fn book() -> Vec<String> {
    let a = id("11010519800101123");
    let b = id("31010419750505456");
    vec![
        format!(
            "R-1,张伟,13912345671,prc-id,{a},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"
        ),
        format!(
            "R-2,张伟华,13987654322,prc-id,{b},B,self-locked,2026-11-28T10:00,2026-11-28T10:30,"
        ),
        "R-3,李娜,13700001113,prc-id,002X,B,abnormal-activity,2026-11-28T14:00,2026-11-28T14:30,"
            .to_string(),
    ]
}

fn audit(path: &Path) -> Vec<(String, String, String, Option<String>)> {
    let c = Connection::open(path).unwrap();
    let mut st = c
        .prepare("SELECT action, reason, detail, case_id FROM audit_events ORDER BY seq")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn import_is_idempotent_audited_and_keeps_checked_in_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    let svc = service(&path);
    let tel01 = svc.actor_for("tel01", PW, "t").unwrap();

    let r = svc
        .import_appointments(
            &import_actor(),
            &rows(&book()),
            "/exports/book-13912345671.csv",
        )
        .unwrap();
    assert_eq!(
        r,
        ImportReport {
            imported: 3,
            updated: 0,
            unchanged: 0,
            rejected: vec![]
        }
    );
    let r = svc
        .import_appointments(&import_actor(), &rows(&book()), "book.csv")
        .unwrap();
    assert_eq!(
        r,
        ImportReport {
            imported: 0,
            updated: 0,
            unchanged: 3,
            rejected: vec![]
        }
    );

    // Check in R-1: it gets a case; a changed row must keep the link and the status.
    let found = svc.find_appointments("R-1").unwrap();
    let case = svc
        .open_case(
            &tel01,
            &OpenCaseInput {
                appointment_id: Some(found[0].id),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    let before = svc.find_appointments("R-1").unwrap()[0].status;
    assert_ne!(before, AppointmentStatus::Waiting);
    let mut changed = book();
    changed[0] = changed[0]
        .replace("13912345671", "13912345679")
        .replace("09:30", "09:45");
    changed[2] = changed[2].replace("李娜", "李娜娜");
    let r = svc
        .import_appointments(&tel01, &rows(&changed), "book.csv")
        .unwrap();
    assert_eq!(
        r,
        ImportReport {
            imported: 0,
            updated: 2,
            unchanged: 1,
            rejected: vec![]
        }
    );
    let a = &svc.find_appointments("R-1").unwrap()[0];
    assert_eq!(a.status, before);
    assert_eq!(a.case_id, Some(case.case.id));
    assert_eq!(a.phone, "139****5679");

    let events = audit(&path);
    let imports: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "appointment-import")
        .collect();
    assert_eq!(imports.len(), 3, "one summary event per file");
    assert!(imports[0].2.contains("\"imported\":3"), "{}", imports[0].2);
    let updates: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "appointment-update")
        .collect();
    assert_eq!(updates.len(), 2, "one event per updated row");
    assert!(
        updates[0]
            .2
            .contains("\"changed\":[\"phone\",\"slot_end\"]"),
        "{}",
        updates[0].2
    );
    assert_eq!(
        updates[0].3.as_deref(),
        Some(case.case.id.to_string().as_str()),
        "the update shows in the case history"
    );
    for e in &events {
        for secret in ["13912345671", "13912345679", "110105198001011"] {
            assert!(
                !e.1.contains(secret) && !e.2.contains(secret),
                "C2 value in audit: {e:?}"
            );
        }
    }
    assert!(svc.verify_audit().unwrap().ok);

    // The name-prefix table follows the rename (trigger): the new name is found, and 李娜's
    // old exact name still finds 李娜娜 as a prefix.
    assert_eq!(svc.find_appointments("李娜娜").unwrap()[0].reference, "R-3");
    assert_eq!(svc.find_appointments("李").unwrap().len(), 1);
    // Prefix 张伟: both, today's first.
    let refs: Vec<_> = svc
        .find_appointments("张伟")
        .unwrap()
        .into_iter()
        .map(|a| a.reference)
        .collect();
    assert_eq!(refs, vec!["R-1", "R-2"]);
    // A 15-digit legacy number finds the stored 18-digit form.
    let b = id("31010419750505456");
    let legacy = format!("{}{}", &b[..6], &b[8..17]);
    assert_eq!(svc.find_appointments(&legacy).unwrap()[0].reference, "R-2");
}

#[test]
fn file_errors_import_nothing_and_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    let svc = service(&path);
    let e = svc
        .import_appointments(&import_actor(), b"ref,name\nR-1,x\n", "bad.csv")
        .unwrap_err();
    assert_eq!(
        (e.code, e.fields[0].field.as_str()),
        (ErrorCode::Invalid, "header")
    );
    assert!(svc.find_appointments("R-1").unwrap().is_empty());

    let auditor = svc.actor_for("aud01", PW, "t").unwrap();
    assert_eq!(
        svc.import_appointments(&auditor, &rows(&book()), "b.csv")
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    let cli = Actor {
        staff_id: StaffId::system("cli"),
        role: None,
        terminal: "t".into(),
    };
    assert_eq!(
        svc.import_appointments(&cli, &rows(&book()), "b.csv")
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    assert!(
        svc.find_appointments("R-1").unwrap().is_empty(),
        "a refused import writes nothing"
    );
}

#[test]
fn no_shows_at_end_of_day() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    let svc = service(&path);
    let tel01 = svc.actor_for("tel01", PW, "t").unwrap();
    svc.import_appointments(&import_actor(), &rows(&book()), "b.csv")
        .unwrap();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    assert_eq!(svc.mark_no_shows(&tel01, day).unwrap(), 2);
    assert_eq!(svc.mark_no_shows(&tel01, day).unwrap(), 0, "already marked");
    assert_eq!(
        svc.find_appointments("R-2").unwrap()[0].status,
        AppointmentStatus::NoShow
    );
    assert_eq!(
        svc.find_appointments("R-1").unwrap()[0].status,
        AppointmentStatus::Waiting
    );
    let e = svc
        .mark_no_shows(&tel01, day + chrono::Duration::days(2))
        .unwrap_err();
    assert_eq!(e.fields[0].rule, "future-date");
    let auditor = svc.actor_for("aud01", PW, "t").unwrap();
    assert_eq!(
        svc.mark_no_shows(&auditor, day).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let events = audit(&path);
    let marks: Vec<_> = events
        .iter()
        .filter(|e| e.0 == "appointment-no-shows")
        .collect();
    assert_eq!(marks.len(), 2);
    assert_eq!(marks[0].2, "{\"day\":\"2026-11-28\",\"count\":2}");
}

#[test]
fn lookup_statements_search_indexes_without_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    drop(service(&path));
    let c = Connection::open(&path).unwrap();
    for (sql, index) in [
        ("SELECT slot_start, rowid FROM appointments WHERE phone_tail = substr(?1, -4) AND phone = ?1 ORDER BY slot_start DESC LIMIT ?2", "COVERING INDEX appointments_phone_tail_slot"),
        ("SELECT slot_start, rowid FROM appointments WHERE phone_tail = ?1 ORDER BY slot_start DESC LIMIT ?2", "appointments_phone_tail_slot"),
        ("SELECT slot_start, rowid FROM appointments WHERE id_tail = substr(?1, -4) AND id_number = ?1 ORDER BY slot_start DESC LIMIT ?2", "COVERING INDEX appointments_id_tail_slot"),
        ("SELECT slot_start, rowid FROM appointments WHERE id_tail = ?1 ORDER BY slot_start DESC LIMIT ?2", "appointments_id_tail_slot"),
        ("SELECT slot_start, appt FROM appointment_name_prefix WHERE prefix = ?1 ORDER BY slot_start DESC LIMIT ?2", "PRIMARY KEY"),
        ("SELECT slot_start, rowid FROM appointments WHERE reference = ?1 ORDER BY slot_start DESC LIMIT ?2", "sqlite_autoindex_appointments_2"),
    ] {
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let plan: Vec<String> = st.query_map(rusqlite::params!["x", 20], |r| r.get(3)).unwrap().map(Result::unwrap).collect();
        let plan = plan.join(" | ");
        assert!(plan.contains("SEARCH") && plan.contains(index), "{sql}: {plan}");
        assert!(!plan.contains("TEMP B-TREE") && !plan.contains("SCAN"), "{sql}: {plan}");
    }
}

/// A case opened from an appointment verifies the document booked with it (full number, or
/// the last 4 the call centre took); another person's document is refused with
/// `appointment-mismatch` and the case stays checked in.
#[test]
fn check_in_verifies_the_booked_document() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir.path().join("u.db"));
    svc.import_appointments(&import_actor(), &rows(&book()), "book.csv")
        .unwrap();
    let tel01 = svc.actor_for("tel01", PW, "test").unwrap();
    let check_in = |reference: &str| {
        let found = svc.find_appointments(reference).unwrap();
        svc.open_case(
            &tel01,
            &OpenCaseInput {
                appointment_id: Some(found[0].id),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case
        .id
    };
    let verify = |c: CaseId, number: &str, name: &str| {
        svc.verify_identity(
            &tel01,
            c,
            &IdentityInput {
                kind: "prc-id".into(),
                number: number.into(),
                name_on_document: name.into(),
                ..Default::default()
            },
            None,
        )
    };
    // R-1 was booked with a full number: another valid number is refused.
    let c1 = check_in("R-1");
    let other = id("11010519800101145");
    let e = verify(c1, &other, "张伟").unwrap_err();
    assert_eq!(e.fields[0].field, "number");
    assert_eq!(e.fields[0].rule, "appointment-mismatch");
    assert_eq!(
        svc.case_view(&tel01, c1).unwrap().case.state,
        CaseState::CheckedIn
    );
    verify(c1, &id("11010519800101123"), "张伟").unwrap();
    // R-3 was booked with the last 4 only (002X): a number ending otherwise is refused.
    let c3 = check_in("R-3");
    let e = verify(c3, &id("11010519491231003"), "李娜").unwrap_err();
    assert_eq!(e.fields[0].rule, "appointment-mismatch");
    verify(c3, "11010519491231002x", "李娜").unwrap();
}
