//! Managed state shared by the commands: the service over the SQLite store, and the one
//! desktop session of this terminal. All store work runs on a blocking thread.

use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use ts_rs::TS;
use unlockdesk_core::dto::Session;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::{Actor, Branch, CoreError, CoreResult, Counter, ErrorCode, StaffView};
use unlockdesk_store::SqliteStore;

/// The use-case surface the commands call: the local service on the embedded store. No
/// command knows which implementation it holds.
pub type Svc = dyn Counter;

/// What the window knows about who is at the terminal.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SessionView {
    pub staff: StaffView,
    pub branch: Branch,
    /// Locked (idle or on demand): only the same person's password unlocks it.
    pub locked: bool,
}

/// The app's state. `service` holds the error when the database could not be opened (e.g. a
/// newer schema than this binary knows): every command then reports it.
pub struct AppState {
    service: Result<Arc<Svc>, CoreError>,
    session: Arc<Mutex<Option<Session>>>,
    /// This workstation, as recorded in the audit trail.
    pub terminal: String,
    /// The directory holding `unlockdesk.db` and `documents/`.
    pub data_dir: PathBuf,
}

impl AppState {
    /// Opens the store at `unlockdesk_store`'s data path (`UNLOCKDESK_DATA_DIR` overrides it).
    /// Opening creates the directory, runs pending migrations in one transaction, then checks
    /// the file (`PRAGMA integrity_check`, foreign keys): on a damaged database every command
    /// refuses with a `storage` error naming the backup route (`unlockdesk-cli restore --from
    /// FILE`), so the app never works on a corrupt file.
    pub fn open() -> Self {
        Self::open_at(unlockdesk_store::data_dir())
    }

    /// As [`AppState::open`], on `data_dir/unlockdesk.db` (tests give each app its own).
    pub fn open_at(data_dir: PathBuf) -> Self {
        let path = data_dir.join(unlockdesk_store::DB_FILE);
        tracing::info!(path = %path.display(), "opening the store");
        let service = SqliteStore::open_checked(&path).map(|store| {
            Arc::new(
                Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy))
                    .with_renderer(Arc::new(unlockdesk_forms::PdfRenderer::new())),
            ) as Arc<Svc>
        });
        if let Err(e) = &service {
            tracing::error!(error = %e, "the store could not be opened");
            // Also on the console, for whoever started the app from a terminal.
            eprintln!("UnlockDesk cannot start: {}", e.message);
        }
        AppState {
            service,
            session: Arc::new(Mutex::new(None)),
            terminal: terminal_name(),
            data_dir,
        }
    }

    pub fn service(&self) -> CoreResult<Arc<Svc>> {
        self.service.clone()
    }

    pub fn session_slot(&self) -> Arc<Mutex<Option<Session>>> {
        self.session.clone()
    }
}

fn terminal_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        "desk".into()
    } else {
        format!("desk:{host}")
    }
}

/// Locks the session slot, recovering from a panic in another command.
pub fn lock_slot(slot: &Mutex<Option<Session>>) -> std::sync::MutexGuard<'_, Option<Session>> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` on a blocking thread so SQLite, argon2 and PDF work never freeze the window.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CoreResult<T> + Send + 'static,
) -> CoreResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::new(ErrorCode::Internal, format!("worker failed: {e}")))?
}

/// Runs one use case as the signed-in person: core checks the session is unlocked, not idle
/// too long, and past the forced password change, then `f` gets the actor.
pub async fn as_actor<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Svc, &Actor) -> CoreResult<T> + Send + 'static,
) -> CoreResult<T> {
    let svc = state.service()?;
    let slot = state.session_slot();
    blocking(move || {
        let actor = {
            let mut guard = lock_slot(&slot);
            let session = guard
                .as_mut()
                .ok_or_else(|| CoreError::new(ErrorCode::SessionLocked, "nobody is signed in"))?;
            svc.session_actor(session)?
        };
        f(&*svc, &actor)
    })
    .await
}

/// The session as the window sees it, with the current branch profile.
pub fn session_view(svc: &Svc, session: &Session) -> CoreResult<SessionView> {
    Ok(SessionView {
        staff: session.staff().clone(),
        branch: svc.branch()?,
        locked: session.is_locked(),
    })
}
