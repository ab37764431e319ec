//! [`StoreTx`] over one rusqlite transaction.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use unlockdesk_core::ports::*;
use unlockdesk_core::*;

use crate::audit;
use crate::sql_err;

pub(crate) struct Tx<'a> {
    pub tx: &'a Transaction<'a>,
    pub dir: &'a Path,
}

fn ts(t: DateTime<Utc>) -> String {
    crate::audit::ts_text(&t)
}
fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}
/// The case's indexed last-4 columns: (ID number, phone).
fn case_tails(c: &Case) -> (String, String) {
    let id_number = c
        .identity
        .as_ref()
        .map(|i| i.number.as_str())
        .or_else(|| c.form.as_ref().map(|f| f.id_number.as_str()))
        .unwrap_or_default();
    (tail4(id_number), tail4(&c.phone))
}

fn json<T: serde::Serialize>(v: &T) -> CoreResult<String> {
    serde_json::to_string(v).map_err(|e| CoreError::new(ErrorCode::Internal, e.to_string()))
}
fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> CoreResult<T> {
    serde_json::from_str(s)
        .map_err(|e| CoreError::storage(format!("stored {what} is unreadable: {e}")))
}
fn tail4(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    c[c.len().saturating_sub(4)..].iter().collect()
}
const SLOT: &str = "%Y-%m-%dT%H:%M";

/// A staff row as read: id, name, role, hash, must_change, failed, locked, disabled, created.
type StaffRow = (
    String,
    String,
    String,
    String,
    bool,
    i64,
    bool,
    bool,
    String,
);

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
    ))
}
fn to_staff(t: StaffRow) -> CoreResult<Staff> {
    Ok(Staff {
        id: StaffId::parse(&t.0)?,
        name: t.1,
        role: t.2.parse()?,
        password_hash: t.3,
        must_change_password: t.4,
        failed_logins: t.5.max(0) as u32,
        locked: t.6,
        disabled: t.7,
        created_at: parse_ts(&t.8),
    })
}

const APPT_COLS: &str =
    "id, reference, name, phone, id_type, id_number, wallet_operator, lock_cause, slot_start, slot_end, notes, status, case_id";

fn appt_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Vec<Option<String>>> {
    (0..13).map(|i| r.get::<_, Option<String>>(i)).collect()
}
fn to_appt(v: Vec<Option<String>>) -> CoreResult<Appointment> {
    let g = |i: usize| v[i].clone().unwrap_or_default();
    let uuid = |s: &str| {
        uuid::Uuid::parse_str(s).map_err(|e| CoreError::storage(format!("bad id {s}: {e}")))
    };
    let slot = |s: &str| {
        NaiveDateTime::parse_from_str(s, SLOT)
            .map_err(|e| CoreError::storage(format!("bad slot {s}: {e}")))
    };
    Ok(Appointment {
        id: AppointmentId(uuid(&g(0))?),
        reference: g(1),
        name: g(2),
        phone: g(3),
        id_type: g(4),
        id_number: g(5),
        wallet_operator: g(6),
        lock_cause: g(7).parse()?,
        slot_start: slot(&g(8))?,
        slot_end: slot(&g(9))?,
        notes: g(10),
        status: g(11).parse()?,
        case_id: match &v[12] {
            Some(s) if !s.is_empty() => Some(CaseId(uuid(s)?)),
            _ => None,
        },
    })
}

/// Name prefixes up to this many characters are in `appointment_name_prefix` (migration 0002).
const NAME_PREFIX_MAX: usize = 2;

