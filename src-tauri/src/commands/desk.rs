//! The supervisors' authorization desk (待授权): the queue, opening a request, the teller's
//! request to confirm an unlock, and the live updates of both sides.

use tauri::ipc::Channel;
use tauri::State;
use unlockdesk_core::authorizations::AuthorizationItem;
use unlockdesk_core::dto::{CaseView, UnlockInput};
use unlockdesk_core::{CaseId, CoreResult};

use crate::live::{Live, LiveMessage};
use crate::state::{as_actor, AppState};

/// Every request waiting for a supervisor, oldest first, masked.
#[tauri::command]
pub async fn authorization_queue(state: State<'_, AppState>) -> CoreResult<Vec<AuthorizationItem>> {
    as_actor(&state, move |svc, actor| svc.authorization_queue(actor)).await
}

/// A supervisor opens a request (audited; the other supervisors see who has it).
#[tauri::command]
pub async fn open_authorization(
    state: State<'_, AppState>,
    case_id: String,
) -> CoreResult<AuthorizationItem> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| svc.open_authorization(actor, id)).await
}

/// The teller asks a supervisor to confirm the unlock at their own desk.
#[tauri::command]
pub async fn request_confirm_unlock(
    state: State<'_, AppState>,
    case_id: String,
    input: UnlockInput,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.request_confirm_unlock(actor, id, &input, Some(&idem))
    })
    .await
}

/// The window's channel for live updates (see `crate::live`): a `resync` at once, then every
/// event of the queue while someone is signed in.
#[tauri::command]
pub fn follow_authorizations(live: State<'_, Live>, on_event: Channel<LiveMessage>) {
    live.add(on_event);
}
