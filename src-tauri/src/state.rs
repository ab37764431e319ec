//! Managed state shared by the commands: the use cases (the local service over the SQLite
//! store, or the branch server's client), and the one desktop session of this terminal. All
//! store and network work runs on a blocking thread.

use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use ts_rs::TS;
use unlockdesk_client::Remote;
use unlockdesk_core::dto::Session;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::{Actor, Branch, CoreError, CoreResult, Counter, ErrorCode, StaffView};
use unlockdesk_store::{KeySource, KeyState, SqliteStore};

use crate::terminal::{BranchLink, LinkSource, TerminalMode};

/// The use-case surface the commands call: the local service on the embedded store, or the
/// branch server's client. No command knows which implementation it holds.
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

/// The app's state. `service` holds the error when the store could not be opened (e.g. a
/// newer schema than this binary knows, a damaged terminal settings file): every command then
/// reports it. In branch mode `remote` is the same client as `service`, for the few commands
/// that exist only there (the admin's terminal list).
pub struct AppState {
    inner: RwLock<Backend>,
    session: Arc<Mutex<Option<Session>>>,
    /// An enrolment begun on this terminal: the server (with the fingerprint it showed) and
    /// the code, waiting for the administrator to compare the fingerprint (see
    /// `commands::terminal`).
    pub pending_enrolment: Mutex<Option<(BranchLink, String)>>,
    /// This workstation, as recorded in the audit trail.
    pub terminal: String,
    /// The directory holding `unlockdesk.db` (alone), `terminal.json`, logs and `documents/`.
    pub data_dir: PathBuf,
}

/// What the embedded store waits for before it opens (no key file, no secret service: the
/// branch passphrase is the key source on a desktop terminal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum StoreKeyNeed {
    /// Nothing: the store is open (or this is a branch terminal).
    None,
    /// A new store, or a plaintext one: an administrator chooses the branch passphrase, and
    /// the store is created (or encrypted) under it.
    PassphraseToSet,
    /// The store is encrypted under the branch passphrase: someone who knows it types it.
    PassphraseNeeded,
}

/// The use cases this run works on.
#[derive(Clone)]
struct Backend {
    service: Result<Arc<Svc>, CoreError>,
    key_need: StoreKeyNeed,
    remote: Option<Arc<Remote>>,
    link: Option<BranchLink>,
    source: LinkSource,
}

impl AppState {
    /// Opens the store at `unlockdesk_store`'s data path (`UNLOCKDESK_DATA_DIR`, or the app's
    /// `--data-dir DIR` argument, overrides it), or connects to the branch server (see
    /// [`crate::terminal`]). Opening the embedded store creates the directory, runs pending
    /// migrations in one transaction, then checks the file (`PRAGMA integrity_check`, foreign
    /// keys): on a damaged database every command refuses with a `storage` error naming the
    /// backup route (`unlockdesk-cli restore --from FILE`), so the app never works on a corrupt
    /// file. Connecting makes no network call: start-up never waits for the server.
    pub fn open() -> Self {
        Self::open_at(data_dir())
    }

    /// As [`AppState::open`], in `data_dir` (tests give each app its own).
    pub fn open_at(data_dir: PathBuf) -> Self {
        let terminal = terminal_name();
        // Decrypted PDFs the viewer was given last run.
        crate::commands::documents::shred_viewer_copies(&data_dir);
        let backend = match crate::terminal::resolve(&data_dir) {
            Ok((link, source)) => backend(&data_dir, link, source, &terminal),
            Err(e) => Backend {
                service: Err(e),
                key_need: StoreKeyNeed::None,
                remote: None,
                link: None,
                source: LinkSource::Alone,
            },
        };
        if let (Err(e), StoreKeyNeed::None) = (&backend.service, backend.key_need) {
            tracing::error!(error = %e, "the store could not be opened");
            // Also on the console, for whoever started the app from a terminal.
            eprintln!("UnlockDesk cannot start: {}", e.message);
        }
        AppState {
            inner: RwLock::new(backend),
            session: Arc::new(Mutex::new(None)),
            pending_enrolment: Mutex::new(None),
            terminal,
            data_dir,
        }
    }

    pub fn service(&self) -> CoreResult<Arc<Svc>> {
        self.read().service.clone()
    }

    /// The branch server's client (branch mode), else `forbidden` with why.
    pub fn remote(&self) -> CoreResult<Arc<Remote>> {
        self.read().remote.clone().ok_or_else(|| {
            CoreError::forbidden(
                "this terminal works alone on its own store: terminals are enrolled on a branch server",
            )
        })
    }

    /// What the embedded store waits for (the branch passphrase), if anything.
    pub fn key_need(&self) -> StoreKeyNeed {
        self.read().key_need
    }

