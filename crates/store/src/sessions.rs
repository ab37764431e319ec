//! The branch server's sessions, enrolled terminals and one-time enrolment codes (migration
//! 0007). Only SHA-256 hashes of the secrets are stored; rows are never deleted.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

/// An insert's error: a taken primary key is `conflict` saying `taken`, anything else
/// `storage` (or `conflict` when busy, as [`sql_err`]).
fn insert_err(e: rusqlite::Error, taken: &str) -> CoreError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            CoreError::conflict(taken)
        }
        e => sql_err(e),
    }
}

impl SessionRead for Tx<'_> {
    fn server_session(&mut self, token_hash: &str) -> CoreResult<Option<ServerSession>> {
        self.q_row(
            &format!("SELECT {SESSION_COLS} FROM server_sessions WHERE token_hash = ?1"),
            params![token_hash],
            session_row,
        )
        .optional()
        .map_err(sql_err)?
        .map(to_session)
        .transpose()
    }

    fn terminal(&mut self, id: &str) -> CoreResult<Option<TerminalRecord>> {
        self.q_row(
            &format!("SELECT {TERMINAL_COLS} FROM terminals WHERE id = ?1"),
            params![id],
            terminal_row,
        )
        .optional()
        .map_err(sql_err)?
        .map(to_terminal)
        .transpose()
    }

    fn list_terminals(&mut self) -> CoreResult<Vec<TerminalRecord>> {
        // Fixed-width RFC 3339 text sorts as time; the id breaks ties as the memory store.
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT {TERMINAL_COLS} FROM terminals ORDER BY enrolled_at, id"
            ))
            .map_err(sql_err)?;
        let rows = st.query_map([], terminal_row).map_err(sql_err)?;
        rows.map(|r| r.map_err(sql_err).and_then(to_terminal))
            .collect()
    }

    fn enrolment_code(&mut self, code_hash: &str) -> CoreResult<Option<EnrolmentCode>> {
        self.q_row(
            &format!("SELECT {CODE_COLS} FROM enrolment_codes WHERE code_hash = ?1"),
            params![code_hash],
            code_row,
        )
        .optional()
        .map_err(sql_err)?
        .map(to_code)
        .transpose()
    }
}

impl SessionWrite for Tx<'_> {
    fn insert_server_session(&mut self, s: &ServerSession) -> CoreResult<()> {
        self.exec(
            &format!(
                "INSERT INTO server_sessions ({SESSION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            params![
                s.token_hash,
                s.staff_id.as_str(),
                s.terminal,
                ts(s.created_at),
                ts(s.last_seen),
                s.revoked_at.map(ts)
            ],
        )
        .map_err(|e| insert_err(e, "a session with this token already exists"))?;
        Ok(())
    }

    fn update_server_session(&mut self, s: &ServerSession) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE server_sessions SET last_seen = ?2, revoked_at = ?3 WHERE token_hash = ?1",
                params![s.token_hash, ts(s.last_seen), s.revoked_at.map(ts)],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found("session"));
        }
        Ok(())
    }

    fn revoke_terminal_sessions(&mut self, terminal: &str, at: DateTime<Utc>) -> CoreResult<u32> {
        // Sessions ended earlier keep the time they ended.
        let n = self
            .exec(
                "UPDATE server_sessions SET revoked_at = ?2 \
                 WHERE terminal = ?1 AND revoked_at IS NULL",
                params![terminal, ts(at)],
            )
            .map_err(sql_err)?;
        Ok(n as u32)
    }

    fn revoke_staff_sessions(&mut self, staff: &StaffId, at: DateTime<Utc>) -> CoreResult<u32> {
        let n = self
            .exec(
                "UPDATE server_sessions SET revoked_at = ?2 \
                 WHERE staff_id = ?1 AND revoked_at IS NULL",
                params![staff.as_str(), ts(at)],
            )
            .map_err(sql_err)?;
        Ok(n as u32)
    }

    fn insert_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()> {
        self.exec(
            &format!("INSERT INTO enrolment_codes ({CODE_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![
                c.code_hash,
                c.issued_by.as_str(),
                ts(c.issued_at),
                ts(c.expires_at),
                c.used_at.map(ts),
                c.terminal_id
            ],
        )
        .map_err(|e| insert_err(e, "this enrolment code already exists"))?;
        Ok(())
    }

    fn update_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE enrolment_codes SET used_at = ?2, terminal_id = ?3 WHERE code_hash = ?1",
                params![c.code_hash, c.used_at.map(ts), c.terminal_id],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found("enrolment code"));
        }
        Ok(())
    }

    fn insert_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()> {
        self.exec(
            &format!("INSERT INTO terminals ({TERMINAL_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![
                t.id,
                t.name,
                t.secret_hash,
                ts(t.enrolled_at),
                t.enrolled_by.as_str(),
                t.revoked_at.map(ts)
            ],
        )
        .map_err(|e| insert_err(e, &format!("terminal '{}' already exists", t.id)))?;
        Ok(())
    }

    fn update_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE terminals SET revoked_at = ?2 WHERE id = ?1",
                params![t.id, t.revoked_at.map(ts)],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("terminal '{}'", t.id)));
        }
        Ok(())
    }
}
