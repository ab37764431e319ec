//! Which store this terminal works on: alone, on the embedded SQLite store in its data
//! directory (the default), or as a branch terminal through the branch server.
//!
//! The choice is kept in `terminal.json` in the data directory (mode 0600: it holds the
//! terminal's enrolment secret). Order of precedence, first match wins:
//!
//! 1. the app's `--server URL` argument (tests start a window on a server of their own);
//! 2. `UNLOCKDESK_SERVER` (tests and scripted installs), with `UNLOCKDESK_SERVER_FINGERPRINT`
//!    for an `https` server; the enrolment kept in `terminal.json` is used when it names the
//!    same URL;
//! 3. `terminal.json`;
//! 4. alone.
//!
//! A server on this host (`http://127.0.0.1:PORT`) needs no enrolment; any other host is
//! reached over `https` only, with its certificate pinned by SHA-256 fingerprint.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Duration;
use ts_rs::TS;
use unlockdesk_client::{Connection, Remote};
use unlockdesk_core::{CoreError, CoreResult};

/// The settings file in the data directory.
pub const FILE: &str = "terminal.json";

/// A branch terminal's link to its server, as kept in `terminal.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchLink {
    /// `https://host:port`, or `http://127.0.0.1:port` on the server's own host.
    pub url: String,
    /// The server certificate's pinned fingerprint, `SHA256:AB:…` (none over loopback http).
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// The id the server gave this terminal at enrolment (none on the server's host).
    #[serde(default)]
    pub terminal_id: Option<String>,
    /// The terminal's enrolment secret (sent as `x-unlockdesk-terminal`); never shown.
    #[serde(default)]
    pub secret: Option<String>,
}

/// Where the link came from: the window shows it, and only a kept one can be changed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum LinkSource {
    /// This terminal works alone on its embedded store.
    Alone,
    /// `terminal.json`, written by the set-up or admin screen.
    Settings,
    /// `UNLOCKDESK_SERVER` or the `--server` argument: fixed for this run.
    Environment,
}

/// What the window shows of the terminal's mode (header, set-up, admin screen).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct TerminalMode {
    /// `alone` or `branch`.
    pub branch: bool,
    pub source: LinkSource,
    /// The branch server's URL (branch mode).
    pub server: Option<String>,
    /// This terminal's id on the server (an enrolled terminal), else the name it gives on the
    /// server's own host.
    pub terminal_id: Option<String>,
    /// The pinned certificate fingerprint (https).
    pub fingerprint: Option<String>,
}

impl TerminalMode {
    pub fn of(link: Option<&BranchLink>, source: LinkSource, terminal: &str) -> Self {
        match link {
            None => TerminalMode {
                branch: false,
                source: LinkSource::Alone,
                server: None,
                terminal_id: None,
                fingerprint: None,
            },
            Some(l) => TerminalMode {
                branch: true,
                source,
                server: Some(l.url.clone()),
                terminal_id: Some(
                    l.terminal_id
                        .clone()
                        .unwrap_or_else(|| format!("local:{terminal}")),
                ),
                fingerprint: l.fingerprint.clone(),
            },
        }
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The value of `--name VALUE` or `--name=VALUE` among the app's arguments.
pub fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    let flag = format!("--{name}");
    while let Some(a) = args.next() {
        if a == flag {
            return args.next().filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
            return Some(v.to_string()).filter(|v| !v.trim().is_empty());
        }
    }
    None
}

/// Reads `terminal.json`. Errors: `storage` (unreadable or not the expected JSON: a damaged
/// settings file must not silently turn a branch terminal into a lone one).
pub fn load(data_dir: &Path) -> CoreResult<Option<BranchLink>> {
    let path = data_dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice::<Option<BranchLink>>(&bytes)
            .map_err(|e| CoreError::storage(format!("{} is not readable: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CoreError::storage(format!(
            "{} cannot be read: {e}",
            path.display()
        ))),
    }
}

/// Writes `terminal.json` atomically with mode 0600 (`None`: this terminal works alone).
pub fn save(data_dir: &Path, link: Option<&BranchLink>) -> CoreResult<()> {
    let path = data_dir.join(FILE);
    let bytes = serde_json::to_vec_pretty(&link).unwrap_or_default();
    unlockdesk_client::keep_private(&path, &bytes).map_err(|e| {
        CoreError::storage(format!(
            "cannot keep the terminal settings in {}: {e}",
            path.display()
        ))
    })
}

/// The link this run uses and where it came from (see the module docs for the order).
pub fn resolve(data_dir: &Path) -> CoreResult<(Option<BranchLink>, LinkSource)> {
    resolve_from(
        load(data_dir)?,
        arg("server").or_else(|| env_nonempty("UNLOCKDESK_SERVER")),
        env_nonempty("UNLOCKDESK_SERVER_FINGERPRINT"),
    )
}

