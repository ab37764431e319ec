//! Exactly once over an unreliable network: the connector and the outbox against the real
//! simulator process at a 30 % transport fault rate, on a real embedded store.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use common::*;
use unlockdesk_core::operator::{OutboxKind, OutboxStatus};
use unlockdesk_core::ports::Store;
use unlockdesk_core::*;

const CASES: usize = 1000;

#[test]
fn a_thousand_unlocks_through_faults_unlock_each_wallet_once_and_text_each_customer_once() {
    let sim = Sim::start(&[
        "--fault-rate",
        "0.3",
        "--seed",
        "20261207",
        "--fault-delay-ms",
        "600",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let svc = service(&dir.path().join("u.db"), &sim.url, quick_config());
    set_up(&svc);
    let ids = seed(&svc, CASES, CaseState::Approved, false);
    let teller = svc
        .authenticate("tel01", unlockdesk_core::demo::DEMO_PASSWORD, "test")
        .unwrap();

    // Eight counters ask at once; an open circuit ("operator-unavailable", nothing asked) is
    // asked again after a pause, as a teller would.
    let chunks: Vec<Vec<CaseId>> = ids.chunks(CASES / 8).map(|c| c.to_vec()).collect();
    std::thread::scope(|s| {
        for chunk in chunks {
            let (svc, teller) = (svc.clone(), teller.clone());
            s.spawn(move || {
                for id in chunk {
                    let mut tries = 0;
                    loop {
                        match svc.request_unlock(&teller, id, None) {
                            Ok(_) => break,
                            Err(e) if e.code == ErrorCode::OperatorUnavailable && tries < 200 => {
                                tries += 1;
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            Err(e) => panic!("request-unlock {id}: {e:?}"),
                        }
                    }
                }
            });
        }
    });

    // The outbox workers settle the cases left waiting and send the SMS.
    let worker = svc.system_actor(SystemActor::OutboxWorker, "test-worker");
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        std::thread::scope(|s| {
            for _ in 0..4 {
                let (svc, worker) = (svc.clone(), worker.clone());
                s.spawn(move || svc.deliver_notifications(&worker).unwrap());
            }
        });
        let queued = svc
            .store()
            .read(|tx| {
                Ok(tx
                    .outbox(None, None, u32::MAX)?
                    .iter()
                    .filter(|m| m.status == OutboxStatus::Queued)
                    .count())
            })
            .unwrap();
        if queued == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{queued} outbox messages still queued"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let ledger = sim.ledger();
    let unlocks: BTreeMap<String, u64> = serde_json::from_value(ledger["unlocks"].clone()).unwrap();
    let messages: BTreeMap<String, u64> =
        serde_json::from_value(ledger["messages"].clone()).unwrap();

    // Every case unlocked, none waiting; every wallet unlocked exactly once.
    let mut unlocked = 0;
    let mut waiting = 0;
    let mut sms_ids = HashSet::new();
    for id in &ids {
        let c = svc.store().read(|tx| tx.case(*id)).unwrap().unwrap();
        if c.state == CaseState::Unlocked {
            unlocked += 1;
        }
        if c.operator_unlock.as_ref().map(|u| u.status) == Some(OperatorUnlockStatus::Waiting) {
            waiting += 1;
        }
        let wallet = c.form.as_ref().unwrap().wallet_id.clone();
        assert_eq!(unlocks.get(&wallet), Some(&1), "wallet {wallet}");
        let sms: Vec<_> = svc
            .store()
            .read(|tx| tx.outbox(Some(*id), Some(OutboxKind::Sms), 10))
            .unwrap();
        assert_eq!(sms.len(), 1, "one SMS queued for {}", c.case_number);
        assert_eq!(sms[0].status, OutboxStatus::Sent, "{}", sms[0].last_error);
        assert_eq!(messages.get(&sms[0].id), Some(&1));
        sms_ids.insert(sms[0].id.clone());
    }
    assert_eq!(unlocked, CASES);
    assert_eq!(waiting, 0);
    assert_eq!(unlocks.len(), CASES, "no other wallet was unlocked");
    assert!(unlocks.values().all(|n| *n == 1));
    assert_eq!(messages.len(), CASES, "no message id beyond the outbox's");
    assert!(messages.keys().all(|m| sms_ids.contains(m)));
    // The audit chain survived the concurrent steps.
    let v = svc.store().verify_audit().unwrap();
    assert!(v.ok, "{v:?}");
}
