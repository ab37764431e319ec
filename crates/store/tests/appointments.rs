//! The appointment book's lookup statements on SQLite: each searches an index, never sorts
//! (the query plans). Import, lookups and no-shows are in the conformance suite.

use rusqlite::Connection;
use unlockdesk_store::SqliteStore;

#[test]
fn lookup_statements_search_indexes_without_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.db");
    drop(SqliteStore::open(&path).unwrap());
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