    /// Open this terminal's embedded store with the branch passphrase: the one it is
    /// encrypted under, or (for a new or plaintext store) the one to create or encrypt it
    /// under. Errors: `storage` for a wrong passphrase (nothing changed) or a damaged store.
    ///
    /// `admin` (an administrator's id and password) is required when an existing plaintext
    /// store is encrypted: checked on that store before anything changes, and the encryption
    /// is audited in the store's trail as `store-encrypted`.
    /// Runs on a blocking thread; [`AppState::install_local`] puts the result in place.
    pub fn open_with_passphrase(
        data_dir: PathBuf,
        terminal: String,
        passphrase: String,
        admin: Option<(String, String)>,
    ) -> CoreResult<Arc<Svc>> {
        let path = data_dir.join(unlockdesk_store::DB_FILE);
        let before = SqliteStore::key_state(&path)?;
        let actor = match (before, admin) {
            (KeyState::Plaintext, Some((id, pw))) => {
                let plain = Service::new(
                    SqliteStore::open_with(&path, KeySource::None)?,
                    Arc::new(SystemClock),
                    Arc::new(OsEntropy),
                );
                if plain.is_set_up()? {
                    let a = plain.authenticate(&id, &pw, &terminal)?;
                    if a.role() != Some(unlockdesk_core::Role::Admin) {
                        return Err(CoreError::forbidden(
                            "only an administrator sets the branch passphrase",
                        ));
                    }
                    Some(a)
                } else {
                    None
                }
            }
            (KeyState::Plaintext, None) => {
                let plain = SqliteStore::open_with(&path, KeySource::None)?;
                let set_up =
                    Service::new(&plain, Arc::new(SystemClock), Arc::new(OsEntropy)).is_set_up()?;
                if set_up {
                    return Err(CoreError::field(
                        "admin_id",
                        "required",
                        "this store already holds a branch: an administrator's id and password are needed to encrypt it",
                    ));
                }
                None
            }
            _ => None,
        };
        let store = SqliteStore::open_checked_with(
            &path,
            KeySource::Passphrase(zeroize::Zeroizing::new(passphrase)),
        )?;
        let svc = with_connectors(
            Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy))
                .with_renderer(Arc::new(unlockdesk_forms::PdfRenderer::new())),
        );
        if let Some(a) = actor {
            svc.maintain(&a, "store-encrypted", || {
                Ok(serde_json::json!({"key": "branch-passphrase"}))
            })?;
        }
        let svc = Arc::new(svc) as Arc<Svc>;
        start_outbox_worker(&svc);
        Ok(svc)
    }

    /// Work on this local service from now on (the store the passphrase opened).
    pub fn install_local(&self, svc: Arc<Svc>) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        *inner = Backend {
            service: Ok(svc),
            key_need: StoreKeyNeed::None,
            remote: None,
            link: None,
            source: LinkSource::Alone,
        };
    }

    /// The mode as the window shows it.
    pub fn mode(&self) -> TerminalMode {
        let b = self.read();
        TerminalMode::of(b.link.as_ref(), b.source, &self.terminal)
    }

    /// The link this run uses, and whether it was set from outside (environment, argument).
    pub fn link(&self) -> (Option<BranchLink>, LinkSource) {
        let b = self.read();
        (b.link.clone(), b.source)
    }

    /// Switch to another link (`None`: alone): keep it in `terminal.json`, then work on it. The
    /// signed-in session belonged to the other store and ends.
    pub fn switch(&self, link: Option<BranchLink>) -> CoreResult<TerminalMode> {
        let source = if link.is_some() {
            LinkSource::Settings
        } else {
            LinkSource::Alone
        };
        // Opened (and checked) first: a store that does not open leaves the mode as it was,
        // in this run and in the settings.
        let next = backend(&self.data_dir, link.clone(), source, &self.terminal);
        // An embedded store waiting for the branch passphrase is no failure: the window asks.
        if next.key_need == StoreKeyNeed::None {
            next.service.clone()?;
        }
        crate::terminal::save(&self.data_dir, link.as_ref())?;
        *lock_slot(&self.session) = None;
        *self.inner.write().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(self.mode())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Backend> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn session_slot(&self) -> Arc<Mutex<Option<Session>>> {
        self.session.clone()
    }
}

/// The data directory: the app's `--data-dir` argument, else `unlockdesk_store::data_dir()`.
fn data_dir() -> PathBuf {
    match crate::terminal::arg("data-dir") {
        Some(d) => std::path::absolute(&d).unwrap_or_else(|_| d.into()),
        None => unlockdesk_store::data_dir(),
    }
}

