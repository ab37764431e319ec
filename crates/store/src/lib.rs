//! # unlockdesk-store
//!
//! The SQLite adapter of the core's [`Store`] port: rusqlite with bundled SQLite, WAL,
//! `foreign_keys=ON`, `busy_timeout`, `synchronous=FULL` (an acknowledged step survives power
//! loss), STRICT tables, transactional migrations with a version fence ([`migrate`]), and the
//! append-only, hash-chained audit trail ([`audit`]).
//!
//! Every write runs in `BEGIN IMMEDIATE`, so the audit chain cannot fork between processes.

mod appointments;
pub mod audit;
mod branch;
mod cases;
mod codec;
mod copy;
mod documents;
mod idempotency;
pub mod keys;
pub mod migrate;
mod outbox;
mod retention;
mod sessions;
mod staff;
mod tx;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use zeroize::Zeroizing;

pub use keys::{KeyRecord, KeySource, Keyring};
use unlockdesk_core::ports::{AuditVerification, ReadTx, Store, WriteTx};
use unlockdesk_core::{CoreError, CoreResult, ErrorCode};

pub use migrate::SCHEMA_VERSION;

/// Bundle identifier; the data directory is named after it (Tauri's `app_data_dir` agrees).
pub const IDENTIFIER: &str = "org.unlockdesk.desk";
/// The database file name inside the data directory.
pub const DB_FILE: &str = "unlockdesk.db";

/// The data directory: `$UNLOCKDESK_DATA_DIR` when set (tests, e2e), else the platform data
/// directory for [`IDENTIFIER`] (`~/.local/share/org.unlockdesk.desk` on Linux).
pub fn data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("UNLOCKDESK_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(IDENTIFIER)
}

/// The default database path: [`data_dir`]`/unlockdesk.db`.
pub fn default_db_path() -> PathBuf {
    data_dir().join(DB_FILE)
}

/// The environment variable naming the key file that opens a backup's key record when it is
/// not the store's own (a backup taken before `rekey --new-key-file`).
pub const BACKUP_KEY_FILE_ENV: &str = "UNLOCKDESK_BACKUP_KEY_FILE";

/// The backup route named in every "damaged database" message.
pub const RESTORE_ROUTE: &str = "unlockdesk-cli restore --from FILE";

/// The `storage` error for a file that is not a sound UnlockDesk database.
fn damaged(path: &Path, detail: &str) -> CoreError {
    let detail: String = detail.chars().take(300).collect();
    CoreError::storage(format!(
        "the database {} is damaged ({detail}); UnlockDesk will not run on it. Restore the latest backup with `{RESTORE_ROUTE}`",
        path.display()
    ))
}

/// The page cache of every connection, in KiB (SQLite's negative form): 64 MiB.
pub(crate) const CACHE_KIB: i64 = -65_536;
/// The page cache of an encrypted store, in KiB (SQLite's negative form): 256 MiB, used only
/// as pages are read.
const ENCRYPTED_CACHE_KIB: i64 = -262_144;
/// WAL pages between automatic checkpoints of an encrypted store (SQLite's default is 1,000).
const ENCRYPTED_AUTOCHECKPOINT: i64 = 4_000;
/// Memory-mapped reads up to 1 GiB: lookups read index pages without a syscall each.
const MMAP_BYTES: i64 = 1 << 30;

pub(crate) fn sql_err(e: rusqlite::Error) -> CoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy => {
            CoreError::new(ErrorCode::Conflict, "the store is busy; try again")
        }
        _ => CoreError::storage(format!("database error: {e}")),
    }
}

/// The SQLite store. One connection, serialised by a mutex (a counter terminal is one user;
/// other processes are serialised by SQLite's own locking and `busy_timeout`).
///
/// With a key source the file is a SQLCipher database under a raw 256-bit key derived from
/// the store's data key, and documents are sealed with AES-256-GCM ([`keys`]).
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    dir: PathBuf,
    keys: Mutex<Option<Keyring>>,
    /// Where the key-encryption key comes from; replaced by `rekey_kek`.
    source: Mutex<KeySource>,
    /// `<db>.lock`, held shared for this store's life; creating, upgrading and rekeying take it
    /// exclusively, so they never swap files under another program that has the store open.
    lock: std::fs::File,
}

/// What a store file needs to be opened ([`SqliteStore::key_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// No store yet: the first open creates it (encrypted when a key source is given).
    New,
    /// A plaintext store: opening it with a key source encrypts it.
    Plaintext,
    /// Encrypted, its data key wrapped by a key file's key (`UNLOCKDESK_KEY_FILE`).
    KeyFile,
    /// Encrypted, its data key wrapped by a key stretched from the branch passphrase.
    Passphrase,
}

/// What the first bytes of a database file say it is.
#[derive(Debug, PartialEq)]
enum FileKind {
    /// No file, or an empty one: a new store.
    New,
    /// A plaintext SQLite database ("SQLite format 3\0").
    Plain,
    /// Anything else: an encrypted database (SQLCipher has no plaintext header).
    Encrypted,
}

fn file_kind(path: &Path) -> CoreResult<FileKind> {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileKind::New),
        Err(e) => {
            return Err(CoreError::storage(format!(
                "cannot open {}: {e}",
                path.display()
            )))
        }
    };
    let mut head = [0u8; 16];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => {
                return Err(CoreError::storage(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        }
    }
    Ok(match n {
        0 => FileKind::New,
        16 if &head == b"SQLite format 3\0" => FileKind::Plain,
        _ => FileKind::Encrypted,
    })
}