/// Where one lookup reads: a `(column, slot_start)` index, the name-prefix table, or the
/// names that are longer than a prefix of 3+ characters (a range on `(name, slot_start)`).
enum Lookup {
    Column(&'static str),
    /// A full number found through its last-4 index, which carries the number (migration
    /// 0004): `(tail column, full column)`.
    FullByTail(&'static str, &'static str),
    NamePrefix,
    NameLonger,
}

impl Lookup {
    /// Two statements over the parameters `?1` value, `?2`/`?3` today's slot range, `?4` the
    /// limit, `?5` the end of a name range: today's matches by slot, then all newest first.
    /// Both return (slot_start, rowid).
    fn sql(&self) -> (String, String) {
        match self {
            Lookup::Column(c) => (
                format!("SELECT slot_start, rowid FROM appointments WHERE {c} = ?1 AND slot_start >= ?2 AND slot_start < ?3 AND ?5 IS NOT NULL ORDER BY slot_start LIMIT ?4"),
                format!("SELECT slot_start, rowid FROM appointments WHERE {c} = ?1 AND ?2 IS NOT NULL AND ?3 IS NOT NULL AND ?5 IS NOT NULL ORDER BY slot_start DESC LIMIT ?4"),
            ),
            Lookup::FullByTail(tail, full) => (
                format!("SELECT slot_start, rowid FROM appointments WHERE {tail} = substr(?1, -4) AND {full} = ?1 AND slot_start >= ?2 AND slot_start < ?3 AND ?5 IS NOT NULL ORDER BY slot_start LIMIT ?4"),
                format!("SELECT slot_start, rowid FROM appointments WHERE {tail} = substr(?1, -4) AND {full} = ?1 AND ?2 IS NOT NULL AND ?3 IS NOT NULL AND ?5 IS NOT NULL ORDER BY slot_start DESC LIMIT ?4"),
            ),
            Lookup::NamePrefix => (
                "SELECT slot_start, appt FROM appointment_name_prefix WHERE prefix = ?1 AND slot_start >= ?2 AND slot_start < ?3 AND ?5 IS NOT NULL ORDER BY slot_start LIMIT ?4".into(),
                "SELECT slot_start, appt FROM appointment_name_prefix WHERE prefix = ?1 AND ?2 IS NOT NULL AND ?3 IS NOT NULL AND ?5 IS NOT NULL ORDER BY slot_start DESC LIMIT ?4".into(),
            ),
            Lookup::NameLonger => (
                "SELECT slot_start, rowid FROM appointments WHERE name > ?1 AND name < ?5 AND slot_start >= ?2 AND slot_start < ?3 ORDER BY slot_start LIMIT ?4".into(),
                "SELECT slot_start, rowid FROM appointments WHERE name > ?1 AND name < ?5 AND ?2 IS NOT NULL AND ?3 IS NOT NULL ORDER BY slot_start DESC LIMIT ?4".into(),
            ),
        }
    }
}

/// The smallest string after every string that starts with `prefix`.
fn range_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Imports of at least this many rows get the big page cache for their inserts.
const BIG_IMPORT_ROWS: usize = 5_000;
/// The page cache during a big import, in KiB (negative = KiB for SQLite): 1 GiB at most.
const BIG_IMPORT_CACHE_KIB: i64 = -1_048_576;

const PREFIX_INSERT: &str =
    "INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt) VALUES (?1, ?2, ?3)";

/// The name's prefixes of 1 and `NAME_PREFIX_MAX` (2) characters, as the update trigger of
/// migration 0002 writes them: `王` and `王小` for 王小明; just `王` for a one-character name.
fn name_prefixes(name: &str) -> impl Iterator<Item = &str> {
    let ends: Vec<usize> = name
        .char_indices()
        .skip(1)
        .map(|(i, _)| i)
        .chain([name.len()])
        .take(NAME_PREFIX_MAX)
        .collect();
    ends.into_iter().filter(|&e| e > 0).map(move |e| &name[..e])
}

/// `YYYY-MM-DDTHH:MM`, the stored slot form (same as `format(SLOT)`, without parsing the
/// format string for every row of an import).
fn slot_text(t: &NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

const APPT_INSERT: &str = "INSERT INTO appointments (id, reference, name, phone, id_type, id_number, wallet_operator, lock_cause, slot_start, slot_end, notes, status, case_id, phone_tail, id_tail, slot_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

/// An appointment's 16 bound values, in the order `?1`..`?16` of the insert and the update:
/// the columns of `APPT_COLS`, then the derived lookup columns (phone tail, ID tail, slot day).
fn appointment_params(a: &Appointment) -> Vec<Box<dyn rusqlite::ToSql>> {
    vec![
        Box::new(a.id.to_string()),
        Box::new(a.reference.clone()),
        Box::new(a.name.clone()),
        Box::new(a.phone.clone()),
        Box::new(a.id_type.clone()),
        Box::new(a.id_number.clone()),
        Box::new(a.wallet_operator.clone()),
        Box::new(a.lock_cause.as_str()),
        Box::new(slot_text(&a.slot_start)),
        Box::new(slot_text(&a.slot_end)),
        Box::new(a.notes.clone()),
        Box::new(a.status.as_str()),
        Box::new(a.case_id.map(|c| c.to_string())),
        Box::new(tail4(&a.phone)),
        Box::new(tail4(&a.id_number)),
        Box::new(a.slot_start.date().to_string()),
    ]
}

impl Tx<'_> {
    /// `query_row` on a cached statement (the connection keeps the parsed SQL).
    fn q_row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.tx.prepare_cached(sql)?.query_row(params, f)
    }

