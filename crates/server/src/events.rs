//! Live events of the supervisors' queue (待授权) for the terminals: one follower of the audit
//! trail per server ([`Hub::start`]) and a Server-Sent Events stream per terminal
//! (`GET /api/v1/events`).
//!
//! The audit trail is the single source: every step that moves the queue is an audit event
//! with a gap-free `seq`, so an event's SSE `id` is its `seq`. A terminal that reconnects sends
//! `Last-Event-ID` (or `?after=`) and first gets everything after it from the store, then the
//! live events, each exactly once and in `seq` order. On PostgreSQL every server LISTENs for
//! the trail's NOTIFY (sent at commit by a trigger), so a step committed through any server of
//! the branch reaches the terminals of all of them; on the embedded store the follower polls
//! the trail's head every [`POLL`].

use std::convert::Infallible;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, watch};
use unlockdesk_core::authorizations::AuthorizationEvent;
use unlockdesk_core::{Actor, CoreResult, ErrorCode, SystemActor};

use crate::app::{AppState, Caller};
use crate::backend::Backend;
use crate::error::{ApiError, ApiResult};

/// How often the follower reads the trail when the store has no wake-up (embedded store), and
/// how long it waits after losing the PostgreSQL listener before it listens again.
pub const POLL: Duration = Duration::from_millis(25);
/// How long a PostgreSQL follower waits after a NOTIFY before it reads, so that the commits
/// arriving meanwhile are read at once.
pub const COALESCE: Duration = Duration::from_millis(10);
/// The longest a PostgreSQL follower sleeps without a NOTIFY before it reads anyway.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(1);
/// A comment line on every stream this often: proxies keep the connection, the client's read
/// timeout never fires on a quiet queue, and the session is checked (a signed-out or expired
/// session ends its stream).
pub const PING: Duration = Duration::from_secs(15);
/// Audit events read per store read.
const PAGE: u32 = 1000;
/// The most audit events a reconnecting stream is replayed; further behind, it is told to
/// `resync` (read its queue again) and follows from now.
pub const MAX_REPLAY: i64 = 20_000;

/// The server's follower of the audit trail: the queue's events as they commit, to every
/// stream of this server.
pub struct Hub {
    tx: broadcast::Sender<AuthorizationEvent>,
    /// The last audit seq the follower has read (and published the events up to).
    head: AtomicI64,
    stopping: watch::Receiver<bool>,
}

impl Hub {
    /// Start following the trail of `svc` on a thread of its own; the thread ends when the hub
    /// is dropped. `stopping` flips to true when the server drains: every stream ends then
    /// (an open stream would otherwise hold the graceful shutdown).
    pub fn start(svc: &Arc<dyn Backend>, stopping: watch::Receiver<bool>) -> Arc<Hub> {
        let (tx, _) = broadcast::channel(1024);
        let hub = Arc::new(Hub {
            tx,
            head: AtomicI64::new(-1),
            stopping,
        });
        let weak_hub = Arc::downgrade(&hub);
        let weak_svc = Arc::downgrade(svc);
        let spawned = std::thread::Builder::new()
            .name("audit-follower".into())
            .spawn(move || follow(weak_hub, weak_svc));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the audit follower: live events are off");
        }
        hub
    }

    /// The last audit seq published (-1 before the follower's first read).
    pub fn head(&self) -> i64 {
        self.head.load(Ordering::Acquire)
    }
}

fn reader(svc: &dyn Backend) -> Actor {
    svc.system_actor(SystemActor::CliReader, "server:events")
}

