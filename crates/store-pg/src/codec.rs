//! Decoding rows into domain types: JSON documents, last-4 tails, the appointment row.

use chrono::{NaiveDateTime, Timelike};
use postgres::Row;
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
     wallet_operator, lock_cause, slot_start, slot_end, notes, status, case_id";

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

/// A typed column of a row; a type mismatch is a `storage` error.
pub(crate) fn col<'r, T: postgres::types::FromSql<'r>>(r: &'r Row, name: &str) -> CoreResult<T> {
    r.try_get(name)
        .map_err(|e| CoreError::storage(format!("stored column {name}: {e}")))
}
