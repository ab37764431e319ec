//! `notifications list | deliver`: the customer notifications (SMS) of the outbox.

use clap::Subcommand;
use serde_json::{json, Value};
use unlockdesk_core::operator::OutboxMessage;

use crate::cases::resolve;
use crate::out::Out;
use crate::{Ctx, Res};

#[derive(Subcommand, Debug)]
pub enum NotificationsCmd {
    /// The customer notifications, newest first (at most 500): case, channel, status
    /// (queued, sent, failed), attempts and the last error. `--json`: an array of objects.
    List {
        /// Only this case's (id or case number).
        #[arg(long = "case", value_name = "CASE")]
        case: Option<String>,
    },
    /// Run the outbox worker here, waiting out its backoffs, until every due message is sent
    /// or has failed for good (and every case waiting for the operator is settled), or the
    /// timeout passes.
    Deliver {
        /// Give up after this many seconds (what is left stays queued).
        #[arg(long, value_name = "SECONDS", default_value_t = 60)]
        timeout: u64,
    },
}

/// One notification as the CLI shows it.
fn row(m: &OutboxMessage) -> Value {
    json!({
        "id": m.id,
        "case_id": m.case_id,
        "channel": m.kind.as_str(),
        "status": m.status.as_str(),
        "attempts": m.attempts,
        "last_error": m.last_error,
        "lang": m.lang,
        "text": m.text,
        "created_at": m.created_at,
        "next_attempt_at": m.next_attempt_at,
        "sent_at": m.sent_at,
    })
}

pub fn run(cmd: NotificationsCmd, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    match cmd {
        NotificationsCmd::List { case } => {
            let actor = ctx.actor()?;
            let id = match case {
                Some(c) => Some(resolve(ctx, &actor, &c)?),
                None => None,
            };
            let list = ctx.svc()?.notifications(&actor, id)?;
            let mut text = format!("{} notification(s)", list.len());
            for m in &list {
                text.push_str(&format!(
                    "\n  {} UTC  case {}  {}  {:<7} attempts {}{}",
                    m.created_at.format("%Y-%m-%d %H:%M:%S"),
                    m.case_id,
                    m.kind.as_str(),
                    m.status.as_str(),
                    m.attempts,
                    if m.last_error.is_empty() {
                        String::new()
                    } else {
                        format!("  ({})", m.last_error)
                    }
                ));
            }
            out.value(&Value::Array(list.iter().map(row).collect()), &text);
            Ok(0)
        }
        NotificationsCmd::Deliver { timeout } => {
            let actor = ctx.actor()?;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(timeout);
            let (mut sent, mut failed, mut settled, mut rounds) = (0u32, 0u32, 0u32, 0u32);
            let last = loop {
                let r = ctx.svc()?.deliver_notifications(&actor)?;
                rounds += 1;
                sent += r.sent;
                failed += r.failed;
                settled += r.settled;
                let now = std::time::Instant::now();
                if r.queued == 0 || now >= deadline {
                    break r;
                }
                // Sleep until the next message is due (its backoff), at most until the end.
                let wait = r
                    .until_next_due(chrono::Utc::now())
                    .unwrap_or(std::time::Duration::from_millis(200))
                    .max(std::time::Duration::from_millis(20))
                    .min(deadline - now);
                std::thread::sleep(wait);
            };
            let text = format!(
                "{sent} sent, {failed} failed for good, {settled} case(s) settled with the operator; {} still queued{}",
                last.queued,
                if last.queued > 0 { " (the timeout passed)" } else { "" }
            );
            out.value(
                &json!({
                    "sent": sent,
                    "failed": failed,
                    "settled": settled,
                    "queued": last.queued,
                    "rounds": rounds,
                    "next_due": last.next_due,
                }),
                &text,
            );
            Ok(0)
        }
    }
}
