//! Staff accounts.

use rusqlite::{params, OptionalExtension};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::sql_err;
use crate::tx::Tx;

impl StaffRead for Tx<'_> {
    fn staff(&mut self, id: &StaffId) -> CoreResult<Option<Staff>> {
        self
            .q_row(
                "SELECT id, name, role, password_hash, must_change_password, failed_logins, locked, disabled, created_at FROM staff WHERE id = ?1",
                params![id.as_str()],
                staff_row,
            )
            .optional()
            .map_err(sql_err)?
            .map(to_staff)
            .transpose()
    }

    fn list_staff(&mut self) -> CoreResult<Vec<Staff>> {
        let mut st = self
            .tx
            .prepare("SELECT id, name, role, password_hash, must_change_password, failed_logins, locked, disabled, created_at FROM staff ORDER BY id")
            .map_err(sql_err)?;
        let rows = st.query_map([], staff_row).map_err(sql_err)?;
        rows.map(|r| r.map_err(sql_err).and_then(to_staff))
            .collect()
    }

    fn staff_names(&mut self, ids: &[&str]) -> CoreResult<Vec<(String, String)>> {
        // In-process: one cached statement per id costs less than building an IN list.
        let mut st = self
            .tx
            .prepare_cached("SELECT id, name FROM staff WHERE id = ?1")
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for id in ids {
            let row = st
                .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(sql_err)?;
            out.extend(row);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

const STAFF_INSERT: &str = "INSERT INTO staff (id, name, role, password_hash, \
     must_change_password, failed_logins, locked, disabled, created_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
const STAFF_UPDATE: &str = "UPDATE staff SET name = ?2, role = ?3, password_hash = ?4, \
     must_change_password = ?5, failed_logins = ?6, locked = ?7, disabled = ?8 WHERE id = ?1";

impl StaffWrite for Tx<'_> {
    fn insert_staff(&mut self, s: &Staff) -> CoreResult<()> {
        self.exec(
            STAFF_INSERT,
            params![
                s.id.as_str(),
                s.name,
                s.role.as_str(),
                s.password_hash,
                s.must_change_password,
                s.failed_logins,
                s.locked,
                s.disabled,
                ts(s.created_at)
            ],
        )
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                CoreError::conflict(format!("staff id '{}' already exists", s.id))
            }
            e => sql_err(e),
        })?;
        Ok(())
    }

    fn update_staff(&mut self, s: &Staff) -> CoreResult<()> {
        let n = self
            .exec(
                STAFF_UPDATE,
                params![
                    s.id.as_str(),
                    s.name,
                    s.role.as_str(),
                    s.password_hash,
                    s.must_change_password,
                    s.failed_logins,
                    s.locked,
                    s.disabled
                ],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("staff '{}'", s.id)));
        }
        Ok(())
    }
}
