//! Which connector serves a case: the branch's `operator_connectors` setting (no URL override)
//! against the real simulator process, on a real embedded store.

mod common;

use std::sync::Arc;

use common::*;
use unlockdesk_core::dto::OpenCaseInput;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::workflow::EventKind;
use unlockdesk_core::*;
use unlockdesk_operator::HttpConnectors;
use unlockdesk_store::SqliteStore;

/// A case opened from an appointment offers the wallet status step before its form names the
/// operator: the appointment's operator is the case's until then (the case view and the step
/// itself decide it the same way), and a case whose operator has no connector offers neither
/// connector step.
#[test]
fn the_appointment_s_operator_picks_the_connector_until_the_form_names_one() {
    let sim = Sim::start(&[]);
    let dir = tempfile::tempdir().expect("temp dir");
    let svc = Service::new(
        SqliteStore::open(&dir.path().join("unlockdesk.db")).expect("open the store"),
        Arc::new(SystemClock),
        Arc::new(OsEntropy),
    )
    .with_renderer(Arc::new(unlockdesk_conformance::TextRenderer))
    .with_connectors(Arc::new(HttpConnectors::new(None, quick_config())));
    set_up(&svc);
    let admin = svc
        .authenticate("admin", demo::DEMO_PASSWORD, "test")
        .expect("admin");
    let tel = svc
        .authenticate("tel01", demo::DEMO_PASSWORD, "test")
        .expect("teller");
    let booked = svc.appointments_today(&tel).expect("appointments");
    let served = booked
        .iter()
        .find(|a| a.status == AppointmentStatus::Waiting)
        .expect("a waiting appointment")
        .clone();
    let mut branch = Counter::branch(&svc).expect("branch");
    branch.operator_connectors = Some(vec![OperatorConnector {
        wallet_operator: served.wallet_operator.clone(),
        base_url: sim.url.clone(),
    }]);
    svc.update_branch(&admin, &branch).expect("connector set");
    let open = |a: &Appointment| {
        svc.open_case(
            &tel,
            &OpenCaseInput {
                appointment_id: Some(a.id),
                customer_name: String::new(),
                phone: String::new(),
                lock_cause: None,
            },
            None,
        )
        .expect("case opened")
    };
    let v = open(&served);
    assert!(v.case.form.is_none());
    assert!(
        v.allowed.contains(&EventKind::WalletStatus),
        "{:?} for {}",
        v.allowed,
        served.wallet_operator
    );
    // The step decides as the view did: the operator answers for the case's wallet.
    let after = svc
        .wallet_status(&tel, v.case.id, Some("W000123"))
        .expect("wallet status through the appointment's operator");
    assert!(after.case.wallet_check.is_some());
    // An appointment of an operator without a connector: the manual path, no connector step.
    let other = booked
        .iter()
        .find(|a| {
            a.status == AppointmentStatus::Waiting
                && a.id != served.id
                && a.wallet_operator != served.wallet_operator
        })
        .expect("an appointment of another operator");
    let v = open(other);
    assert!(
        !v.allowed.contains(&EventKind::WalletStatus),
        "{:?}",
        v.allowed
    );
    assert!(!v.allowed.contains(&EventKind::RequestUnlock));
}
