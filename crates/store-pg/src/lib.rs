//! # unlockdesk-store-pg
//!
//! The PostgreSQL adapter of the core's [`Store`] port, for a branch whose counters share one
//! database (issue 13). The sync `postgres` driver (the ports are synchronous) with a small
//! connection pool of its own ([`pool`]), transactional migrations with the same version
//! fence as the embedded store ([`migrate`]), and the same hash-chained audit trail
//! ([`audit`]), hashed by `unlockdesk_store::audit::event_hash` so a chain copied from SQLite
//! verifies here.
//!
//! ## Transactions and locks
//!
//! [`Store::transact`] runs at READ COMMITTED and, before the closure runs, locks the audit
//! chain's head row (`SELECT … FROM audit_head … FOR UPDATE`). Write transactions are thus
//! serialised, as SQLite's `BEGIN IMMEDIATE` serialises them for the embedded store: the use
//! cases read and then write inside one transaction (a sign-in's failed-login count, the
//! importer's new/known split, an idempotency key checked then remembered) and were written for
//! that. Every append then chains after the true head, so concurrent writers never fork the
//! chain, and since every writer takes that lock before it writes or locks any row, writers
//! never deadlock each other. `update_case` still checks the version (`UPDATE … WHERE id = $1
//! AND version = $2`; no row: `conflict`), for a case read in an earlier transaction.
//! [`Store::read`] runs in a REPEATABLE READ, READ ONLY snapshot and takes no lock.
//!
//! [`Store::transact_optimistic`] (a case step, whose reads are checked once it writes: the
//! case's version by `update_case`, the account and the branch read again by the service)
//! takes the same lock at its first statement that writes or locks rows instead of at `BEGIN`:
//! its reads (the actor's account, the idempotency key, the case, the branch) no longer hold
//! the other writers up, and since the lock still comes before any row lock, writers still
//! never deadlock. A step that read a case another writer changed in the meantime fails its
//! version check; the service runs it again serialised.
//!
//! ## Retries
//!
//! The port's closure is `FnOnce` and the service's closures are not safe to run twice (the
//! importer counts into its report as it goes), so the store never replays a transaction (the
//! service runs a case step again itself, above). What is retried, a bounded number of times
//! ([`MAX_ATTEMPTS`]), is what happens before the closure runs: taking a connection (a dropped
//! one is replaced: the store reconnects by itself), `BEGIN` and the head lock (an optimistic
//! transaction's lock is inside its closure, so not retried here), on a lost connection or
//! SQLSTATE 40001/40P01. With the lock
//! order above, 40001 (impossible at READ COMMITTED for these statements) and 40P01 can only
//! come from outside the store (an administrator's session); inside the closure or at commit
//! they are reported as `conflict` ("nothing was recorded; try again").
//!
//! ## Connections
//!
//! Plain connections only to this machine (localhost, 127.0.0.0/8, ::1, a Unix socket); any
//! other host needs `sslmode=require` or stricter, done with rustls ([`tls`], which also reads
//! `sslrootcert` and libpq's `verify-ca` / `verify-full`). Every pooled connection acts as the
//! restricted role [`migrate::APP_ROLE`] after the migrations.

mod appointments;
pub mod audit;
mod branch;
mod cases;
mod codec;
mod copy;
mod documents;
pub mod fields;
mod idempotency;
pub mod migrate;
mod outbox;
mod pool;
mod retention;
mod sessions;
mod staff;
pub mod tls;
mod tx;

use std::collections::HashMap;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::IsolationLevel;
use unlockdesk_core::ports::{AuditVerification, AuditWake, ReadTx, Store, WriteTx};
use unlockdesk_core::{CoreError, CoreResult, ErrorCode};

pub use migrate::SCHEMA_VERSION;

