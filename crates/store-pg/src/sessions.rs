//! The branch server's sessions, enrolled terminals and one-time enrolment codes (migration
//! 0005). Only SHA-256 hashes of the secrets are stored; rows are never deleted (the
//! application role may not). Shared by every server on the database: write transactions are
//! serialised (see the crate docs), so a code read unused in one is unused when it is marked.

use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::pg_err;
use crate::tx::Tx;

/// An insert's error: a taken primary key is `conflict` saying `taken` (not the driver's
/// detail, which would quote the key: a hash of a secret), anything else as [`pg_err`].
fn insert_err(e: postgres::Error, taken: &str) -> CoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        CoreError::conflict(taken)
    } else {
        pg_err(e)
    }
}

impl SessionRead for Tx<'_, '_> {
    fn server_session(&mut self, token_hash: &str) -> CoreResult<Option<ServerSession>> {
        self.query_opt(
            &format!("SELECT {SESSION_COLS} FROM server_sessions WHERE token_hash = $1"),
            &[&token_hash],
        )?
        .map(|r| to_session(&r))
        .transpose()
    }

    fn terminal(&mut self, id: &str) -> CoreResult<Option<TerminalRecord>> {
        self.query_opt(
            &format!("SELECT {TERMINAL_COLS} FROM terminals WHERE id = $1"),
            &[&id],
        )?
        .map(|r| to_terminal(&r))
        .transpose()
    }

    fn list_terminals(&mut self) -> CoreResult<Vec<TerminalRecord>> {
        // The id breaks ties as in the memory and embedded stores.
        self.query(
            &format!("SELECT {TERMINAL_COLS} FROM terminals ORDER BY enrolled_at, id"),
            &[],
        )?
        .iter()
        .map(to_terminal)
        .collect()
    }

    fn enrolment_code(&mut self, code_hash: &str) -> CoreResult<Option<EnrolmentCode>> {
        self.query_opt(
            &format!("SELECT {CODE_COLS} FROM enrolment_codes WHERE code_hash = $1"),
            &[&code_hash],
        )?
        .map(|r| to_code(&r))
        .transpose()
    }
}

impl SessionWrite for Tx<'_, '_> {
    fn insert_server_session(&mut self, s: &ServerSession) -> CoreResult<()> {
        self.execute_raw(
            &format!(
                "INSERT INTO server_sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"
            ),
            &[
                &s.token_hash,
                &s.staff_id.as_str(),
                &s.terminal,
                &s.created_at,
                &s.last_seen,
                &s.revoked_at,
            ],
        )
        .map_err(|e| insert_err(e, "a session with this token already exists"))?;
        Ok(())
    }

    fn update_server_session(&mut self, s: &ServerSession) -> CoreResult<()> {
        let n = self.execute(
            "UPDATE server_sessions SET last_seen = $2, revoked_at = $3 WHERE token_hash = $1",
            &[&s.token_hash, &s.last_seen, &s.revoked_at],
        )?;
        if n == 0 {
            return Err(CoreError::not_found("session"));
        }
        Ok(())
    }

    fn revoke_terminal_sessions(&mut self, terminal: &str, at: DateTime<Utc>) -> CoreResult<u32> {
        // Sessions ended earlier keep the time they ended.
        let n = self.execute(
            "UPDATE server_sessions SET revoked_at = $2 WHERE terminal = $1 AND revoked_at IS NULL",
            &[&terminal, &at],
        )?;
        Ok(n as u32)
    }

    fn revoke_staff_sessions(&mut self, staff: &StaffId, at: DateTime<Utc>) -> CoreResult<u32> {
        let n = self.execute(
            "UPDATE server_sessions SET revoked_at = $2 WHERE staff_id = $1 AND revoked_at IS NULL",
            &[&staff.as_str(), &at],
        )?;
        Ok(n as u32)
    }

