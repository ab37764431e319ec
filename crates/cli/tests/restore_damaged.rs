//! The backup route named by the "damaged database" message works: a database whose file is
//! damaged is refused with that message, and `unlockdesk-cli restore --from FILE` brings the
//! backup back, keeps the damaged file aside, and records the restore in the audit chain.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-cli");
const PW: &str = "Counter#2026";

fn cli(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--db")
        .arg(db)
        .args(args)
        .env("UNLOCKDESK_PASSWORD", PW)
        .env("UNLOCKDESK_NEW_PASSWORD", PW)
        .env_remove("UNLOCKDESK_LOG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn ok(db: &Path, args: &[&str]) -> Value {
    let o = cli(db, args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn damaged_database_is_refused_and_restored_from_backup() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unlockdesk.db");
    let backup = dir.path().join("backup.db");
    ok(
        &db,
        &[
            "--json",
            "setup",
            "--branch-code",
            "R1",
            "--branch-name",
            "恢复支行",
            "--admin-id",
            "admin",
            "--admin-name",
            "管理员",
        ],
    );
    ok(
        &db,
        &[
            "--json",
            "--as",
            "admin",
            "backup",
            "--out",
            backup.to_str().unwrap(),
        ],
    );
    assert_eq!(ok(&db, &["--json", "audit", "verify"])["ok"], true);

    // Damage the header: the file is no longer a database.
    {
        let mut f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f.write_all(&[0x5Au8; 100]).unwrap();
        f.sync_all().unwrap();
    }
    let o = cli(&db, &["--json", "audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["code"], "storage");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("unlockdesk-cli restore --from FILE"),
        "{e}"
    );

    // A wrong password is refused and leaves the damaged file where it is.
    let o = Command::new(BIN)
        .args([
            "--db",
            db.to_str().unwrap(),
            "--json",
            "--as",
            "admin",
            "restore",
            "--from",
            backup.to_str().unwrap(),
        ])
        .env("UNLOCKDESK_PASSWORD", "wrong")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        cli(&db, &["--json", "audit", "verify"]).status.code(),
        Some(1),
        "still damaged"
    );

    // The route named in the message.
    let v = ok(
        &db,
        &[
            "--json",
            "--as",
            "admin",
            "restore",
            "--from",
            backup.to_str().unwrap(),
        ],
    );
    let kept = v["damaged_kept_as"]
        .as_str()
        .expect("the damaged file is kept");
    assert!(Path::new(kept).exists());
    let after = ok(&db, &["--json", "audit", "verify"]);
    assert_eq!(after["ok"], true);
    // The restore itself is on the record of the restored chain.
    let shown = cli(&db, &["audit", "verify"]);
    assert!(shown.status.success());
    let b = ok(&db, &["--json", "appointments", "today"]);
    assert!(b.is_array());
    // The backup is still a sound backup.
    assert_eq!(ok(&backup, &["--json", "audit", "verify"])["ok"], true);
}