/// Open a connection on `path`, keyed when `key` is given, and prove the key opens it.
fn connect(path: &Path, key: Option<&keys::DataKey>, flags: OpenFlags) -> CoreResult<Connection> {
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| CoreError::storage(format!("cannot open {}: {e}", path.display())))?;
    // SQLCipher logs a failed page check to stderr; the caller words the error itself.
    let _ = conn.execute_batch("PRAGMA cipher_log_level = NONE;");
    // Pages are authenticated with HMAC-SHA-256 instead of SQLCipher 4's default SHA-512: as
    // strong for a 256-bit key, and the CPU's SHA extensions make it several times faster
    // (a step's commit authenticates every page it writes). Set as the default before the key
    // so every database of the connection (an attached export included) uses it.
    conn.execute_batch("PRAGMA cipher_default_hmac_algorithm = HMAC_SHA256;")
        .map_err(sql_err)?;
    if let Some(k) = key {
        apply_key(&conn, k).map_err(sql_err)?;
        // SQLCipher only reads the file at the first statement: a wrong key shows here.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
            .map_err(|_| {
                CoreError::storage(format!(
                    "the store {} does not open with the key in its key record {}: the record belongs to another store or the file is damaged (nothing was changed)",
                    path.display(),
                    keys::record_path(path).display()
                ))
            })?;
    }
    Ok(conn)
}

/// `PRAGMA key` with the raw key (no PBKDF2: the key is random already, so opening costs
/// well under a millisecond instead of 256,000 PBKDF2 rounds).
fn apply_key(conn: &Connection, k: &keys::DataKey) -> rusqlite::Result<()> {
    let key = Zeroizing::new(hex::encode(k.sqlcipher_key().bytes()));
    let sql = Zeroizing::new(format!("PRAGMA key = \"x'{}'\";", key.as_str()));
    conn.execute_batch(&sql)
}

/// The `KEY` clause of an `ATTACH`: the raw key of `k`, or '' for a plaintext file.
fn attach_key(k: Option<&keys::DataKey>) -> Zeroizing<String> {
    Zeroizing::new(match k {
        Some(k) => {
            let key = Zeroizing::new(hex::encode(k.sqlcipher_key().bytes()));
            format!("\"x'{}'\"", key.as_str())
        }
        None => "''".into(),
    })
}

/// Copy every table of `conn`'s main database into a new file `dest` under `key`
/// (`sqlcipher_export`, which also converts plaintext to encrypted), with the schema version.
fn export_to(conn: &Connection, dest: &Path, key: Option<&keys::DataKey>) -> CoreResult<()> {
    // The database, its WAL and shared memory (a key record written for it stays).
    for p in &sidecars(dest)[..3] {
        let _ = std::fs::remove_file(p);
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql_err)?;
    let dest_s = dest.display().to_string().replace('\'', "''");
    let sql = Zeroizing::new(format!(
        "ATTACH DATABASE '{dest_s}' AS udexport KEY {}; SELECT sqlcipher_export('udexport'); PRAGMA udexport.user_version = {version}; DETACH DATABASE udexport;",
        attach_key(key).as_str()
    ));
    conn.execute_batch(&sql)
        .map_err(|e| CoreError::storage(format!("cannot write the copy {}: {e}", dest.display())))
}

/// A copy of the file `src` (under `src_key`, or plaintext) as a new file `dest` under
/// `dest_key`; `src` is only read.
fn convert_copy(
    src: &Path,
    src_key: Option<&keys::DataKey>,
    dest: &Path,
    dest_key: Option<&keys::DataKey>,
) -> CoreResult<()> {
    // The database, its WAL and shared memory (a key record written for it stays).
    for p in &sidecars(dest)[..3] {
        let _ = std::fs::remove_file(p);
    }
    let out = connect(dest, dest_key, RW)?;
    let version: i64 = connect(src, src_key, OpenFlags::SQLITE_OPEN_READ_ONLY)?
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql_err)?;
    let src_s = src
        .display()
        .to_string()
        .replace('\'', "''")
        .replace('?', "%3f")
        .replace('#', "%23");
    let sql = Zeroizing::new(format!(
        "ATTACH DATABASE 'file:{src_s}?mode=ro' AS udsource KEY {}; SELECT sqlcipher_export('main', 'udsource'); PRAGMA main.user_version = {version}; DETACH DATABASE udsource;",
        attach_key(src_key).as_str()
    ));
    out.execute_batch(&sql).map_err(|e| {
        CoreError::storage(format!(
            "cannot copy {} under this store's key: {e}",
            src.display()
        ))
    })
}

/// Row counts of the tables whose loss would matter, to prove a copy complete.
fn census(conn: &Connection) -> CoreResult<Vec<i64>> {
    [
        "audit_events",
        "cases",
        "appointments",
        "documents",
        "staff",
    ]
    .iter()
    .map(|t| {
        conn.query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .or_else(|e| match e {
                // A store older than a table has none of its rows.
                rusqlite::Error::SqliteFailure(..) => Ok(-1),
                e => Err(e),
            })
            .map_err(sql_err)
    })
    .collect()
}

/// Replace `path` by `new` atomically, keeping the old content under `<path>.<tag>-old`
/// (a hard link, so the old bytes can be shredded once the new file is proven).
fn swap_in(path: &Path, new: &Path, tag: &str) -> CoreResult<PathBuf> {
    let old = PathBuf::from(format!("{}.{tag}-old", path.display()));
    let io = |e: std::io::Error, what: &Path| {
        CoreError::storage(format!("cannot replace {}: {e}", what.display()))
    };
    let _ = std::fs::remove_file(&old);
    std::fs::hard_link(path, &old).map_err(|e| io(e, path))?;
    std::fs::rename(new, path).map_err(|e| io(e, path))?;
    // The old file's WAL was checkpointed and truncated; it belongs to the old file.
    for p in &sidecars(path)[1..3] {
        let _ = std::fs::remove_file(p);
    }
    if let Some(d) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(d) {
            let _ = d.sync_all();
        }
    }
    Ok(old)
}

/// `wal_checkpoint(TRUNCATE)`: every WAL frame copied into the database and the WAL emptied.
/// Errors: `storage` when another connection is reading (the frames it needs stay).
fn checkpoint(conn: &Connection) -> CoreResult<()> {
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(sql_err)?;
    if busy != 0 {
        return Err(CoreError::storage(
            "another program is reading the store: the write-ahead log could not be truncated yet; close every other UnlockDesk window and command on it, then try again",
        ));
    }
    Ok(())
}

