//! The auditor's console (审计台) and retention: the audit trail searched, verified and
//! exported, the reveals report, legal holds, the destruction register; and the export of a
//! closed case's document (a closed case is read-only: nothing is printed onto it).

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;
use unlockdesk_core::auditor::{AuditFilter, AuditPage, RetentionReport, RevealPage};
use unlockdesk_core::dto::PrintDelivery;
use unlockdesk_core::ports::AuditVerification;
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::{
    CaseId, CoreError, CoreResult, LegalHold, PrintChannel, PrintOutcome, PurgeBatch,
};

use super::documents::{open_viewer, terminal_printer, viewer_copy, Viewer};
use crate::state::{as_actor, AppState};

/// The dry run: what is due for destruction today, what a legal hold keeps.
#[tauri::command]
pub async fn retention_report(state: State<'_, AppState>) -> CoreResult<RetentionReport> {
    as_actor(&state, move |svc, actor| svc.retention_report(actor)).await
}

/// Prepare a destruction batch of what is due (the first person).
#[tauri::command]
pub async fn prepare_purge(state: State<'_, AppState>) -> CoreResult<PurgeBatch> {
    as_actor(&state, move |svc, actor| svc.prepare_purge(actor)).await
}

/// Approve a batch another person prepared, and destroy it (the second person).
#[tauri::command]
pub async fn approve_purge(state: State<'_, AppState>, batch_id: String) -> CoreResult<PurgeBatch> {
    as_actor(&state, move |svc, actor| {
        svc.approve_purge(actor, &batch_id)
    })
    .await
}

/// Withdraw a prepared batch with a reason; nothing is destroyed.
#[tauri::command]
pub async fn withdraw_purge(
    state: State<'_, AppState>,
    batch_id: String,
    reason: String,
) -> CoreResult<PurgeBatch> {
    as_actor(&state, move |svc, actor| {
        svc.withdraw_purge(actor, &batch_id, &reason)
    })
    .await
}

/// The destruction register, newest first.
#[tauri::command]
pub async fn purge_batches(state: State<'_, AppState>) -> CoreResult<Vec<PurgeBatch>> {
    as_actor(&state, move |svc, actor| svc.purge_batches(actor)).await
}

/// Put a case under legal hold.
#[tauri::command]
pub async fn set_legal_hold(
    state: State<'_, AppState>,
    case_id: String,
    reason: String,
) -> CoreResult<LegalHold> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.set_legal_hold(actor, id, &reason)
    })
    .await
}

/// Release a case's legal hold.
#[tauri::command]
pub async fn release_legal_hold(
    state: State<'_, AppState>,
    case_id: String,
    reason: String,
) -> CoreResult<LegalHold> {
    let id = CaseId::parse(&case_id)?;
    as_actor(&state, move |svc, actor| {
        svc.release_legal_hold(actor, id, &reason)
    })
    .await
}

/// Legal holds, newest first.
#[tauri::command]
pub async fn legal_holds(
    state: State<'_, AppState>,
    active_only: bool,
) -> CoreResult<Vec<LegalHold>> {
    as_actor(&state, move |svc, actor| {
        svc.legal_holds(actor, active_only)
    })
    .await
}

/// One page of the audit trail, newest first.
#[tauri::command]
pub async fn search_audit(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> CoreResult<AuditPage> {
    as_actor(&state, move |svc, actor| svc.search_audit(actor, &filter)).await
}

/// One page of the reveals of full numbers, newest first.
#[tauri::command]
pub async fn audit_reveals(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> CoreResult<RevealPage> {
    as_actor(&state, move |svc, actor| svc.audit_reveals(actor, &filter)).await
}

/// Walk the audit chain: OK, or the first broken link.
#[tauri::command]
pub async fn verify_audit(state: State<'_, AppState>) -> CoreResult<AuditVerification> {
    as_actor(&state, move |svc, actor| svc.verify_audit(actor)).await
}

/// Where an audit export was written.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct AuditExport {
    /// The CSV file (UTF-8 with BOM).
    pub path: String,
    pub bytes: u64,
}

/// The directory exports are written to: `UNLOCKDESK_EXPORT_DIR` when set, else `exports/` in
/// the data directory (private to the user, mode 0700).
pub fn export_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    std::env::var_os("UNLOCKDESK_EXPORT_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| data_dir.join("exports"))
}

/// Export the filtered audit trail as CSV into [`export_dir`] (written atomically).
#[tauri::command]
pub async fn export_audit_csv(
    state: State<'_, AppState>,
    filter: AuditFilter,
) -> CoreResult<AuditExport> {
    let dir = export_dir(&state.data_dir);
    as_actor(&state, move |svc, actor| {
        let csv = svc.export_audit(actor, &filter)?;
        let name = format!("audit-{}.csv", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
        let path = dir.join(name);
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&dir)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
            }
            let tmp = path.with_extension("csv.tmp");
            std::fs::write(&tmp, &csv)?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| CoreError::storage(format!("cannot write the export: {e}")))?;
        Ok(AuditExport {
            path: path.to_string_lossy().into_owned(),
            bytes: csv.len() as u64,
        })
    })
    .await
}

/// An exported copy of a document: where it went.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct ExportedDocument {
    pub absolute_path: String,
    pub viewer: Viewer,
    /// How it reached paper (not recorded on the case: the export is audited instead).
    pub delivery: PrintDelivery,
}

/// A copy of a closed case's document (a lost receipt): rendered and audited as `export`,
/// never recorded on the case (it is read-only); sent to this terminal's printer, or to the
/// viewer when none is configured.
#[tauri::command]
pub async fn export_document<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    case_id: String,
    kind: DocumentKind,
    copy: CopyKind,
) -> CoreResult<ExportedDocument> {
    let id = CaseId::parse(&case_id)?;
    let data_dir = state.data_dir.clone();
    let printer = terminal_printer(&data_dir);
    let (path, cups) = as_actor(&state, move |svc, actor| {
        let bytes = svc.render_document(actor, id, kind, copy)?;
        let cups = printer.map(|p| {
            let title = format!("{id}-{kind}-{copy}");
            match unlockdesk_cups::submit(&p, &title, &bytes) {
                Ok(job) => PrintDelivery {
                    channel: PrintChannel::Cups,
                    printer: Some(job.printer),
                    job_id: Some(job.id),
                    outcome: PrintOutcome::Sent,
                    message: String::new(),
                },
                Err(e) => PrintDelivery {
                    channel: PrintChannel::Cups,
                    printer: Some(p),
                    job_id: None,
                    outcome: PrintOutcome::Failed,
                    message: e.to_string(),
                },
            }
        });
        // A copy on disk only for the viewer, or when the printer refused the job.
        let path = match &cups {
            Some(d) if d.outcome != PrintOutcome::Failed => String::new(),
            _ => viewer_copy(&data_dir, id, &format!("{kind}-{copy}-export.pdf"), &bytes)?,
        };
        Ok((path, cups))
    })
    .await?;
    if let Some(delivery) = cups {
        return Ok(ExportedDocument {
            absolute_path: path,
            viewer: Viewer::Disabled,
            delivery,
        });
    }
    let viewer = open_viewer(&app, &path);
    let delivery = PrintDelivery {
        channel: PrintChannel::Viewer,
        printer: None,
        job_id: None,
        outcome: if viewer == Viewer::Opened {
            PrintOutcome::Completed
        } else {
            PrintOutcome::Failed
        },
        message: String::new(),
    };
    Ok(ExportedDocument {
        absolute_path: path,
        viewer,
        delivery,
    })
}
