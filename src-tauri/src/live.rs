//! Live updates for the window: the supervisors' queue (待授权) events, pushed to the webview
//! through the IPC channel it gave `follow_authorizations`, while someone is signed in and the
//! screen is not locked. Each message is a [`LiveMessage`]:
//!
//! * `event`: one [`AuthorizationEvent`] (a request started waiting, was decided, opened by a
//!   supervisor, or withdrawn), in audit order;
//! * `resync`: the follower (re)connected: the window re-reads its queue and the case on
//!   screen, so nothing that happened while it was away is missed.
//!
//! In branch mode the events come from the branch server's stream (Server-Sent Events, resumed
//! after the last seen seq); alone, from the embedded store's audit trail, read every
//! [`LOCAL_POLL`]. Events carry no personal data.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime};
use unlockdesk_client::Followed;
use unlockdesk_core::authorizations::AuthorizationEvent;
use unlockdesk_core::{Actor, ErrorCode, SystemActor};

use crate::state::{lock_slot, AppState};

/// How often the embedded store's audit trail is read for new events.
pub const LOCAL_POLL: Duration = Duration::from_millis(100);
/// The wait before following again after the stream ended or nobody was signed in.
const IDLE: Duration = Duration::from_millis(300);
const RETRY: Duration = Duration::from_secs(1);

/// One message to the window.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LiveMessage {
    Event { event: AuthorizationEvent },
    Resync,
}

/// The windows' channels (one per loaded page; a reloaded page gives a new one).
#[derive(Default)]
pub struct Live {
    channels: std::sync::Mutex<Vec<Channel<LiveMessage>>>,
}

impl Live {
    /// Add a window's channel; it gets a `resync` at once.
    pub fn add(&self, ch: Channel<LiveMessage>) {
        let _ = ch.send(LiveMessage::Resync);
        self.lock().push(ch);
    }

    fn send(&self, msg: &LiveMessage) {
        // A channel whose page is gone fails: forget it.
        self.lock().retain(|ch| ch.send(msg.clone()).is_ok());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Channel<LiveMessage>>> {
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Who follows now: `None` when nobody is signed in or the screen is locked.
fn follower(state: &AppState) -> Option<(Actor, Option<String>)> {
    let slot = state.session_slot();
    let guard = lock_slot(&slot);
    let s = guard.as_ref()?;
    if s.is_locked() || s.staff().must_change_password {
        return None;
    }
    match s.remote_actor() {
        Some(a) => Some((a.clone(), a.remote_token().map(str::to_owned))),
        // Alone: the store's own read-only actor (the events hold no personal data, and
        // reading them must not count as the teller's activity).
        None => Some((Actor::system(SystemActor::CliReader, &state.terminal), None)),
    }
}

/// The token of the session signed in now (branch mode), to notice a sign-out or a new sign-in.
fn current_token(state: &AppState) -> Option<String> {
    follower(state).and_then(|(_, t)| t)
}

/// Start the follower thread (once, at start-up).
pub fn start<R: Runtime>(app: AppHandle<R>) {
    let spawned = std::thread::Builder::new()
        .name("live-events".into())
        .spawn(move || run(app));
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start live updates");
    }
}

fn run<R: Runtime>(app: AppHandle<R>) {
    // The position per backend (a mode switch changes the store, and with it the trail).
    let mut pos: Option<(usize, i64)> = None;
    loop {
        let state = app.state::<AppState>();
        let Some((actor, token)) = follower(&state) else {
            std::thread::sleep(IDLE);
            continue;
        };
        let Ok(svc) = state.service() else {
            std::thread::sleep(RETRY);
            continue;
        };
        let key = Arc::as_ptr(&svc) as *const () as usize;
        let start = match pos {
            Some((k, p)) if k == key => p,
            _ => match svc.authorization_events(&actor, None, 1) {
                Ok(page) => page.last_seq,
                Err(_) => {
                    std::thread::sleep(RETRY);
                    continue;
                }
            },
        };
        pos = Some((key, start));
        let live = app.state::<Live>();
        let emit = |e: &AuthorizationEvent| live.send(&LiveMessage::Event { event: e.clone() });
        match state.remote() {
            Ok(remote) => {
                let mut last = start;
                let followed = remote.follow_events(&actor, Some(start), |f| {
                    match f {
                        Followed::Connected => live.send(&LiveMessage::Resync),
                        Followed::Event(e) => {
                            last = e.seq;
                            emit(&e);
                        }
                        Followed::Alive => {}
                    }
                    // Stop when the person signed out, another signed in, or the screen locked.
                    current_token(&state) == token
                });
                match followed {
                    Ok(seen) => pos = Some((key, seen.unwrap_or(last).max(last))),
                    // The server ended the session (idle, revoked, the account disabled): the
                    // window locks, as for a step (`state::as_actor`), and the same person's
                    // password opens a new one; the follower waits for it.
                    Err(e) if e.code == ErrorCode::SessionExpired => {
                        let slot = state.session_slot();
                        let mut guard = lock_slot(&slot);
                        if let Some(s) = guard.as_mut() {
                            if s.remote_actor().and_then(|a| a.remote_token()) == token.as_deref() {
                                s.mark_locked();
                            }
                        }
                        pos = Some((key, last));
                    }
                    Err(_) => pos = Some((key, last)),
                }
                std::thread::sleep(RETRY);
            }
            Err(_) => {
                live.send(&LiveMessage::Resync);
                let mut p = start;
                while follower(&state).is_some_and(|(a, _)| a == actor) {
                    match svc.authorization_events(&actor, Some(p), 1000) {
                        Ok(page) => {
                            page.events.iter().for_each(&emit);
                            let moved = page.last_seq != p;
                            p = page.last_seq;
                            pos = Some((key, p));
                            if !moved {
                                std::thread::sleep(LOCAL_POLL);
                            }
                        }
                        Err(_) => {
                            std::thread::sleep(RETRY);
                            break;
                        }
                    }
                    if state
                        .service()
                        .map(|s| Arc::as_ptr(&s) as *const () as usize)
                        .ok()
                        != Some(key)
                    {
                        break;
                    }
                }
            }
        }
    }
}
