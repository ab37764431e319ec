//! The Today screen: today's cases and appointments; search; the appointment import. The
//! past-case browser: cases by date range, state, teller and operator, a page at a time.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use unlockdesk_core::appointments::ImportReport;
use unlockdesk_core::dto::{CaseFilters, CasePage};
use unlockdesk_core::ports::{CaseQuery, CaseSummary};
use unlockdesk_core::{Appointment, CoreError, CoreResult};

use crate::state::{as_actor, AppState};

/// Today at this branch: the cases opened today (any state) and the appointments by slot.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct TodayView {
    /// Branch-local date, `YYYY-MM-DD`.
    pub day: String,
    pub cases: Vec<CaseSummary>,
    /// Masked.
    pub appointments: Vec<Appointment>,
}

#[tauri::command]
pub async fn today(state: State<'_, AppState>) -> CoreResult<TodayView> {
    as_actor(&state, |svc, actor| {
        let day = svc.today()?;
        let cases = svc
            .list_cases(
                actor,
                &CaseQuery {
                    day: Some(day),
                    limit: Some(500),
                    ..Default::default()
                },
            )?
            .cases;
        let appointments = svc.appointments_today(actor)?;
        Ok(TodayView {
            day: day.to_string(),
            cases,
            appointments,
        })
    })
    .await
}

/// Any case, also from an earlier day: case number (typed or scanned), name, or last 4.
#[tauri::command]
pub async fn find_cases(state: State<'_, AppState>, query: String) -> CoreResult<Vec<CaseSummary>> {
    as_actor(&state, move |svc, actor| svc.find_cases(actor, &query)).await
}

/// One page of cases: a range of opening days, states, teller, operator, "left open from an
/// earlier day"; `query.after` = the previous page's `next` reads on. The query is read here
/// from JSON so that a bad value comes back as core's `invalid` naming its field.
///
/// Errors: `invalid` (fields `states`, `from`, `to`, `day`, `opened_by`, `wallet_operator`,
/// `limit`; see `Counter::list_cases`), `forbidden`.
#[tauri::command]
pub async fn list_cases(
    state: State<'_, AppState>,
    query: serde_json::Value,
) -> CoreResult<CasePage> {
    as_actor(&state, move |svc, actor| {
        svc.list_cases(actor, &CaseQuery::from_json(query)?)
    })
    .await
}

/// The choices of the past-case browser's teller and operator filters, and today's date.
#[tauri::command]
pub async fn case_filters(state: State<'_, AppState>) -> CoreResult<CaseFilters> {
    as_actor(&state, |svc, actor| svc.case_filters(actor)).await
}

/// Counter lookup of appointments (reference, phone, ID number or their last 4, name).
#[tauri::command]
pub async fn find_appointments(
    state: State<'_, AppState>,
    query: String,
) -> CoreResult<Vec<Appointment>> {
    as_actor(&state, move |svc, actor| {
        svc.find_appointments(actor, &query)
    })
    .await
}

/// Import the call centre's export (CSV in UTF-8 or GB18030, or JSON) from `path`, a file the
/// teller names on this machine. One transaction for the whole file; bad rows come back in
/// [`ImportReport::rejected`] (row 1 = the first data row). The file name (not the path) goes
/// to the audit trail.
///
/// Errors: `invalid` with field `path` (rules `required`, `unreadable`) when the file cannot
/// be read, or core's file-level errors (field `file` / `header`); `forbidden` for roles that
/// may not import.
#[tauri::command]
pub async fn import_appointments(
    state: State<'_, AppState>,
    path: String,
) -> CoreResult<ImportReport> {
    as_actor(&state, move |svc, actor| {
        let path = std::path::PathBuf::from(path.trim());
        if path.as_os_str().is_empty() {
            return Err(CoreError::field(
                "path",
                "required",
                "name the file to import",
            ));
        }
        let bytes = std::fs::read(&path).map_err(|e| {
            CoreError::field("path", "unreadable", format!("cannot read the file: {e}"))
        })?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        svc.import_appointments(actor, &bytes, &file_name)
    })
    .await
}
