//! Printing: render the application form or the receipt to a PDF in the data directory.
//! The window opens it with the opener plugin (scoped to the app data directory).

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use unlockdesk_core::ports::DocumentRecord;
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::{CaseId, CoreResult};
use unlockdesk_forms::PdfRenderer;

use crate::state::{as_actor, AppState};

/// A rendered document and its absolute path for the viewer.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct PrintedDocument {
    pub record: DocumentRecord,
    pub absolute_path: String,
}

/// Print (or reprint) one copy; core audits it and records the file on the case.
#[tauri::command]
pub async fn print_document(
    state: State<'_, AppState>,
    case_id: String,
    kind: DocumentKind,
    copy: CopyKind,
) -> CoreResult<PrintedDocument> {
    let id = CaseId::parse(&case_id)?;
    let data_dir = state.data_dir.clone();
    as_actor(&state, move |svc, actor| {
        let record = svc.print_document(actor, id, kind, copy, &PdfRenderer::new())?;
        let absolute_path = data_dir.join(&record.path).to_string_lossy().into_owned();
        Ok(PrintedDocument {
            record,
            absolute_path,
        })
    })
    .await
}
