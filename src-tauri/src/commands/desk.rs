//! The supervisors' authorization desk (待授权): the queue, opening a request, the teller's
//! request to confirm an unlock, and the live updates of both sides.

use base64::Engine;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use ts_rs::TS;
use unlockdesk_core::authorizations::AuthorizationItem;
use unlockdesk_core::dto::{CaseView, UnlockInput};
use unlockdesk_core::{CaseId, CoreError, CoreResult, ErrorCode};

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

/// Attach a scan or photo of the signed form from a file on this terminal (a file picker's or a
/// scanner's output folder's path); core checks its type by content and its size.
#[tauri::command]
pub async fn attach_signed_scan(
    state: State<'_, AppState>,
    case_id: String,
    path: String,
    idem: String,
) -> CoreResult<CaseView> {
    let id = CaseId::parse(&case_id)?;
    let path = std::path::PathBuf::from(path.trim());
    let limit = unlockdesk_core::service::MAX_SCAN_BYTES;
    let read = |p: &std::path::Path| -> CoreResult<Vec<u8>> {
        let meta = std::fs::metadata(p).map_err(|e| {
            CoreError::field(
                "path",
                "readable",
                format!("cannot read {}: {e}", p.display()),
            )
        })?;
        if !meta.is_file() {
            return Err(CoreError::field(
                "path",
                "readable",
                format!("{} is not a file", p.display()),
            ));
        }
        if meta.len() > limit as u64 {
            return Err(CoreError::field(
                "file",
                "max-size",
                format!(
                    "{} is over {} MiB: scan at a lower resolution",
                    p.display(),
                    limit / 1_048_576
                ),
            ));
        }
        // Read at most one byte past the limit: a file that grew since `metadata` is refused
        // by core's size rule, never read whole.
        let mut bytes = Vec::new();
        std::fs::File::open(p)
            .and_then(|f| {
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(f, limit as u64 + 1),
                    &mut bytes,
                )
            })
            .map_err(|e| {
                CoreError::field(
                    "path",
                    "readable",
                    format!("cannot read {}: {e}", p.display()),
                )
            })?;
        Ok(bytes)
    };
    let bytes = read(&path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    as_actor(&state, move |svc, actor| {
        svc.attach_signed_scan(actor, id, &name, &bytes, Some(&idem))
    })
    .await
}

/// One page of a stored document as an image for the window (a `data:` URL: the page never
/// touches the disk outside the private `received/` directory, which is emptied at once).
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct PageImage {
    /// 1-based page number.
    pub page: u32,
    pub data_url: String,
}

/// At most this many pages of a PDF are shown in the window.
const MAX_PAGES: u32 = 4;
/// The longest a page render may take before it is given up.
const RENDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// The pages of a stored document as images: a PNG or JPEG scan as it is; a PDF (the printed
/// bank copy, a PDF scan) rendered by poppler's `pdftoppm` (each page scaled to fit 1,600
/// pixels), first pages only. Errors: those of `document_bytes` (`forbidden`, `not-found`,
/// `storage` when the SHA-256 differs), `render` when pdftoppm is missing or fails.
#[tauri::command]
pub async fn document_pages(
    state: State<'_, AppState>,
    case_id: String,
    document_id: String,
) -> CoreResult<Vec<PageImage>> {
    let id = CaseId::parse(&case_id)?;
    let dir = crate::commands::documents::received_dir(&state.data_dir);
    as_actor(&state, move |svc, actor| {
        let bytes = svc.document_bytes(actor, id, &document_id)?;
        let b64 = |mime: &str, b: &[u8]| {
            format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(b)
            )
        };
        match unlockdesk_core::service::scan_type(&bytes) {
            Ok(mime @ ("image/png" | "image/jpeg")) => Ok(vec![PageImage {
                page: 1,
                data_url: b64(mime, &bytes),
            }]),
            _ => pdf_pages(&dir, &bytes)?
                .into_iter()
                .enumerate()
                .map(|(i, png)| {
                    Ok(PageImage {
                        page: i as u32 + 1,
                        data_url: b64("image/png", &png),
                    })
                })
                .collect(),
        }
    })
    .await
}

/// PNG images of the first [`MAX_PAGES`] pages of `pdf`, rendered in a private directory that
/// is removed before returning.
fn pdf_pages(received: &std::path::Path, pdf: &[u8]) -> CoreResult<Vec<Vec<u8>>> {
    let render = |m: String| CoreError::new(ErrorCode::Render, m);
    let work = received.join(format!("pages-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work).map_err(|e| render(format!("cannot render the pages: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(received, std::fs::Permissions::from_mode(0o700));
    }
    let result = (|| {
        let src = work.join("doc.pdf");
        std::fs::write(&src, pdf).map_err(|e| render(format!("cannot render the pages: {e}")))?;
        // Each page scaled to fit 1,600 pixels (a made-up page size cannot exhaust memory),
        // killed after RENDER_TIMEOUT.
        let mut child = std::process::Command::new("pdftoppm")
            .args(["-png", "-scale-to", "1600", "-f", "1", "-l", &MAX_PAGES.to_string()])
            .arg(&src)
            .arg(work.join("page"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| {
                render(format!(
                    "the pages cannot be shown here (pdftoppm: {e}; install poppler-utils): open the PDF instead"
                ))
            })?;
        let until = std::time::Instant::now() + RENDER_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(render(format!(
                        "the PDF's pages took longer than {} s to render: open the PDF instead",
                        RENDER_TIMEOUT.as_secs()
                    )));
                }
            }
        };
        if !status.success() {
            return Err(render(
                "the PDF's pages could not be rendered (a damaged PDF?): open the PDF instead"
                    .into(),
            ));
        }
        let mut pages: Vec<std::path::PathBuf> = std::fs::read_dir(&work)
            .map_err(|e| render(format!("cannot read the pages: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "png"))
            .collect();
        pages.sort();
        pages
            .iter()
            .map(|p| std::fs::read(p).map_err(|e| render(format!("cannot read a page: {e}"))))
            .collect()
    })();
    let _ = std::fs::remove_dir_all(&work);
    result
}