/// [`resolve`] on its inputs: the kept link, the server named from outside, the fingerprint
/// given from outside. Errors: `certificate-mismatch` when the given fingerprint is not the
/// one pinned for the same server.
fn resolve_from(
    kept: Option<BranchLink>,
    named: Option<String>,
    given_fingerprint: Option<String>,
) -> CoreResult<(Option<BranchLink>, LinkSource)> {
    let Some(url) = named else {
        let source = if kept.is_some() {
            LinkSource::Settings
        } else {
            LinkSource::Alone
        };
        return Ok((kept, source));
    };
    let same = |k: &&BranchLink| same_server(&k.url, &url);
    let mut link = kept.as_ref().filter(same).cloned().unwrap_or(BranchLink {
        url,
        fingerprint: None,
        terminal_id: None,
        secret: None,
    });
    if let Some(fp) = given_fingerprint {
        // The pin kept at enrolment is never replaced from outside: the terminal's secret and
        // the staff's passwords would go to another certificate without a word.
        match &link.fingerprint {
            Some(pinned) if !pinned.eq_ignore_ascii_case(&fp) => {
                return Err(CoreError::new(
                    unlockdesk_core::ErrorCode::CertificateMismatch,
                    format!(
                        "UNLOCKDESK_SERVER_FINGERPRINT ({fp}) is not the fingerprint this terminal pinned for {} at enrolment ({pinned}): not started; an administrator enrols the terminal again if the server's certificate really changed",
                        link.url
                    ),
                ));
            }
            _ => link.fingerprint = Some(fp),
        }
    }
    Ok((Some(link), LinkSource::Environment))
}

fn same_server(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    norm(a) == norm(b)
}

/// The connect timeout to the server (`UNLOCKDESK_SERVER_TIMEOUT_SECS`, default 3 s): short,
/// so a teller learns at once that the server is away instead of watching a frozen button.
pub fn connect_timeout() -> Duration {
    env_nonempty("UNLOCKDESK_SERVER_TIMEOUT_SECS")
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(3))
}

/// The client of a link. Errors: `invalid` field `server` (not a branch server URL; https
/// without a pinned fingerprint).
pub fn connect(link: &BranchLink, terminal: &str) -> CoreResult<Remote> {
    // Two tries: a blip is covered here, an outage by the window's queue of waiting steps,
    // which needs to hear of it within seconds to show the banner.
    Ok(Remote::new(connection(link, terminal))?.with_attempts(2))
}

pub fn connection(link: &BranchLink, terminal: &str) -> Connection {
    Connection {
        url: link.url.clone(),
        fingerprint: link.fingerprint.clone(),
        terminal: link.terminal_id.clone().zip(link.secret.clone()),
        terminal_name: terminal.to_string(),
        connect_timeout: connect_timeout(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let link = BranchLink {
            url: "https://branch.example:8443".into(),
            fingerprint: Some("SHA256:AB".into()),
            terminal_id: Some("t-1".into()),
            secret: Some("s3cret".into()),
        };
        save(dir.path(), Some(&link)).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(link));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        save(dir.path(), None).unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
    }

    #[test]
    fn a_damaged_settings_file_is_refused_not_taken_for_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{not json").unwrap();
        let e = load(dir.path()).unwrap_err();
        assert_eq!(e.code, unlockdesk_core::ErrorCode::Storage);
        assert!(e.message.contains(FILE), "{}", e.message);
    }

    #[test]
    fn a_kept_pin_is_never_replaced_from_outside() {
        let kept = BranchLink {
            url: "https://branch.example:8443".into(),
            fingerprint: Some("SHA256:AA".into()),
            terminal_id: Some("term-1".into()),
            secret: Some("s".into()),
        };
        let url = Some("https://branch.example:8443/".to_string());
        // The same pin (any case), or none given: the kept enrolment with its pin.
        for fp in [None, Some("sha256:aa".to_string())] {
            let (link, source) = resolve_from(Some(kept.clone()), url.clone(), fp).unwrap();
            let link = link.unwrap();
            assert_eq!(source, LinkSource::Environment);
            assert_eq!(link.terminal_id.as_deref(), Some("term-1"));
        }
        // Another pin for the same server: refused, not started.
        let e = resolve_from(Some(kept.clone()), url, Some("SHA256:BB".into())).unwrap_err();
        assert_eq!(e.code, unlockdesk_core::ErrorCode::CertificateMismatch);
        // Another server: its own link, without the kept enrolment.
        let (link, _) = resolve_from(
            Some(kept.clone()),
            Some("https://other.example:8443".into()),
            Some("SHA256:CC".into()),
        )
        .unwrap();
        let link = link.unwrap();
        assert_eq!(link.terminal_id, None);
        assert_eq!(link.fingerprint.as_deref(), Some("SHA256:CC"));
        // Nothing named: the kept link, from the settings.
        let (link, source) = resolve_from(Some(kept.clone()), None, None).unwrap();
        assert_eq!((link, source), (Some(kept), LinkSource::Settings));
        assert_eq!(
            resolve_from(None, None, None).unwrap(),
            (None, LinkSource::Alone)
        );
    }

    #[test]
    fn the_mode_names_the_server_and_the_terminal() {
        let link = BranchLink {
            url: "http://127.0.0.1:7000".into(),
            fingerprint: None,
            terminal_id: None,
            secret: None,
        };
        let m = TerminalMode::of(Some(&link), LinkSource::Environment, "desk:a");
        assert!(m.branch);
        assert_eq!(m.terminal_id.as_deref(), Some("local:desk:a"));
        let alone = TerminalMode::of(None, LinkSource::Alone, "desk:a");
        assert!(!alone.branch && alone.server.is_none());
        assert!(same_server(
            "HTTP://127.0.0.1:7000/",
            "http://127.0.0.1:7000"
        ));
    }
}
