//! Set-up, sign-in, password change, lock and unlock, sign-out.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use unlockdesk_core::dto::SetupInput;
use unlockdesk_core::{CoreError, CoreResult, ErrorCode};

use crate::state::{blocking, lock_slot, session_view, session_view_now, AppState, SessionView};

/// Whether the store has a branch yet (an empty store opens set-up).
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct SetupStatus {
    pub set_up: bool,
}

fn nobody() -> CoreError {
    CoreError::new(ErrorCode::SessionLocked, "nobody is signed in")
}

#[tauri::command]
pub async fn setup_status(state: State<'_, AppState>) -> CoreResult<SetupStatus> {
    let svc = state.service()?;
    // A branch terminal never sets up a store: the branch server's administrator did. It
    // starts on the sign-in screen at once, whether or not the server answers yet.
    if state.remote().is_ok() {
        return Ok(SetupStatus { set_up: true });
    }
    blocking(move || {
        Ok(SetupStatus {
            set_up: svc.is_set_up()?,
        })
    })
    .await
}

#[tauri::command]
pub async fn setup_branch(state: State<'_, AppState>, input: SetupInput) -> CoreResult<()> {
    let svc = state.service()?;
    let terminal = state.terminal.clone();
    blocking(move || svc.setup(&input, &terminal)).await
}

#[tauri::command]
pub async fn current_session(state: State<'_, AppState>) -> CoreResult<Option<SessionView>> {
    let svc = state.service()?;
    let slot = state.session_slot();
    blocking(move || {
        let session = lock_slot(&slot).clone();
        session.map(|s| session_view_now(&*svc, &s)).transpose()
    })
    .await
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    staff_id: String,
    password: String,
) -> CoreResult<SessionView> {
    let svc = state.service()?;
    let slot = state.session_slot();
    let terminal = state.terminal.clone();
    blocking(move || {
        let session = svc.sign_in(&staff_id, &password, &terminal)?;
        let view = session_view(&*svc, &session)?;
        tracing::info!(staff = %session.staff().id, "signed in");
        *lock_slot(&slot) = Some(session);
        Ok(view)
    })
    .await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CoreResult<()> {
    let taken = lock_slot(&state.session_slot()).take();
    if let Some(s) = taken {
        tracing::info!(staff = %s.staff().id, "signed out");
        // A branch terminal also ends the session on the server, in the background (best
        // effort: an unreachable server ends it anyway after the branch's idle minutes; the
        // next person must not wait for it).
        if let (Ok(remote), Some(actor)) = (state.remote(), s.remote_actor().cloned()) {
            drop(tauri::async_runtime::spawn_blocking(move || {
                let _ = remote.sign_out(&actor);
            }));
        }
    }
    Ok(())
}

/// Lock on demand (the lock button, or the window's idle timer).
#[tauri::command]
pub async fn lock_session(state: State<'_, AppState>) -> CoreResult<Option<SessionView>> {
    let svc = state.service()?;
    let slot = state.session_slot();
    blocking(move || {
        let mut guard = lock_slot(&slot);
        match guard.as_mut() {
            Some(s) => {
                s.lock();
                Ok(Some(session_view_now(&*svc, s)?))
            }
            None => Ok(None),
        }
    })
    .await
}

/// Put the session updated by core back in the slot, only if the slot still holds that same
/// sign-in: the password checks run without the lock (argon2 takes tens of milliseconds), and a
/// sign-out or another person's sign-in meanwhile must not be overwritten.
fn write_back(
    slot: &std::sync::Mutex<Option<unlockdesk_core::dto::Session>>,
    signed_in_at: chrono::DateTime<chrono::Utc>,
    updated: &unlockdesk_core::dto::Session,
) -> CoreResult<()> {
    let mut guard = lock_slot(slot);
    match guard.as_mut() {
        Some(current)
            if current.staff().id == updated.staff().id
                && current.signed_in_at() == signed_in_at =>
        {
            *current = updated.clone();
            Ok(())
        }
        _ => Err(nobody()),
    }
}

/// Unlock with the same person's password (core authenticates and counts failures).
#[tauri::command]
pub async fn unlock_session(
    state: State<'_, AppState>,
    password: String,
) -> CoreResult<SessionView> {
    let svc = state.service()?;
    let slot = state.session_slot();
    blocking(move || {
        let mut session = lock_slot(&slot).clone().ok_or_else(nobody)?;
        // The sign-in being unlocked (a branch server's unlock opens a new server session, with
        // its own sign-in time).
        let signed_in_at = session.signed_in_at();
        svc.unlock_session(&mut session, &password)?;
        write_back(&slot, signed_in_at, &session)?;
        session_view(&*svc, &session)
    })
    .await
}

/// Change one's own password (also the forced change at first sign-in).
#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    current: String,
    next: String,
) -> CoreResult<SessionView> {
    let svc = state.service()?;
    let slot = state.session_slot();
    blocking(move || {
        let mut session = lock_slot(&slot).clone().ok_or_else(nobody)?;
        let signed_in_at = session.signed_in_at();
        svc.change_own_password(&mut session, &current, &next)?;
        write_back(&slot, signed_in_at, &session)?;
        session_view(&*svc, &session)
    })
    .await
}

/// The UI's first screen is usable. With `UNLOCKDESK_REPORT_READY=1` (the start-up benchmark,
/// `make bench-app`) a line `UNLOCKDESK_READY` goes to stdout so the launcher can time it.
#[tauri::command]
pub async fn ui_ready() -> CoreResult<()> {
    tracing::info!("first screen ready");
    if std::env::var("UNLOCKDESK_REPORT_READY").is_ok_and(|v| v == "1") {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "UNLOCKDESK_READY");
        let _ = out.flush();
    }
    Ok(())
}