const RW: OpenFlags = OpenFlags::SQLITE_OPEN_READ_WRITE
    .union(OpenFlags::SQLITE_OPEN_CREATE)
    .union(OpenFlags::SQLITE_OPEN_NO_MUTEX);

impl SqliteStore {
    /// Open (creating if needed) the database at `path` with the key source of the
    /// environment ([`KeySource::from_env`]), configure it and migrate.
    /// Errors: `storage` for an unreadable/corrupt file, a wrong or missing key, or a schema
    /// newer than this binary.
    pub fn open(path: &Path) -> CoreResult<Self> {
        Self::open_with(path, KeySource::from_env())
    }

    /// Open with an explicit key source.
    ///
    /// - A new store with a key source is created encrypted (a fresh data key, wrapped in
    ///   `<path>.keys`); without one, plaintext (callers warn).
    /// - An encrypted store needs its key: none, or a wrong one, is refused with one sentence
    ///   and nothing is changed.
    /// - A plaintext store opened with a key source is encrypted first: copied into a new
    ///   encrypted file, verified (integrity, schema version, row counts), swapped in, and only
    ///   then the plaintext file is shredded; its documents are sealed in place.
    pub fn open_with(path: &Path, source: KeySource) -> CoreResult<Self> {
        Self::open_inner(path, source, true)
    }

