//! A tiny transactional migration runner.
//!
//! All pending migrations and the bookkeeping (`PRAGMA user_version`, which lives in the
//! database header and is transactional) commit in **one** `BEGIN IMMEDIATE` transaction, so
//! a crash leaves the old schema or the new one, never half. A database whose version is newer
//! than this binary knows refuses to open (the version fence). Released migrations are never
//! edited: add a new file.

use rusqlite::{Connection, TransactionBehavior};

/// The migrations, in order; index + 1 is the schema version they produce.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_appointment_lookup.sql"),
    include_str!("../migrations/0003_idempotency_and_case_day.sql"),
    include_str!("../migrations/0004_appointment_covering_tails.sql"),
    include_str!("../migrations/0005_case_state_refused_identity.sql"),
    include_str!("../migrations/0006_case_browser.sql"),
    include_str!("../migrations/0007_server_sessions.sql"),
    include_str!("../migrations/0008_retention.sql"),
    include_str!("../migrations/0009_outbox.sql"),
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Why migrating failed.
#[derive(Debug)]
pub enum MigrateError {
    /// The file was written by a newer UnlockDesk.
    TooNew {
        found: i64,
        known: i64,
    },
    Sql(rusqlite::Error),
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateError::TooNew { found, known } => write!(
                f,
                "the database has schema version {found}, newer than this UnlockDesk knows ({known}); use the newer version of UnlockDesk"
            ),
            MigrateError::Sql(e) => write!(f, "migration failed: {e}"),
        }
    }
}
impl std::error::Error for MigrateError {}

impl From<rusqlite::Error> for MigrateError {
    fn from(e: rusqlite::Error) -> Self {
        MigrateError::Sql(e)
    }
}

/// Bring `conn` to [`SCHEMA_VERSION`]. Returns the version found before migrating.
pub fn migrate(conn: &mut Connection) -> Result<i64, MigrateError> {
    // A migration that rebuilds a table (0005) drops the parent of foreign keys: SQLite's
    // procedure is foreign keys off (a no-op inside a transaction, so set here), the rebuild,
    // then `foreign_key_check` before commit. They are back on before anything else runs.
    let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = migrate_in_tx(conn);
    conn.pragma_update(None, "foreign_keys", if fk == 1 { "ON" } else { "OFF" })?;
    result
}

fn migrate_in_tx(conn: &mut Connection) -> Result<i64, MigrateError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(MigrateError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    let broken: i64 = tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
        r.get(0)
    })?;
    if broken > 0 {
        return Err(MigrateError::Sql(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!("{broken} rows break a foreign key after migrating")),
        )));
    }
    tx.commit()?;
    Ok(found)
}