    /// `execute` on a cached statement.
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.tx.prepare_cached(sql)?.execute(params)
    }

    /// Insert appointments and their name-prefix rows (migration 0004 moved those from a
    /// trigger to here: one prepared statement instead of a trigger program per row).
    fn insert_appointment_rows(&self, list: &[Appointment]) -> CoreResult<()> {
        let mut st = self.tx.prepare_cached(APPT_INSERT).map_err(sql_err)?;
        let mut prefixes = self.tx.prepare_cached(PREFIX_INSERT).map_err(sql_err)?;
        for a in list {
            let slot = slot_text(&a.slot_start);
            st.execute(params![
                a.id.to_string(),
                a.reference,
                a.name,
                a.phone,
                a.id_type,
                a.id_number,
                a.wallet_operator,
                a.lock_cause.as_str(),
                slot,
                slot_text(&a.slot_end),
                a.notes,
                a.status.as_str(),
                a.case_id.map(|c| c.to_string()),
                tail4(&a.phone),
                tail4(&a.id_number),
                a.slot_start.date().to_string()
            ])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    CoreError::conflict(format!("appointment {} exists", a.reference))
                }
                e => sql_err(e),
            })?;
            let rowid = self.tx.last_insert_rowid();
            for prefix in name_prefixes(&a.name) {
                prefixes
                    .execute(params![prefix, slot, rowid])
                    .map_err(sql_err)?;
            }
        }
        Ok(())
    }

    fn branch_tz(&self) -> CoreResult<chrono_tz::Tz> {
        Ok(StoreTx::branch(&mut Tx {
            tx: self.tx,
            dir: self.dir,
        })?
        .map(|b| b.tz())
        .unwrap_or(chrono_tz::Asia::Shanghai))
    }
    fn case_columns(&self, c: &Case) -> CoreResult<(String, String, String)> {
        let (id_tail, phone_tail) = case_tails(c);
        let tz = self.branch_tz()?;
        Ok((
            id_tail,
            phone_tail,
            c.opened_at.with_timezone(&tz).date_naive().to_string(),
        ))
    }
}

