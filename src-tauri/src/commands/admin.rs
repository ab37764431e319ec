//! Admin: branch settings and staff accounts. Demo data on an empty store.

use tauri::State;
use unlockdesk_core::dto::NewStaff;
use unlockdesk_core::{Branch, CoreResult, StaffView};

use crate::state::{as_actor, blocking, lock_slot, session_view, AppState, SessionView};

/// Save the branch settings; returns the session with the new profile.
#[tauri::command]
pub async fn update_branch(state: State<'_, AppState>, branch: Branch) -> CoreResult<SessionView> {
    let slot = state.session_slot();
    as_actor(&state, move |svc, actor| {
        svc.update_branch(actor, &branch)?;
        let guard = lock_slot(&slot);
        let session = guard
            .as_ref()
            .ok_or_else(|| unlockdesk_core::CoreError::not_found("session"))?;
        session_view(svc, session)
    })
    .await
}

#[tauri::command]
pub async fn list_staff(state: State<'_, AppState>) -> CoreResult<Vec<StaffView>> {
    as_actor(&state, |svc, actor| svc.list_staff(actor)).await
}

#[tauri::command]
pub async fn add_staff(state: State<'_, AppState>, input: NewStaff) -> CoreResult<StaffView> {
    as_actor(&state, move |svc, actor| svc.add_staff(actor, &input)).await
}

#[tauri::command]
pub async fn set_staff_disabled(
    state: State<'_, AppState>,
    staff_id: String,
    disabled: bool,
) -> CoreResult<StaffView> {
    as_actor(&state, move |svc, actor| {
        svc.set_staff_disabled(actor, &staff_id, disabled)
    })
    .await
}

#[tauri::command]
pub async fn reset_staff_password(
    state: State<'_, AppState>,
    staff_id: String,
    password: String,
) -> CoreResult<StaffView> {
    as_actor(&state, move |svc, actor| {
        svc.reset_password(actor, &staff_id, &password)
    })
    .await
}

#[tauri::command]
pub async fn unlock_staff(state: State<'_, AppState>, staff_id: String) -> CoreResult<StaffView> {
    as_actor(&state, move |svc, actor| svc.unlock_staff(actor, &staff_id)).await
}

/// Fill an empty store with synthetic demo data (the same as `unlockdesk-cli demo`).
#[tauri::command]
pub async fn load_demo(state: State<'_, AppState>) -> CoreResult<()> {
    let svc = state.service()?;
    let terminal = state.terminal.clone();
    blocking(move || {
        let actor = svc.first_run_actor(&terminal)?;
        svc.load_demo(&actor, 0).map(|_| ())
    })
    .await
}
