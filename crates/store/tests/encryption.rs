//! Personal data at rest on the embedded store, as a security reviewer would check it: a
//! seeded synthetic ID number, phone, bank card and wallet id appear nowhere in the files
//! (database, write-ahead log, documents, backup, key record); a wrong or missing key fails
//! with one sentence and changes nothing; a plaintext store is encrypted on upgrade; a
//! truncated or altered document is refused; both rekeys and an encrypted restore round-trip.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use unlockdesk_conformance::*;
use unlockdesk_core::ports::{OsEntropy, Store};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::keys::{self, KeySource};
use unlockdesk_store::SqliteStore;

/// The C2 values of the conformance suite's walk-in, as typed and as normalised.
const SECRETS: [&str; 6] = [
    ID,
    "13123456789",
    "6200000000000005",
    "0099123456789012",
    "测试甲",
    "+86 131 2345 6789",
];

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

fn found_in(dir: &Path) -> Vec<(PathBuf, &'static str)> {
    let mut hits = Vec::new();
    for p in files(dir) {
        let bytes = std::fs::read(&p).unwrap();
        for s in SECRETS {
            if bytes.windows(s.len()).any(|w| w == s.as_bytes()) {
                hits.push((p.clone(), s));
            }
        }
    }
    hits
}

fn key_file(dir: &Path, name: &str) -> KeySource {
    let p = dir.join(name);
    keys::new_key_file(&p).unwrap();
    KeySource::KeyFile(p)
}

struct Case {
    svc: Service<SqliteStore>,
    teller: Actor,
    id: CaseId,
    state: CaseState,
}

/// A case with the walk-in's full form, printed and signed, on a store opened with `src`.
fn seeded(db: &Path, src: KeySource) -> Case {
    let store = SqliteStore::open_with(db, src).unwrap();
    let svc =
        Service::new(store, clock(), Arc::new(OsEntropy)).with_renderer(Arc::new(TextRenderer));
    let (teller, _sup, _tc, _sc) = setup(&svc);
    let id = identified_walk_in(&svc, &teller);
    svc.record_form(&teller, id, &form(), None).unwrap();
    print_and_sign(&svc, &teller, id);
    let state = svc.case_view(&teller, id).unwrap().case.state;
    Case {
        svc,
        teller,
        id,
        state,
    }
}

fn digest(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

#[test]
fn a_new_encrypted_store_keeps_no_personal_data_in_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let src = key_file(keys_dir.path(), "branch.key");
    let db = tmp.path().join(unlockdesk_store::DB_FILE);
    let c = seeded(&db, src.clone());
    assert!(c.svc.store().is_encrypted());
    // The bytes are as typed when read back through the store.
    let view = c.svc.case_view(&c.teller, c.id).unwrap();
    assert_eq!(view.case.state, c.state);
    let docs = c.svc.store().read(|tx| tx.documents(c.id)).unwrap();
    assert!(!docs.is_empty());
    for d in &docs {
        let bytes = c.svc.store().read(|tx| tx.document_bytes(d)).unwrap();
        assert!(!bytes.is_empty());
        let on_disk = std::fs::read(tmp.path().join(&d.path)).unwrap();
        assert!(keys::is_sealed_document(&on_disk), "{} is sealed", d.path);
    }
    // While open (the WAL holds the latest pages) and after a backup.
    let backup = tmp.path().join("backup.db");
    let admin = c.svc.authenticate("admin", PW, "t").unwrap();
    c.svc.backup(&admin, &backup).unwrap();
    assert!(backup.exists() && keys::record_path(&backup).exists());
    assert_eq!(found_in(tmp.path()), vec![], "no C2 value in clear");
    drop(c);
    assert_eq!(
        found_in(tmp.path()),
        vec![],
        "no C2 value in clear after close"
    );
    // The file has no SQLite header: it is not readable as a database without the key.
    assert_ne!(&digest(&db)[..16], b"SQLite format 3\0");
}

#[test]
fn a_wrong_or_missing_key_is_one_sentence_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let src = key_file(keys_dir.path(), "branch.key");
    let db = tmp.path().join(unlockdesk_store::DB_FILE);
    drop(seeded(&db, src));
    let before: Vec<(PathBuf, Vec<u8>)> = files(tmp.path())
        .into_iter()
        .map(|p| (p.clone(), digest(&p)))
        .collect();
    let wrong = key_file(keys_dir.path(), "other.key");
    let e = SqliteStore::open_with(&db, wrong).err().expect("refused");
    assert_eq!(e.code, ErrorCode::Storage);
    assert!(e.message.contains("does not open this store"), "{e}");
    assert!(!e.message.contains("not a database"), "{e}");
    let e = SqliteStore::open_with(&db, KeySource::None)
        .err()
        .expect("refused");
    assert!(e.message.contains("UNLOCKDESK_KEY_FILE"), "{e}");
    let after: Vec<(PathBuf, Vec<u8>)> = files(tmp.path())
        .into_iter()
        .map(|p| (p.clone(), digest(&p)))
        .collect();
    assert_eq!(before, after, "no file changed");
    // A record that lost its database's key (the record of another store beside this file).
    let other = tempfile::tempdir().unwrap();
    let odb = other.path().join(unlockdesk_store::DB_FILE);
    let src2 = key_file(keys_dir.path(), "third.key");
    drop(SqliteStore::open_with(&odb, src2.clone()).unwrap());
    std::fs::copy(keys::record_path(&odb), keys::record_path(&db)).unwrap();
    let e = SqliteStore::open_with(&db, src2).err().expect("refused");
    assert!(e.message.contains("does not open with the key"), "{e}");
}

