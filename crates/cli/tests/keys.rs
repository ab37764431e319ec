//! The CLI and encryption at rest: `key new`, the one warning line on a plaintext store, the
//! upgrade of a plaintext store, a wrong, missing or too-open key file (one sentence, exit 1,
//! nothing changed), both rekeys (administrator only, audited) and an encrypted backup restored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_unlockdesk-cli");
const PW: &str = "Keys#Branch2026";

fn run(db: &Path, key: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.arg("--db").arg(db).args(args);
    c.env_remove("UNLOCKDESK_DATABASE_URL")
        .env_remove("UNLOCKDESK_SERVER")
        .env("UNLOCKDESK_PASSWORD", PW)
        .env("UNLOCKDESK_NEW_PASSWORD", PW);
    match key {
        Some(k) => c.env("UNLOCKDESK_KEY_FILE", k),
        None => c.env_remove("UNLOCKDESK_KEY_FILE"),
    };
    c.output().unwrap()
}

fn key_new(path: &Path) -> Output {
    Command::new(BIN)
        .args(["key", "new", "--out"])
        .arg(path)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        stderr(o)
    );
}

fn header(db: &Path) -> Vec<u8> {
    std::fs::read(db).unwrap()[..16].to_vec()
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "logs") {
                continue;
            }
            out.extend(files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

fn setup(db: &Path, key: Option<&Path>) -> Output {
    run(
        db,
        key,
        &[
            "setup",
            "--branch-code",
            "KY001",
            "--branch-name",
            "密钥测试支行",
            "--admin-id",
            "admin",
            "--admin-name",
            "管理员",
        ],
    )
}

#[test]
fn key_files_plaintext_warning_upgrade_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let k1 = keys.path().join("k1");
    ok(&key_new(&k1));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&k1).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let again = key_new(&k1);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("never overwritten"),
        "{}",
        stderr(&again)
    );

    // No key source: plaintext, and exactly one warning line saying so.
    let db = dir.path().join("unlockdesk.db");
    let o = setup(&db, None);
    ok(&o);
    let warnings: Vec<_> = stderr(&o)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(str::to_string)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("not encrypted"), "{}", warnings[0]);
    assert_eq!(header(&db), b"SQLite format 3\0");

    // With a key file: encrypted on the way in, no warning.
    let o = run(&db, Some(&k1), &["case", "list"]);
    ok(&o);
    assert!(!stderr(&o).contains("warning:"), "{}", stderr(&o));
    assert_ne!(header(&db), b"SQLite format 3\0");
    assert!(dir.path().join("unlockdesk.db.keys").exists());

    // Refusals change nothing.
    let before = files(dir.path());
    let k2 = keys.path().join("k2");
    ok(&key_new(&k2));
    for (key, says) in [
        (None, "UNLOCKDESK_KEY_FILE"),
        (Some(k2.as_path()), "does not open this store"),
    ] {
        let o = run(&db, key, &["case", "list"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains(says), "{e}");
        assert!(!e.contains("not a database"), "{e}");
        assert_eq!(e.trim().lines().count(), 1, "one sentence: {e}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let open = keys.path().join("open");
        std::fs::copy(&k1, &open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        let o = run(&db, Some(&open), &["case", "list"]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
    }
    assert_eq!(before, files(dir.path()), "a refused open changed a file");
}

#[test]
fn rekeys_are_an_administrators_and_an_encrypted_backup_restores() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let k1 = keys.path().join("k1");
    ok(&key_new(&k1));
    let db = dir.path().join("unlockdesk.db");
    ok(&setup(&db, Some(&k1)));
    ok(&run(
        &db,
        Some(&k1),
        &["--as", "admin", "--json", "staff", "list"],
    ));

    // A backup beside its key record.
    let backup = dir.path().join("before.db");
    ok(&run(
        &db,
        Some(&k1),
        &["--as", "admin", "backup", "--out", backup.to_str().unwrap()],
    ));
    assert!(dir.path().join("before.db.keys").exists());
    assert_ne!(header(&backup), b"SQLite format 3\0");

    // Rekey needs --as, and one of its two forms.
    let o = run(&db, Some(&k1), &["rekey", "--data-key"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(&db, Some(&k1), &["--as", "admin", "rekey"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    // A new key-encryption key.
    let k2 = keys.path().join("k2");
    ok(&key_new(&k2));
    ok(&run(
        &db,
        Some(&k1),
        &[
            "--as",
            "admin",
            "--json",
            "rekey",
            "--new-key-file",
            k2.to_str().unwrap(),
        ],
    ));
    assert_eq!(
        run(&db, Some(&k1), &["case", "list"]).status.code(),
        Some(1)
    );
    ok(&run(&db, Some(&k2), &["case", "list"]));

    // A new data key: the database and every document re-encrypted.
    let o = run(
        &db,
        Some(&k2),
        &["--as", "admin", "--json", "rekey", "--data-key"],
    );
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["key"], "data-key");
    let audit = run(
        &db,
        Some(&k2),
        &["--as", "admin", "--json", "audit", "verify"],
    );
    ok(&audit);

    // The backup's record is under k1, the store's under k2 now: the old key file opens the
    // backup (UNLOCKDESK_BACKUP_KEY_FILE), and the restored content takes the store's key.
    let restore = |backup_key: Option<&Path>| {
        let mut c = Command::new(BIN);
        c.arg("--db")
            .arg(&db)
            .args(["--as", "admin", "restore", "--from"])
            .arg(&backup)
            .env_remove("UNLOCKDESK_DATABASE_URL")
            .env("UNLOCKDESK_PASSWORD", PW)
            .env("UNLOCKDESK_KEY_FILE", &k2);
        match backup_key {
            Some(k) => c.env("UNLOCKDESK_BACKUP_KEY_FILE", k),
            None => c.env_remove("UNLOCKDESK_BACKUP_KEY_FILE"),
        };
        c.output().unwrap()
    };
    let o = restore(None);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("UNLOCKDESK_BACKUP_KEY_FILE"),
        "{}",
        stderr(&o)
    );
    ok(&restore(Some(&k1)));
    ok(&run(&db, Some(&k2), &["--as", "admin", "audit", "verify"]));
    assert_ne!(header(&db), b"SQLite format 3\0");
}

#[test]
fn a_desktop_terminal_s_passphrase_store_opens_with_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unlockdesk.db");
    let with = |pass: Option<&str>, args: &[&str]| {
        let mut c = Command::new(BIN);
        c.arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("UNLOCKDESK_KEY_FILE")
            .env_remove("UNLOCKDESK_DATABASE_URL")
            .env("UNLOCKDESK_PASSWORD", PW)
            .env("UNLOCKDESK_NEW_PASSWORD", PW);
        match pass {
            Some(p) => c.env("UNLOCKDESK_STORE_PASSPHRASE", p),
            None => c.env_remove("UNLOCKDESK_STORE_PASSPHRASE"),
        };
        c.output().unwrap()
    };
    ok(&with(
        Some("网点口令 for the tests"),
        &[
            "setup",
            "--branch-code",
            "KY002",
            "--branch-name",
            "口令支行",
            "--admin-id",
            "admin",
            "--admin-name",
            "管理员",
        ],
    ));
    let record = std::fs::read_to_string(dir.path().join("unlockdesk.db.keys")).unwrap();
    assert!(record.contains("\"passphrase\""), "{record}");
    assert!(!record.contains("网点口令 for the tests"));
    let o = with(None, &["case", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("UNLOCKDESK_STORE_PASSPHRASE"),
        "{}",
        stderr(&o)
    );
    let o = with(Some("another passphrase"), &["case", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("does not open this store"),
        "{}",
        stderr(&o)
    );
    ok(&with(Some("网点口令 for the tests"), &["case", "list"]));
}

/// A restore run without the store's key (or with the wrong one) is refused before anything is
/// replaced: a key problem is never taken for a damaged database.
#[test]
fn a_restore_without_the_key_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let k1 = keys.path().join("k1");
    let k2 = keys.path().join("k2");
    ok(&key_new(&k1));
    ok(&key_new(&k2));
    let db = dir.path().join("unlockdesk.db");
    ok(&setup(&db, Some(&k1)));
    let backup = keys.path().join("b.db");
    ok(&run(
        &db,
        Some(&k1),
        &["--as", "admin", "backup", "--out", backup.to_str().unwrap()],
    ));
    let before = files(dir.path());
    for key in [None, Some(k2.as_path())] {
        let o = run(
            &db,
            key,
            &[
                "--as",
                "admin",
                "restore",
                "--from",
                backup.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("nothing was changed"), "{}", stderr(&o));
        assert_eq!(
            before,
            files(dir.path()),
            "a refused restore changed a file"
        );
    }
    ok(&run(
        &db,
        Some(&k1),
        &[
            "--as",
            "admin",
            "restore",
            "--from",
            backup.to_str().unwrap(),
        ],
    ));
}
