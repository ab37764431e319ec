//! Encoding and decoding between the domain types and SQLite rows: timestamps, JSON
//! documents, last-4 tails, the appointment row and its lookup statements, the branch
//! server's session, terminal and enrolment-code rows.

use chrono::{DateTime, NaiveDateTime, Utc};
use unlockdesk_core::ports::{EnrolmentCode, ServerSession, TerminalRecord};
use unlockdesk_core::*;

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    crate::audit::ts_text(&t)
}
/// A stored instant; a malformed one is a `storage` error, never the epoch.
pub(crate) fn parse_ts(s: &str) -> CoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| CoreError::storage(format!("stored timestamp '{s}' is unreadable: {e}")))
}
/// A stored instant that may be unset (`NULL`: not yet); a malformed one is a `storage` error.
pub(crate) fn parse_opt_ts(s: Option<String>) -> CoreResult<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}
/// The case's indexed last-4 columns: (ID number, phone).
pub(crate) fn case_tails(c: &Case) -> (String, String) {
    let id_number = c
        .identity
        .as_ref()
        .map(|i| i.number.as_str())
        .or_else(|| c.form.as_ref().map(|f| f.id_number.as_str()))
        .unwrap_or_default();
    (tail4(id_number), tail4(&c.phone))
}

/// The wallet operator on the recorded form. Before the form (`None`) the `wallet_operator`
/// column keeps what the case was opened with: the appointment's booking, or empty.
pub(crate) fn form_operator(c: &Case) -> Option<&str> {
    c.form.as_ref().map(|f| f.wallet_operator.as_str())
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> CoreResult<String> {
    serde_json::to_string(v).map_err(|e| CoreError::new(ErrorCode::Internal, e.to_string()))
}
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> CoreResult<T> {
    serde_json::from_str(s)
        .map_err(|e| CoreError::storage(format!("stored {what} is unreadable: {e}")))
}
pub(crate) fn tail4(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    c[c.len().saturating_sub(4)..].iter().collect()
}
pub(crate) const SLOT: &str = "%Y-%m-%dT%H:%M";

/// A staff row as read: id, name, role, hash, must_change, failed, locked, disabled, created.
pub(crate) type StaffRow = (
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

pub(crate) fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok((
        r.get("id")?,
        r.get("name")?,
        r.get("role")?,
        r.get("password_hash")?,
        r.get("must_change_password")?,
        r.get("failed_logins")?,
        r.get("locked")?,
        r.get("disabled")?,
        r.get("created_at")?,
    ))
}
pub(crate) fn to_staff(t: StaffRow) -> CoreResult<Staff> {
    Ok(Staff {
        id: StaffId::parse(&t.0)?,
        name: t.1,
        role: t.2.parse()?,
        password_hash: t.3,
        must_change_password: t.4,
        failed_logins: t.5.max(0) as u32,
        locked: t.6,
        disabled: t.7,
        created_at: parse_ts(&t.8)?,
    })
}

pub(crate) const SESSION_COLS: &str =
    "token_hash, staff_id, terminal, created_at, last_seen, revoked_at";

/// A server session row as read (`SESSION_COLS`): token hash, staff id, terminal, created,
/// last seen, revoked.
pub(crate) type SessionRow = (String, String, String, String, String, Option<String>);

pub(crate) fn session_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRow> {
    Ok((
        r.get("token_hash")?,
        r.get("staff_id")?,
        r.get("terminal")?,
        r.get("created_at")?,
        r.get("last_seen")?,
        r.get("revoked_at")?,
    ))
}
pub(crate) fn to_session(t: SessionRow) -> CoreResult<ServerSession> {
    Ok(ServerSession {
        token_hash: t.0,
        staff_id: StaffId::parse(&t.1)?,
        terminal: t.2,
        created_at: parse_ts(&t.3)?,
        last_seen: parse_ts(&t.4)?,
        revoked_at: parse_opt_ts(t.5)?,
    })
}

pub(crate) const TERMINAL_COLS: &str =
    "id, name, secret_hash, enrolled_at, enrolled_by, revoked_at";

/// A terminal row as read (`TERMINAL_COLS`): id, name, secret hash, enrolled, enrolled by,
/// revoked.
pub(crate) type TerminalRow = (String, String, String, String, String, Option<String>);

pub(crate) fn terminal_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TerminalRow> {
    Ok((
        r.get("id")?,
        r.get("name")?,
        r.get("secret_hash")?,
        r.get("enrolled_at")?,
        r.get("enrolled_by")?,
        r.get("revoked_at")?,
    ))
}
pub(crate) fn to_terminal(t: TerminalRow) -> CoreResult<TerminalRecord> {
    Ok(TerminalRecord {
        id: t.0,
        name: t.1,
        secret_hash: t.2,
        enrolled_at: parse_ts(&t.3)?,
        enrolled_by: StaffId::parse(&t.4)?,
        revoked_at: parse_opt_ts(t.5)?,
    })
}

pub(crate) const CODE_COLS: &str =
    "code_hash, issued_by, issued_at, expires_at, used_at, terminal_id";

/// An enrolment code row as read (`CODE_COLS`): code hash, issued by, issued, expires, used,
/// terminal.
pub(crate) type CodeRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

pub(crate) fn code_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CodeRow> {
    Ok((
        r.get("code_hash")?,
        r.get("issued_by")?,
        r.get("issued_at")?,
        r.get("expires_at")?,
        r.get("used_at")?,
        r.get("terminal_id")?,
    ))
}
pub(crate) fn to_code(t: CodeRow) -> CoreResult<EnrolmentCode> {
    Ok(EnrolmentCode {
        code_hash: t.0,
        issued_by: StaffId::parse(&t.1)?,
        issued_at: parse_ts(&t.2)?,
        expires_at: parse_ts(&t.3)?,
        used_at: parse_opt_ts(t.4)?,
        terminal_id: t.5,
    })
}

pub(crate) const APPT_COLS: &str =
    "id, reference, name, phone, id_type, id_number, wallet_operator, lock_cause, slot_start, slot_end, notes, status, case_id";

pub(crate) fn appt_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Vec<Option<String>>> {
    APPT_COLS
        .split(", ")
        .map(|c| r.get::<_, Option<String>>(c))
        .collect()
}
pub(crate) fn to_appt(v: Vec<Option<String>>) -> CoreResult<Appointment> {
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
        id_type: g(4)
            .parse()
            .map_err(|e: CoreError| CoreError::storage(format!("stored appointment: {e}")))?,
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
pub(crate) const NAME_PREFIX_MAX: usize = 2;

/// Where one lookup reads: a `(column, slot_start)` index, the name-prefix table, or the
/// names that are longer than a prefix of 3+ characters (a range on `(name, slot_start)`).
pub(crate) enum Lookup {
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
    pub(crate) fn sql(&self) -> (String, String) {
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
pub(crate) fn range_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Imports of at least this many rows get the big page cache for their inserts.
pub(crate) const BIG_IMPORT_ROWS: usize = 5_000;
/// The page cache during a big import, in KiB (negative = KiB for SQLite): 1 GiB at most.
pub(crate) const BIG_IMPORT_CACHE_KIB: i64 = -1_048_576;

pub(crate) const PREFIX_INSERT: &str =
    "INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt) VALUES (?1, ?2, ?3)";

/// The name's prefixes of 1 and `NAME_PREFIX_MAX` (2) characters, as the update trigger of
/// migration 0002 writes them: `王` and `王小` for 王小明; just `王` for a one-character name.
pub(crate) fn name_prefixes(name: &str) -> impl Iterator<Item = &str> {
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
pub(crate) fn slot_text(t: &NaiveDateTime) -> String {
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

pub(crate) const APPT_INSERT: &str = "INSERT INTO appointments (id, reference, name, phone, id_type, id_number, wallet_operator, lock_cause, slot_start, slot_end, notes, status, case_id, phone_tail, id_tail, slot_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

/// An appointment's 16 bound values, in the order `?1`..`?16` of the insert and the update:
/// the columns of `APPT_COLS`, then the derived lookup columns (phone tail, ID tail, slot day).
pub(crate) fn appointment_params(a: &Appointment) -> Vec<Box<dyn rusqlite::ToSql>> {
    vec![
        Box::new(a.id.to_string()),
        Box::new(a.reference.clone()),
        Box::new(a.name.clone()),
        Box::new(a.phone.clone()),
        Box::new(a.id_type.as_str()),
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

#[cfg(test)]
mod ts_decode_tests {
    use super::*;

    #[test]
    fn a_malformed_stored_timestamp_is_an_error_not_the_epoch() {
        let e = parse_ts("2026-13-45 not a time").unwrap_err();
        assert_eq!(e.code, ErrorCode::Storage);
        assert!(e.message.contains("2026-13-45"), "{}", e.message);
        let t = parse_ts("2026-11-29T02:00:00.000000Z").unwrap();
        assert_eq!(ts(t), "2026-11-29T02:00:00.000000Z");
    }
}