#[test]
fn a_plaintext_store_is_encrypted_on_upgrade_and_its_original_shredded() {
    let tmp = tempfile::tempdir().unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let db = tmp.path().join(unlockdesk_store::DB_FILE);
    let c = seeded(&db, KeySource::None);
    let (id, state) = (c.id, c.state);
    assert!(!c.svc.store().is_encrypted());
    drop(c);
    assert!(
        !found_in(tmp.path()).is_empty(),
        "the plaintext store holds them in clear"
    );
    let src = key_file(keys_dir.path(), "branch.key");
    let store = SqliteStore::open_with(&db, src.clone()).unwrap();
    assert!(store.is_encrypted());
    assert_eq!(found_in(tmp.path()), vec![], "upgrade left a copy in clear");
    let names: Vec<String> = files(tmp.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with("-old") || n.ends_with(".encrypting")),
        "{names:?}"
    );
    let svc =
        Service::new(store, clock(), Arc::new(OsEntropy)).with_renderer(Arc::new(TextRenderer));
    let t = svc.authenticate("tel01", PW, "t").unwrap();
    let v = svc.case_view(&t, id).unwrap();
    assert_eq!(v.case.state, state);
    assert!(svc.store().verify_audit().unwrap().ok);
    let docs = svc.store().read(|tx| tx.documents(id)).unwrap();
    for d in &docs {
        svc.store().read(|tx| tx.document_bytes(d)).unwrap();
    }
}

#[test]
fn a_truncated_or_altered_document_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let db = tmp.path().join(unlockdesk_store::DB_FILE);
    let c = seeded(&db, key_file(keys_dir.path(), "k"));
    let docs = c.svc.store().read(|tx| tx.documents(c.id)).unwrap();
    let d = &docs[0];
    let abs = tmp.path().join(&d.path);
    let good = std::fs::read(&abs).unwrap();
    std::fs::write(&abs, &good[..good.len() - 7]).unwrap();
    let e = c.svc.store().read(|tx| tx.document_bytes(d)).unwrap_err();
    assert!(e.message.contains("refused"), "{e}");
    let mut bad = good.clone();
    let n = bad.len() / 2;
    bad[n] ^= 0x20;
    std::fs::write(&abs, &bad).unwrap();
    let e = c.svc.store().read(|tx| tx.document_bytes(d)).unwrap_err();
    assert!(e.message.contains("altered"), "{e}");
    // A document of another case put in this one's place.
    if let Some(other) = docs.iter().find(|o| o.path != d.path) {
        std::fs::copy(tmp.path().join(&other.path), &abs).unwrap();
        assert!(c.svc.store().read(|tx| tx.document_bytes(d)).is_err());
    }
    std::fs::write(&abs, &good).unwrap();
    c.svc.store().read(|tx| tx.document_bytes(d)).unwrap();
}