    /// `upgrade`: whether a plaintext file is encrypted here (never for a staged restore copy,
    /// whose documents are the live store's).
    fn open_inner(path: &Path, source: KeySource, upgrade: bool) -> CoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                CoreError::storage(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let lock = lock_file(path)?;
        // Shared: waits only while another program creates, upgrades or rekeys this store.
        share(&lock, path)?;
        let record = KeyRecord::load(path)?;
        let kind = file_kind(path)?;
        let ring = match (kind, &source) {
            (FileKind::Encrypted, _) => match &record {
                Some(rec) => Some(rec.unwrap(&source).map_err(|e| {
                    CoreError::storage(format!(
                        "cannot open the store {}: {}",
                        path.display(),
                        e.message
                    ))
                })?),
                // No SQLite header and no key record: a damaged file, or an encrypted one
                // whose record was lost. Either way only a backup helps.
                None => {
                    return Err(damaged(
                        path,
                        &format!(
                            "it is not a SQLite database, and no key record {} says it is encrypted; an encrypted store's record is saved beside every backup",
                            keys::record_path(path).display()
                        ),
                    ))
                }
            },
            (FileKind::Plain, KeySource::None) => None,
            (FileKind::Plain, _) if !upgrade => None,
            (FileKind::Plain, _) => {
                exclusive(&lock, path, "encrypt")?;
                let ring = Self::encrypt_plaintext(path, &dir, record, &source);
                share(&lock, path)?;
                Some(ring?)
            }
            // A key record without its database (moved or lost, or a creation that stopped
            // before the first commit): a key source that opens the record makes the database
            // anew under the same key, so the record, and every document or moved file sealed
            // with it, stays readable; anything else is refused and the record kept.
            (FileKind::New, _) if record.is_some() => {
                let rec = record.as_ref().expect("checked");
                match rec.unwrap(&source) {
                    Ok(ring) => Some(ring),
                    Err(e) => {
                        return Err(CoreError::storage(format!(
                            "{} belongs to an encrypted store but the database {} is missing ({}): put the database back, or restore it with `{RESTORE_ROUTE}`",
                            keys::record_path(path).display(),
                            path.display(),
                            e.message
                        )))
                    }
                }
            }
            (FileKind::New, KeySource::None) => None,
            (FileKind::New, _) => {
                exclusive(&lock, path, "create")?;
                let made = (|| {
                    // Checked again under the exclusive lock: another program may have just
                    // made it.
                    if file_kind(path)? != FileKind::New || KeyRecord::load(path)?.is_some() {
                        return Err(CoreError::conflict(format!(
                            "the store {} was just created by another program: open it again",
                            path.display()
                        )));
                    }
                    let ring = Keyring {
                        current: keys::DataKey::generate()?,
                        previous: vec![],
                    };
                    KeyRecord::wrap(&ring, &source)?.save(path)?;
                    // The file exists before the lock is shared again, so nobody else makes
                    // a second key for it.
                    drop(connect(path, Some(&ring.current), RW)?);
                    Ok(ring)
                })();
                share(&lock, path)?;
                Some(made?)
            }
        };
        let conn = Self::connect_any(path, ring.as_ref())?;
        // An original left by an interrupted upgrade or rekey: the encrypted file opened,
        // so it goes now (never when it is the live file itself).
        if ring.is_some() {
            for tag in ["plaintext", "rekey"] {
                let old = PathBuf::from(format!("{}.{tag}-old", path.display()));
                if old.exists() && !same_file(&old, path) {
                    keys::shred(&old)?;
                }
            }
        }
        let conn = Self::finish_open(conn, path)?;
        if ring.is_some() {
            // SQLCipher cannot decrypt in place, so memory-mapped reads are off: a larger page
            // cache keeps a million-row book's lookup indexes decrypted in memory instead.
            conn.pragma_update(None, "cache_size", ENCRYPTED_CACHE_KIB)
                .map_err(sql_err)?;
            // A checkpoint decrypts and re-encrypts every page it copies, inside whichever
            // step triggers it: fewer, larger checkpoints copy a hot page (the audit head, an
            // index root) once instead of several times (WAL up to ~16 MiB).
            conn.pragma_update(None, "wal_autocheckpoint", ENCRYPTED_AUTOCHECKPOINT)
                .map_err(sql_err)?;
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            dir,
            keys: Mutex::new(ring),
            source: Mutex::new(source),
            lock,
        })
    }

    /// Connect with the current key, or an earlier one of the ring (a `rekey --data-key`
    /// interrupted before the swap leaves the file under the earlier key).
    fn connect_any(path: &Path, ring: Option<&Keyring>) -> CoreResult<Connection> {
        let Some(ring) = ring else {
            return connect(path, None, RW);
        };
        let first = connect(path, Some(&ring.current), RW);
        match first {
            Ok(c) => Ok(c),
            Err(e) => {
                for k in &ring.previous {
                    if let Ok(c) = connect(path, Some(k), RW) {
                        return Ok(c);
                    }
                }
                Err(e)
            }
        }
    }

    /// Configure a connection and migrate the database.
    fn finish_open(mut conn: Connection, path: &Path) -> CoreResult<Connection> {
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sql_err)?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // 64 MiB page cache (default 2 MiB): at a million appointments the lookup indexes
            // stay in memory, and a 100k-row import does not spill dirty pages to the WAL
            // over and over (ARCHITECTURE.md, "Appointment lookup"). Encrypted, every page
            // read from the file is also decrypted: the cache saves that too.
            conn.pragma_update(None, "cache_size", CACHE_KIB)?;
            conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
            // Deleted and overwritten content is zeroed in the file, not left in free space:
            // a purge of personal data must not leave it readable on disk (PIPL Art. 47).
            conn.pragma_update(None, "secure_delete", "ON")?;
            Ok(())
        };
        setup().map_err(|e| damaged(path, &e.to_string()))?;
        // Every statement of the counter's paths stays parsed (rusqlite keeps 16 by default;
        // a step and its view use about 20 distinct statements).
        conn.set_prepared_statement_cache_capacity(64);
        migrate::migrate(&mut conn).map_err(|e| match e {
            migrate::MigrateError::Sql(e) => damaged(path, &e.to_string()),
            too_new => CoreError::storage(too_new.to_string()),
        })?;
        Ok(conn)
    }

    /// Encrypt a plaintext store in place (see [`open_with`](Self::open_with)). A key record
    /// left by an interrupted upgrade is reused, so documents it already sealed stay readable.
    fn encrypt_plaintext(
        path: &Path,
        dir: &Path,
        record: Option<KeyRecord>,
        source: &KeySource,
    ) -> CoreResult<Keyring> {
        let ring = match record.map(|r| r.unwrap(source)) {
            Some(Ok(ring)) => ring,
            // A record left by an interrupted upgrade under another key: documents may be
            // sealed with it already, so a new key would lose them.
            Some(Err(e)) => {
                return Err(CoreError::storage(format!(
                    "the store {} was being encrypted under another key and its key record {} does not open with {}: {}",
                    path.display(),
                    keys::record_path(path).display(),
                    source.describe(),
                    e.message
                )))
            }
            None => Keyring {
                current: keys::DataKey::generate()?,
                previous: vec![],
            },
        };
        // The record first: from here on every sealed document has its key on disk.
        KeyRecord::wrap(&ring, source)?.save(path)?;
        let staged = PathBuf::from(format!("{}.encrypting", path.display()));
        let before = {
            let plain = connect(path, None, RW)?;
            plain
                .busy_timeout(Duration::from_secs(10))
                .map_err(sql_err)?;
            checkpoint(&plain)?;
            let before = census(&plain)?;
            export_to(&plain, &staged, Some(&ring.current))?;
            before
        };
        {
            let enc = connect(&staged, Some(&ring.current), RW)?;
            let ok: String = enc
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .map_err(sql_err)?;
            if ok != "ok" || census(&enc)? != before {
                drop(enc);
                for p in sidecars(&staged) {
                    let _ = std::fs::remove_file(p);
                }
                return Err(CoreError::storage(format!(
                    "encrypting {} failed: the encrypted copy did not verify ({ok}); the plaintext store is unchanged",
                    path.display()
                )));
            }
        }
        seal_documents(dir, &ring)?;
        let old = swap_in(path, &staged, "plaintext")?;
        // Proven by opening it: the caller connects next. The original is shredded here
        // only after the encrypted file is in place; a crash before leaves the `-old` file,
        // which the next open shreds.
        connect(path, Some(&ring.current), RW)?;
        keys::shred(&old)?;
        tracing::info!(store = %path.display(), "the plaintext store was encrypted");
        Ok(ring)
    }

    /// Open the default database ([`default_db_path`]).
    pub fn open_default() -> CoreResult<Self> {
        Self::open(&default_db_path())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The data directory (documents are stored under `documents/` here).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half transaction: rusqlite rolls back
        // on drop. So a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `PRAGMA integrity_check` and `foreign_key_check`; `Ok` when both are clean. Run at
    /// start-up by the desktop app, which refuses to work on a damaged file.
    /// Errors: `storage` naming the first problem and the backup route ([`RESTORE_ROUTE`]);
    /// a file too damaged to answer the check gives the same error, never a panic.
    pub fn check_integrity(&self) -> CoreResult<()> {
        let conn = self.lock();
        let r: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| damaged(&self.path, &e.to_string()))?;
        if r != "ok" {
            return Err(damaged(&self.path, &r));
        }
        let fk: Option<String> = conn
            .query_row("PRAGMA foreign_key_check", [], |r| r.get::<_, String>(0))
            .map(Some)
            .or_else(|e| {
                if matches!(e, rusqlite::Error::QueryReturnedNoRows) {
                    Ok(None)
                } else {
                    Err(e)
                }
            })
            .map_err(|e| damaged(&self.path, &e.to_string()))?;
        if let Some(t) = fk {
            return Err(damaged(
                &self.path,
                &format!("foreign key violation in table {t}"),
            ));
        }
        Ok(())
    }

    /// [`open`](Self::open) then [`check_integrity`](Self::check_integrity): what a front end
    /// runs at start-up.
    pub fn open_checked(path: &Path) -> CoreResult<Self> {
        Self::open_checked_with(path, KeySource::from_env())
    }

    /// [`open_with`](Self::open_with) then [`check_integrity`](Self::check_integrity).
    pub fn open_checked_with(path: &Path, source: KeySource) -> CoreResult<Self> {
        let s = Self::open_with(path, source)?;
        s.check_integrity()?;
        Ok(s)
    }

    /// What the store at `path` needs before it can be opened, read from its first bytes and
    /// its key record (nothing is opened or changed).
    pub fn key_state(path: &Path) -> CoreResult<KeyState> {
        Ok(match (file_kind(path)?, KeyRecord::load(path)?) {
            (FileKind::Encrypted, Some(r)) if r.kek == "passphrase" => KeyState::Passphrase,
            (FileKind::Encrypted, _) => KeyState::KeyFile,
            (FileKind::Plain, _) => KeyState::Plaintext,
            (FileKind::New, _) => KeyState::New,
        })
    }

    /// Whether the store is encrypted (SQLCipher, sealed documents).
    pub fn is_encrypted(&self) -> bool {
        self.ring().is_some()
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Option<Keyring>> {
        self.keys.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Online backup (SQLite backup API) to `dest`, consistent even while in use. An encrypted
    /// store's backup is encrypted under the same data key, and the store's key record is
    /// written beside it as `<dest>.keys` (same key-encryption key): keep the two together; a
    /// backup cannot be read without both the record and the key file or passphrase.
    pub fn backup_to(&self, dest: &Path) -> CoreResult<()> {
        let conn = self.lock();
        let ring = self.ring();
        // Written under a temporary name, its record beside it, then both renamed: a backup
        // that fails half way never replaces a good one with an unreadable pair.
        let tmp = PathBuf::from(format!("{}.tmp-backup", dest.display()));
        for p in sidecars(&tmp) {
            let _ = std::fs::remove_file(p);
        }
        let result = (|| {
            let mut out = connect(&tmp, ring.as_ref().map(|r| &r.current), RW)?;
            {
                let b = rusqlite::backup::Backup::new(&conn, &mut out).map_err(sql_err)?;
                b.run_to_completion(256, Duration::from_millis(0), None)
                    .map_err(sql_err)?;
            }
            out.pragma_update(None, "journal_mode", "DELETE")
                .map_err(sql_err)?;
            drop(out);
            let io = |e: std::io::Error| {
                CoreError::storage(format!("cannot write the backup {}: {e}", dest.display()))
            };
            if ring.is_some() {
                // The store's own record (no second argon2 run under the locks).
                std::fs::copy(keys::record_path(&self.path), keys::record_path(&tmp))
                    .map_err(io)?;
                std::fs::rename(keys::record_path(&tmp), keys::record_path(dest)).map_err(io)?;
            } else {
                let _ = std::fs::remove_file(keys::record_path(dest));
            }
            std::fs::rename(&tmp, dest).map_err(io)
        })();
        if result.is_err() {
            for p in sidecars(&tmp) {
                let _ = std::fs::remove_file(p);
            }
        }
        result
    }

    /// Open a backup file read-only: encrypted when a key record lies beside it (unwrapped
    /// with `source`), plaintext otherwise. Errors: `storage` naming the backup.
    fn open_backup(src: &Path, source: &KeySource) -> CoreResult<(Connection, Option<Keyring>)> {
        let unreadable = |e: CoreError| {
            CoreError::storage(format!(
                "cannot read the backup {}: {}",
                src.display(),
                e.message
            ))
        };
        if !src.is_file() {
            return Err(CoreError::storage(format!(
                "cannot read the backup {}: no such file",
                src.display()
            )));
        }
        let ring = match (file_kind(src)?, KeyRecord::load(src)?) {
            (FileKind::Encrypted, Some(rec)) => match rec.unwrap(source) {
                Ok(ring) => Some(ring),
                // A backup taken before the key file changed: its record is under the old one.
                Err(e) => match std::env::var_os(BACKUP_KEY_FILE_ENV).filter(|v| !v.is_empty()) {
                    Some(old) => Some(
                        rec.unwrap(&KeySource::KeyFile(PathBuf::from(old)))
                            .map_err(unreadable)?,
                    ),
                    None => {
                        return Err(CoreError::storage(format!(
                            "cannot read the backup {}: {} (for a backup taken before the key file changed, set {BACKUP_KEY_FILE_ENV} to the key file of that time)",
                            src.display(),
                            e.message
                        )))
                    }
                },
            },
            (FileKind::Encrypted, None) => {
                return Err(CoreError::storage(format!(
                    "the backup {} is encrypted but its key record {} is not beside it",
                    src.display(),
                    keys::record_path(src).display()
                )))
            }
            _ => None,
        };
        let conn = connect(
            src,
            ring.as_ref().map(|r| &r.current),
            OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .map_err(unreadable)?;
        Ok((conn, ring))
    }

    /// Restore over a database that cannot be used (damaged, or not even openable): copy the
    /// backup at `src` to `<dest>.restoring` with the online backup API (the backup file is
    /// never written), and check the copy (integrity, schema, audit chain). The caller
    /// authenticates and records the restore in the copy ([`StagedRestore::path`]), closes
    /// it, then calls [`StagedRestore::commit`] to put it in place. Errors: `storage` when
    /// the backup is unusable (`dest` is left untouched).
    pub fn stage_restore(src: &Path, dest: &Path) -> CoreResult<StagedRestore> {
        let staging = PathBuf::from(format!("{}.restoring", dest.display()));
        for p in sidecars(&staging) {
            let _ = std::fs::remove_file(p);
        }
        let source = KeySource::from_env();
        // The live store's documents are sealed with its keys: the restored copy keeps them,
        // and a record that does not open stops the restore before anything is replaced.
        let dest_ring = match KeyRecord::load(dest)? {
            Some(rec) => Some(rec.unwrap(&source).map_err(|e| {
                CoreError::storage(format!(
                    "cannot restore over {}: its key record {} does not open with {} ({}); nothing was changed",
                    dest.display(),
                    keys::record_path(dest).display(),
                    source.describe(),
                    e.message
                ))
            })?),
            None => None,
        };
        {
            let (src_conn, src_ring) = Self::open_backup(src, &source)?;
            let target = dest_ring.or_else(|| src_ring.clone());
            if let Some(t) = &target {
                KeyRecord::wrap(t, &source)?.save(&staging)?;
            }
            let same_key = match (&target, &src_ring) {
                (Some(t), Some(b)) => t.current.id == b.current.id,
                (None, None) => true,
                _ => false,
            };
            if same_key {
                let mut out = connect(&staging, target.as_ref().map(|r| &r.current), RW)?;
                let b = rusqlite::backup::Backup::new(&src_conn, &mut out).map_err(sql_err)?;
                b.run_to_completion(256, Duration::from_millis(0), None)
                    .map_err(|e| {
                        CoreError::storage(format!("cannot read the backup {}: {e}", src.display()))
                    })?;
            } else {
                drop(src_conn);
                convert_copy(
                    src,
                    src_ring.as_ref().map(|r| &r.current),
                    &staging,
                    target.as_ref().map(|r| &r.current),
                )?;
            }
        }
        let staged_source = if KeyRecord::load(&staging)?.is_some() {
            source
        } else {
            KeySource::None
        };
        let checked = SqliteStore::open_inner(&staging, staged_source, false)
            .and_then(|s| s.check_integrity().map(|_| s))
            .and_then(|s| {
                let v = s.verify_audit()?;
                if v.ok {
                    Ok(s)
                } else {
                    Err(CoreError::storage(format!(
                        "the backup's audit trail is broken at event {}: refusing to restore it",
                        v.broken_at.unwrap_or(0)
                    )))
                }
            });
        match checked {
            Ok(_checked) => Ok(StagedRestore {
                staging,
                dest: dest.to_path_buf(),
            }),
            Err(e) => {
                for p in sidecars(&staging) {
                    let _ = std::fs::remove_file(p);
                }
                let _ = std::fs::remove_file(format!("{}.lock", staging.display()));
                Err(e)
            }
        }
    }

    /// Replace this store's content with the backup at `src` (checked first: integrity,
    /// schema version not newer, audit chain verifies). An encrypted backup is read with its
    /// key record (`<src>.keys`, same key source as the store); a backup under another data key
    /// or in plaintext is first copied under this store's key, so the store keeps its key.
    pub fn restore_from(&self, src: &Path) -> CoreResult<()> {
        let source = self
            .source
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (src_conn, src_ring) = Self::open_backup(src, &source)?;
        {
            let ok: String = src_conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .map_err(|e| damaged(src, &e.to_string()))?;
            if ok != "ok" {
                return Err(damaged(src, &ok));
            }
            let v = audit::verify(&src_conn).map_err(|e| damaged(src, &e.to_string()))?;
            if !v.ok {
                return Err(CoreError::storage(format!(
                    "the backup's audit trail is broken at event {}: refusing to restore it",
                    v.broken_at.unwrap_or(0)
                )));
            }
            let found: i64 = src_conn
                .query_row("PRAGMA user_version", [], |r| r.get(0))
                .map_err(sql_err)?;
            if found > SCHEMA_VERSION {
                return Err(CoreError::storage(format!(
                    "the backup {} has schema version {found}, newer than this program ({SCHEMA_VERSION})",
                    src.display()
                )));
            }
        }
        // A copy, so the key lock is not held while waiting for the connection (transactions
        // take them the other way round).
        let ring = self.ring().clone();
        let same_key = match (ring.as_ref(), src_ring.as_ref()) {
            (Some(a), Some(b)) => a.current.id == b.current.id,
            (None, None) => true,
            _ => false,
        };
        // The backup API copies pages as they are: it needs both sides under one key.
        let from = if same_key {
            src_conn
        } else {
            drop(src_conn);
            let tmp = PathBuf::from(format!("{}.restore-convert", self.path.display()));
            let dest_key = ring.as_ref().map(|r| &r.current);
            convert_copy(src, src_ring.as_ref().map(|r| &r.current), &tmp, dest_key)?;
            connect(&tmp, dest_key, OpenFlags::SQLITE_OPEN_READ_ONLY)?
        };
        let mut conn = self.lock();
        let res = {
            let b = rusqlite::backup::Backup::new(&from, &mut conn).map_err(sql_err)?;
            b.run_to_completion(256, Duration::from_millis(0), None)
                .map_err(sql_err)
        };
        drop(from);
        if !same_key {
            for p in sidecars(&PathBuf::from(format!(
                "{}.restore-convert",
                self.path.display()
            ))) {
                let _ = keys::shred(&p);
            }
        }
        res
    }

    /// Change the key-encryption key: the data keys are wrapped again under `new` and the key
    /// record replaced atomically. The database and documents are not rewritten. Backups taken
    /// before keep their own records under the old key. Errors: `storage` when the store is not
    /// encrypted or `new` cannot be read.
    pub fn rekey_kek(&self, new: KeySource) -> CoreResult<()> {
        let ring = self.ring();
        let Some(r) = ring.as_ref() else {
            return Err(CoreError::storage(
                "the store is not encrypted: open it once with UNLOCKDESK_KEY_FILE set to encrypt it",
            ));
        };
        let rec = KeyRecord::wrap(r, &new)?;
        // Prove the new record opens before it replaces the old one.
        rec.unwrap(&new)?;
        rec.save(&self.path)?;
        // Later backups and a data-key rekey wrap under the new key file too.
        *self.source.lock().unwrap_or_else(|p| p.into_inner()) = new;
        Ok(())
    }

    /// Re-encrypt the whole store under a fresh data key: the database is copied under the
    /// new key, verified and swapped in (the old file shredded), then every document is sealed
    /// again. The record holds the old key as well until the documents are done, so a crash at
    /// any point leaves a store that opens. Returns the new key id. Every other program on the
    /// store must be closed (`storage` otherwise).
    pub fn rekey_data_key(&self) -> CoreResult<String> {
        let mut conn = self.lock();
        let mut ring = self.ring();
        let Some(old) = ring.clone() else {
            return Err(CoreError::storage(
                "the store is not encrypted: open it once with UNLOCKDESK_KEY_FILE set to encrypt it",
            ));
        };
        // Nobody else may have the file open while it is swapped.
        exclusive(&self.lock, &self.path, "re-encrypt")?;
        let source = self
            .source
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let result = self.rekey_locked(&mut conn, &mut ring, &old, &source);
        let _ = share(&self.lock, &self.path);
        result
    }

    fn rekey_locked(
        &self,
        conn: &mut Connection,
        ring: &mut Option<Keyring>,
        old: &Keyring,
        source: &KeySource,
    ) -> CoreResult<String> {
        let new = Keyring {
            current: keys::DataKey::generate()?,
            previous: std::iter::once(old.current.clone())
                .chain(old.previous.iter().cloned())
                .collect(),
        };
        KeyRecord::wrap(&new, source)?.save(&self.path)?;
        checkpoint(conn)?;
        let before = census(conn)?;
        let staged = PathBuf::from(format!("{}.rekeying", self.path.display()));
        export_to(conn, &staged, Some(&new.current))?;
        {
            let c = connect(&staged, Some(&new.current), RW)?;
            if census(&c)? != before {
                drop(c);
                for p in sidecars(&staged) {
                    let _ = std::fs::remove_file(p);
                }
                return Err(CoreError::storage(
                    "the re-encrypted copy did not verify; the store is unchanged",
                ));
            }
        }
        let placeholder = Connection::open_in_memory().map_err(sql_err)?;
        drop(std::mem::replace(conn, placeholder));
        let swapped = swap_in(&self.path, &staged, "rekey").and_then(|old_file| {
            let fresh =
                Self::finish_open(connect(&self.path, Some(&new.current), RW)?, &self.path)?;
            Ok((old_file, fresh))
        });
        let old_file = match swapped {
            Ok((old_file, fresh)) => {
                *conn = fresh;
                *ring = Some(new.clone());
                old_file
            }
            Err(e) => {
                // Back on whichever file is in place (the ring holds both keys), never left on
                // the empty placeholder (it stays only if even that fails, and says so).
                match Self::connect_any(&self.path, Some(&new))
                    .and_then(|c| Self::finish_open(c, &self.path))
                {
                    Ok(c) => {
                        *conn = c;
                        *ring = Some(new.clone());
                    }
                    Err(again) => {
                        return Err(CoreError::storage(format!(
                            "{}; reopening the store failed too ({}): restart the program",
                            e.message, again.message
                        )))
                    }
                }
                return Err(e);
            }
        };
        for (name, value) in [
            ("cache_size", ENCRYPTED_CACHE_KIB),
            ("wal_autocheckpoint", ENCRYPTED_AUTOCHECKPOINT),
        ] {
            conn.pragma_update(None, name, value).map_err(sql_err)?;
        }
        keys::shred(&old_file)?;
        // Documents: sealed again under the new key, one by one, each atomically.
        walk_documents(&self.dir, &mut |abs, rel| {
            if is_leftover(rel) {
                let _ = std::fs::remove_file(abs);
                return Ok(());
            }
            let bytes = std::fs::read(abs)
                .map_err(|e| CoreError::storage(format!("cannot read {}: {e}", abs.display())))?;
            let plain = if keys::is_sealed_document(&bytes) {
                keys::open_document(&new, rel, &bytes)?
            } else {
                bytes
            };
            let sealed = keys::seal_document(&new.current, rel, &plain)?;
            replace_file(abs, &sealed, "rekey")
        })?;
        let done = Keyring {
            current: new.current.clone(),
            previous: vec![],
        };
        KeyRecord::wrap(&done, source)?.save(&self.path)?;
        *ring = Some(done);
        Ok(new.current.id.clone())
    }
}

/// A file a crash left beside the documents (a partial write, or an original kept until its
/// replacement was in place), never a document itself.
fn is_leftover(rel: &str) -> bool {
    rel.contains(".tmp-") || rel.ends_with("-old")
}

impl Store for SqliteStore {
    fn transact<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>) -> CoreResult<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let ring = self.ring();
        let mut t = tx::Tx {
            tx: &tx,
            dir: &self.dir,
            keys: ring.as_ref(),
        };
        let out = f(&mut t)?;
        tx.commit().map_err(sql_err)?;
        Ok(out)
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> CoreResult<T>) -> CoreResult<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(sql_err)?;
        let ring = self.ring();
        let mut t = tx::Tx {
            tx: &tx,
            dir: &self.dir,
            keys: ring.as_ref(),
        };
        let out = f(&mut t);
        // Reads never write; dropping rolls back.
        drop(tx);
        out
    }

    fn verify_audit(&self) -> CoreResult<AuditVerification> {
        let conn = self.lock();
        audit::verify(&conn).map_err(sql_err)
    }

    fn backup_to(&self, dest: &Path) -> CoreResult<()> {
        SqliteStore::backup_to(self, dest)
    }

    fn restore_from(&self, src: &Path) -> CoreResult<()> {
        SqliteStore::restore_from(self, src)
    }

    /// The purged cases' document folders are removed, then the write-ahead log is
    /// checkpointed and truncated: its frames may still hold the rows as they were before.
    fn after_purge(&self, case_ids: &[unlockdesk_core::CaseId]) -> CoreResult<()> {
        for id in case_ids {
            let dir = self.dir.join("documents").join(id.to_string());
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(CoreError::storage(format!(
                        "cannot remove {}: {e}",
                        dir.display()
                    )))
                }
            }
        }
        checkpoint(&self.lock())
    }
}

