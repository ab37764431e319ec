//! Staff accounts.

use postgres::error::SqlState;
use postgres::Row;
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::codec::*;
use crate::pg_err;
use crate::tx::Tx;

const STAFF_COLS: &str = "id, name, role, password_hash, must_change_password, failed_logins, \
     locked, disabled, created_at";

fn to_staff(r: &Row) -> CoreResult<Staff> {
    to_staff_named(r, STAFF_COL_NAMES)
}

/// The names of `STAFF_COLS`, in their order.
const STAFF_COL_NAMES: [&str; 9] = [
    "id",
    "name",
    "role",
    "password_hash",
    "must_change_password",
    "failed_logins",
    "locked",
    "disabled",
    "created_at",
];

/// A staff row whose columns (the `STAFF_COLS` ones, in that order) are named `names`: a
/// query that joins another table with a `created_at` renames them.
pub(crate) fn to_staff_named(r: &Row, names: [&str; 9]) -> CoreResult<Staff> {
    let [id, name, role, password_hash, must_change, failed_logins, locked, disabled, created] =
        names;
    Ok(Staff {
        id: StaffId::parse(&col::<String>(r, id)?)?,
        name: col(r, name)?,
        role: col::<String>(r, role)?.parse()?,
        password_hash: col(r, password_hash)?,
        must_change_password: col(r, must_change)?,
        failed_logins: col::<i32>(r, failed_logins)?.max(0) as u32,
        locked: col(r, locked)?,
        disabled: col(r, disabled)?,
        created_at: col(r, created)?,
    })
}

impl StaffRead for Tx<'_, '_> {
    fn staff(&mut self, id: &StaffId) -> CoreResult<Option<Staff>> {
        self.query_opt(
            &format!("SELECT {STAFF_COLS} FROM staff WHERE id = $1"),
            &[&id.as_str()],
        )?
        .map(|r| to_staff(&r))
        .transpose()
    }

    fn list_staff(&mut self) -> CoreResult<Vec<Staff>> {
        self.query(&format!("SELECT {STAFF_COLS} FROM staff ORDER BY id"), &[])?
            .iter()
            .map(to_staff)
            .collect()
    }

    fn staff_names(&mut self, ids: &[&str]) -> CoreResult<Vec<(String, String)>> {
        // One array parameter: one prepared statement whatever the number of ids.
        self.query(
            "SELECT id, name FROM staff WHERE id = ANY($1) ORDER BY id",
            &[&ids],
        )?
        .iter()
        .map(|r| Ok((col(r, "id")?, col(r, "name")?)))
        .collect()
    }
}

const STAFF_INSERT: &str = "INSERT INTO staff (id, name, role, password_hash, \
     must_change_password, failed_logins, locked, disabled, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const STAFF_UPDATE: &str = "UPDATE staff SET name = $2, role = $3, password_hash = $4, \
     must_change_password = $5, failed_logins = $6, locked = $7, disabled = $8 WHERE id = $1";

fn failed(s: &Staff) -> i32 {
    i32::try_from(s.failed_logins).unwrap_or(i32::MAX)
}

impl StaffWrite for Tx<'_, '_> {
    fn insert_staff(&mut self, s: &Staff) -> CoreResult<()> {
        self.execute_raw(
            STAFF_INSERT,
            &[
                &s.id.as_str(),
                &s.name,
                &s.role.as_str(),
                &s.password_hash,
                &s.must_change_password,
                &failed(s),
                &s.locked,
                &s.disabled,
                &s.created_at,
            ],
        )
        .map_err(|e| {
            if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                CoreError::conflict(format!("staff id '{}' already exists", s.id))
            } else {
                pg_err(e)
            }
        })?;
        Ok(())
    }

    fn update_staff(&mut self, s: &Staff) -> CoreResult<()> {
        let n = self.execute(
            STAFF_UPDATE,
            &[
                &s.id.as_str(),
                &s.name,
                &s.role.as_str(),
                &s.password_hash,
                &s.must_change_password,
                &failed(s),
                &s.locked,
                &s.disabled,
            ],
        )?;
        if n == 0 {
            return Err(CoreError::not_found(format!("staff '{}'", s.id)));
        }
        Ok(())
    }
}
