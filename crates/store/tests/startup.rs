//! The start-up check: a damaged database file is refused with a `storage`
//! error that names the backup route, never a panic; a sound one passes.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use unlockdesk_core::dto::*;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::{SqliteStore, RESTORE_ROUTE};

const PW: &str = "Counter#2026";

/// A store with a branch, staff and enough cases to span many pages; closed (WAL folded in).
fn populated(path: &Path) {
    let svc = Service::new(
        SqliteStore::open(path).unwrap(),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
    );
    svc.setup(
        &SetupInput {
            branch_code: "s1".into(),
            branch_name: "启动检查支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "t",
    )
    .unwrap();
    let admin = svc.authenticate("admin", PW, "t").unwrap();
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
    svc.change_password("tel01", "Initial#2026", PW, "t")
        .unwrap();
    let tel = svc.authenticate("tel01", PW, "t").unwrap();
    for i in 0..300 {
        let c = svc
            .open_case(
                &tel,
                &OpenCaseInput {
                    customer_name: format!("测试{i}"),
                    phone: "13123456789".into(),
                    lock_cause: Some(LockCause::WrongPassword),
                    ..Default::default()
                },
                None,
            )
            .unwrap();
        svc.cancel_case(&tel, c.case.id, "customer left", None)
            .unwrap();
    }
    drop(svc);
    SqliteStore::open(path).unwrap().check_integrity().unwrap();
}

fn open_and_check(path: &Path) -> CoreResult<()> {
    let s = SqliteStore::open(path)?;
    s.check_integrity()
}

fn assert_refused(r: CoreResult<()>, what: &str) {
    let e = r.expect_err(what);
    assert_eq!(e.code, ErrorCode::Storage, "{what}: {e:?}");
    assert!(
        e.message.contains(RESTORE_ROUTE),
        "{what}: the message does not name the backup route: {}",
        e.message
    );
    assert!(e.message.contains("damaged"), "{what}: {}", e.message);
}

#[test]
fn sound_database_passes_the_start_up_check() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unlockdesk.db");
    populated(&db);
    open_and_check(&db).unwrap();
    SqliteStore::open_checked(&db).unwrap();
}

#[test]
fn damaged_database_is_refused_with_the_backup_route() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.db");
    populated(&good);
    let len = std::fs::metadata(&good).unwrap().len();
    assert!(
        len > 64 * 1024,
        "the populated store is too small to corrupt in the middle ({len} bytes)"
    );
    assert!(
        !dir.path().join("good.db-wal").exists()
            || std::fs::metadata(dir.path().join("good.db-wal"))
                .unwrap()
                .len()
                == 0
    );

    // Overwrite bytes in the middle of the file, and, separately, the header.
    for (name, offset, bytes) in [
        ("middle", len / 2 / 4096 * 4096, vec![0xA5u8; 4096]),
        ("middle-partial", len / 2 + 1000, vec![0x00u8; 700]),
        ("second-page", 4096, vec![0xFFu8; 4096]),
        ("header", 0, b"this is not an UnlockDesk database".to_vec()),
    ] {
        let db = dir.path().join(format!("{name}.db"));
        std::fs::copy(&good, &db).unwrap();
        let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(&bytes).unwrap();
        f.sync_all().unwrap();
        drop(f);
        let r = std::panic::catch_unwind(|| open_and_check(&db))
            .unwrap_or_else(|_| panic!("{name}: panicked"));
        assert_refused(r, name);
        assert_refused(SqliteStore::open_checked(&db).map(|_| ()), name);
    }
}
