//! The connector's fault handling against the real simulator process: the circuit breaker
//! opens and closes as specified, every call ends within its total timeout, and a worker
//! killed with `kill -9` in the middle of sending loses no notification.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use unlockdesk_core::operator::{
    FaultKind, OutboxKind, OutboxStatus, SmsGateway, SmsMessage, UnlockCall, UnlockOutcome,
    WalletOperator,
};
use unlockdesk_core::ports::Store;
use unlockdesk_core::*;
use unlockdesk_operator::{HttpOperator, OperatorConfig};

fn call() -> UnlockCall {
    UnlockCall {
        wallet_id: "W000001".into(),
        case_number: "SIM-000001".into(),
        branch_code: "TEST".into(),
    }
}

#[test]
fn the_circuit_opens_after_failures_in_a_row_and_closes_after_a_trial_call() {
    let down = Sim::start(&["--fault-rate", "1", "--fault-delay-ms", "2000"]);
    let port = down.port();
    let config = OperatorConfig {
        connect_timeout: Duration::from_millis(300),
        total_timeout: Duration::from_millis(300),
        retries: 0,
        backoff: Duration::from_millis(10),
        failure_threshold: 3,
        cool_down: Duration::from_millis(800),
        token: None,
    };
    let op = HttpOperator::new(&down.url, config).unwrap();
    for i in 0..3 {
        assert!(
            op.circuit_open().is_none(),
            "closed before failure {}",
            i + 1
        );
        let e = op.status("W000001").unwrap_err();
        assert_ne!(e.kind, FaultKind::CircuitOpen, "{e}");
    }
    // Open: refused at once, nothing sent, and it says so.
    let open = op.circuit_open().expect("open after 3 failures in a row");
    assert!(open.contains("circuit open"), "{open}");
    let t = Instant::now();
    let e = op.status("W000001").unwrap_err();
    assert!(
        e.kind == FaultKind::CircuitOpen && t.elapsed() < Duration::from_millis(100),
        "{e}"
    );
    assert!(matches!(
        op.request_unlock(&call(), "k-open"),
        UnlockOutcome::Unknown { .. }
    ));

    // The operator comes back on the same address; the circuit stays open until its cool-down
    // has passed, then one trial call closes it.
    drop(down);
    let up = Sim::start_on(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(
        op.status("W000001").unwrap_err().kind,
        FaultKind::CircuitOpen
    );
    std::thread::sleep(Duration::from_millis(900));
    let s = op.status("W000001").expect("the trial call goes through");
    assert!(s.locked);
    assert!(op.circuit_open().is_none());
    // Nothing was unlocked while the circuit was open.
    assert_eq!(up.ledger()["unlocks"], serde_json::json!({}));

    // A failed trial call opens it again at once.
    drop(up);
    std::thread::sleep(Duration::from_millis(50));
    for _ in 0..3 {
        let _ = op.status("W000001");
    }
    assert!(op.circuit_open().is_some());
    std::thread::sleep(Duration::from_millis(900));
    assert!(
        op.status("W000001").is_err(),
        "the trial call fails: nobody listens"
    );
    assert!(
        op.circuit_open().is_some(),
        "open again after a failed trial"
    );
}

#[test]
fn every_operator_call_ends_within_its_total_timeout() {
    // Every request meets a fault, a quarter of them an answer held for 3 s.
    let sim = Sim::start(&[
        "--fault-rate",
        "1",
        "--fault-delay-ms",
        "3000",
        "--seed",
        "3",
    ]);
    let total = Duration::from_millis(400);
    let config = OperatorConfig {
        connect_timeout: Duration::from_millis(400),
        total_timeout: total,
        retries: 0,
        backoff: Duration::from_millis(10),
        failure_threshold: 1000,
        cool_down: Duration::from_millis(10),
        token: None,
    };
    let op = HttpOperator::new(&sim.url, config).unwrap();
    // One call is one exchange here (no retries); the margin is for a loaded machine.
    let bound = total + Duration::from_millis(600);
    let mut slowest = Duration::ZERO;
    for i in 0..24 {
        let t = Instant::now();
        match i % 4 {
            0 => drop(op.status("W000001")),
            1 => drop(op.request_unlock(&call(), &format!("k{i}"))),
            2 => drop(op.unlock_status("W000001", "k1")),
            _ => drop(op.send(&SmsMessage {
                message_id: format!("m{i}"),
                to: "13900000001".into(),
                lang: "zh-CN".into(),
                text: "测试".into(),
            })),
        }
        slowest = slowest.max(t.elapsed());
    }
    assert!(slowest <= bound, "slowest call {slowest:?} > {bound:?}");
    assert!(
        slowest >= total,
        "some call met a held answer and timed out"
    );
}

/// Runs as the worker process of the kill test (re-executed test binary), else does nothing.
#[test]
fn outbox_worker_child() {
    let (Ok(db), Ok(url)) = (std::env::var("UD_CHILD_DB"), std::env::var("UD_CHILD_SIM")) else {
        return;
    };
    let svc = service(std::path::Path::new(&db), &url, quick_config());
    let worker = svc.system_actor(SystemActor::OutboxWorker, "child-worker");
    loop {
        let _ = svc.deliver_notifications(&worker);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn_worker(db: &std::path::Path, url: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "outbox_worker_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("UD_CHILD_DB", db)
        .env("UD_CHILD_SIM", url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_worker_killed_mid_send_loses_no_notification_and_sends_none_twice() {
    const N: usize = 200;
    // A slow gateway: a quarter of the faults hold the answer past the timeout after the
    // message was taken, another quarter take it and drop the answer.
    let sim = Sim::start(&[
        "--fault-rate",
        "0.3",
        "--fault-delay-ms",
        "700",
        "--seed",
        "11",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("u.db");
    let svc = service(&db, &sim.url, quick_config());
    set_up(&svc);
    let ids = seed(&svc, N, CaseState::Unlocked, true);

    let sent = || sim.ledger()["messages"].as_object().map_or(0, |m| m.len());
    let mut first = spawn_worker(&db, &sim.url);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent() < N / 3 {
        assert!(
            Instant::now() < deadline,
            "the first worker sent too little"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().unwrap(); // SIGKILL: no clean-up, its claims stay behind.
    first.wait().unwrap();
    let at_kill = sent();
    assert!(at_kill < N, "killed before the end ({at_kill} of {N})");

    let mut second = spawn_worker(&db, &sim.url);
    let all_sent = || {
        svc.store()
            .read(|tx| tx.outbox(None, Some(OutboxKind::Sms), u32::MAX))
            .unwrap()
            .iter()
            .all(|m| m.status == OutboxStatus::Sent)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !all_sent() {
        assert!(
            Instant::now() < deadline,
            "messages left unsent after the kill"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    second.kill().unwrap();
    second.wait().unwrap();

    let outbox = svc
        .store()
        .read(|tx| tx.outbox(None, Some(OutboxKind::Sms), u32::MAX))
        .unwrap();
    let ledger = sim.ledger();
    let messages = ledger["messages"].as_object().unwrap();
    assert_eq!(outbox.len(), N);
    assert_eq!(
        messages.len(),
        N,
        "every message reached the gateway, under its own id"
    );
    for m in &outbox {
        assert_eq!(messages.get(&m.id), Some(&serde_json::json!(1)), "{}", m.id);
        assert!(ids.contains(&m.case_id));
    }
}