/// How many times the start of a transaction (connection, `BEGIN`, head lock) is tried.
pub const MAX_ATTEMPTS: u32 = 5;
/// The connect timeout when the URL gives none: an unreachable server is one clear error,
/// never a hang.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL error as the core's error: 40001/40P01 are `conflict` (busy, nothing
/// recorded), a unique violation is `conflict`, a lost connection `unavailable` (the branch
/// server answers 503 and the client retries with the same idempotency key), everything else
/// `storage`.
pub(crate) fn pg_err(e: postgres::Error) -> CoreError {
    if is_retryable_code(&e) {
        return CoreError::new(
            ErrorCode::Conflict,
            "the database was busy (a serialization failure or deadlock); nothing was recorded: try again",
        );
    }
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        let detail = e
            .as_db_error()
            .and_then(|d| d.detail())
            .unwrap_or("a key already exists");
        return CoreError::conflict(detail.to_string());
    }
    if is_lost(&e) {
        return CoreError::new(
            ErrorCode::Unavailable,
            "the connection to the database was lost; whether the step was recorded is unknown: reload the case to see",
        );
    }
    CoreError::storage(format!("database error: {}", describe(&e)))
}

/// The connection is gone: closed under us, its socket failed, or the server ended the
/// session (shutdown, crash, `pg_terminate_backend`: SQLSTATE class 57P).
fn is_lost(e: &postgres::Error) -> bool {
    e.is_closed()
        // Reset by the peer, broken pipe, timed out: the socket itself failed.
        || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
        || matches!(
            e.code(),
            Some(c) if *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
        )
}

/// [`pg_err`] for a transaction that never started (its `BEGIN` or the head lock failed after
/// every try): nothing of the step reached the database, and the teller is told so.
fn pg_err_before(e: postgres::Error) -> CoreError {
    if is_lost(&e) || e.as_db_error().is_none() {
        return CoreError::new(
            ErrorCode::Unavailable,
            format!(
                "the database cannot be reached ({}); nothing was recorded: try again",
                describe(&e)
            ),
        );
    }
    pg_err(e)
}

/// The server's own message and SQLSTATE when there is one (the driver's `Display` says only
/// "db error"), else the driver's error and its cause.
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        },
    }
}

fn is_retryable_code(e: &postgres::Error) -> bool {
    let code = e.code();
    code == Some(&SqlState::T_R_SERIALIZATION_FAILURE)
        || code == Some(&SqlState::T_R_DEADLOCK_DETECTED)
}

/// Worth another try before the closure has run: busy, or the connection is gone (server
/// restarted, network dropped); a fresh connection is taken for the next try.
fn retry_before_closure(e: &postgres::Error) -> bool {
    is_retryable_code(e)
        || e.is_closed()
        || e.as_db_error().is_none()
        || matches!(
            e.code(),
            Some(c) if *c == SqlState::ADMIN_SHUTDOWN || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
        )
}

fn backoff(attempt: u32) {
    std::thread::sleep(Duration::from_millis(20 * u64::from(attempt)));
}

/// The PostgreSQL store: a pool of connections to one database.
pub struct PgStore {
    pool: pool::Pool,
    keys: Option<std::sync::Arc<fields::FieldKeys>>,
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://` or `postgresql://`, or a libpq
    /// key=value string), migrate it, and keep the connection for the pool.
    /// Errors: `storage` naming the cause in one sentence (bad URL, a host that is not this
    /// machine without `sslmode=require` or stricter, an untrusted server certificate, refused
    /// login, unreachable server, missing database, a schema newer than this binary).
    pub fn open(url: &str) -> CoreResult<Self> {
        Self::open_target(tls::parse(url)?)
    }

    /// [`open`](Self::open) with a parsed configuration and no TLS (tests pick the database by
    /// name); the host must be this machine.
    pub fn open_config(config: postgres::Config) -> CoreResult<Self> {
        Self::open_target(tls::Target {
            config,
            mode: tls::TlsMode::Plain,
            root_cert: None,
            root_named: false,
        })
    }

    /// [`open`](Self::open) with the URL taken apart ([`tls::parse`]).
    pub fn open_target(target: tls::Target) -> CoreResult<Self> {
        Self::open_target_with(target, unlockdesk_store::KeySource::from_env())
    }