/// Whether two paths name one file (a hard link): shredding one would destroy the other.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        a == b
    }
}

/// Seal every plaintext document under `dir/documents` with the ring's current key, each
/// atomically (sealed copy written and synced, swapped in, the original shredded).
/// Idempotent: sealed files are left alone, and originals a crash left are shredded.
fn seal_documents(dir: &Path, ring: &Keyring) -> CoreResult<()> {
    walk_documents(dir, &mut |abs, rel| {
        if rel.contains(".tmp-") {
            let _ = std::fs::remove_file(abs);
            return Ok(());
        }
        if rel.ends_with("-old") {
            let live = PathBuf::from(
                abs.display()
                    .to_string()
                    .trim_end_matches(".plain-old")
                    .trim_end_matches(".rekey-old"),
            );
            if live.exists() && !same_file(abs, &live) {
                keys::shred(abs)?;
            }
            return Ok(());
        }
        let bytes = std::fs::read(abs)
            .map_err(|e| CoreError::storage(format!("cannot read {}: {e}", abs.display())))?;
        if keys::is_sealed_document(&bytes) {
            return Ok(());
        }
        let sealed = keys::seal_document(&ring.current, rel, &bytes)?;
        replace_file(abs, &sealed, "plain")
    })
}

/// Write `bytes` over `abs` atomically and shred what was there (kept as `<abs>.<tag>-old`
/// until the new content is in place).
fn replace_file(abs: &Path, bytes: &[u8], tag: &str) -> CoreResult<()> {
    let old = PathBuf::from(format!("{}.{tag}-old", abs.display()));
    let _ = std::fs::remove_file(&old);
    std::fs::hard_link(abs, &old)
        .map_err(|e| CoreError::storage(format!("cannot replace {}: {e}", abs.display())))?;
    keys::write_atomic(abs, bytes)?;
    keys::shred(&old)
}

