//! Printing: render the application form or the receipt to a PDF in the data directory.
//! The window opens it with the opener plugin (scoped to the app data directory).

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;
use unlockdesk_core::ports::DocumentRecord;
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::{CaseId, CoreResult};

use crate::state::{as_actor, AppState};

/// A rendered document and its absolute path for the viewer.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct PrintedDocument {
    pub record: DocumentRecord,
    pub absolute_path: String,
    pub viewer: Viewer,
}

/// What happened with the system PDF viewer after a print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum Viewer {
    /// Handed to the system PDF viewer.
    Opened,
    /// `UNLOCKDESK_NO_VIEWER=1` (tests).
    Disabled,
    /// No PDF viewer installed: the UI says so and shows the path.
    Missing,
}

/// Whether a PDF viewer is registered. `xdg-open` reports success even when none exists
/// (platform notes), so ask xdg-mime for the default handler instead.
fn pdf_viewer_available() -> bool {
    std::process::Command::new("xdg-mime")
        .args(["query", "default", "application/pdf"])
        .output()
        .map(|o| o.status.success() && !String::from_utf8_lossy(&o.stdout).trim().is_empty())
        .unwrap_or(false)
}

/// Open the PDF unless disabled or impossible; never fails the print itself.
fn open_viewer<R: Runtime>(app: &AppHandle<R>, path: &str) -> Viewer {
    use tauri_plugin_opener::OpenerExt;
    if std::env::var("UNLOCKDESK_NO_VIEWER").is_ok_and(|v| !v.is_empty() && v != "0") {
        return Viewer::Disabled;
    }
    if !pdf_viewer_available() {
        tracing::warn!("no PDF viewer registered; printed file left in the data directory");
        return Viewer::Missing;
    }
    match app.opener().open_path(path, None::<&str>) {
        Ok(()) => Viewer::Opened,
        Err(e) => {
            tracing::warn!("opening the PDF viewer failed: {e}");
            Viewer::Missing
        }
    }
}

/// Print (or reprint) one copy; core audits it and records the file on the case.
#[tauri::command]
pub async fn print_document<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    case_id: String,
    kind: DocumentKind,
    copy: CopyKind,
) -> CoreResult<PrintedDocument> {
    let id = CaseId::parse(&case_id)?;
    let data_dir = state.data_dir.clone();
    as_actor(&state, move |svc, actor| {
        let record = svc.print_document(actor, id, kind, copy)?;
        let absolute_path = data_dir.join(&record.path).to_string_lossy().into_owned();
        Ok((record, absolute_path))
    })
    .await
    .map(|(record, absolute_path)| {
        let viewer = open_viewer(&app, &absolute_path);
        PrintedDocument {
            record,
            absolute_path,
            viewer,
        }
    })
}
