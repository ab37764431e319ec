//! A purge on the embedded store leaves no copy of the destroyed personal data on disk: not
//! in the database file, not in its write-ahead log, not in the documents folder (byte
//! search after the conformance suite's retention scenario).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use unlockdesk_conformance::{id, Fixture, ID};
use unlockdesk_store::SqliteStore;

#[derive(Default)]
struct Sqlite {
    dir: Mutex<Option<tempfile::TempDir>>,
}

impl Sqlite {
    fn path(&self) -> PathBuf {
        let g = self.dir.lock().unwrap();
        g.as_ref().unwrap().path().join(unlockdesk_store::DB_FILE)
    }
}

impl Fixture for Sqlite {
    type S = SqliteStore;
    fn fresh(&self) -> SqliteStore {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(unlockdesk_store::DB_FILE);
        *self.dir.lock().unwrap() = Some(dir);
        SqliteStore::open(&path).unwrap()
    }
    fn again(&self) -> SqliteStore {
        SqliteStore::open(&self.path()).unwrap()
    }
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn purged_personal_data_is_nowhere_in_the_files() {
    let fix = Sqlite::default();
    let (a, _b, c, _d) = unlockdesk_conformance::retention_scenario(&fix);
    let dir = fix.path().parent().unwrap().to_path_buf();
    let r2_id = id("31010419750505456");
    // never came: their rows went with the first batch.
    let r1_id = id("11010519800101123");
    let all = files(&dir);
    assert!(all.iter().any(|p| p.ends_with(unlockdesk_store::DB_FILE)));
    // Case A's document folder went with its vouchers.
    assert!(!dir.join("documents").join(a.to_string()).exists());
    for p in &all {
        let bytes = std::fs::read(p).unwrap();
        // A's ID number and bank card; B's booked ID number, phone and name (its appointment);
        // the bookings nobody came to.
        for secret in [
            ID,
            "6200000000000005",
            r2_id.as_str(),
            "13987654322",
            "张伟华",
            r1_id.as_str(),
            "13912345671",
            "13700001113",
            "李娜",
        ] {
            assert!(
                !contains(&bytes, secret),
                "{secret} is still in {}",
                p.display()
            );
        }
    }
    // The held case keeps its data: the search itself finds what is there.
    let db = std::fs::read(fix.path()).unwrap();
    assert!(
        contains(&db, "wrong branch"),
        "case {c}'s cancel reason is kept"
    );
    assert!(
        contains(&db, "测试甲"),
        "the held and the open case keep their customer"
    );
    assert!(contains(&db, "13123456789"), "and their phone");
}

/// A backup taken before a purge, restored after it, brings nothing destroyed back: the
/// register outlives the backup and is replayed into the restored store.
#[test]
fn restoring_an_older_backup_replays_the_destruction_register() {
    use chrono::TimeZone;
    use unlockdesk_conformance::{add_person, clock, closed_case, setup, svc, PW};
    use unlockdesk_core::ports::Store;
    use unlockdesk_core::*;

    let fix = Sqlite::default();
    let clk = clock();
    let s = svc(&fix, clk.clone());
    let (tel01, _, sup01, _) = setup(&s);
    let admin = s.authenticate("admin", PW, "test").unwrap();
    let aud01 = add_person(&s, &admin, "aud01", Role::Auditor);
    let a = closed_case(&s, &tel01, &sup01);
    let backup = fix.path().with_file_name("before-purge.db");
    s.backup(&admin, &backup).unwrap();

    clk.set(chrono::Utc.with_ymd_and_hms(2057, 12, 1, 2, 0, 0).unwrap());
    let batch = s.prepare_purge(&admin).unwrap();
    s.approve_purge(&aud01, &batch.id).unwrap();
    assert_eq!(s.case_view(&aud01, a).unwrap().case.purges.len(), 2);

    s.restore(&admin, &backup).unwrap();
    let v = s.case_view(&aud01, a).unwrap();
    assert_eq!(v.case.purges.len(), 2, "destroyed again");
    assert_eq!(v.case.customer_name, "");
    assert!(v.case.identity.is_none() && v.case.form.is_none());
    assert!(v.documents.is_empty());
    let register = s.purge_batches(&aud01).unwrap();
    assert_eq!(
        register.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        [batch.id.as_str()]
    );
    assert!(fix.again().verify_audit().unwrap().ok);
    assert!(!fix
        .path()
        .parent()
        .unwrap()
        .join("documents")
        .join(a.to_string())
        .exists());
    let db = std::fs::read(fix.path()).unwrap();
    assert!(!contains(&db, ID), "the ID number is not back");
}
