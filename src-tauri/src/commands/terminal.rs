//! The terminal's mode (alone or branch terminal), the branch server's reachability for the
//! offline banner, enrolment with a one-time code, and the admin's list of enrolled terminals.
//!
//! Who may change the mode: on first start (no branch on the embedded store, no kept link)
//! anyone at the terminal, since the one-time code an administrator issued is the permission;
//! afterwards only a signed-in administrator. A mode set by `UNLOCKDESK_SERVER` or `--server`
//! is fixed for the run.

use serde::Serialize;
use tauri::State;
use ts_rs::TS;
use unlockdesk_core::ports::TerminalRecord;
use unlockdesk_core::{CoreError, CoreResult, ErrorCode, Role};

use crate::state::{as_actor, blocking, AppState};
use crate::terminal::{self, BranchLink, LinkSource, TerminalMode};

#[tauri::command]
pub async fn terminal_mode(state: State<'_, AppState>) -> CoreResult<TerminalMode> {
    Ok(state.mode())
}

/// Whether the branch server answers now (the offline banner polls this while it shows).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ServerStatus {
    /// Always true for a terminal working alone.
    pub reachable: bool,
    /// The server's URL (branch mode).
    pub server: Option<String>,
    /// What the server says of its store: `ok`, `not-set-up`, `unreachable` (branch mode,
    /// when reachable).
    pub store: Option<String>,
    /// Why not, when not (one sentence).
    pub message: Option<String>,
    /// The server showed a certificate that is not the pinned one: the terminal stops.
    pub certificate_mismatch: bool,
}

#[tauri::command]
pub async fn server_status(state: State<'_, AppState>) -> CoreResult<ServerStatus> {
    let Ok(remote) = state.remote() else {
        return Ok(ServerStatus {
            reachable: true,
            server: None,
            store: None,
            message: None,
            certificate_mismatch: false,
        });
    };
    blocking(move || {
        let server = Some(remote.url().to_string());
        Ok(match remote.probe() {
            Ok(v) => {
                let store = v["store"].as_str().unwrap_or("").to_string();
                ServerStatus {
                    reachable: store != "unreachable",
                    server,
                    store: Some(store),
                    message: None,
                    certificate_mismatch: false,
                }
            }
            Err(e) => ServerStatus {
                reachable: false,
                server,
                store: None,
                certificate_mismatch: e.code == ErrorCode::CertificateMismatch,
                message: Some(e.message),
            },
        })
    })
    .await
}

/// An enrolment waiting for the administrator to compare the server's fingerprint; the code
/// has not been sent yet.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct PendingEnrolment {
    pub server: String,
    /// The certificate the server showed (`SHA256:AB:…`); `None` over plain http on the
    /// server's own host.
    pub fingerprint: Option<String>,
}

/// Checks that the mode may change now: first start, or a signed-in administrator, and not
/// fixed by the environment. Errors: `forbidden` with why.
async fn may_change_mode(state: &State<'_, AppState>) -> CoreResult<()> {
    let (link, source) = state.link();
    if source == LinkSource::Environment {
        return Err(CoreError::forbidden(
            "this terminal's branch server is set by UNLOCKDESK_SERVER (or --server) for this run and cannot be changed here",
        ));
    }
    let first_start = link.is_none() && {
        let svc = state.service()?;
        !blocking(move || svc.is_set_up()).await?
    };
    if first_start {
        return Ok(());
    }
    let role = as_actor(state, |_svc, actor| Ok(actor.role())).await?;
    if role != Some(Role::Admin) {
        return Err(CoreError::forbidden(
            "only an administrator may change how this terminal works",
        ));
    }
    Ok(())
}

