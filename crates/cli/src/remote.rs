//! Working through a branch server (`--server URL` or $UNLOCKDESK_SERVER): the client, this
//! terminal's enrolment (kept in `<data dir>/server-terminals.json`, mode 0600: the terminal
//! secret and the pinned certificate fingerprint per server URL), and the admin's terminal
//! subcommands.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use unlockdesk_client::{Connection, Remote};
use unlockdesk_core::CoreError;

use crate::out::Out;
use crate::{Cmd, Ctx, Fail, Res};

#[derive(Args, Debug)]
pub struct EnrolArgs {
    /// The one-time enrolment code an administrator issued (`terminal code`).
    #[arg(long, value_name = "CODE")]
    code: String,
    /// This terminal's name as the admin's list shows it (default: the host name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The server certificate's fingerprint as the administrator read it off the server
    /// (`SHA256:AB:CD:…`; default $UNLOCKDESK_SERVER_FINGERPRINT): the code is sent only to a
    /// server showing exactly this certificate. Without it the certificate is trusted on first
    /// use and its fingerprint shown for the administrator to confirm.
    #[arg(long, value_name = "SHA256")]
    fingerprint: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum TerminalCmd {
    /// Issue a one-time enrolment code for a new terminal (admin; valid 30 minutes).
    Code,
    /// List the enrolled terminals (admin).
    List,
    /// Revoke a terminal: its sessions end at once (admin).
    Revoke {
        /// The terminal's id (`term-…`).
        #[arg(long, value_name = "TERMINAL_ID")]
        id: String,
    },
}

/// Why a subcommand cannot run through a branch server, or `None`.
pub fn local_only(cmd: &Cmd) -> Option<&'static str> {
    match cmd {
        Cmd::Setup(_) => Some(
            "branch set-up is done on the store itself: unlockdesk-cli --db URL setup (the branch server has no set-up route)",
        ),
        Cmd::Demo(_) => Some(
            "demo data is loaded on the store itself: unlockdesk-cli --db URL demo",
        ),
        Cmd::Restore(_) => Some(
            "restore replaces a local store file: run it on the store (--db), not through the branch server",
        ),
        Cmd::Store(_) => Some(
            "store copy works on two stores: run it with --db, not through the branch server",
        ),
        Cmd::Rekey(_) => Some(
            "rekey changes the keys of a store file: run it on the store (--db), not through the branch server",
        ),
        _ => None,
    }
}

/// One server's enrolment as this host keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kept {
    terminal_id: String,
    secret: String,
    fingerprint: Option<String>,
}

fn kept_path() -> PathBuf {
    unlockdesk_store::data_dir().join("server-terminals.json")
}

fn key(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The kept enrolments; none when the file does not exist. A file that cannot be read or
/// parsed is an error (never treated as empty: the next enrolment would overwrite every other
/// server's entry).
fn load_kept() -> Res<BTreeMap<String, Kept>> {
    let path = kept_path();
    match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Fail::Core(CoreError::storage(format!(
            "cannot read {}: {e}",
            path.display()
        )))),
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            Fail::Core(CoreError::storage(format!(
                "{} is damaged ({e}): move it away and enrol this terminal again",
                path.display()
            )))
        }),
    }
}

fn save_kept(all: &BTreeMap<String, Kept>) -> Res<()> {
    let path = kept_path();
    let bytes = serde_json::to_vec_pretty(all).unwrap_or_default();
    unlockdesk_client::keep_private(&path, &bytes).map_err(|e| {
        Fail::Core(CoreError::storage(format!(
            "cannot keep the enrolment in {}: {e}",
            path.display()
        )))
    })
}

fn timeout() -> Duration {
    std::env::var("UNLOCKDESK_SERVER_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(5))
}

/// The client of `url` with this host's enrolment (if any) and pinned fingerprint
/// ($UNLOCKDESK_SERVER_FINGERPRINT overrides the kept one).
pub fn connect(url: &str, terminal: &str) -> Res<Remote> {
    let kept = load_kept()?.remove(&key(url));
    let fingerprint = std::env::var("UNLOCKDESK_SERVER_FINGERPRINT")
        .ok()
        .filter(|f| !f.trim().is_empty())
        .or_else(|| kept.as_ref().and_then(|k| k.fingerprint.clone()));
    Ok(Remote::new(Connection {
        url: url.to_string(),
        fingerprint,
        terminal: kept.map(|k| (k.terminal_id, k.secret)),
        terminal_name: terminal.to_string(),
        connect_timeout: timeout(),
    })?)
}

pub fn enrol(ctx: &mut Ctx, a: &EnrolArgs, out: &Out) -> Res<u8> {
    let url = ctx.server.clone().unwrap_or_default();
    let name = a.name.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| ctx.terminal.clone())
    });
    let expected = a.fingerprint.clone().or_else(|| {
        std::env::var("UNLOCKDESK_SERVER_FINGERPRINT")
            .ok()
            .filter(|f| !f.trim().is_empty())
    });
    let e = Remote::enrol(
        Connection {
            url: url.clone(),
            fingerprint: expected,
            terminal: None,
            terminal_name: ctx.terminal.clone(),
            connect_timeout: timeout(),
        },
        &a.code,
        &name,
    )?;
    let mut all = load_kept()?;
    all.insert(
        key(&url),
        Kept {
            terminal_id: e.terminal_id.clone(),
            secret: e.secret.clone(),
            fingerprint: e.fingerprint.clone(),
        },
    );
    save_kept(&all)?;
    let fp = e
        .fingerprint
        .clone()
        .unwrap_or_else(|| "(plain HTTP on loopback: none)".into());
    out.value(
        &serde_json::json!({"server": url, "terminal_id": e.terminal_id, "name": name, "fingerprint": e.fingerprint}),
        &format!(
            "enrolled as terminal {} ({name}) on {url}\nserver certificate fingerprint: {fp}\nconfirm it with the administrator: it is pinned from now on",
            e.terminal_id
        ),
    );
    Ok(0)
}

pub fn terminal(ctx: &mut Ctx, cmd: TerminalCmd, out: &Out) -> Res<u8> {
    let actor = ctx.actor()?;
    let remote = ctx.remote.clone().expect("svc() made the client");
    match cmd {
        TerminalCmd::Code => {
            let (code, expires) = remote.issue_enrolment_code(&actor)?;
            out.value(
                &serde_json::json!({"code": code, "expires_at": expires}),
                &format!("enrolment code {code} (one use, valid until {expires})"),
            );
        }
        TerminalCmd::List => {
            let list = remote.list_terminals(&actor)?;
            let text = list
                .iter()
                .map(|t| {
                    format!(
                        "{:<18} {:<24} enrolled {} by {}{}",
                        t.id,
                        t.name,
                        t.enrolled_at.format("%Y-%m-%d %H:%M"),
                        t.enrolled_by,
                        if t.revoked_at.is_some() {
                            " [revoked]"
                        } else {
                            ""
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.value(&serde_json::to_value(&list).unwrap_or_default(), &text);
        }
        TerminalCmd::Revoke { id } => {
            let t = remote.revoke_terminal(&actor, &id)?;
            out.value(
                &serde_json::to_value(&t).unwrap_or_default(),
                &format!("terminal {} revoked; its sessions ended", t.id),
            );
        }
    }
    Ok(0)
}
