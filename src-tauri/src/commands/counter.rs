//! The counter flow: open a case, identity, form, signed paper, submit, authorization,
//! operator contacts, unlock, close, cancel, and the authority-freeze refusal.
//! Each command is one core use case; `idem` is the window's idempotency key for the attempt.

use tauri::State;
use unlockdesk_core::dto::{
    CaseView, ContactInput, Credentials, IdentityInput, OpenCaseInput, RevealField,
    UnlockFailureInput, UnlockInput,
};
use unlockdesk_core::identity::{live_status, DocKind, LiveStatus};
use unlockdesk_core::{ApplicationForm, CaseId, CoreResult, Decision, ReasonCode};

use crate::state::{as_actor, AppState};

#[tauri::command]
pub async fn case_view(state: State<'_, AppState>, case_id: String) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| svc.case_view(actor, id)).await
}

/// Show one masked personal value in full (permitted roles, typed reason); core audits it as
/// `reveal`. The value goes straight back to the window: it is never logged here.
#[tauri::command]
pub async fn reveal_value(
    state: State<'_, AppState>,
    case_id: String,
    field: RevealField,
    reason: String,
) -> CoreResult<String> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.reveal(actor, id, field, &reason)
    })
    .await
}

#[tauri::command]
pub async fn open_case(
    state: State<'_, AppState>,
    input: OpenCaseInput,
    idem: String,
) -> CoreResult<CaseView> {
    as_actor(&state, move |svc, actor| {
        svc.open_case(actor, &input, Some(&idem))
    })
    .await
}

/// Feedback while the teller types a document number: `incomplete`, `invalid` with the
/// failed rules, or `valid`. Pure core rules; the final check runs in `verify_identity`.
#[tauri::command]
pub async fn document_status(
    state: State<'_, AppState>,
    kind: DocKind,
    text: String,
) -> CoreResult<LiveStatus> {
    as_actor(&state, move |svc, _actor| {
        Ok(live_status(kind, &text, svc.today()?))
    })
    .await
}

#[tauri::command]
pub async fn verify_identity(
    state: State<'_, AppState>,
    case_id: String,
    input: IdentityInput,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.verify_identity(actor, id, &input, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn cocheck_identity(
    state: State<'_, AppState>,
    case_id: String,
    supervisor: Credentials,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.cocheck_identity(actor, id, &supervisor, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn record_form(
    state: State<'_, AppState>,
    case_id: String,
    form: ApplicationForm,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.record_form(actor, id, &form, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn confirm_signed(
    state: State<'_, AppState>,
    case_id: String,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.confirm_signed(actor, id, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn submit_case(
    state: State<'_, AppState>,
    case_id: String,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| svc.submit(actor, id, Some(&idem))).await
}

/// The supervisor's decision, with the supervisor's own id and password typed in the dialog.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn authorize_case(
    state: State<'_, AppState>,
    case_id: String,
    supervisor: Credentials,
    decision: Decision,
    reason_code: Option<ReasonCode>,
    reason: String,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.authorize(
            actor,
            id,
            &supervisor,
            decision,
            reason_code,
            &reason,
            Some(&idem),
        )
    })
    .await
}

#[tauri::command]
pub async fn log_contact(
    state: State<'_, AppState>,
    case_id: String,
    input: ContactInput,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.log_contact(actor, id, &input, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn confirm_unlock(
    state: State<'_, AppState>,
    case_id: String,
    supervisor: Credentials,
    input: UnlockInput,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.confirm_unlock(actor, id, &supervisor, &input, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn record_unlock_failure(
    state: State<'_, AppState>,
    case_id: String,
    input: UnlockFailureInput,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.record_unlock_failure(actor, id, &input, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn close_case(
    state: State<'_, AppState>,
    case_id: String,
    receipt_waiver: Option<String>,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.close_case(actor, id, receipt_waiver.as_deref(), Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn cancel_case(
    state: State<'_, AppState>,
    case_id: String,
    reason: String,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.cancel_case(actor, id, &reason, Some(&idem))
    })
    .await
}

#[tauri::command]
pub async fn refuse_authority_freeze(
    state: State<'_, AppState>,
    case_id: String,
    reason: String,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.refuse_authority_freeze(actor, id, &reason, Some(&idem))
    })
    .await
}

/// Ask the wallet operator's connector about the case's wallet (`wallet_id` typed at the
/// counter, else the form's).
#[tauri::command]
pub async fn wallet_status(
    state: State<'_, AppState>,
    case_id: String,
    wallet_id: Option<String>,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.wallet_status(actor, id, wallet_id.as_deref())
    })
    .await
}

/// Ask the operator's connector for the unlock of an approved case, or ask again on a case
/// waiting for its answer.
#[tauri::command]
pub async fn request_unlock(
    state: State<'_, AppState>,
    case_id: String,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.request_unlock(actor, id, Some(&idem))
    })
    .await
}

/// The customer notifications (SMS) of one case, or of all, newest first.
#[tauri::command]
pub async fn notifications(
    state: State<'_, AppState>,
    case_id: Option<String>,
) -> CoreResult<Vec<unlockdesk_core::operator::OutboxMessage>> {
    let id = case_id.as_deref().map(CaseId::parse).transpose()?;
    as_actor(&state, move |svc, actor| svc.notifications(actor, id)).await
}
