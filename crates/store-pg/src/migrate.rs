//! The transactional migration runner for PostgreSQL.
//!
//! All pending migrations and the bookkeeping (`unlockdesk_schema`, one row) commit in **one**
//! transaction (PostgreSQL's DDL is transactional), so a crash leaves the old schema or the new
//! one, never half. A database whose version is newer than this binary knows is refused and
//! left unchanged (the version fence, as in the embedded store). Concurrent first opens are
//! serialised by a transaction-scoped advisory lock. Released migrations are never edited: add
//! a new file.

use postgres::Client;

/// The migrations, in order; index + 1 is the schema version they produce.
pub const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_application_role.sql"),
    include_str!("../migrations/0003_name_prefix_indexes.sql"),
    include_str!("../migrations/0004_case_browser.sql"),
    include_str!("../migrations/0005_server_sessions.sql"),
    include_str!("../migrations/0006_audit_notify.sql"),
    include_str!("../migrations/0007_retention.sql"),
    include_str!("../migrations/0008_field_encryption.sql"),
    include_str!("../migrations/0009_outbox.sql"),
];

/// The restricted role every connection of the store `SET ROLE`s to after migrating: it may
/// read and write the tables, but only read and append the audit trail (issue 13 item 2).
/// Created by migration 0002; cluster-wide, so shared by every UnlockDesk database of a cluster.
pub const APP_ROLE: &str = "unlockdesk_app";

/// The application role's rights, granted again after every migration run (inside its
/// transaction) so a table added by a later migration is covered; the audit trail is
/// SELECT and INSERT only, the schema's bookkeeping read-only, and the branch server's
/// sessions, terminals and enrolment codes (0005) SELECT, INSERT and UPDATE: they end by a
/// time set on the row, never by deleting it; so do legal holds (released) and the
/// destruction register (0007), which is permanent. The branch key record (0008) is the schema
/// owner's: the application role reads it only.
const APP_GRANTS: &str = "
    GRANT USAGE ON SCHEMA public TO unlockdesk_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO unlockdesk_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM unlockdesk_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON unlockdesk_schema FROM unlockdesk_app;
    REVOKE DELETE, TRUNCATE ON audit_head FROM unlockdesk_app;
    REVOKE DELETE, TRUNCATE ON server_sessions, terminals, enrolment_codes FROM unlockdesk_app;
    REVOKE DELETE, TRUNCATE ON legal_holds, purge_batches FROM unlockdesk_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON key_record FROM unlockdesk_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO unlockdesk_app;
";

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The advisory lock key of the migration runner (per database): "UDMIGRATE" in ASCII.
const MIGRATION_LOCK: i64 = 0x5544_4d49_4752_4154;

/// Why migrating failed.
#[derive(Debug)]
pub enum MigrateError {
    /// The database was migrated by a newer UnlockDesk.
    TooNew {
        found: i64,
        known: i64,
    },
    Sql(postgres::Error),
}

impl std::fmt::Display for MigrateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MigrateError::TooNew { found, known } => write!(
                f,
                "the database has schema version {found}, newer than this UnlockDesk knows ({known}); use the newer version of UnlockDesk"
            ),
            MigrateError::Sql(e)
                if e.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
                    && crate::describe(e).contains("role") =>
            {
                write!(
                    f,
                    "the database user may not create the application role {APP_ROLE} ({}): \
                     as a superuser, run CREATE ROLE {APP_ROLE} NOLOGIN NOINHERIT; GRANT \
                     {APP_ROLE} TO the user in the URL; then start again",
                    crate::describe(e)
                )
            }
            MigrateError::Sql(e) => write!(f, "migration failed: {}", crate::describe(e)),
        }
    }
}
impl std::error::Error for MigrateError {}

impl From<postgres::Error> for MigrateError {
    fn from(e: postgres::Error) -> Self {
        MigrateError::Sql(e)
    }
}

/// The schema version of the database `client` is connected to (0: never migrated).
pub fn schema_version(client: &mut Client) -> Result<i64, postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('unlockdesk_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let v = client.query_opt("SELECT version FROM unlockdesk_schema WHERE id = 1", &[])?;
    Ok(v.map(|r| i64::from(r.get::<_, i32>(0))).unwrap_or(0))
}

/// Bring the database to [`SCHEMA_VERSION`]. Returns the version found before migrating.
pub fn migrate(client: &mut Client) -> Result<i64, MigrateError> {
    // Most opens find the schema current: answer that without taking a lock.
    let found = schema_version(client)?;
    if found == SCHEMA_VERSION {
        return Ok(found);
    }
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS unlockdesk_schema (
             id      integer PRIMARY KEY CHECK (id = 1),
             version integer NOT NULL
         )",
    )?;
    let found: i64 = tx
        .query_opt("SELECT version FROM unlockdesk_schema WHERE id = 1", &[])?
        .map(|r| i64::from(r.get::<_, i32>(0)))
        .unwrap_or(0);
    if found > SCHEMA_VERSION {
        // Dropping `tx` rolls back: the database is left exactly as it was.
        return Err(MigrateError::TooNew {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for sql in MIGRATIONS.iter().skip(found as usize) {
        tx.batch_execute(sql)?;
    }
    tx.batch_execute(APP_GRANTS)?;
    tx.execute(
        "INSERT INTO unlockdesk_schema (id, version) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version",
        &[&(SCHEMA_VERSION as i32)],
    )?;
    tx.commit()?;
    Ok(found)
}