    /// [`open_config`](Self::open_config) with an explicit key source (tests).
    pub fn open_config_with(
        config: postgres::Config,
        source: unlockdesk_store::KeySource,
    ) -> CoreResult<Self> {
        Self::open_target_with(
            tls::Target {
                config,
                mode: tls::TlsMode::Plain,
                root_cert: None,
                root_named: false,
            },
            source,
        )
    }

    /// Whether the C2 values are encrypted at field level ([`fields`]).
    pub fn is_encrypted(&self) -> bool {
        self.keys.is_some()
    }

    /// [`open_target`](Self::open_target) with an explicit key source: with one, the C2 values
    /// are encrypted at field level ([`fields`]); the first open with a key encrypts the rows
    /// already there. Errors as `open`, plus `storage` for a wrong or missing key.
    pub fn open_target_with(
        target: tls::Target,
        source: unlockdesk_store::KeySource,
    ) -> CoreResult<Self> {
        tls::check_transport(&target)?;
        let connector = tls::connector(&target)?;
        let mut config = target.config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("unlockdesk");
        }
        let pool = pool::Pool::new(config, connector, migrate::APP_ROLE);
        let keys;
        {
            // Migrations run as the URL's user (the schema owner, or a superuser); every pooled
            // connection afterwards is the restricted application role.
            let mut owner = pool.connect_owner()?;
            migrate::migrate(&mut owner).map_err(|e| CoreError::storage(e.to_string()))?;
            keys = fields::setup(&mut owner, &source)?.map(std::sync::Arc::new);
        }
        // One connection now, so a user who cannot SET ROLE is told at open, not at the first
        // step.
        drop(pool.get()?);
        Ok(PgStore { pool, keys })
    }
}

impl PgStore {
    /// After a failed start of a transaction: when the connection was lost (not merely busy),
    /// the pool's idle connections are dropped too.
    fn lost(&self, e: &postgres::Error) {
        if !is_retryable_code(e) {
            self.pool.discard_idle();
        }
    }

    /// Runs `once` up to [`MAX_ATTEMPTS`] times. A try answers `Err(e)` when the database
    /// failed before any of the caller's work ran (taking the connection, `BEGIN`, the head
    /// lock, a read that changes nothing); when `worth(e)` calls that transient, the next try
    /// waits a little ([`backoff`]) and takes a fresh connection, the pool's idle ones dropped
    /// too when the connection was lost. `Ok(out)` ends the tries with `out`. After the last
    /// try the error is [`pg_err_before`]'s ("nothing was recorded").
    fn retrying<T>(
        &self,
        what: &str,
        worth: fn(&postgres::Error) -> bool,
        mut once: impl FnMut() -> Result<CoreResult<T>, postgres::Error>,
    ) -> CoreResult<T> {
        let mut attempt = 1;
        loop {
            match once() {
                Ok(out) => return out,
                Err(e) if attempt < MAX_ATTEMPTS && worth(&e) => {
                    // A dead connection is not given back to the pool (it checks).
                    tracing::warn!(attempt, error = %describe(&e), "{what} failed; retrying");
                    self.lost(&e);
                    backoff(attempt);
                    attempt += 1;
                }
                Err(e) => return Err(pg_err_before(e)),
            }
        }
    }

    /// Runs `f` in a REPEATABLE READ, READ ONLY snapshot, its start retried like
    /// [`Store::transact`]'s; the snapshot is rolled back after (it wrote nothing).
    fn snapshot<T>(
        &self,
        f: impl FnOnce(
            &mut postgres::Transaction<'_>,
            &mut HashMap<String, postgres::Statement>,
        ) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let mut f = Some(f);
        self.retrying("starting a read snapshot", retry_before_closure, || {
            let mut conn = match self.pool.get() {
                Ok(conn) => conn,
                Err(e) => return Ok(Err(e)),
            };
            let c = &mut *conn;
            let mut tx = c
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let Some(f) = f.take() else {
                return Ok(Err(ran_twice()));
            };
            let out = f(&mut tx, &mut c.stmts);
            // A read snapshot wrote nothing: ending it either way is the same.
            let _ = tx.rollback();
            Ok(out)
        })
    }