/// Call `f(absolute path, path relative to dir with '/')` for every file under
/// `dir/documents`.
fn walk_documents(dir: &Path, f: &mut dyn FnMut(&Path, &str) -> CoreResult<()>) -> CoreResult<()> {
    fn walk(
        root: &Path,
        at: &Path,
        f: &mut dyn FnMut(&Path, &str) -> CoreResult<()>,
    ) -> CoreResult<()> {
        let rd = match std::fs::read_dir(at) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(CoreError::storage(format!(
                    "cannot list {}: {e}",
                    at.display()
                )))
            }
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, f)?;
            } else if p.is_file() {
                let rel = p
                    .strip_prefix(root)
                    .unwrap_or(&p)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                f(&p, &rel)?;
            }
        }
        Ok(())
    }
    walk(dir, &dir.join("documents"), f)
}

/// Take the shared lock; a file system without advisory locks (NFS mounted without them) is
/// warned about and worked on unlocked, as before the lock existed.
fn share(lock: &std::fs::File, path: &Path) -> CoreResult<()> {
    match lock.lock_shared() {
        Ok(()) => Ok(()),
        Err(e) if unsupported(&e) => {
            tracing::warn!(store = %path.display(), error = %e, "advisory locks are not supported here: the store is opened unlocked");
            Ok(())
        }
        Err(e) => Err(CoreError::storage(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// Take the exclusive lock without waiting. Errors: `conflict` naming what could not be done
/// while another program has the store open (the shared lock is taken again first).
fn exclusive(lock: &std::fs::File, path: &Path, what: &str) -> CoreResult<()> {
    match lock.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::Error(e)) if unsupported(&e) => Ok(()),
        Err(_) => {
            // Linux drops the shared lock when a conversion fails: take it back.
            let _ = share(lock, path);
            Err(CoreError::conflict(format!(
                "cannot {what} {}: another program has it open; close every UnlockDesk window, server and command on it, then try again",
                path.display()
            )))
        }
    }
}

fn unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported || e.raw_os_error() == Some(37 /* ENOLCK */)
}

/// `<db>.lock`, opened (created) for advisory locking.
fn lock_file(db: &Path) -> CoreResult<std::fs::File> {
    let p = PathBuf::from(format!("{}.lock", db.display()));
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .map_err(|e| CoreError::storage(format!("cannot open {}: {e}", p.display())))
}

/// The database file and its WAL and shared-memory files.
fn sidecars(db: &Path) -> [PathBuf; 4] {
    [
        db.to_path_buf(),
        PathBuf::from(format!("{}-wal", db.display())),
        PathBuf::from(format!("{}-shm", db.display())),
        keys::record_path(db),
    ]
}

/// A checked copy of a backup, waiting to replace a damaged database
/// ([`SqliteStore::stage_restore`]).
#[derive(Debug)]
pub struct StagedRestore {
    staging: PathBuf,
    dest: PathBuf,
}

impl StagedRestore {
    /// The checked copy (`<dest>.restoring`), to authenticate against and record the restore in.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Open the checked copy (as it was checked: never encrypted here, since its documents
    /// are the live store's and a new key for them would live only beside the copy).
    pub fn open(&self) -> CoreResult<SqliteStore> {
        let source = if KeyRecord::load(&self.staging)?.is_some() {
            KeySource::from_env()
        } else {
            KeySource::None
        };
        SqliteStore::open_inner(&self.staging, source, false)
    }

    /// Move the damaged database (and its WAL) aside to `<dest>.damaged-<UTC time>` — kept for
    /// investigation, never deleted — and put the restored copy in its place. Every store
    /// opened on the copy must be closed first. Returns where the damaged file went (`None`
    /// when there was none).
    pub fn commit(self) -> CoreResult<Option<PathBuf>> {
        let StagedRestore { staging, dest } = self;
        let io = |e: std::io::Error, what: &Path| {
            CoreError::storage(format!("cannot move {}: {e}", what.display()))
        };
        // Not while another program has the store open: it would go on writing to the file
        // moved aside.
        let lock = lock_file(&dest)?;
        exclusive(&lock, &dest, "replace")?;
        let (from, to) = (sidecars(&staging), sidecars(&dest));
        let aside = if dest.exists() {
            let aside = PathBuf::from(format!(
                "{}.damaged-{}",
                dest.display(),
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            let kept = sidecars(&aside);
            // The record is copied aside (the damaged file stays readable) and replaced in one
            // rename below: there is never a moment with a database and no record.
            if to[3].exists() {
                std::fs::copy(&to[3], &kept[3]).map_err(|e| io(e, &to[3]))?;
            }
            if from[3].exists() {
                std::fs::rename(&from[3], &to[3]).map_err(|e| io(e, &from[3]))?;
            }
            for i in 0..3 {
                if to[i].exists() {
                    std::fs::rename(&to[i], &kept[i]).map_err(|e| io(e, &to[i]))?;
                }
            }
            Some(aside)
        } else {
            if from[3].exists() {
                std::fs::rename(&from[3], &to[3]).map_err(|e| io(e, &from[3]))?;
            }
            None
        };
        for i in 0..3 {
            if from[i].exists() {
                std::fs::rename(&from[i], &to[i]).map_err(|e| io(e, &from[i]))?;
            }
        }
        if let Some(d) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(d) = std::fs::File::open(d) {
                let _ = d.sync_all();
            }
        }
        let _ = std::fs::remove_file(format!("{}.lock", staging.display()));
        Ok(aside)
    }
}