impl StoreTx for Tx<'_> {
    fn branch(&mut self) -> CoreResult<Option<Branch>> {
        let s: Option<String> = self
            .q_row("SELECT data FROM branch WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(sql_err)?;
        s.map(|s| from_json(&s, "branch")).transpose()
    }

    fn save_branch(&mut self, b: &Branch) -> CoreResult<()> {
        self
            .exec(
                "INSERT INTO branch (id, data) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                params![json(b)?],
            )
            .map_err(sql_err)?;
        Ok(())
    }

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

    fn insert_staff(&mut self, s: &Staff) -> CoreResult<()> {
        self
            .exec(
                "INSERT INTO staff (id, name, role, password_hash, must_change_password, failed_logins, locked, disabled, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![s.id.as_str(), s.name, s.role.as_str(), s.password_hash, s.must_change_password, s.failed_logins, s.locked, s.disabled, ts(s.created_at)],
            )
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    CoreError::conflict(format!("staff id '{}' already exists", s.id))
                }
                e => sql_err(e),
            })?;
        Ok(())
    }

    fn update_staff(&mut self, s: &Staff) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE staff SET name = ?2, role = ?3, password_hash = ?4, must_change_password = ?5, failed_logins = ?6, locked = ?7, disabled = ?8 WHERE id = ?1",
                params![s.id.as_str(), s.name, s.role.as_str(), s.password_hash, s.must_change_password, s.failed_logins, s.locked, s.disabled],
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("staff '{}'", s.id)));
        }
        Ok(())
    }

    fn case(&mut self, id: CaseId) -> CoreResult<Option<Case>> {
        let s: Option<String> = self
            .q_row(
                "SELECT data FROM cases WHERE id = ?1",
                params![id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_err)?;
        s.map(|s| from_json(&s, "case")).transpose()
    }

    fn insert_case(&mut self, c: &Case) -> CoreResult<()> {
        let (id_tail, phone_tail, day) = self.case_columns(c)?;
        self
            .exec(
                "INSERT INTO cases (id, case_number, state, version, appointment_id, customer_name, id_tail, phone_tail, lock_cause, opened_by, opened_at, opened_day, updated_at, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    c.id.to_string(),
                    c.case_number,
                    c.state.as_str(),
                    c.version,
                    c.appointment_id.map(|a| a.to_string()),
                    c.customer_name,
                    id_tail,
                    phone_tail,
                    c.lock_cause.map(|l| l.as_str()),
                    c.opened_by.as_str(),
                    ts(c.opened_at),
                    day,
                    ts(c.updated_at),
                    json(c)?
                ],
            )
            .map_err(sql_err)?;
        Ok(())
    }

    fn update_case(&mut self, c: &Case, expected_version: i64) -> CoreResult<()> {
        let (id_tail, phone_tail) = case_tails(c);
        let data = json(c)?;
        // SQLite rewrites an index entry whenever its column is in the SET list, even with
        // the same value, and every dirtied page is written to the WAL and synced. Most steps
        // change none of the indexed columns, so set only those that changed: a step then
        // writes the case's table page, not four more index pages (benches/transitions.rs).
        let current: Option<(String, String, String, String)> = self
            .tx
            .prepare_cached(
                "SELECT state, customer_name, id_tail, phone_tail FROM cases WHERE id = ?1 AND version = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![c.id.to_string(), expected_version], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .map_err(sql_err)?;
        let Some((state, name, cur_id_tail, cur_phone_tail)) = current else {
            return Err(CoreError::conflict(format!(
                "case {} was changed by someone else (already decided?); reload it",
                c.case_number
            )));
        };
        let mut sql = String::from(
            "UPDATE cases SET version = ?3, lock_cause = ?7, updated_at = ?8, data = ?9",
        );
        if state != c.state.as_str() {
            sql.push_str(", state = ?2");
        }
        if name != c.customer_name {
            sql.push_str(", customer_name = ?4");
        }
        if cur_id_tail != id_tail {
            sql.push_str(", id_tail = ?5");
        }
        if cur_phone_tail != phone_tail {
            sql.push_str(", phone_tail = ?6");
        }
        sql.push_str(" WHERE id = ?1 AND version = ?10");
        let n = self
            .tx
            .prepare_cached(&sql)
            .and_then(|mut st| {
                st.execute(params![
                    c.id.to_string(),
                    c.state.as_str(),
                    c.version,
                    c.customer_name,
                    id_tail,
                    phone_tail,
                    c.lock_cause.map(|l| l.as_str()),
                    ts(c.updated_at),
                    data,
                    expected_version
                ])
            })
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::conflict(format!(
                "case {} was changed by someone else (already decided?); reload it",
                c.case_number
            )));
        }
        Ok(())
    }

    fn list_cases(&mut self, q: &CaseQuery, _tz: &str) -> CoreResult<Vec<CaseSummary>> {
        let mut sql = String::from(
            "SELECT id, case_number, state, customer_name, data, lock_cause, opened_at, updated_at, opened_by FROM cases WHERE 1 = 1",
        );
        let mut args: Vec<String> = Vec::new();
        if let Some(d) = q.day {
            args.push(d.to_string());
            sql.push_str(&format!(" AND opened_day = ?{}", args.len()));
        }
        if let Some(s) = q.state {
            args.push(s.as_str().to_string());
            sql.push_str(&format!(" AND state = ?{}", args.len()));
        }
        if let Some(n) = &q.case_number {
            args.push(n.trim().to_ascii_uppercase());
            sql.push_str(&format!(" AND case_number = ?{}", args.len()));
        }
        if let Some(p) = &q.name_prefix {
            args.push(p.clone());
            let i = args.len();
            args.push(format!("{p}\u{10FFFF}"));
            sql.push_str(&format!(
                " AND customer_name >= ?{i} AND customer_name < ?{}",
                args.len()
            ));
        }
        if let Some(t) = &q.tail4 {
            args.push(t.to_ascii_uppercase());
            let i = args.len();
            sql.push_str(&format!(" AND (id_tail = ?{i} OR phone_tail = ?{i})"));
        }
        sql.push_str(&format!(
            " ORDER BY opened_at DESC LIMIT {}",
            q.limit.unwrap_or(500).min(5000)
        ));
        let mut st = self.tx.prepare(&sql).map_err(sql_err)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in rows {
            let (id, num, state, name, data, lock, opened, updated, by) = r.map_err(sql_err)?;
            let case: Case = from_json(&data, "case")?;
            out.push(CaseSummary {
                id: CaseId::parse(&id)?,
                case_number: num,
                state: state.parse()?,
                customer_name: name,
                phone_masked: unlockdesk_core::masking::phone(&case.phone),
                lock_cause: lock.map(|l| l.parse()).transpose()?,
                opened_at: parse_ts(&opened),
                updated_at: parse_ts(&updated),
                opened_by: StaffId::parse(&by)?,
                appointment_id: case.appointment_id,
            });
        }
        Ok(out)
    }

    fn next_case_seq(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let n: i64 = self
            .q_row(
                "INSERT INTO case_seq (day, last) VALUES (?1, 1) ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last",
                params![day.to_string()],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        Ok(n as u32)
    }

    fn count_cases(&mut self) -> CoreResult<i64> {
        self.q_row("SELECT COUNT(*) FROM cases", [], |r| r.get(0))
            .map_err(sql_err)
    }

    fn appointment(&mut self, id: AppointmentId) -> CoreResult<Option<Appointment>> {
        self.q_row(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE id = ?1"),
            params![id.to_string()],
            appt_row,
        )
        .optional()
        .map_err(sql_err)?
        .map(to_appt)
        .transpose()
    }

    fn appointment_by_reference(&mut self, reference: &str) -> CoreResult<Option<Appointment>> {
        self.q_row(
            &format!("SELECT {APPT_COLS} FROM appointments WHERE reference = ?1"),
            params![reference],
            appt_row,
        )
        .optional()
        .map_err(sql_err)?
        .map(to_appt)
        .transpose()
    }

    fn insert_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        self.insert_appointment_rows(std::slice::from_ref(a))
    }

    fn update_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        let n = self
            .exec(
                "UPDATE appointments SET reference = ?2, name = ?3, phone = ?4, id_type = ?5, id_number = ?6, wallet_operator = ?7, lock_cause = ?8,
                 slot_start = ?9, slot_end = ?10, notes = ?11, status = ?12, case_id = ?13, phone_tail = ?14, id_tail = ?15, slot_day = ?16 WHERE id = ?1",
                rusqlite::params_from_iter(appointment_params(a).iter()),
            )
            .map_err(sql_err)?;
        if n == 0 {
            return Err(CoreError::not_found(format!("appointment {}", a.reference)));
        }
        Ok(())
    }

    fn appointments_on(&mut self, day: NaiveDate) -> CoreResult<Vec<Appointment>> {
        let mut st = self
            .tx
            .prepare(&format!("SELECT {APPT_COLS} FROM appointments WHERE slot_day = ?1 ORDER BY slot_start, reference"))
            .map_err(sql_err)?;
        let rows = st
            .query_map(params![day.to_string()], appt_row)
            .map_err(sql_err)?;
        rows.map(|r| r.map_err(sql_err).and_then(to_appt)).collect()
    }

    fn find_appointments(
        &mut self,
        key: &AppointmentKey,
        today: NaiveDate,
        limit: u32,
    ) -> CoreResult<Vec<Appointment>> {
        // Each key is one or two equality lookups on a (key, slot_start) index (migration
        // 0002): today's matches by slot, then the rest newest first, each read in index
        // order with a LIMIT, so no large candidate set is ever sorted.
        let limit = limit.clamp(1, 200) as usize;
        let t0 = format!("{today}T00:00");
        let t1 = format!("{}T00:00", today.succ_opt().unwrap_or(today));
        let sources: Vec<(Lookup, String)> = match key {
            AppointmentKey::Reference(r) => vec![
                (Lookup::Column("reference"), r.clone()),
                (Lookup::FullByTail("id_tail", "id_number"), r.clone()),
            ],
            AppointmentKey::Phone(p) => vec![
                (Lookup::FullByTail("phone_tail", "phone"), p.clone()),
                (Lookup::Column("reference"), p.clone()),
            ],
            AppointmentKey::PhoneTail(t) => vec![
                (Lookup::Column("phone_tail"), t.clone()),
                (Lookup::Column("id_tail"), t.clone()),
            ],
            AppointmentKey::IdNumber(n) => vec![
                (Lookup::FullByTail("id_tail", "id_number"), n.clone()),
                (Lookup::Column("reference"), n.clone()),
            ],
            AppointmentKey::IdTail(t) => vec![(Lookup::Column("id_tail"), t.clone())],
            AppointmentKey::NamePrefix(p) if p.chars().count() <= NAME_PREFIX_MAX => {
                vec![(Lookup::NamePrefix, p.clone())]
            }
            // Longer text: the exact name in slot order, plus the (rare) longer names.
            AppointmentKey::NamePrefix(p) => vec![
                (Lookup::Column("name"), p.clone()),
                (Lookup::NameLonger, p.clone()),
            ],
        };
        let mut todays: Vec<(String, i64)> = Vec::new();
        let mut others: Vec<(String, i64)> = Vec::new();
        for (lookup, value) in &sources {
            let (today_sql, rest_sql) = lookup.sql();
            let mut st = self.tx.prepare_cached(&today_sql).map_err(sql_err)?;
            let found: Vec<(String, i64)> = st
                .query_map(
                    params![value, t0, t1, limit as i64, range_end(value)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql_err)?
                .collect::<Result<_, _>>()
                .map_err(sql_err)?;
            let n_today = found.len();
            todays.extend(found);
            let mut st = self.tx.prepare_cached(&rest_sql).map_err(sql_err)?;
            let rows = st
                .query_map(
                    params![value, t0, t1, (limit + n_today) as i64, range_end(value)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(sql_err)?;
            for r in rows {
                others.push(r.map_err(sql_err)?);
            }
        }
        todays.sort();
        others.sort_by(|a, b| b.cmp(a));
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT {APPT_COLS} FROM appointments WHERE rowid = ?1"
            ))
            .map_err(sql_err)?;
        for (slot, rowid) in todays
            .into_iter()
            .chain(others.into_iter().filter(|(s, _)| *s < t0 || *s >= t1))
        {
            if out.len() >= limit {
                break;
            }
            if !seen.insert(rowid) {
                continue;
            }
            let Some(a) = st
                .query_row(params![rowid], appt_row)
                .optional()
                .map_err(sql_err)?
            else {
                continue;
            };
            let a = to_appt(a)?;
            // The prefix table points at rowids: re-check, so a stale entry is never shown.
            if let AppointmentKey::NamePrefix(p) = key {
                if !a.name.starts_with(p.as_str()) || a.slot_start.format(SLOT).to_string() != slot
                {
                    continue;
                }
            }
            out.push(a);
        }
        Ok(out)
    }

    fn append_audit(&mut self, e: &AuditDraft) -> CoreResult<AuditEvent> {
        audit::append(self.tx, e).map_err(sql_err)
    }

    fn case_history(&mut self, id: CaseId) -> CoreResult<Vec<AuditEvent>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT * FROM audit_events WHERE case_id = ?1 ORDER BY seq")
            .map_err(sql_err)?;
        let rows = st
            .query_map(params![id.to_string()], audit::from_row)
            .map_err(sql_err)?;
        rows.map(|r| r.map_err(sql_err)).collect()
    }

    fn idempotent(&mut self, key: &str) -> CoreResult<Option<IdempotentCall>> {
        let s: Option<(String, String)> = self
            .q_row(
                "SELECT case_id, use_case FROM idempotency WHERE key = ?1",
                params![key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(sql_err)?;
        s.map(|(case_id, use_case)| {
            Ok(IdempotentCall {
                case_id: CaseId::parse(&case_id)?,
                use_case,
            })
        })
        .transpose()
    }

    fn remember_idempotent(
        &mut self,
        key: &str,
        case_id: CaseId,
        use_case: &str,
        at: DateTime<Utc>,
    ) -> CoreResult<()> {
        self.exec(
            "INSERT INTO idempotency (key, case_id, use_case, at) VALUES (?1, ?2, ?3, ?4)",
            params![key, case_id.to_string(), use_case, ts(at)],
        )
        .map_err(sql_err)?;
        Ok(())
    }

    fn save_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<DocumentRecord> {
        let n: i64 = self
            .q_row(
                "SELECT COUNT(*) FROM documents WHERE case_id = ?1 AND kind = ?2 AND copy = ?3",
                params![rec.case_id.to_string(), rec.kind, rec.copy],
                |r| r.get(0),
            )
            .map_err(sql_err)?;
        let rel = format!(
            "documents/{}/{}-{}-{}.pdf",
            rec.case_id,
            rec.kind,
            rec.copy,
            n + 1
        );
        let abs = self.dir.join(&rel);
        if let Some(p) = abs.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| CoreError::storage(format!("cannot create {}: {e}", p.display())))?;
        }
        // Write and fsync before the row commits: a recorded document always exists.
        let mut f = std::fs::File::create(&abs)
            .map_err(|e| CoreError::storage(format!("cannot write {}: {e}", abs.display())))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_all())
            .map_err(|e| CoreError::storage(format!("cannot write {}: {e}", abs.display())))?;
        let mut out = rec.clone();
        out.path = rel;
        out.sha256 = hex::encode(Sha256::digest(bytes));
        out.bytes = bytes.len() as i64;
        self
            .exec(
                "INSERT INTO documents (id, case_id, kind, copy, path, sha256, bytes, at, by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![out.id, out.case_id.to_string(), out.kind, out.copy, out.path, out.sha256, out.bytes, ts(out.at), out.by.as_str()],
            )
            .map_err(sql_err)?;
        Ok(out)
    }

    fn documents(&mut self, case_id: CaseId) -> CoreResult<Vec<DocumentRecord>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT id, case_id, kind, copy, path, sha256, bytes, at, by FROM documents WHERE case_id = ?1 ORDER BY at")
            .map_err(sql_err)?;
        let rows = st
            .query_map(params![case_id.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })
            .map_err(sql_err)?;
        rows.map(|r| {
            let (id, kind, copy, path, sha256, bytes, at, by) = r.map_err(sql_err)?;
            Ok(DocumentRecord {
                id,
                case_id,
                kind,
                copy,
                path,
                sha256,
                bytes,
                at: parse_ts(&at),
                by: StaffId::parse(&by)?,
            })
        })
        .collect()
    }

    fn appointments_by_references(
        &mut self,
        references: &[String],
    ) -> CoreResult<Vec<Appointment>> {
        let mut st = self
            .tx
            .prepare_cached(&format!(
                "SELECT {APPT_COLS} FROM appointments WHERE reference = ?1"
            ))
            .map_err(sql_err)?;
        let mut out = Vec::new();
        for r in references {
            if let Some(row) = st
                .query_row(params![r], appt_row)
                .optional()
                .map_err(sql_err)?
            {
                out.push(to_appt(row)?);
            }
        }
        Ok(out)
    }

    fn insert_appointments(&mut self, list: &[Appointment]) -> CoreResult<()> {
        // A big file touches nearly every page of the eight lookup indexes (their keys are
        // random). With the normal cache, dirty pages spill to the WAL again and again; a
        // cache large enough for the indexes writes each page once, at commit. The memory is
        // used only as pages are touched and given back when the size is restored.
        let big = list.len() >= BIG_IMPORT_ROWS;
        if big {
            self.tx
                .pragma_update(None, "cache_size", BIG_IMPORT_CACHE_KIB)
                .map_err(sql_err)?;
        }
        let res = self.insert_appointment_rows(list);
        if big {
            self.tx
                .pragma_update(None, "cache_size", crate::CACHE_KIB)
                .map_err(sql_err)?;
        }
        res
    }

    fn mark_no_shows(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let n = self
            .exec("UPDATE appointments SET status = 'no-show' WHERE slot_day = ?1 AND status = 'waiting'", params![day.to_string()])
            .map_err(sql_err)?;
        Ok(n as u32)
    }
}

#[cfg(test)]
mod prefix_tests {
    use super::*;

    #[test]
    fn name_prefixes_are_the_first_one_and_two_characters() {
        let p = |n: &str| name_prefixes(n).map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(p("王小明"), ["王", "王小"]);
        assert_eq!(p("欧阳一诺"), ["欧", "欧阳"]);
        assert_eq!(p("王伟"), ["王", "王伟"]);
        assert_eq!(p("王"), ["王"]);
        assert!(p("").is_empty());
        assert_eq!(p("ZHANG SAN"), ["Z", "ZH"]);
    }

    #[test]
    fn slot_text_matches_the_stored_format() {
        let t = NaiveDateTime::parse_from_str("2026-01-05T09:05", SLOT).unwrap();
        assert_eq!(slot_text(&t), t.format(SLOT).to_string());
    }
}