    /// One read-only statement that returns exactly one row, outside any transaction (a
    /// single statement sees one snapshot), prepared once per connection, and tried again
    /// on a fresh connection when the connection was lost or the database was busy
    /// (40001/40P01): a read changes nothing.
    /// Errors: `unavailable` (the database cannot be reached), `storage`.
    fn one_statement(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> CoreResult<postgres::Row> {
        // Only a lost connection or a busy database is worth another try (a client-side
        // error, say a parameter of the wrong type, would fail the same way again).
        let worth = |e: &postgres::Error| is_lost(e) || is_retryable_code(e);
        self.retrying("a one-statement read", worth, || {
            let mut conn = match self.pool.get() {
                Ok(conn) => conn,
                Err(e) => return Ok(Err(e)),
            };
            let c = &mut *conn;
            let st = match c.stmts.get(sql) {
                Some(st) => st.clone(),
                None => {
                    let st = c.client.prepare(sql)?;
                    c.stmts.insert(sql.to_string(), st.clone());
                    st
                }
            };
            Ok(Ok(c.client.query_one(&st, params)?))
        })
    }

    /// [`Store::transact`] and [`Store::transact_optimistic`]: with `optimistic`, the audit
    /// head is locked at the transaction's first write instead of before the closure runs.
    /// `BEGIN` and the head lock are retried ([`PgStore::retrying`]); `f` runs once.
    fn write_tx<T>(
        &self,
        optimistic: bool,
        f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let mut f = Some(f);
        self.retrying("starting a write transaction", retry_before_closure, || {
            let mut conn = match self.pool.get() {
                Ok(conn) => conn,
                Err(e) => return Ok(Err(e)),
            };
            let c = &mut *conn;
            let mut tx = c
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::ReadCommitted)
                .start()?;
            let mut t = tx::Tx::new(&mut tx, &mut c.stmts, self.keys.as_deref());
            if optimistic {
                t.lock_at_first_write();
            } else {
                // Dropping `tx` on an error rolls back.
                t.lock_head()?;
                if t.encrypted_since_open {
                    return Ok(Err(encrypted_since_open()));
                }
            }
            let Some(f) = f.take() else {
                return Ok(Err(ran_twice()));
            };
            let out = f(&mut t);
            if t.encrypted_since_open {
                // Seen at the optimistic transaction's first write, which did not run:
                // nothing is committed, and this is why.
                return Ok(Err(encrypted_since_open()));
            }
            let out = match out {
                // The connection was lost before COMMIT was sent: PostgreSQL commits nothing
                // it was not asked to, so the transaction is rolled back (only a COMMIT whose
                // answer was lost leaves the outcome unknown): the teller may simply try again.
                Err(e) if e.code == ErrorCode::Unavailable => {
                    return Ok(Err(CoreError::new(
                        ErrorCode::Unavailable,
                        "the connection to the database was lost before this step was \
                         committed; nothing was recorded: try again",
                    )))
                }
                Err(e) => return Ok(Err(e)),
                Ok(out) => out,
            };
            Ok(tx.commit().map(|()| out).map_err(pg_err))
        })
    }
}

/// A closure given to [`PgStore::retrying`] runs once: a try after it ran would be a bug here,
/// answered as an error rather than running the caller's work twice.
fn ran_twice() -> CoreError {
    CoreError::new(
        ErrorCode::Internal,
        "a transaction's work was asked to run twice; nothing more was run",
    )
}

/// Another server encrypted the branch's personal data since this one opened without a key:
/// it must not write a value in clear beside them.
pub(crate) fn encrypted_since_open() -> CoreError {
    CoreError::storage(
        "the branch database's personal data is now encrypted: restart this program with UNLOCKDESK_KEY_FILE set to the branch key file",
    )
}

