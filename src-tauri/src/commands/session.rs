//! Set-up, sign-in, password change, lock and unlock, sign-out.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use unlockdesk_core::dto::SetupInput;
use unlockdesk_core::{CoreError, CoreResult, ErrorCode};

use crate::state::{
    blocking, lock_slot, session_view, session_view_now, AppState, SessionView, StoreKeyNeed,
};

/// Whether the store has a branch yet (an empty store opens set-up), and whether it waits for
/// the branch passphrase first.
#[derive(Debug, Serialize, TS)]
#[ts(export)]
pub struct SetupStatus {
    pub set_up: bool,
    pub store_key: StoreKeyNeed,
}

/// The shortest branch passphrase, in characters. It protects the key of every customer's
/// data on this terminal against whoever copies the disk, and argon2id slows guessing, not
/// a short passphrase's few possibilities (NIST SP 800-63B §5.1.1.2 asks at least 8 for a
/// password; a key-protecting passphrase takes more).
pub const PASSPHRASE_MIN: usize = 12;
const PASSPHRASE_MAX: usize = 256;

fn nobody() -> CoreError {
    CoreError::new(ErrorCode::SessionLocked, "nobody is signed in")
}

#[tauri::command]
pub async fn setup_status(state: State<'_, AppState>) -> CoreResult<SetupStatus> {
    let need = state.key_need();
    if need != StoreKeyNeed::None {
        return Ok(SetupStatus {
            set_up: need == StoreKeyNeed::PassphraseNeeded,
            store_key: need,
        });
    }
    let svc = state.service()?;
    // A branch terminal never sets up a store: the branch server's administrator did. It
    // starts on the sign-in screen at once, whether or not the server answers yet.
    if state.remote().is_ok() {
        return Ok(SetupStatus {
            set_up: true,
            store_key: StoreKeyNeed::None,
        });
    }
    blocking(move || {
        Ok(SetupStatus {
            set_up: svc.is_set_up()?,
            store_key: StoreKeyNeed::None,
        })
    })
    .await
}

/// Open the encrypted store with the branch passphrase (start of the day). Errors: `storage`
/// "… does not open this store" for a wrong passphrase (nothing changed); `forbidden` when
/// the store does not wait for one.
#[tauri::command]
pub async fn unlock_store(state: State<'_, AppState>, passphrase: String) -> CoreResult<()> {
    if state.key_need() != StoreKeyNeed::PassphraseNeeded {
        return Err(CoreError::forbidden(
            "the store is not waiting for the branch passphrase",
        ));
    }
    if passphrase.is_empty() {
        return Err(CoreError::field(
            "passphrase",
            "required",
            "type the branch passphrase",
        ));
    }
    let (dir, terminal) = (state.data_dir.clone(), state.terminal.clone());
    let svc =
        blocking(move || AppState::open_with_passphrase(dir, terminal, passphrase, None)).await?;
    state.install_local(svc);
    Ok(())
}

/// Choose the branch passphrase: a new store is created encrypted under it; a plaintext store
/// is encrypted under it (an administrator's id and password required, audited). Errors:
/// `invalid` naming `passphrase` (length), `passphrase2` (mismatch) or `admin_id`;
/// `unauthenticated`/`forbidden` for the administrator's credentials.
#[tauri::command]
pub async fn set_store_passphrase(
    state: State<'_, AppState>,
    passphrase: String,
    passphrase2: String,
    admin_id: Option<String>,
    admin_password: Option<String>,
) -> CoreResult<()> {
    if state.key_need() != StoreKeyNeed::PassphraseToSet {
        return Err(CoreError::forbidden("the store already has its key"));
    }
    let n = passphrase.chars().count();
    let mut errs = Vec::new();
    if n < PASSPHRASE_MIN {
        errs.push(unlockdesk_core::FieldError::new(
            "passphrase",
            "too-short",
            format!("at least {PASSPHRASE_MIN} characters"),
        ));
    } else if n > PASSPHRASE_MAX {
        errs.push(unlockdesk_core::FieldError::new(
            "passphrase",
            "too-long",
            format!("at most {PASSPHRASE_MAX} characters"),
        ));
    } else if passphrase.trim() != passphrase {
        errs.push(unlockdesk_core::FieldError::new(
            "passphrase",
            "whitespace",
            "no spaces at the start or end (they are easy to mistype at start-up)",
        ));
    }
    let passphrase2 = zeroize::Zeroizing::new(passphrase2);
    if passphrase != *passphrase2 {
        errs.push(unlockdesk_core::FieldError::new(
            "passphrase2",
            "mismatch",
            "the two passphrases differ",
        ));
    }
    if !errs.is_empty() {
        return Err(CoreError::invalid(errs));
    }
    let admin = match (admin_id, admin_password) {
        (Some(id), Some(pw)) if !id.trim().is_empty() => Some((id.trim().to_string(), pw)),
        _ => None,
    };
    let (dir, terminal) = (state.data_dir.clone(), state.terminal.clone());
    let svc =
        blocking(move || AppState::open_with_passphrase(dir, terminal, passphrase, admin)).await?;
    state.install_local(svc);
    Ok(())
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