/// First half of an enrolment: learn the certificate the branch server shows (one health
/// request; the code is **not** sent) for the administrator to compare with the fingerprint
/// the server printed at its start. The code is kept for [`confirm_enrolment`]. Errors:
/// `invalid` (field `server`: not an http(s) URL, plain http to another host; field `code`:
/// empty), `unavailable`, `forbidden` (see [`may_change_mode`]).
#[tauri::command]
pub async fn enrol_terminal(
    state: State<'_, AppState>,
    server: String,
    code: String,
) -> CoreResult<PendingEnrolment> {
    may_change_mode(&state).await?;
    let server = server.trim().trim_end_matches('/').to_string();
    let code = code.trim().to_string();
    if code.is_empty() {
        return Err(CoreError::field(
            "code",
            "required",
            "type the enrolment code the administrator issued",
        ));
    }
    let link = BranchLink {
        url: server.clone(),
        fingerprint: None,
        terminal_id: None,
        secret: None,
    };
    let conn = terminal::connection(&link, &state.terminal);
    let fingerprint = blocking(move || unlockdesk_client::Remote::peek_fingerprint(conn)).await?;
    *state
        .pending_enrolment
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some((
        BranchLink {
            fingerprint: fingerprint.clone(),
            ..link
        },
        code,
    ));
    Ok(PendingEnrolment {
        server,
        fingerprint,
    })
}

/// Second half: the administrator compared the fingerprint. `accept` sends the code to the
/// server, pinned to that very certificate (so a server that changed meanwhile never sees
/// it), keeps the terminal's id, secret and pin in `terminal.json`, and makes this a branch
/// terminal (whoever was signed in is signed out: the session belonged to the other store).
/// Refused, nothing was sent and nothing is kept. Errors: `not-found` (nothing pending),
/// `invalid` field `code` (unknown, used or expired code: type a new one), `unavailable`,
/// `certificate-mismatch`, `too-many-requests`, `storage`, `forbidden`.
#[tauri::command]
pub async fn confirm_enrolment(
    state: State<'_, AppState>,
    accept: bool,
) -> CoreResult<TerminalMode> {
    may_change_mode(&state).await?;
    let (link, code) = state
        .pending_enrolment
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| CoreError::not_found("a pending enrolment"))?;
    if !accept {
        tracing::warn!(server = %link.url, "enrolment refused: the fingerprint did not match; the code was not sent");
        return Ok(state.mode());
    }
    let terminal = state.terminal.clone();
    let conn = terminal::connection(&link, &terminal);
    let e = blocking(move || unlockdesk_client::Remote::enrol(conn, &code, &terminal)).await?;
    let mode = state.switch(Some(BranchLink {
        terminal_id: Some(e.terminal_id.clone()),
        secret: Some(e.secret),
        ..link
    }))?;
    tracing::info!(server = ?mode.server, terminal = %e.terminal_id, "enrolled: this terminal now works through the branch server");
    Ok(mode)
}

/// Back to working alone on the embedded store (administrator). Errors: `forbidden`, `storage`.
#[tauri::command]
pub async fn work_alone(state: State<'_, AppState>) -> CoreResult<TerminalMode> {
    may_change_mode(&state).await?;
    let mode = state.switch(None)?;
    tracing::info!("this terminal now works alone on its embedded store");
    Ok(mode)
}

/// A one-time enrolment code for another terminal (administrator, branch mode).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct EnrolmentCode {
    pub code: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
}

#[tauri::command]
pub async fn issue_enrolment_code(state: State<'_, AppState>) -> CoreResult<EnrolmentCode> {
    let remote = state.remote()?;
    as_actor(&state, move |_svc, actor| {
        let (code, expires_at) = remote.issue_enrolment_code(actor)?;
        Ok(EnrolmentCode { code, expires_at })
    })
    .await
}

#[tauri::command]
pub async fn list_terminals(state: State<'_, AppState>) -> CoreResult<Vec<TerminalRecord>> {
    let remote = state.remote()?;
    as_actor(&state, move |_svc, actor| remote.list_terminals(actor)).await
}

/// Revoke an enrolled terminal: its sessions end at once (administrator, branch mode).
#[tauri::command]
pub async fn revoke_terminal(
    state: State<'_, AppState>,
    terminal_id: String,
) -> CoreResult<TerminalRecord> {
    let remote = state.remote()?;
    as_actor(&state, move |_svc, actor| {
        remote.revoke_terminal(actor, &terminal_id)
    })
    .await
}
