//! Decoding rows into domain types: JSON documents, last-4 tails, the appointment row, the
//! branch server's session, terminal and enrolment-code rows.

use chrono::{NaiveDateTime, Timelike};
use postgres::Row;
use unlockdesk_core::ports::{EnrolmentCode, ServerSession, TerminalRecord};
use unlockdesk_core::*;

/// A `jsonb` document as `T`; an unreadable one is a `storage` error naming `what`.
pub(crate) fn from_jsonb<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
    what: &str,
) -> CoreResult<T> {
    serde_json::from_value(v)
        .map_err(|e| CoreError::storage(format!("stored {what} is unreadable: {e}")))
}

/// A value as a `jsonb` parameter.
pub(crate) fn to_jsonb<T: serde::Serialize>(v: &T) -> CoreResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| CoreError::new(ErrorCode::Internal, e.to_string()))
}

/// The last 4 characters (not bytes) of `s`, as the embedded store indexes them.
pub(crate) fn tail4(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    c[c.len().saturating_sub(4)..].iter().collect()
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

/// A slot to the minute, the precision the embedded store keeps (`YYYY-MM-DDTHH:MM`).
pub(crate) fn slot(t: &NaiveDateTime) -> NaiveDateTime {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(*t)
}

pub(crate) const APPT_COLS: &str = "id, reference, name, phone, id_type, id_number, \
     wallet_operator, lock_cause, slot_start, slot_end, notes, status, case_id, sealed";

pub(crate) fn to_appt(r: &Row) -> CoreResult<Appointment> {
    let get = |e: postgres::Error| CoreError::storage(format!("stored appointment: {e}"));
    let text = |i: usize| r.try_get::<_, String>(i).map_err(get);
    Ok(Appointment {
        id: AppointmentId(r.try_get(0).map_err(get)?),
        reference: text(1)?,
        name: text(2)?,
        phone: text(3)?,
        id_type: text(4)?
            .parse()
            .map_err(|e: CoreError| CoreError::storage(format!("stored appointment: {e}")))?,
        id_number: text(5)?,
        wallet_operator: text(6)?,
        lock_cause: text(7)?.parse()?,
        slot_start: r.try_get(8).map_err(get)?,
        slot_end: r.try_get(9).map_err(get)?,
        notes: text(10)?,
        status: text(11)?.parse()?,
        case_id: r
            .try_get::<_, Option<uuid::Uuid>>(12)
            .map_err(get)?
            .map(CaseId),
    })
}

pub(crate) const SESSION_COLS: &str =
    "token_hash, staff_id, terminal, created_at, last_seen, revoked_at";

/// A `server_sessions` row (`SESSION_COLS`) as a session.
pub(crate) fn to_session(r: &Row) -> CoreResult<ServerSession> {
    Ok(ServerSession {
        token_hash: col(r, "token_hash")?,
        staff_id: StaffId::parse(&col::<String>(r, "staff_id")?)?,
        terminal: col(r, "terminal")?,
        created_at: col(r, "created_at")?,
        last_seen: col(r, "last_seen")?,
        revoked_at: col(r, "revoked_at")?,
    })
}

pub(crate) const TERMINAL_COLS: &str =
    "id, name, secret_hash, enrolled_at, enrolled_by, revoked_at";

/// A `terminals` row (`TERMINAL_COLS`) as a terminal.
pub(crate) fn to_terminal(r: &Row) -> CoreResult<TerminalRecord> {
    Ok(TerminalRecord {
        id: col(r, "id")?,
        name: col(r, "name")?,
        secret_hash: col(r, "secret_hash")?,
        enrolled_at: col(r, "enrolled_at")?,
        enrolled_by: StaffId::parse(&col::<String>(r, "enrolled_by")?)?,
        revoked_at: col(r, "revoked_at")?,
    })
}

pub(crate) const CODE_COLS: &str =
    "code_hash, issued_by, issued_at, expires_at, used_at, terminal_id";

/// An `enrolment_codes` row (`CODE_COLS`) as a code.
pub(crate) fn to_code(r: &Row) -> CoreResult<EnrolmentCode> {
    Ok(EnrolmentCode {
        code_hash: col(r, "code_hash")?,
        issued_by: StaffId::parse(&col::<String>(r, "issued_by")?)?,
        issued_at: col(r, "issued_at")?,
        expires_at: col(r, "expires_at")?,
        used_at: col(r, "used_at")?,
        terminal_id: col(r, "terminal_id")?,
    })
}

/// A typed column of a row; a type mismatch is a `storage` error.
pub(crate) fn col<'r, T: postgres::types::FromSql<'r>>(r: &'r Row, name: &str) -> CoreResult<T> {
    r.try_get(name)
        .map_err(|e| CoreError::storage(format!("stored column {name}: {e}")))
}