#[test]
fn rekey_and_restore_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let db = tmp.path().join(unlockdesk_store::DB_FILE);
    let first = key_file(keys_dir.path(), "first.key");
    let c = seeded(&db, first.clone());
    let id = c.id;
    let backup = tmp.path().join("before-rekey.db");
    c.svc.store().backup_to(&backup).unwrap();
    // A new key-encryption key: the old key file no longer opens the store.
    let second = key_file(keys_dir.path(), "second.key");
    c.svc.store().rekey_kek(second.clone()).unwrap();
    drop(c);
    assert!(SqliteStore::open_with(&db, first.clone()).is_err());
    let store = SqliteStore::open_with(&db, second.clone()).unwrap();
    // A new data key: database and documents re-encrypted, still readable.
    let before_doc = store
        .read(|tx| {
            let d = tx.documents(id)?;
            tx.document_bytes(&d[0])
        })
        .unwrap();
    let kid = store.rekey_data_key().unwrap();
    let after_doc = store
        .read(|tx| {
            let d = tx.documents(id)?;
            tx.document_bytes(&d[0])
        })
        .unwrap();
    assert_eq!(before_doc, after_doc);
    drop(store);
    let store = SqliteStore::open_with(&db, second.clone()).unwrap();
    assert!(store.verify_audit().unwrap().ok);
    assert_eq!(found_in(tmp.path()), vec![]);
    let names: Vec<String> = files(tmp.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with("-old") || n.contains("rekeying")),
        "{names:?}"
    );
    assert!(!kid.is_empty());
    // The backup taken before both rekeys keeps its own record under the first key file;
    // restoring it into the rekeyed store converts it to the store's current key.
    let e = store.restore_from(&backup);
    assert!(
        e.is_err(),
        "the first key is not this store's key source any more"
    );
    drop(store);
    let rec = keys::KeyRecord::load(&backup).unwrap().unwrap();
    let ring = rec.unwrap(&first).unwrap();
    keys::KeyRecord::wrap(&ring, &second)
        .unwrap()
        .save(&backup)
        .unwrap();
    let store = SqliteStore::open_with(&db, second.clone()).unwrap();
    store.restore_from(&backup).unwrap();
    drop(store);
    let store = SqliteStore::open_with(&db, second.clone()).unwrap();
    assert!(store.verify_audit().unwrap().ok);
    assert!(store.read(|tx| tx.case(id)).unwrap().is_some());
    // Restore over a store that cannot be opened: the staged copy keeps the backup's key.
    let later = tmp.path().join("later.db");
    store.backup_to(&later).unwrap();
    drop(store);
    std::fs::write(&db, b"garbage that is not a database at all, long enough").unwrap();
    std::env::set_var(
        keys::KEY_FILE_ENV,
        match &second {
            KeySource::KeyFile(p) => p.clone(),
            _ => unreachable!(),
        },
    );
    let staged = SqliteStore::stage_restore(&later, &db).unwrap();
    staged.commit().unwrap();
    std::env::remove_var(keys::KEY_FILE_ENV);
    let store = SqliteStore::open_with(&db, second).unwrap();
    assert!(store.read(|tx| tx.case(id)).unwrap().is_some());
    assert_eq!(
        found_in(tmp.path())
            .into_iter()
            .filter(|(p, _)| !p.to_string_lossy().contains("damaged"))
            .count(),
        0
    );
}

/// Restoring over a damaged store keeps the live store's keys: its documents (sealed under
/// them, not in the backup) stay readable, whether the backup was taken before a data-key
/// rekey or before the store was encrypted at all.
#[test]
fn a_restore_over_a_damaged_store_keeps_its_documents_readable() {
    let keys_dir = tempfile::tempdir().unwrap();
    let key = key_file(keys_dir.path(), "branch.key");
    let KeySource::KeyFile(key_path) = key.clone() else {
        unreachable!()
    };
    for plaintext_backup in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join(unlockdesk_store::DB_FILE);
        let backup = tmp.path().join("backup.db");
        let c = seeded(
            &db,
            if plaintext_backup {
                KeySource::None
            } else {
                key.clone()
            },
        );
        let id = c.id;
        c.svc.store().backup_to(&backup).unwrap();
        drop(c);
        let store = SqliteStore::open_with(&db, key.clone()).unwrap();
        if !plaintext_backup {
            store.rekey_data_key().unwrap();
        }
        drop(store);
        std::fs::write(&db, b"not a database any more, and long enough to say so").unwrap();
        std::env::set_var(keys::KEY_FILE_ENV, &key_path);
        let staged = SqliteStore::stage_restore(&backup, &db);
        std::env::remove_var(keys::KEY_FILE_ENV);
        staged.unwrap().commit().unwrap();
        let store = SqliteStore::open_with(&db, key.clone()).unwrap();
        assert!(store.is_encrypted());
        let docs = store.read(|tx| tx.documents(id)).unwrap();
        assert!(!docs.is_empty());
        for d in &docs {
            store
                .read(|tx| tx.document_bytes(d))
                .unwrap_or_else(|e| panic!("plaintext backup {plaintext_backup}: {e}"));
        }
    }
}

/// A key record without its database is never replaced by a new key: its own key makes the
/// database anew under the same key (the moved file still opens with the record), another key
/// is refused.
#[test]
fn a_key_record_without_its_database_is_not_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let keys_dir = tempfile::tempdir().unwrap();
    let key = key_file(keys_dir.path(), "branch.key");
    let db = tmp.path().join(unlockdesk_store::DB_FILE);
    drop(SqliteStore::open_with(&db, key.clone()).unwrap());
    let record = std::fs::read(keys::record_path(&db)).unwrap();
    let moved = tmp.path().join("moved.db");
    std::fs::rename(&db, &moved).unwrap();
    let other = key_file(keys_dir.path(), "other.key");
    let e = SqliteStore::open_with(&db, other).err().expect("refused");
    assert!(e.message.contains("is missing"), "{e}");
    assert_eq!(std::fs::read(keys::record_path(&db)).unwrap(), record);
    drop(SqliteStore::open_with(&db, key.clone()).unwrap());
    assert_eq!(std::fs::read(keys::record_path(&db)).unwrap(), record);
    std::fs::copy(keys::record_path(&db), keys::record_path(&moved)).unwrap();
    drop(SqliteStore::open_with(&moved, key).unwrap());
}
