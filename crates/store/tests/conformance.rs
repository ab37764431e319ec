//! The store conformance suite (`unlockdesk_conformance`) on real SQLite files: each
//! test gets a fresh database in its own temporary directory.

use std::path::PathBuf;
use std::sync::Mutex;

use unlockdesk_conformance::Fixture;
use unlockdesk_store::SqliteStore;

/// Fresh SQLite files; the directories live as long as the fixture (one test).
#[derive(Default)]
struct Sqlite {
    dirs: Mutex<Vec<tempfile::TempDir>>,
    last: Mutex<Option<PathBuf>>,
}

impl Fixture for Sqlite {
    type S = SqliteStore;
    fn fresh(&self) -> SqliteStore {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(unlockdesk_store::DB_FILE);
        let store = SqliteStore::open(&path).unwrap();
        *self.last.lock().unwrap() = Some(path);
        self.dirs.lock().unwrap().push(dir);
        store
    }
    fn again(&self) -> SqliteStore {
        let path = self.last.lock().unwrap().clone().expect("fresh() first");
        SqliteStore::open(&path).unwrap()
    }
}

unlockdesk_conformance::conformance_suite!(Sqlite::default());

/// The same suite on encrypted stores (SQLCipher, sealed documents), each with its own key
/// file: encryption must not change a single rule.
mod encrypted {
    use super::*;
    use unlockdesk_store::keys::{self, KeySource};

    #[derive(Default)]
    struct Encrypted {
        dirs: Mutex<Vec<tempfile::TempDir>>,
        last: Mutex<Option<(PathBuf, KeySource)>>,
    }

    impl Fixture for Encrypted {
        type S = SqliteStore;
        fn fresh(&self) -> SqliteStore {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(unlockdesk_store::DB_FILE);
            let key = dir.path().join("branch.key");
            keys::new_key_file(&key).unwrap();
            let src = KeySource::KeyFile(key);
            let store = SqliteStore::open_with(&path, src.clone()).unwrap();
            assert!(store.is_encrypted());
            *self.last.lock().unwrap() = Some((path, src));
            self.dirs.lock().unwrap().push(dir);
            store
        }
        fn again(&self) -> SqliteStore {
            let (path, src) = self.last.lock().unwrap().clone().expect("fresh() first");
            SqliteStore::open_with(&path, src).unwrap()
        }
    }

    unlockdesk_conformance::conformance_suite!(Encrypted::default());
}
