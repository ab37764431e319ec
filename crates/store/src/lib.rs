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
pub mod migrate;
mod retention;
mod sessions;
mod staff;
mod tx;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
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
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
    dir: PathBuf,
}

impl SqliteStore {
    /// Open (creating if needed) the database at `path`, configure it and migrate.
    /// Errors: `storage` for an unreadable/corrupt file or a schema newer than this binary.
    pub fn open(path: &Path) -> CoreResult<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                CoreError::storage(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| CoreError::storage(format!("cannot open {}: {e}", path.display())))?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(sql_err)?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.pragma_update(None, "foreign_keys", "ON")?;
            // 64 MiB page cache (default 2 MiB): at a million appointments the lookup indexes
            // stay in memory, and a 100k-row import does not spill dirty pages to the WAL
            // over and over (ARCHITECTURE.md, "Appointment lookup").
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
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            dir,
        })
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
        let s = Self::open(path)?;
        s.check_integrity()?;
        Ok(s)
    }

    /// Online backup (SQLite backup API) to `dest`, consistent even while in use.
    pub fn backup_to(&self, dest: &Path) -> CoreResult<()> {
        let conn = self.lock();
        let mut out = Connection::open(dest).map_err(sql_err)?;
        {
            let b = rusqlite::backup::Backup::new(&conn, &mut out).map_err(sql_err)?;
            b.run_to_completion(256, Duration::from_millis(0), None)
                .map_err(sql_err)?;
        }
        out.pragma_update(None, "journal_mode", "DELETE")
            .map_err(sql_err)?;
        Ok(())
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
        {
            let src_conn = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| {
                    CoreError::storage(format!("cannot read the backup {}: {e}", src.display()))
                })?;
            let mut out = Connection::open(&staging).map_err(sql_err)?;
            let b = rusqlite::backup::Backup::new(&src_conn, &mut out).map_err(sql_err)?;
            b.run_to_completion(256, Duration::from_millis(0), None)
                .map_err(|e| {
                    CoreError::storage(format!("cannot read the backup {}: {e}", src.display()))
                })?;
        }
        let checked = SqliteStore::open_checked(&staging).and_then(|s| {
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
                Err(e)
            }
        }
    }

    /// Replace this store's content with the backup at `src` (checked first: integrity,
    /// schema version not newer, audit chain verifies).
    pub fn restore_from(&self, src: &Path) -> CoreResult<()> {
        {
            let probe = SqliteStore::open(src)?;
            probe.check_integrity()?;
            let v = probe.verify_audit()?;
            if !v.ok {
                return Err(CoreError::storage(format!(
                    "the backup's audit trail is broken at event {}: refusing to restore it",
                    v.broken_at.unwrap_or(0)
                )));
            }
        }
        let src_conn =
            Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql_err)?;
        let mut conn = self.lock();
        let b = rusqlite::backup::Backup::new(&src_conn, &mut conn).map_err(sql_err)?;
        b.run_to_completion(256, Duration::from_millis(0), None)
            .map_err(sql_err)?;
        Ok(())
    }
}

impl Store for SqliteStore {
    fn transact<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>) -> CoreResult<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err)?;
        let mut t = tx::Tx {
            tx: &tx,
            dir: &self.dir,
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
        let mut t = tx::Tx {
            tx: &tx,
            dir: &self.dir,
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
        let conn = self.lock();
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(sql_err)?;
        if busy != 0 {
            return Err(CoreError::storage(
                "another process holds the database open: the write-ahead log could not be truncated yet",
            ));
        }
        Ok(())
    }
}

/// The database file and its WAL and shared-memory files.
fn sidecars(db: &Path) -> [PathBuf; 3] {
    [
        db.to_path_buf(),
        PathBuf::from(format!("{}-wal", db.display())),
        PathBuf::from(format!("{}-shm", db.display())),
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

    /// Move the damaged database (and its WAL) aside to `<dest>.damaged-<UTC time>` — kept for
    /// investigation, never deleted — and put the restored copy in its place. Every store
    /// opened on the copy must be closed first. Returns where the damaged file went (`None`
    /// when there was none).
    pub fn commit(self) -> CoreResult<Option<PathBuf>> {
        let StagedRestore { staging, dest } = self;
        let io = |e: std::io::Error, what: &Path| {
            CoreError::storage(format!("cannot move {}: {e}", what.display()))
        };
        let aside = if dest.exists() {
            let aside = PathBuf::from(format!(
                "{}.damaged-{}",
                dest.display(),
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            for (from, to) in sidecars(&dest).iter().zip(sidecars(&aside).iter()) {
                if from.exists() {
                    std::fs::rename(from, to).map_err(|e| io(e, from))?;
                }
            }
            Some(aside)
        } else {
            None
        };
        for (from, to) in sidecars(&staging).iter().zip(sidecars(&dest).iter()) {
            if from.exists() {
                std::fs::rename(from, to).map_err(|e| io(e, from))?;
            }
        }
        Ok(aside)
    }
}