/// The follower's loop: wake (NOTIFY, or the poll interval), read every event after the last
/// seq, publish them in order.
fn follow(hub: Weak<Hub>, svc: Weak<dyn Backend>) {
    let mut last: Option<i64> = None;
    let mut wake: Option<Box<dyn unlockdesk_core::ports::AuditWake>> = None;
    let mut listen_again = std::time::Instant::now();
    loop {
        let (Some(hub), Some(svc)) = (hub.upgrade(), svc.upgrade()) else {
            return;
        };
        if *hub.stopping.borrow() {
            return;
        }
        if wake.is_none() && std::time::Instant::now() >= listen_again {
            match svc.audit_wake() {
                Ok(w) => wake = w,
                Err(e) => tracing::warn!(error = %e.message, "audit listener: polling instead"),
            }
            // An embedded store answers None at once: asking again each round costs nothing
            // but is pointless; a lost PostgreSQL listener is tried again after a while.
            listen_again = std::time::Instant::now() + Duration::from_secs(5);
        }
        match read_on(svc.as_ref(), &hub, last) {
            Ok(seq) => last = Some(seq),
            Err(e) => {
                tracing::warn!(error = %e.message, "audit follower: cannot read the trail");
                drop((hub, svc));
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
        }
        drop((hub, svc));
        match wake.as_mut() {
            Some(w) => match w.wait(LISTEN_TIMEOUT) {
                // The commits of the next few milliseconds are read with this one: on a busy
                // branch one read per [`COALESCE`] instead of one per step, for a delay no
                // supervisor sees.
                Ok(true) => std::thread::sleep(COALESCE),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e.message, "audit listener lost: polling until it is back");
                    wake = None;
                }
            },
            None => std::thread::sleep(POLL),
        }
    }
}

/// Publish every queue event after `last` (the head at the first read); returns the new
/// position.
fn read_on(svc: &dyn Backend, hub: &Hub, last: Option<i64>) -> CoreResult<i64> {
    let actor = reader(svc);
    let Some(mut pos) = last else {
        let head = svc.authorization_events(&actor, None, 1)?.last_seq;
        hub.head.store(head, Ordering::Release);
        return Ok(head);
    };
    loop {
        let page = svc.authorization_events(&actor, Some(pos), PAGE)?;
        let moved = page.last_seq != pos;
        // The trail's seq is gap-free, so a page that scanned fewer events than it could
        // reached the head as it was when read: no second read just to learn there is no more
        // (one read per wake-up, which on a busy branch is one per step).
        let full =
            page.last_seq - pos >= i64::from(PAGE.min(unlockdesk_core::service::MAX_EVENTS_PAGE));
        pos = page.last_seq;
        // The head first: a stream that starts "from now" between the two either takes this
        // page as before its start (and reads the queue after it connects), or gets it live.
        hub.head.store(pos, Ordering::Release);
        for e in page.events {
            // No receiver is not an error: no terminal is following right now.
            let _ = hub.tx.send(e);
        }
        if !moved || !full {
            return Ok(pos);
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Resume after this audit seq (as `Last-Event-ID`, which wins when both are sent).
    #[serde(default)]
    after: Option<i64>,
}

/// `GET /api/v1/events`: the queue's events as Server-Sent Events (`id` = audit seq, `event`
/// = `authorization`, `data` = one [`AuthorizationEvent`] JSON), from `Last-Event-ID` /
/// `?after=` (else from now), with a `: ping` comment every [`PING`].
pub async fn stream(
    State(st): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    headers: HeaderMap,
    q: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let q = q.map_err(|e| ApiError::field("after", "format", e.body_text()))?;
    let resume = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    ApiError::field(
                        "last-event-id",
                        "format",
                        "Last-Event-ID is the seq of the last event seen (a whole number ≥ 0)",
                    )
                })?,
        ),
        None => match q.after {
            Some(n) if n < 0 => {
                return Err(ApiError::field(
                    "after",
                    "format",
                    "after is the seq of the last event seen (a whole number ≥ 0)",
                ))
            }
            other => other,
        },
    };
    // The caller may read the queue's events (the same check as the poll route).
    let check = st.svc.clone();
    let actor = c.actor.clone();
    tokio::task::spawn_blocking(move || check.authorization_events(&actor, None, 1))
        .await
        .map_err(|_| ApiError::new(ErrorCode::Internal, "the request was interrupted"))?
        .map_err(ApiError::from)?;

    let hub = st.hub.clone();
    // Subscribed before the replay is read: nothing committed in between is missed (the
    // replay and the live events overlap, and `seq` drops the repeats).
    let live = hub.tx.subscribe();
    let (out, rx) = mpsc::channel::<Event>(256);
    tokio::spawn(feed(st.clone(), c, resume, live, out));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(body).into_response())
}

