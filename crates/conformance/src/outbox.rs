//! The outbox ports: queue, list, claim under a lease, update; two workers never take one
//! message at once.

use std::collections::HashSet;

use chrono::Duration;
use unlockdesk_core::operator::{OutboxKind, OutboxMessage, OutboxStatus};
use unlockdesk_core::ports::{Clock, Store};
use unlockdesk_core::*;

use crate::*;

const BOTH: &[OutboxKind] = &[OutboxKind::Sms, OutboxKind::OperatorSettle];

fn message(
    id: &str,
    case_id: CaseId,
    kind: OutboxKind,
    due: chrono::DateTime<Utc>,
) -> OutboxMessage {
    OutboxMessage {
        id: id.into(),
        case_id,
        kind,
        lang: "zh-CN".into(),
        text: "您的数字钱包已解锁".into(),
        status: OutboxStatus::Queued,
        attempts: 0,
        next_attempt_at: due,
        claimed_until: None,
        last_error: String::new(),
        created_at: due,
        sent_at: None,
    }
}

pub fn outbox_claims_under_a_lease_and_never_hands_one_message_to_two_workers<F: Fixture>(fix: &F) {
    let clk = clock();
    let s = svc(fix, clk.clone());
    let (teller, ..) = setup(&s);
    let c = walk_in(&s, &teller);
    let other = walk_in(&s, &teller);
    let t0 = clk.now();
    let st = s.store();
    st.transact(|tx| {
        for i in 0..4 {
            let at = t0 + Duration::milliseconds(i);
            tx.queue_outbox(&message(&format!("m{i}"), c, OutboxKind::Sms, at))?;
        }
        tx.queue_outbox(&message(
            "later",
            c,
            OutboxKind::Sms,
            t0 + Duration::hours(1),
        ))?;
        tx.queue_outbox(&message("settle", other, OutboxKind::OperatorSettle, t0))
    })
    .unwrap();
    // An id is queued once; the failed transaction leaves nothing.
    let e = st
        .transact(|tx| {
            tx.queue_outbox(&message("fresh", c, OutboxKind::Sms, t0))?;
            tx.queue_outbox(&message("m0", c, OutboxKind::Sms, t0))
        })
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);

    let all = st.read(|tx| tx.outbox(None, None, 100)).unwrap();
    assert_eq!(
        all.len(),
        6,
        "no 'fresh': the refused transaction wrote nothing"
    );
    assert_eq!(all[0].id, "later", "newest first");
    let sms_of_c = st
        .read(|tx| tx.outbox(Some(c), Some(OutboxKind::Sms), 100))
        .unwrap();
    assert_eq!(sms_of_c.len(), 5);
    let settle = st
        .read(|tx| tx.outbox(None, Some(OutboxKind::OperatorSettle), 100))
        .unwrap();
    assert_eq!(settle.len(), 1);
    assert_eq!(
        settle[0],
        message("settle", other, OutboxKind::OperatorSettle, t0)
    );
    assert_eq!(st.read(|tx| tx.next_outbox_due()).unwrap(), Some(t0));
    assert_eq!(st.read(|tx| tx.count_queued_outbox()).unwrap(), 6);

    // A worker that can only settle never takes an SMS, and nothing before it is due.
    let none = st
        .transact(|tx| {
            tx.claim_outbox(
                t0 - Duration::seconds(1),
                t0,
                10,
                &[OutboxKind::OperatorSettle],
            )
        })
        .unwrap();
    assert!(none.is_empty(), "nothing is due before t0");
    let settle_only = st
        .transact(|tx| {
            tx.claim_outbox(
                t0 + Duration::seconds(1),
                t0 + Duration::seconds(1),
                10,
                &[OutboxKind::OperatorSettle],
            )
        })
        .unwrap();
    let ids: Vec<&str> = settle_only.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["settle"], "only the kind asked for");
    // (Its lease ended at once: it is free again below.)

    // Oldest due first, at most `limit`, each held until the lease's end.
    let lease = t0 + Duration::seconds(30);
    let first = st
        .transact(|tx| tx.claim_outbox(t0 + Duration::seconds(1), lease, 2, BOTH))
        .unwrap();
    let ids: Vec<&str> = first.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m0", "settle"]);
    assert!(first.iter().all(|m| m.claimed_until == Some(lease)));
    // Held messages are not handed out again before the lease ends...
    let second = st
        .transact(|tx| tx.claim_outbox(t0 + Duration::seconds(2), lease, 10, BOTH))
        .unwrap();
    let ids: Vec<&str> = second.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"], "'later' is not due");
    assert_eq!(
        st.read(|tx| tx.next_outbox_due()).unwrap(),
        Some(lease),
        "every due message is held until the lease's end"
    );
    // ...and are after it (a worker that died holding them).
    let after = st
        .transact(|tx| tx.claim_outbox(lease, lease + Duration::seconds(30), 10, BOTH))
        .unwrap();
    assert_eq!(after.len(), 5);

    // Sent and failed messages are never claimed again.
    let mut sent = after[0].clone();
    sent.status = OutboxStatus::Sent;
    sent.attempts = 1;
    sent.sent_at = Some(lease);
    sent.claimed_until = None;
    let mut failed = after[1].clone();
    failed.status = OutboxStatus::Failed;
    failed.attempts = 10;
    failed.last_error = "the gateway refused the message".into();
    failed.claimed_until = None;
    st.transact(|tx| {
        tx.update_outbox(&sent)?;
        tx.update_outbox(&failed)
    })
    .unwrap();
    let later = lease + Duration::hours(2);
    let rest = st
        .transact(|tx| tx.claim_outbox(later, later, 10, BOTH))
        .unwrap();
    assert_eq!(rest.len(), 4, "the three still queued and 'later'");
    assert!(rest.iter().all(|m| m.id != sent.id && m.id != failed.id));
    let stored = st.read(|tx| tx.outbox(None, None, 100)).unwrap();
    assert_eq!(stored.iter().find(|m| m.id == failed.id), Some(&failed));
    let missing = message("nobody", c, OutboxKind::Sms, t0);
    assert_eq!(
        st.transact(|tx| tx.update_outbox(&missing))
            .unwrap_err()
            .code,
        ErrorCode::NotFound
    );

    // Two workers on two connections take disjoint sets.
    let base = later + Duration::hours(1);
    st.transact(|tx| {
        for i in 0..40 {
            tx.queue_outbox(&message(&format!("w{i:02}"), c, OutboxKind::Sms, base))?;
        }
        Ok(())
    })
    .unwrap();
    let again = fix.again();
    let claim = |store: &F::S| -> Vec<String> {
        let mut got = Vec::new();
        let mut idle = 0;
        while idle < 3 {
            let now = base + Duration::seconds(1);
            match store.transact(|tx| tx.claim_outbox(now, now + Duration::hours(1), 3, BOTH)) {
                Ok(batch) if batch.is_empty() => idle += 1,
                Ok(batch) => got.extend(batch.into_iter().map(|m| m.id)),
                // The other worker holds the write lock: try again, as the worker does.
                Err(e) if matches!(e.code, ErrorCode::Conflict | ErrorCode::Unavailable) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        got
    };
    let (a, b) = std::thread::scope(|sc| {
        let a = sc.spawn(|| claim(st));
        let b = sc.spawn(|| claim(&again));
        (a.join().unwrap(), b.join().unwrap())
    });
    let sa: HashSet<&String> = a.iter().collect();
    let sb: HashSet<&String> = b.iter().collect();
    assert!(sa.is_disjoint(&sb), "a message went to both workers");
    let w: Vec<&String> = a
        .iter()
        .chain(&b)
        .filter(|id| id.starts_with('w'))
        .collect();
    assert_eq!(w.len(), 40, "every new message was taken exactly once");
    assert_eq!(a.len() + b.len(), 40 + 4, "and the four still queued, once");
}
