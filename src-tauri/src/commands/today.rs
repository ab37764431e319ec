//! The Today screen: today's cases and appointments; search.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use unlockdesk_core::ports::{CaseQuery, CaseSummary};
use unlockdesk_core::{Appointment, CoreResult};

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
        let cases = svc.list_cases(
            actor,
            &CaseQuery {
                day: Some(day),
                limit: Some(500),
                ..Default::default()
            },
        )?;
        let appointments = svc.appointments_today()?;
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

/// Counter lookup of appointments (reference, phone, ID number or their last 4, name).
#[tauri::command]
pub async fn find_appointments(
    state: State<'_, AppState>,
    query: String,
) -> CoreResult<Vec<Appointment>> {
    as_actor(&state, move |svc, _actor| svc.find_appointments(&query)).await
}