impl Store for PgStore {
    fn transact<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>) -> CoreResult<T> {
        self.write_tx(false, f)
    }

    /// The head lock is taken at the first statement that writes or locks rows (or the first
    /// audit append), so the transaction's reads before it do not hold the other writers up.
    fn transact_optimistic<T>(
        &self,
        f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>,
    ) -> CoreResult<T> {
        self.write_tx(true, f)
    }

    fn optimistic_reads(&self) -> bool {
        true
    }

    fn read<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> CoreResult<T>) -> CoreResult<T> {
        self.snapshot(|tx, stmts| f(&mut tx::Tx::new(tx, stmts, self.keys.as_deref())))
    }

    fn session_check(&self, token_hash: &str) -> CoreResult<unlockdesk_core::ports::SessionCheck> {
        self.session_check_now(token_hash)
    }

    fn verify_audit(&self) -> CoreResult<AuditVerification> {
        self.snapshot(|tx, _| audit::verify(tx).map_err(pg_err))
    }

    /// A consistent snapshot (one REPEATABLE READ transaction) written as an embedded-store
    /// file at `dest` (must not exist), the format of a terminal's backup. Errors: `storage`
    /// (the file exists, cannot be written, or the copy does not verify: the file is removed).
    fn backup_to(&self, dest: &std::path::Path) -> CoreResult<()> {
        // A terminal's backup format: an embedded-store file, written by copying this store's
        // one REPEATABLE READ snapshot into a new file (which must not exist yet) and checking
        // the copy (counts, audit head, an intact chain). A branch restores it with `store
        // copy` into an empty database.
        if dest.exists() {
            return Err(CoreError::storage(format!(
                "{} exists already: a backup is written to a new file",
                dest.display()
            )));
        }
        let file = unlockdesk_store::SqliteStore::open(dest)?;
        match unlockdesk_core::copy::copy_store(self, &file) {
            Ok(_) => Ok(()),
            Err(e) => {
                drop(file);
                // No half-written backup is left behind to be mistaken for a good one.
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = dest.as_os_str().to_owned();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
                Err(e)
            }
        }
    }

    /// Not supported on PostgreSQL yet. Errors: `storage`, always.
    fn restore_from(&self, _src: &std::path::Path) -> CoreResult<()> {
        Err(CoreError::storage(
            "restore is not supported on PostgreSQL yet; restore the database with pg_restore",
        ))
    }

    fn audit_wake(&self) -> CoreResult<Option<Box<dyn AuditWake>>> {
        // The application role's rights, as every pooled connection: LISTEN needs no more.
        let mut client = self.pool.connect_app()?;
        client
            .batch_execute("LISTEN unlockdesk_audit")
            .map_err(|e| CoreError::storage(format!("LISTEN failed: {}", describe(&e))))?;
        Ok(Some(Box::new(AuditListener { client })))
    }
}

/// A connection of its own that LISTENs on `unlockdesk_audit` (NOTIFYed by a trigger on every
/// appended audit event, migration 0006): delivered at commit, in commit order, from every
/// server of the branch.
struct AuditListener {
    client: postgres::Client,
}

impl AuditWake for AuditListener {
    fn wait(&mut self, timeout: Duration) -> CoreResult<bool> {
        use postgres::fallible_iterator::FallibleIterator;
        let lost = |e: postgres::Error| {
            CoreError::storage(format!(
                "the audit listener lost its connection: {}",
                describe(&e)
            ))
        };
        let woke = {
            let mut n = self.client.notifications();
            let woke = n.timeout_iter(timeout).next().map_err(lost)?.is_some();
            // The rest already here: one wake-up reads them all.
            while n.iter().next().map_err(lost)?.is_some() {}
            woke
        };
        if !woke && self.client.is_closed() {
            return Err(CoreError::storage("the audit listener lost its connection"));
        }
        Ok(woke)
    }
}