fn backend(
    data_dir: &std::path::Path,
    link: Option<BranchLink>,
    source: LinkSource,
    terminal: &str,
) -> Backend {
    match link {
        Some(link) => {
            tracing::info!(server = %link.url, ?source, "branch terminal");
            match crate::terminal::connect(&link, terminal) {
                Ok(r) => {
                    let r = Arc::new(r);
                    Backend {
                        service: Ok(r.clone() as Arc<Svc>),
                        key_need: StoreKeyNeed::None,
                        remote: Some(r),
                        link: Some(link),
                        source,
                    }
                }
                Err(e) => Backend {
                    service: Err(e),
                    key_need: StoreKeyNeed::None,
                    remote: None,
                    link: Some(link),
                    source,
                },
            }
        }
        None => {
            let path = data_dir.join(unlockdesk_store::DB_FILE);
            tracing::info!(path = %path.display(), "opening the store");
            let source = KeySource::from_env();
            // Without a key file the branch passphrase protects the store: the window asks
            // for it (to set, or to open) before anything else.
            let key_need = match (&source, SqliteStore::key_state(&path)) {
                (KeySource::None, Ok(KeyState::Passphrase)) => StoreKeyNeed::PassphraseNeeded,
                (KeySource::None, Ok(KeyState::New | KeyState::Plaintext)) => {
                    StoreKeyNeed::PassphraseToSet
                }
                _ => StoreKeyNeed::None,
            };
            let service = match key_need {
                StoreKeyNeed::None => SqliteStore::open_checked_with(&path, source).map(local),
                _ => Err(CoreError::new(
                    ErrorCode::Storage,
                    "the store is locked: type the branch passphrase",
                )),
            };
            Backend {
                service,
                key_need,
                remote: None,
                link: None,
                source: LinkSource::Alone,
            }
        }
    }
}

fn local(store: SqliteStore) -> Arc<Svc> {
    let svc: Arc<Svc> = Arc::new(with_connectors(
        Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy))
            .with_renderer(Arc::new(unlockdesk_forms::PdfRenderer::new())),
    ));
    start_outbox_worker(&svc);
    svc
}

/// The wallet operators' connectors (`UNLOCKDESK_OPERATOR_URL` or the branch's settings); an
/// unusable URL is logged and the manual path stays.
fn with_connectors<S: unlockdesk_core::ports::Store>(svc: Service<S>) -> Service<S> {
    match unlockdesk_operator::HttpConnectors::from_env() {
        Ok(c) => svc.with_connectors(Arc::new(c)),
        Err(e) => {
            tracing::error!(error = %e, "the operator's connector is off (manual path)");
            eprintln!("UnlockDesk: {e}; the operator's connector is off (manual path)");
            svc
        }
    }
}

/// Standalone, the app runs the outbox worker itself (customer SMS, cases waiting for the
/// operator) for as long as this service is the app's; in branch mode the server runs it.
fn start_outbox_worker(svc: &Arc<Svc>) {
    let weak = Arc::downgrade(svc);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Err(e) =
        unlockdesk_operator::spawn_outbox_worker(move || weak.upgrade(), &terminal_name(), stop)
    {
        tracing::error!(error = %e, "the outbox worker did not start");
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
        match f(&*svc, &actor) {
            // The branch server ended the session (idle minutes, revoked, password reset): the
            // window locks, the same person signs in again, and the step is sent again.
            Err(e) if e.code == ErrorCode::SessionExpired => {
                if let Some(s) = lock_slot(&slot).as_mut() {
                    if s.remote_actor().and_then(|a| a.remote_token()) == actor.remote_token() {
                        s.mark_locked();
                    }
                }
                Err(CoreError::new(ErrorCode::SessionLocked, e.message))
            }
            r => r,
        }
    })
    .await
}

/// The branch profile last read, for a branch terminal that must lock its screen or show the
/// lock screen while the server is away (a lock never waits for the network).
static LAST_BRANCH: Mutex<Option<Branch>> = Mutex::new(None);

/// The session as the window sees it without asking anyone: a branch terminal's lock must
/// not wait for the network (the profile last read; the store's own when alone).
pub fn session_view_now(svc: &Svc, session: &Session) -> CoreResult<SessionView> {
    if session.remote_actor().is_some() {
        if let Some(branch) = LAST_BRANCH
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Ok(SessionView {
                staff: session.staff().clone(),
                branch,
                locked: session.is_locked(),
            });
        }
    }
    session_view(svc, session)
}

/// The session as the window sees it, with the current branch profile (the last one read when
/// the branch server does not answer or has ended the session). Errors: those of
/// [`Counter::branch`] when no profile was read yet.
pub fn session_view(svc: &Svc, session: &Session) -> CoreResult<SessionView> {
    let branch = match svc.branch() {
        Ok(b) => {
            *LAST_BRANCH.lock().unwrap_or_else(|p| p.into_inner()) = Some(b.clone());
            b
        }
        Err(e) => match LAST_BRANCH
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            Some(b) if session.remote_actor().is_some() => b,
            _ => return Err(e),
        },
    };
    Ok(SessionView {
        staff: session.staff().clone(),
        branch,
        locked: session.is_locked(),
    })
}
