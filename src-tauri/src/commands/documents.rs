//! Printing: core renders and records the application form or the receipt; the shell sends it
//! to this terminal's CUPS printer, or (no printer configured) opens it in the PDF viewer, and
//! records how it was delivered on the case.

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;
use unlockdesk_core::dto::PrintDelivery;
use unlockdesk_core::ports::DocumentRecord;
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::{CaseId, CoreError, CoreResult, PrintChannel, PrintOutcome};

use crate::state::{as_actor, AppState};

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
pub(crate) fn open_viewer<R: Runtime>(app: &AppHandle<R>, path: &str) -> Viewer {
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

/// The terminal's printer: `UNLOCKDESK_PRINTER` when set (scripted installs, tests), else the
/// queue chosen in the window, remembered in `printer.txt` in the data directory.
pub fn terminal_printer(data_dir: &std::path::Path) -> Option<String> {
    if let Ok(p) = std::env::var("UNLOCKDESK_PRINTER") {
        let p = p.trim().to_string();
        if !p.is_empty() {
            return Some(p);
        }
    }
    std::fs::read_to_string(data_dir.join("printer.txt"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The printers this terminal's CUPS offers and the one chosen.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct PrinterSettings {
    /// CUPS queues (`lpstat -e`); empty when CUPS is not reachable.
    pub printers: Vec<String>,
    pub selected: Option<String>,
    /// Set by `UNLOCKDESK_PRINTER`: the window cannot change it.
    pub fixed: bool,
}

fn printer_settings(data_dir: &std::path::Path) -> PrinterSettings {
    PrinterSettings {
        printers: unlockdesk_cups::printers(),
        selected: terminal_printer(data_dir),
        fixed: std::env::var("UNLOCKDESK_PRINTER").is_ok_and(|p| !p.trim().is_empty()),
    }
}

#[tauri::command]
pub async fn printer_settings_get(state: State<'_, AppState>) -> CoreResult<PrinterSettings> {
    let dir = state.data_dir.clone();
    tauri::async_runtime::spawn_blocking(move || printer_settings(&dir))
        .await
        .map_err(|e| CoreError::storage(e.to_string()))
}

/// Choose this terminal's printer (`None`: no printer, the viewer is used). Errors: `invalid`
/// field `printer` rule `format` (not a CUPS queue name); `session-locked` when nobody is
/// signed in or the session is locked.
#[tauri::command]
pub async fn printer_settings_set(
    state: State<'_, AppState>,
    printer: Option<String>,
) -> CoreResult<PrinterSettings> {
    let dir = state.data_dir.clone();
    let p = printer
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    if let Some(name) = &p {
        if !unlockdesk_cups::valid_printer_name(name) {
            return Err(CoreError::field(
                "printer",
                "format",
                format!("'{name}' is not a CUPS printer name"),
            ));
        }
    }
    // Only a signed-in, unlocked session may redirect this terminal's prints (bank copies
    // carry full numbers): the session check is the one every case step passes.
    as_actor(&state, move |_svc, actor| {
        std::fs::write(dir.join("printer.txt"), p.as_deref().unwrap_or_default())
            .map_err(|e| CoreError::storage(format!("cannot remember the printer: {e}")))?;
        tracing::info!(
            staff = %actor.staff_id(),
            printer = p.as_deref().unwrap_or("(none: viewer)"),
            "terminal printer changed"
        );
        Ok(printer_settings(&dir))
    })
    .await
}

/// A decrypted copy of a PDF for the viewer (or for the teller when the printer refused it),
/// in `received/` in the data directory: the folder mode 0700, the file 0600 (bank copies carry
/// full numbers), written atomically, shredded at the next start. Named by the case as well:
/// every case's first bank copy has the same file name, and the viewer must never show another
/// customer's form. Nothing is written when the PDF goes to the printer: the store's own copy
/// stays sealed (encrypted at rest) or on the branch server.
pub(crate) fn viewer_copy(
    data_dir: &std::path::Path,
    case_id: CaseId,
    name: &str,
    bytes: &[u8],
) -> CoreResult<String> {
    let dir = received_dir(data_dir);
    let path = dir.join(format!("{case_id}-{name}"));
    let made = || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    };
    made().map_err(|e| CoreError::storage(format!("cannot keep the PDF for the viewer: {e}")))?;
    unlockdesk_store::keys::write_atomic(&path, bytes)?;
    Ok(path.to_string_lossy().into_owned())
}

/// Shred every viewer copy a previous run left (start-up), then remove the folder.
pub fn shred_viewer_copies(data_dir: &std::path::Path) {
    let dir = received_dir(data_dir);
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_file() {
                let _ = unlockdesk_store::keys::shred(&p);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The directory of PDFs fetched from the branch server for the viewer.
pub fn received_dir(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("received")
}

/// A printed document: where it went and what the case now records.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct PrintedDocument {
    pub record: DocumentRecord,
    pub absolute_path: String,
    /// What happened with the viewer (the fallback when no printer is configured).
    pub viewer: Viewer,
    /// How the print was delivered, as recorded on the case.
    pub delivery: PrintDelivery,
}

/// Print (or reprint) one copy: core stores and audits it; the shell sends it to this
/// terminal's CUPS printer (waiting up to `UNLOCKDESK_PRINT_WAIT_SECS`, default 10, for the job
/// to complete) or, with no printer configured, opens the viewer; the delivery is recorded.
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
    let printer = terminal_printer(&data_dir);
    let (record, absolute_path, cups) = as_actor(&state, move |svc, actor| {
        let record = svc.print_document(actor, id, kind, copy)?;
        // The bytes through the use case: sha256-checked, decrypted by the store.
        let bytes = svc.document_bytes(actor, id, &record.id)?;
        let name = std::path::Path::new(&record.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{}.pdf", record.id));
        let cups = match printer {
            Some(p) => {
                let title = format!("{}-{}-{}", record.case_id, kind, copy);
                let delivery = match unlockdesk_cups::submit(&p, &title, &bytes) {
                    Ok(job) => {
                        let secs = std::env::var("UNLOCKDESK_PRINT_WAIT_SECS")
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(10u64);
                        let done =
                            unlockdesk_cups::wait(&job, std::time::Duration::from_secs(secs));
                        PrintDelivery {
                            channel: PrintChannel::Cups,
                            printer: Some(job.printer),
                            job_id: Some(job.id),
                            outcome: if done == unlockdesk_cups::JobState::Completed {
                                PrintOutcome::Completed
                            } else {
                                PrintOutcome::Sent
                            },
                            message: String::new(),
                        }
                    }
                    Err(e) => PrintDelivery {
                        channel: PrintChannel::Cups,
                        printer: Some(p),
                        job_id: None,
                        outcome: PrintOutcome::Failed,
                        message: e.to_string(),
                    },
                };
                svc.record_delivery(actor, id, &record.id, &delivery)?;
                Some(delivery)
            }
            None => None,
        };
        // A copy on disk only for the viewer, or when the printer refused the job.
        let absolute_path = match &cups {
            Some(d) if d.outcome != PrintOutcome::Failed => String::new(),
            _ => viewer_copy(&data_dir, id, &name, &bytes)?,
        };
        Ok((record, absolute_path, cups))
    })
    .await?;
    if let Some(delivery) = cups {
        return Ok(PrintedDocument {
            record,
            absolute_path,
            viewer: Viewer::Disabled,
            delivery,
        });
    }
    // No printer configured: the viewer is the fallback, recorded as such.
    let viewer = open_viewer(&app, &absolute_path);
    let delivery = PrintDelivery {
        channel: PrintChannel::Viewer,
        printer: None,
        job_id: None,
        outcome: if viewer == Viewer::Opened {
            PrintOutcome::Completed
        } else {
            PrintOutcome::Failed
        },
        message: match viewer {
            Viewer::Opened => String::new(),
            Viewer::Disabled => {
                "no printer configured; viewer disabled (UNLOCKDESK_NO_VIEWER)".into()
            }
            Viewer::Missing => "no printer configured and no PDF viewer installed".into(),
        },
    };
    let doc_id = record.id.clone();
    let d = delivery.clone();
    as_actor(&state, move |svc, actor| {
        svc.record_delivery(actor, id, &doc_id, &d)
    })
    .await?;
    Ok(PrintedDocument {
        record,
        absolute_path,
        viewer,
        delivery,
    })
}
