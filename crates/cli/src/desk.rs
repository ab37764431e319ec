//! `authorizations`: the supervisors' queue (待授权) — list it, open a request, follow its
//! events live.

use std::io::Write;
use std::time::Duration;

use clap::Subcommand;
use unlockdesk_client::Followed;
use unlockdesk_core::authorizations::{AuthorizationEvent, AuthorizationItem};
use unlockdesk_core::{Actor, Counter, ErrorCode};

use crate::out::Out;
use crate::{cases, Ctx, Fail, Res};

/// How often a local `watch` reads the audit trail for new events.
const LOCAL_POLL: Duration = Duration::from_millis(100);
/// The wait before following a branch server's stream again after it ended.
const RECONNECT: Duration = Duration::from_secs(1);

#[derive(Subcommand, Debug)]
pub enum AuthorizationsCmd {
    /// The requests waiting for a supervisor, oldest first (kind, case, customer masked, lock
    /// cause, makers, terminal, waiting since, opened by). With --json: a JSON array.
    List,
    /// Follow the queue: one JSON line per event as it happens (`event` requested, decided,
    /// opened or withdrawn; `case_id`, `kind`, `at`, `seq`), until interrupted.
    Watch {
        /// Start after this event's seq (the `seq` of the last line seen) instead of now.
        #[arg(long, value_name = "SEQ")]
        after: Option<i64>,
    },
    /// A supervisor opens the request waiting on a case (audited; the other supervisors see
    /// who has it).
    Open {
        /// Case id or case number.
        #[arg(long)]
        case: String,
    },
}

pub fn run(cmd: AuthorizationsCmd, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    match cmd {
        AuthorizationsCmd::List => {
            let actor = ctx.reader()?;
            let items = ctx.svc()?.authorization_queue(&actor)?;
            out.value(
                &serde_json::to_value(&items).unwrap_or_default(),
                &table(&items),
            );
            Ok(0)
        }
        AuthorizationsCmd::Open { case } => {
            let actor = ctx.actor()?;
            let id = cases::resolve(ctx, &actor, &case)?;
            let item = ctx.svc()?.open_authorization(&actor, id)?;
            out.value(
                &serde_json::to_value(&item).unwrap_or_default(),
                &format!(
                    "opened: {} {} ({}), waiting since {}",
                    item.kind,
                    item.case_number,
                    item.customer_name,
                    item.waiting_since.to_rfc3339()
                ),
            );
            Ok(0)
        }
        AuthorizationsCmd::Watch { after } => {
            if after.is_some_and(|a| a < 0) {
                return Err(Fail::Usage(
                    "--after is an event's seq (a whole number ≥ 0)".into(),
                ));
            }
            let actor = ctx.reader()?;
            match ctx.remote() {
                Some(remote) => watch_remote(&remote, &actor, after),
                None => watch_local(ctx, &actor, after),
            }
        }
    }
}

fn table(items: &[AuthorizationItem]) -> String {
    if items.is_empty() {
        return "nothing waits for a supervisor".into();
    }
    items
        .iter()
        .map(|i| {
            format!(
                "{:<14} {:<20} {:<8} {:<18} makers {:<16} {:<20} since {}{}",
                i.kind.as_str(),
                i.case_number,
                i.customer_name,
                i.lock_cause.map(|c| c.as_str()).unwrap_or("-"),
                i.makers
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                i.terminal,
                i.waiting_since.to_rfc3339(),
                match &i.opened_by {
                    Some(s) => format!("  opened by {s}"),
                    None => String::new(),
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One JSON line, flushed at once. `false` when stdout is gone (the reader quit).
fn emit(e: &AuthorizationEvent) -> bool {
    let line = serde_json::to_string(e).unwrap_or_default();
    let mut so = std::io::stdout().lock();
    writeln!(so, "{line}").and_then(|_| so.flush()).is_ok()
}

fn watch_local(ctx: &mut Ctx, actor: &Actor, after: Option<i64>) -> Res<u8> {
    let svc = ctx.svc()?;
    let mut pos = svc.authorization_events(actor, after, 1)?.last_seq;
    if let Some(a) = after {
        pos = a;
    }
    eprintln!("following the authorization queue after event {pos} (Ctrl-C to stop)");
    loop {
        let page = svc.authorization_events(actor, Some(pos), 1000)?;
        for e in &page.events {
            if !emit(e) {
                return Ok(0);
            }
        }
        if page.last_seq == pos {
            std::thread::sleep(LOCAL_POLL);
        }
        pos = page.last_seq;
    }
}

fn watch_remote(remote: &unlockdesk_client::Remote, actor: &Actor, after: Option<i64>) -> Res<u8> {
    // From a known position, so a reconnect resumes exactly there (`Last-Event-ID`).
    let mut pos = match after {
        Some(a) => Some(a),
        None => Some(remote.authorization_events(actor, None, 1)?.last_seq),
    };
    let mut announced = false;
    let mut quit = false;
    loop {
        let followed = remote.follow_events(actor, pos, |f| match f {
            Followed::Connected => {
                if !announced {
                    eprintln!(
                        "following the authorization queue on {} (Ctrl-C to stop)",
                        remote.url()
                    );
                    announced = true;
                }
                true
            }
            Followed::Alive => true,
            Followed::Event(e) => {
                if emit(&e) {
                    true
                } else {
                    quit = true;
                    false
                }
            }
        });
        match followed {
            Ok(last) => pos = last.or(pos),
            Err(e) if e.code == ErrorCode::Unavailable => {
                eprintln!("the branch server is away ({}); trying again", e.message);
            }
            Err(e) => return Err(Fail::Core(e)),
        }
        if quit {
            return Ok(0);
        }
        std::thread::sleep(RECONNECT);
    }
}