fn sse_event(e: &AuthorizationEvent) -> Event {
    Event::default()
        .id(e.seq.to_string())
        .event("authorization")
        .json_data(e)
        .unwrap_or_else(|_| Event::default().comment("unserialisable event"))
}

/// Replay the store after `from`, returning the last seq sent.
async fn replay(
    st: &Arc<AppState>,
    actor: &Actor,
    mut from: i64,
    out: &mpsc::Sender<Event>,
) -> Option<i64> {
    loop {
        let svc = st.svc.clone();
        let a = actor.clone();
        let page =
            tokio::task::spawn_blocking(move || svc.authorization_events(&a, Some(from), PAGE))
                .await
                .ok()?
                .ok()?;
        for e in &page.events {
            out.send(sse_event(e)).await.ok()?;
        }
        if page.last_seq == from {
            return Some(page.last_seq);
        }
        // A position past the head (a store restored from an older backup) reads on from the
        // head: core answers the head's position, lower than the one asked.
        if page.last_seq < from {
            return Some(page.last_seq);
        }
        from = page.last_seq;
    }
}

async fn feed(
    st: Arc<AppState>,
    c: Caller,
    resume: Option<i64>,
    mut live: broadcast::Receiver<AuthorizationEvent>,
    out: mpsc::Sender<Event>,
) {
    let mut stopping = st.hub.stopping.clone();
    let head = st.hub.head();
    let mut last = match resume {
        // Too far behind to replay (or a made-up position): a `resync` tells the terminal to
        // read its queue again, and the stream goes on from now.
        Some(from) if head >= 0 && head - from > MAX_REPLAY => {
            if out
                .send(Event::default().event("resync").data("{}"))
                .await
                .is_err()
            {
                return;
            }
            head
        }
        Some(from) => match replay(&st, &c.actor, from, &out).await {
            Some(seq) => seq,
            None => return,
        },
        // From now: the follower's head (events it has not read yet arrive live).
        None => st.hub.head().max(0),
    };
    if out
        .send(Event::default().comment("following"))
        .await
        .is_err()
    {
        return;
    }
    let mut ping = tokio::time::interval(PING);
    ping.tick().await;
    loop {
        tokio::select! {
            got = live.recv() => match got {
                Ok(e) if e.seq > last => {
                    last = e.seq;
                    if out.send(sse_event(&e)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // This terminal fell behind the live events: read them from the store.
                    match replay(&st, &c.actor, last, &out).await {
                        Some(seq) => last = seq,
                        None => return,
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = ping.tick() => {
                let svc = st.svc.clone();
                let (token, terminal) = (c.token.clone(), c.actor.terminal().to_string());
                // Checked without counting as activity: a stream never keeps a session alive.
                let checked =
                    tokio::task::spawn_blocking(move || svc.server_session_alive(&token, &terminal))
                        .await;
                match checked {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) if session_over(e.code) => {
                        let _ = out
                            .send(Event::default().event("session-ended").data("sign in again"))
                            .await;
                        return;
                    }
                    // The store is away for a moment: end the stream; the terminal follows
                    // again (and resumes after its last event).
                    _ => return,
                }
                if out.send(Event::default().comment("ping")).await.is_err() {
                    return;
                }
            }
            _ = stopping.changed() => return,
            _ = out.closed() => return,
        }
    }
}

/// The session itself is over (not a passing store error).
fn session_over(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::SessionExpired
            | ErrorCode::AccountDisabled
            | ErrorCode::AccountLocked
            | ErrorCode::PasswordChangeRequired
    )
}
