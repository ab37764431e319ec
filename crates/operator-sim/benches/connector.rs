//! `cargo bench -p unlockdesk-operator-sim --bench connector`: the connector end to end against
//! the simulator process (release build), on an embedded store.
//!
//! For each fault rate (0 and 0.3): N approved cases, four counters asking "request unlock" at
//! once, two outbox workers settling what is left waiting and sending the SMS. Reported:
//! "request unlock → unlocked" p50/p99 (from the case's `request-unlock` audit event to its
//! `operator-unlocked` one, so a case settled later by the worker counts its whole wait), the
//! SMS delivery delay p50/p99 (queued → accepted by the gateway), the wallets unlocked more
//! than once (must be 0), and the baseline measured in the same run: one raw HTTP round trip
//! to the simulator (`GET /v1/wallets/…`), p50/p99.
//!
//! Environment: `UD_BENCH_CASES` (default 300), `UD_BENCH_TIMEOUT_MS` (the connector's connect
//! and total timeout, default 1000), `UD_BENCH_FAULT_DELAY_MS` (a slow fault's hold, default
//! 1500).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::*;
use unlockdesk_core::operator::{OutboxKind, OutboxStatus};
use unlockdesk_core::ports::Store;
use unlockdesk_core::*;
use unlockdesk_operator::OperatorConfig;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

struct Row {
    label: String,
    unlock: Vec<f64>,
    sms: Vec<f64>,
    twice: usize,
    waited: usize,
    wall: f64,
}

fn run(fault: &str, cases: usize, timeout: Duration, delay: u64) -> Row {
    let sim = Sim::start(&[
        "--fault-rate",
        fault,
        "--seed",
        "42",
        "--fault-delay-ms",
        &delay.to_string(),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let config = OperatorConfig {
        connect_timeout: timeout,
        total_timeout: timeout,
        retries: 2,
        backoff: Duration::from_millis(50),
        failure_threshold: 5,
        cool_down: Duration::from_secs(1),
        token: None,
    };
    let svc = service(&dir.path().join("u.db"), &sim.url, config);
    set_up(&svc);
    let ids = seed(&svc, cases, CaseState::Approved, false);
    let teller = svc
        .authenticate("tel01", unlockdesk_core::demo::DEMO_PASSWORD, "bench")
        .unwrap();
    let worker = svc.system_actor(SystemActor::OutboxWorker, "bench-worker");
    let started = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = svc.deliver_notifications(&worker).unwrap();
                    if r.claimed == 0 {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            });
        }
        let counters: Vec<_> = ids
            .chunks(cases.div_ceil(4))
            .map(|chunk| {
                let (svc, teller) = (svc.clone(), teller.clone());
                s.spawn(move || {
                    for id in chunk {
                        while let Err(e) = svc.request_unlock(&teller, *id, None) {
                            assert_eq!(e.code, ErrorCode::OperatorUnavailable, "{e:?}");
                            std::thread::sleep(Duration::from_millis(50));
                        }
                    }
                })
            })
            .collect();
        for c in counters {
            c.join().unwrap();
        }
        // Until every case is unlocked and every SMS sent.
        loop {
            let open = svc
                .store()
                .read(|tx| {
                    Ok(tx
                        .outbox(None, None, u32::MAX)?
                        .iter()
                        .filter(|m| m.status == OutboxStatus::Queued)
                        .count())
                })
                .unwrap();
            if open == 0 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "{open} still queued"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let wall = started.elapsed().as_secs_f64();
    let mut unlock = Vec::new();
    let mut sms = Vec::new();
    let mut waited = 0;
    for id in &ids {
        let history = svc.store().read(|tx| tx.case_history(*id)).unwrap();
        let at = |a: &str| history.iter().find(|e| e.action == a).map(|e| e.at);
        let (Some(asked), Some(done)) = (at("request-unlock"), at("operator-unlocked")) else {
            panic!("case {id} not unlocked through the operator");
        };
        if history.iter().any(|e| e.action == "operator-no-answer") {
            waited += 1;
        }
        unlock.push((done - asked).num_microseconds().unwrap() as f64 / 1000.0);
        for m in svc
            .store()
            .read(|tx| tx.outbox(Some(*id), Some(OutboxKind::Sms), 10))
            .unwrap()
        {
            let sent = m.sent_at.expect("sent");
            sms.push((sent - m.created_at).num_microseconds().unwrap() as f64 / 1000.0);
        }
    }
    let ledger = sim.ledger();
    let twice = ledger["unlocks"]
        .as_object()
        .unwrap()
        .values()
        .filter(|n| n.as_u64() != Some(1))
        .count();
    assert_eq!(ledger["unlocks"].as_object().unwrap().len(), cases);
    unlock.sort_by(f64::total_cmp);
    sms.sort_by(f64::total_cmp);
    Row {
        label: format!("{:.0} % faults", fault.parse::<f64>().unwrap() * 100.0),
        unlock,
        sms,
        twice,
        waited,
        wall,
    }
}

fn baseline(n: usize) -> Vec<f64> {
    let sim = Sim::start(&[]);
    let agent = ureq::AgentBuilder::new().build();
    let mut v: Vec<f64> = (0..n)
        .map(|i| {
            let t = Instant::now();
            agent
                .get(&format!("{}/v1/wallets/W{i:06}", sim.url))
                .call()
                .unwrap()
                .into_string()
                .unwrap();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument (cargo test --benches) runs nothing.
    if std::env::args().skip(1).any(|a| a != "--bench") {
        return;
    }
    let cases = env_u64("UD_BENCH_CASES", 300) as usize;
    let timeout = Duration::from_millis(env_u64("UD_BENCH_TIMEOUT_MS", 1000));
    let delay = env_u64("UD_BENCH_FAULT_DELAY_MS", 1500);
    let base = baseline(1000);
    let rows = [
        run("0", cases, timeout, delay),
        run("0.3", cases, timeout, delay),
    ];
    println!(
        "\nconnector bench: {cases} cases per row, 4 counters, 2 outbox workers; timeouts {} ms, \
         slow faults held {delay} ms",
        timeout.as_millis()
    );
    println!(
        "baseline (raw HTTP round trip to the simulator): p50 {:.2} ms, p99 {:.2} ms",
        pct(&base, 0.5),
        pct(&base, 0.99)
    );
    println!(
        "| run | request unlock → unlocked p50 | p99 | left waiting, settled later | SMS queued → sent p50 | p99 | wallets unlocked ≠ once | wall |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} ms | {:.1} ms | {} of {} | {:.0} ms | {:.0} ms | {} | {:.1} s |",
            r.label,
            pct(&r.unlock, 0.5),
            pct(&r.unlock, 0.99),
            r.waited,
            r.unlock.len(),
            pct(&r.sms, 0.5),
            pct(&r.sms, 0.99),
            r.twice,
            r.wall
        );
    }
    println!(
        "ratio to the baseline p50 (no faults): {:.1}×",
        pct(&rows[0].unlock, 0.5) / pct(&base, 0.5)
    );
}