    fn insert_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()> {
        self.execute_raw(
            &format!("INSERT INTO enrolment_codes ({CODE_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[
                &c.code_hash,
                &c.issued_by.as_str(),
                &c.issued_at,
                &c.expires_at,
                &c.used_at,
                &c.terminal_id,
            ],
        )
        .map_err(|e| insert_err(e, "this enrolment code already exists"))?;
        Ok(())
    }

    fn update_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()> {
        let n = self.execute(
            "UPDATE enrolment_codes SET used_at = $2, terminal_id = $3 WHERE code_hash = $1",
            &[&c.code_hash, &c.used_at, &c.terminal_id],
        )?;
        if n == 0 {
            return Err(CoreError::not_found("enrolment code"));
        }
        Ok(())
    }

    fn insert_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()> {
        self.execute_raw(
            &format!("INSERT INTO terminals ({TERMINAL_COLS}) VALUES ($1, $2, $3, $4, $5, $6)"),
            &[
                &t.id,
                &t.name,
                &t.secret_hash,
                &t.enrolled_at,
                &t.enrolled_by.as_str(),
                &t.revoked_at,
            ],
        )
        .map_err(|e| insert_err(e, &format!("terminal '{}' already exists", t.id)))?;
        Ok(())
    }

    fn update_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()> {
        let n = self.execute(
            "UPDATE terminals SET revoked_at = $2 WHERE id = $1",
            &[&t.id, &t.revoked_at],
        )?;
        if n == 0 {
            return Err(CoreError::not_found(format!("terminal '{}'", t.id)));
        }
        Ok(())
    }
}

/// [`Store::session_check`] in one statement (one snapshot, one round trip): the session, its
/// account (columns renamed `st_*`: both tables have a `created_at`) and the branch's row.
const SESSION_CHECK: &str = "SELECT s.token_hash, s.staff_id, s.terminal, s.created_at, \
     s.last_seen, s.revoked_at, st.id AS st_id, st.name AS st_name, st.role AS st_role, \
     st.password_hash AS st_password_hash, st.must_change_password AS st_must_change_password, \
     st.failed_logins AS st_failed_logins, st.locked AS st_locked, st.disabled AS st_disabled, \
     st.created_at AS st_created_at, (SELECT data FROM branch WHERE id = 1) AS branch_data \
     FROM (SELECT 1) AS one \
     LEFT JOIN server_sessions s ON s.token_hash = $1 \
     LEFT JOIN staff st ON st.id = s.staff_id";

const STAFF_CHECK_NAMES: [&str; 9] = [
    "st_id",
    "st_name",
    "st_role",
    "st_password_hash",
    "st_must_change_password",
    "st_failed_logins",
    "st_locked",
    "st_disabled",
    "st_created_at",
];

/// The row of [`SESSION_CHECK`] as the check's answer.
pub(crate) fn session_check_row(r: &postgres::Row) -> CoreResult<SessionCheck> {
    let session = match col::<Option<String>>(r, "token_hash")? {
        Some(_) => Some(to_session(r)?),
        None => None,
    };
    let staff = match col::<Option<String>>(r, "st_id")? {
        Some(_) => Some(crate::staff::to_staff_named(r, STAFF_CHECK_NAMES)?),
        None => None,
    };
    let branch: Option<Branch> = col::<Option<serde_json::Value>>(r, "branch_data")?
        .map(|v| from_jsonb(v, "branch"))
        .transpose()?;
    Ok(SessionCheck {
        session,
        staff,
        idle_lock_minutes: branch.map_or(0, |b| b.idle_lock_minutes),
    })
}

impl crate::PgStore {
    /// [`Store::session_check`]: [`SESSION_CHECK`] outside any transaction (one statement
    /// sees one snapshot), retried like the start of a read snapshot when the connection was
    /// lost (a read changes nothing).
    pub(crate) fn session_check_now(&self, token_hash: &str) -> CoreResult<SessionCheck> {
        let row = self.one_statement(SESSION_CHECK, &[&token_hash])?;
        session_check_row(&row)
    }
}
