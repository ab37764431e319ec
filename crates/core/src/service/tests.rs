//! Core's own tests of use-case logic on the in-memory ports ([`crate::memory`]): who may do
//! what (staff roles and system actors), four-eyes and its audited refusals, idempotency,
//! the effects of a step, session lock, printing. Store behaviour is the conformance suite's.

use std::sync::Arc;

use chrono::TimeZone;

use super::Service;
use crate::api::Counter;
use crate::dto::*;
use crate::memory::MemoryStore;
use crate::model::*;
use crate::ports::*;
use crate::print::{CopyKind, DocumentKind, PrintDocument, Renderer};
use crate::workflow::EventKind;
use crate::{CoreResult, ErrorCode};

const PW: &str = "Counter#2026";
const ID: &str = "11010519491231002X";

/// Renders a document as its debug text: enough to see that printing stored what it rendered.
struct TextRenderer;
impl Renderer for TextRenderer {
    fn render(&self, doc: &PrintDocument) -> CoreResult<Vec<u8>> {
        Ok(format!("{doc:?}").into_bytes())
    }
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap(),
    ))
}

fn service(clock: Arc<FixedClock>) -> Service<MemoryStore> {
    Service::new(MemoryStore::default(), clock, Arc::new(OsEntropy))
        .with_renderer(Arc::new(TextRenderer))
}

struct Branch {
    svc: Service<MemoryStore>,
    clock: Arc<FixedClock>,
    tel01: Actor,
    sup01: Credentials,
    admin: Actor,
}

fn creds(id: &str) -> Credentials {
    Credentials {
        staff_id: id.into(),
        password: PW.into(),
    }
}

/// A branch with an admin, a teller, two supervisors and an auditor, all with `PW`; each
/// named unlike their id, so a name shown is a name looked up.
fn branch() -> Branch {
    let clock = clock();
    let svc = service(clock.clone());
    svc.setup(
        &SetupInput {
            branch_code: "T1".into(),
            branch_name: "测试支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "test",
    )
    .unwrap();
    let admin = Counter::authenticate(&svc, "admin", PW, "test").unwrap();
    for (id, name, role) in [
        ("tel01", "柜员甲", Role::Teller),
        ("sup01", "主管甲", Role::Supervisor),
        ("sup02", "主管乙", Role::Supervisor),
        ("aud01", "稽核甲", Role::Auditor),
    ] {
        svc.add_staff(
            &admin,
            &NewStaff {
                id: id.into(),
                name: name.into(),
                role,
                password: "Initial#2026".into(),
            },
        )
        .unwrap();
        Counter::change_password(&svc, id, "Initial#2026", PW, "test").unwrap();
    }
    let tel01 = Counter::authenticate(&svc, "tel01", PW, "desk-1").unwrap();
    Branch {
        svc,
        clock,
        tel01,
        sup01: creds("sup01"),
        admin,
    }
}

fn form() -> ApplicationForm {
    ApplicationForm {
        customer_name: "测试甲".into(),
        sex: Some(Sex::Female),
        nationality: "中国".into(),
        occupation: "职员".into(),
        address: "北京市东城区测试路1号".into(),
        phone: "13123456789".into(),
        id_type: DocumentType::PrcId,
        id_number: ID.into(),
        id_valid_until: "long-term".into(),
        wallet_operator: "运营机构A".into(),
        wallet_id: "0099123456789012".into(),
        wallet_class: "2".into(),
        lock_cause: Some(LockCause::WrongPassword),
        requested_action: Some(RequestedAction::Unlock),
        reason: "forgot password".into(),
        declaration_true: true,
        consent_query: true,
        risk_acknowledged: true,
        materials: vec![
            "id-document".into(),
            "bank-account".into(),
            "wallet-details".into(),
        ],
        ..Default::default()
    }
}

fn id_card() -> IdentityInput {
    IdentityInput {
        kind: "prc-id".into(),
        number: ID.into(),
        name_on_document: "测试甲".into(),
        valid_until: "long-term".into(),
        online_check: Some(crate::model::OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-0001".into(),
        }),
        ..Default::default()
    }
}

/// Print one bank copy and report it delivered through CUPS (as the window does).
fn print_delivered(svc: &dyn Counter, actor: &Actor, c: CaseId, kind: DocumentKind) -> CaseView {
    let doc = svc.print_document(actor, c, kind, CopyKind::Bank).unwrap();
    svc.record_delivery(
        actor,
        c,
        &doc.id,
        &PrintDelivery {
            channel: PrintChannel::Cups,
            printer: Some("CUPS-PDF".into()),
            job_id: Some("CUPS-PDF-1".into()),
            outcome: PrintOutcome::Completed,
            message: String::new(),
        },
    )
    .unwrap()
}

fn contact(svc: &dyn Counter, actor: &Actor, c: CaseId) {
    svc.log_contact(
        actor,
        c,
        &ContactInput {
            channel: ContactChannel::OperatorPortal,
            ticket: "OP-1".into(),
            result: "unlock done".into(),
        },
        None,
    )
    .unwrap();
}

fn submitted(b: &Branch, appointment: Option<AppointmentId>) -> CaseId {
    let svc: &dyn Counter = &b.svc;
    let c = svc
        .open_case(
            &b.tel01,
            &OpenCaseInput {
                appointment_id: appointment,
                customer_name: "测试甲".into(),
                phone: "13123456789".into(),
                lock_cause: Some(LockCause::WrongPassword),
            },
            None,
        )
        .unwrap()
        .case
        .id;
    svc.verify_identity(&b.tel01, c, &id_card(), None).unwrap();
    svc.record_form(&b.tel01, c, &form(), None).unwrap();
    print_delivered(svc, &b.tel01, c, DocumentKind::Application);
    svc.confirm_signed(&b.tel01, c, None).unwrap();
    svc.submit(&b.tel01, c, None).unwrap();
    c
}

fn audit(svc: &Service<MemoryStore>) -> Vec<AuditEvent> {
    svc.store.read(|tx| tx.audit_events(1, 10_000)).unwrap()
}

#[test]
fn a_case_from_an_appointment_goes_to_closed_and_the_appointment_is_done() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let booking = Appointment {
        id: AppointmentId(uuid::Uuid::from_u128(42)),
        reference: "R-42".into(),
        name: "测试甲".into(),
        phone: "13123456789".into(),
        id_type: DocumentType::PrcId,
        id_number: "002X".into(),
        wallet_operator: "运营机构A".into(),
        lock_cause: LockCause::WrongPassword,
        slot_start: chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap(),
        slot_end: chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(10, 30, 0)
            .unwrap(),
        notes: String::new(),
        status: AppointmentStatus::Waiting,
        case_id: None,
    };
    svc.add_appointment(&b.admin, &booking).unwrap();
    let c = submitted(&b, Some(booking.id));
    svc.authorize(&b.tel01, c, &b.sup01, Decision::Approve, None, "", None)
        .unwrap();
    contact(svc, &b.tel01, c);
    svc.confirm_unlock(
        &b.tel01,
        c,
        &creds("sup02"),
        &UnlockInput {
            operator_reference: "OP-1".into(),
            notified_via: NotificationChannel::Sms,
        },
        None,
    )
    .unwrap();
    let appt = |svc: &dyn Counter| svc.find_appointments(&b.tel01, "R-42").unwrap()[0].status;
    assert_eq!(appt(svc), AppointmentStatus::InProgress);
    print_delivered(svc, &b.tel01, c, DocumentKind::Receipt);
    let v = svc.close_case(&b.tel01, c, None, None).unwrap();
    assert_eq!(v.case.state, CaseState::Closed);
    // The step's effect ran in the same transaction.
    assert_eq!(appt(svc), AppointmentStatus::Done);
    let actions: Vec<String> = v.history.iter().map(|e| e.action.clone()).collect();
    assert_eq!(
        actions,
        [
            "open-case",
            "verify-identity",
            "record-form",
            "print",
            "print-delivery",
            "confirm-signed",
            "submit",
            "approve",
            "log-contact",
            "confirm-unlock",
            "print",
            "print-delivery",
            "close"
        ]
    );
    // The authorized steps are the supervisors' acts, with the teller as operator.
    let approve = &v.history[7];
    assert_eq!(
        (approve.staff_id.as_str(), approve.role),
        ("sup01", Some(Role::Supervisor))
    );
    assert!(approve.detail.contains("\"operator\":\"tel01\""));
}

#[test]
fn the_view_names_every_staff_member_it_mentions() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let booking = Appointment {
        id: AppointmentId(uuid::Uuid::from_u128(43)),
        reference: "R-43".into(),
        name: "测试甲".into(),
        phone: "13123456789".into(),
        id_type: DocumentType::PrcId,
        id_number: "002X".into(),
        wallet_operator: "运营机构A".into(),
        lock_cause: LockCause::WrongPassword,
        slot_start: chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap(),
        slot_end: chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(10, 30, 0)
            .unwrap(),
        notes: String::new(),
        status: AppointmentStatus::Waiting,
        case_id: None,
    };
    svc.add_appointment(&b.admin, &booking).unwrap();
    let c = submitted(&b, Some(booking.id));
    svc.authorize(&b.tel01, c, &b.sup01, Decision::Approve, None, "", None)
        .unwrap();
    contact(svc, &b.tel01, c);
    svc.confirm_unlock(
        &b.tel01,
        c,
        &creds("sup02"),
        &UnlockInput {
            operator_reference: "OP-1".into(),
            notified_via: NotificationChannel::Sms,
        },
        None,
    )
    .unwrap();
    // The call centre's feed moves the booked slot: an event of the case by the system actor.
    let file = format!(
        "{}\nR-43,测试甲,13123456789,prc-id,002X,运营机构A,wrong-password,\
         2026-11-29T10:00,2026-11-29T11:00,\n",
        crate::appointments::HEADER_EN.join(",")
    );
    let import = svc.system_actor(SystemActor::Import, "feed");
    assert_eq!(
        svc.import_appointments(&import, file.as_bytes(), "book.csv")
            .unwrap()
            .updated,
        1
    );
    // A disabled account still names who acted then.
    svc.set_staff_disabled(&b.admin, "sup02", true).unwrap();
    let v = svc.case_view(&b.tel01, c).unwrap();
    assert!(v.history.iter().any(|e| e.staff_id == "import"));
    let names: Vec<(&str, &str)> = v
        .staff
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    // Teller (maker, printer, contact), authorizer, unlock's supervisor; no system actor, and
    // no one the case never mentions (admin, aud01).
    assert_eq!(
        names,
        [
            ("sup01", "主管甲"),
            ("sup02", "主管乙"),
            ("tel01", "柜员甲")
        ]
    );
}

#[test]
fn every_staff_id_a_view_shows_is_looked_up() {
    let b = branch();
    let c = submitted(&b, None);
    let (case, history, documents) = b
        .svc
        .store
        .read(|tx| Ok((tx.case(c)?.unwrap(), tx.case_history(c)?, tx.documents(c)?)))
        .unwrap();
    let mut history = history;
    let mut e = history[0].clone();
    // Staff named only in an event's detail (an operator, a co-checker); a detail that is no
    // JSON object names nobody.
    e.detail = r#"{"operator":"tel07","cochecked_by":"sup09","note":"x"}"#.into();
    history.push(e.clone());
    e.detail = "not json".into();
    history.push(e);
    let mut case = case;
    case.contacts.push(OperatorContact {
        channel: ContactChannel::Phone,
        at: case.opened_at,
        ticket: "T".into(),
        result: "r".into(),
        by: StaffId::parse("tel05").unwrap(),
    });
    let ids = super::reads::mentioned_staff(&case, &history, &documents);
    assert_eq!(
        ids.iter().map(String::as_str).collect::<Vec<_>>(),
        ["sup09", "tel01", "tel05", "tel07"]
    );
}

#[test]
fn four_eyes_refusal_is_refused_and_audited_under_the_supervisor() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    // sup01 works the case as a teller would, then tries to approve it.
    let sup_at_counter = svc.authenticate("sup01", PW, "desk-2").unwrap();
    let c = svc
        .open_case(
            &sup_at_counter,
            &OpenCaseInput {
                customer_name: "测试甲".into(),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case
        .id;
    svc.verify_identity(&sup_at_counter, c, &id_card(), None)
        .unwrap();
    svc.record_form(&sup_at_counter, c, &form(), None).unwrap();
    print_delivered(svc, &sup_at_counter, c, DocumentKind::Application);
    svc.confirm_signed(&sup_at_counter, c, None).unwrap();
    svc.submit(&sup_at_counter, c, None).unwrap();
    let e = svc
        .authorize(
            &sup_at_counter,
            c,
            &creds("SUP01"),
            Decision::Approve,
            None,
            "",
            None,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::FourEyes);
    let refused: Vec<_> = audit(&b.svc)
        .into_iter()
        .filter(|e| e.action == "refused-step")
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].staff_id, "sup01");
    assert_eq!(refused[0].outcome, Outcome::Refused);
    assert_eq!(
        svc.case_view(&sup_at_counter, c).unwrap().case.state,
        CaseState::Submitted
    );
    // Another supervisor may.
    svc.authorize(
        &sup_at_counter,
        c,
        &creds("sup02"),
        Decision::Approve,
        None,
        "",
        None,
    )
    .unwrap();
}

#[test]
fn a_decision_after_another_is_refused_naming_the_first_and_audited() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let c = submitted(&b, None);
    svc.authorize(&b.tel01, c, &b.sup01, Decision::Approve, None, "", None)
        .unwrap();
    let e = svc
        .authorize(
            &b.tel01,
            c,
            &creds("sup02"),
            Decision::Reject,
            Some(ReasonCode::Other),
            "no",
            None,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(e.message.contains("sup01"), "{}", e.message);
    assert!(audit(&b.svc)
        .iter()
        .any(|e| e.action == "refused-step" && e.staff_id == "sup02"));
}

/// Which write transaction [`ChangeBeforeTheStep`] lets a change commit before.
#[derive(Clone, Copy, PartialEq)]
enum Before {
    /// The first `transact_optimistic`: a case step's (only case steps use it).
    Step,
    /// The first `transact`: e.g. the write of a password check (failed sign-ins, re-hash).
    Write,
}

/// A store that lets an administrator's change commit between a password check and the
/// write that follows it: it runs `before` in a transaction of its own just before the first
/// transaction of the kind `at` names.
struct ChangeBeforeTheStep<'a> {
    inner: &'a MemoryStore,
    at: Before,
    #[allow(clippy::type_complexity)]
    before: std::sync::Mutex<Option<Box<dyn FnOnce(&mut dyn WriteTx) -> CoreResult<()> + Send>>>,
}

impl ChangeBeforeTheStep<'_> {
    fn change_first(&self, at: Before) -> CoreResult<()> {
        if at != self.at {
            return Ok(());
        }
        let before = self.before.lock().unwrap().take();
        match before {
            Some(change) => self.inner.transact(change),
            None => Ok(()),
        }
    }
}

impl Store for ChangeBeforeTheStep<'_> {
    fn transact<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>) -> CoreResult<T> {
        self.change_first(Before::Write)?;
        self.inner.transact(f)
    }
    fn transact_optimistic<T>(
        &self,
        f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>,
    ) -> CoreResult<T> {
        self.change_first(Before::Step)?;
        self.inner.transact(f)
    }
    fn read<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> CoreResult<T>) -> CoreResult<T> {
        self.inner.read(f)
    }
    fn verify_audit(&self) -> CoreResult<AuditVerification> {
        self.inner.verify_audit()
    }
    fn backup_to(&self, dest: &std::path::Path) -> CoreResult<()> {
        self.inner.backup_to(dest)
    }
    fn restore_from(&self, src: &std::path::Path) -> CoreResult<()> {
        self.inner.restore_from(src)
    }
}

/// A supervisor disabled, locked, made a teller or sent to change their password after their
/// password was checked and before the step they authorize: the step is refused naming them
/// (nothing is decided, the case stays submitted) and the refusal is audited once, under them
/// with the role their account has now.
#[test]
fn an_authorization_by_a_supervisor_changed_meanwhile_is_refused() {
    type Change = fn(&mut Staff);
    // (the change, the refusal, the role the refused-step record names: the account's now)
    let changes: [(Change, ErrorCode, Role); 4] = [
        (
            |s| s.disabled = true,
            ErrorCode::AccountDisabled,
            Role::Supervisor,
        ),
        (
            |s| s.locked = true,
            ErrorCode::AccountLocked,
            Role::Supervisor,
        ),
        (
            |s| s.role = Role::Teller,
            ErrorCode::Forbidden,
            Role::Teller,
        ),
        (
            |s| s.must_change_password = true,
            ErrorCode::PasswordChangeRequired,
            Role::Supervisor,
        ),
    ];
    for (change, code, role) in changes {
        let b = branch();
        let c = submitted(&b, None);
        let racing = Service::new(
            ChangeBeforeTheStep {
                inner: &b.svc.store,
                at: Before::Step,
                before: std::sync::Mutex::new(Some(Box::new(move |tx: &mut dyn WriteTx| {
                    let mut s = tx.staff(&StaffId::parse("sup01")?)?.expect("sup01");
                    change(&mut s);
                    tx.update_staff(&s)
                }))),
            },
            b.clock.clone(),
            Arc::new(OsEntropy),
        );
        let e = Counter::authorize(
            &racing,
            &b.tel01,
            c,
            &b.sup01,
            Decision::Approve,
            None,
            "",
            None,
        )
        .unwrap_err();
        assert_eq!(e.code, code, "{e:?}");
        assert!(e.message.contains("sup01"), "{e:?}");
        let view = Counter::case_view(&b.svc, &b.tel01, c).unwrap();
        assert_eq!(view.case.state, CaseState::Submitted);
        let events = audit(&b.svc);
        assert!(!events.iter().any(|e| e.action == "approve"));
        let refused = events
            .iter()
            .find(|e| e.action == "refused-step")
            .expect("the refusal is audited");
        assert_eq!(refused.staff_id, "sup01");
        assert_eq!(refused.role, Some(role));
        assert!(refused.detail.contains("tel01"), "{}", refused.detail);
        assert_eq!(
            events.iter().filter(|e| e.action == "refused-step").count(),
            1,
            "one record of the refusal"
        );
    }
}

/// A password replaced (by its owner elsewhere or an administrator's reset) between a
/// sign-in's check of the older hash and the sign-in's write keeps the replacement: the
/// re-hash is written only over the hash that was checked, and the sign-in is not audited as
/// a re-hash.
#[test]
fn a_password_replaced_during_a_sign_in_is_not_overwritten_by_its_rehash() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let b = branch();
    let tel01 = StaffId::parse("tel01").unwrap();
    let stored = || {
        b.svc
            .store
            .read(|r| r.staff(&tel01))
            .unwrap()
            .expect("tel01")
    };
    let older = argon2::Argon2::default()
        .hash_password(PW.as_bytes(), &SaltString::encode_b64(&[5; 16]).unwrap())
        .unwrap()
        .to_string();
    assert!(crate::passwords::needs_rehash(&older));
    let mut s = stored();
    s.password_hash = older;
    b.svc.store.transact(|tx| tx.update_staff(&s)).unwrap();
    let replacement = crate::passwords::hash("Replaced#2026", [7; 16]).unwrap();
    let racing = Service::new(
        ChangeBeforeTheStep {
            inner: &b.svc.store,
            at: Before::Write,
            before: std::sync::Mutex::new(Some(Box::new({
                let replacement = replacement.clone();
                move |tx: &mut dyn WriteTx| {
                    let mut s = tx.staff(&StaffId::parse("tel01")?)?.expect("tel01");
                    s.password_hash = replacement;
                    tx.update_staff(&s)
                }
            }))),
        },
        b.clock.clone(),
        Arc::new(OsEntropy),
    );
    let head = b.svc.store.read(|r| r.audit_head()).unwrap();
    // The password was right when it was checked: the sign-in stands.
    Counter::sign_in(&racing, "tel01", PW, "desk-1").unwrap();
    assert_eq!(stored().password_hash, replacement, "the replacement stays");
    let events = b.svc.store.read(|r| r.audit_events(head + 1, 10)).unwrap();
    let sign_in = events
        .iter()
        .find(|e| e.action == "sign-in")
        .expect("the sign-in is audited");
    assert_eq!(sign_in.detail, "{}", "no re-hash was written");
    assert!(Counter::sign_in(&b.svc, "tel01", PW, "desk-1").is_err());
    assert!(Counter::sign_in(&b.svc, "tel01", "Replaced#2026", "desk-1").is_ok());
}

#[test]
fn system_actors_do_only_their_job() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let c = submitted(&b, None);
    let reader = svc.system_actor(SystemActor::CliReader, "cli:test");
    let import = svc.system_actor(SystemActor::Import, "feed");
    // The read-only CLI actor reads (masked) and verifies the chain; nothing else.
    assert_eq!(svc.case_view(&reader, c).unwrap().case.phone, "131****6789");
    assert!(svc.verify_audit(&reader).unwrap().ok);
    assert!(svc.appointments_today(&reader).is_ok());
    let forbidden = |r: CoreResult<()>| assert_eq!(r.unwrap_err().code, ErrorCode::Forbidden);
    forbidden(
        svc.reveal(&reader, c, RevealField::Phone, "audit check")
            .map(|_| ()),
    );
    forbidden(svc.submit(&reader, c, None).map(|_| ()));
    forbidden(
        svc.print_document(&reader, c, DocumentKind::Application, CopyKind::Customer)
            .map(|_| ()),
    );
    forbidden(
        svc.render_document(&reader, c, DocumentKind::Application, CopyKind::Bank)
            .map(|_| ()),
    );
    assert!(svc
        .render_document(&reader, c, DocumentKind::Application, CopyKind::Customer)
        .is_ok());
    // The import actor imports and nothing else.
    forbidden(svc.case_view(&import, c).map(|_| ()));
    forbidden(
        svc.open_case(&import, &OpenCaseInput::default(), None)
            .map(|_| ()),
    );
    let csv = "reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes\n\
               R-1,测试乙,13912345671,prc-id,002X,B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,\n";
    let r = svc
        .import_appointments(&import, csv.as_bytes(), "feed.csv")
        .unwrap();
    assert_eq!(r.imported, 1);
    // The first-run actor exists only on an empty store.
    assert_eq!(
        svc.first_run_actor("desk").unwrap_err().code,
        ErrorCode::AlreadySetUp
    );
    // Every refusal above was recorded.
    let refusals = audit(&b.svc)
        .iter()
        .filter(|e| e.action == "permission")
        .count();
    assert!(refusals >= 6, "{refusals}");
}

#[test]
fn demo_loads_on_an_empty_store_through_the_first_run_actor_only() {
    let svc = service(clock());
    let first = Counter::first_run_actor(&svc, "desk").unwrap();
    let report = svc.load_demo(&first, 3).unwrap();
    assert!(report.to_string().contains("tel01"), "{report}");
    assert_eq!(
        Counter::first_run_actor(&svc, "desk").unwrap_err().code,
        ErrorCode::AlreadySetUp
    );
    let teller = Counter::authenticate(&svc, "tel01", crate::demo::DEMO_PASSWORD, "t").unwrap();
    assert_eq!(
        svc.load_demo(&teller, 0).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let admin = Counter::authenticate(&svc, "admin", crate::demo::DEMO_PASSWORD, "t").unwrap();
    assert_eq!(
        svc.load_demo(&admin, 0).unwrap_err().code,
        ErrorCode::AlreadySetUp
    );
}

#[test]
fn an_idempotent_retry_replays_and_another_request_under_the_key_conflicts() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let c = submitted(&b, None);
    let first = svc
        .authorize(
            &b.tel01,
            c,
            &b.sup01,
            Decision::Approve,
            None,
            "",
            Some("k-1"),
        )
        .unwrap();
    let again = svc
        .authorize(
            &b.tel01,
            c,
            &b.sup01,
            Decision::Approve,
            None,
            "",
            Some("k-1"),
        )
        .unwrap();
    assert_eq!(first.case.version, again.case.version);
    assert_eq!(first.history.len(), again.history.len());
    let e = svc
        .authorize(
            &b.tel01,
            c,
            &b.sup01,
            Decision::Reject,
            Some(ReasonCode::Other),
            "x",
            Some("k-1"),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
}

#[test]
fn roles_are_checked_on_reads_audit_and_admin_operations() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let c = submitted(&b, None);
    let auditor = svc.authenticate("aud01", PW, "t").unwrap();
    assert_eq!(
        svc.audit_events(&b.tel01, c).unwrap_err().code,
        ErrorCode::Forbidden
    );
    // The five steps with the print and its delivery, and the teller's refused look at the
    // trail.
    let events = svc.audit_events(&auditor, c).unwrap();
    assert_eq!(events.len(), 8);
    assert_eq!(
        (events[7].action.as_str(), events[7].outcome),
        ("permission", Outcome::Refused)
    );
    assert!(svc.verify_audit(&auditor).unwrap().ok);
    assert_eq!(
        svc.verify_audit(&b.tel01).unwrap_err().code,
        ErrorCode::Forbidden
    );
    let dest = std::path::Path::new("/nonexistent/backup.db");
    assert_eq!(
        svc.backup(&b.tel01, dest).unwrap_err().code,
        ErrorCode::Forbidden
    );
    // The admin passes the check; the in-memory store has no file to write.
    assert_eq!(
        svc.backup(&b.admin, dest).unwrap_err().code,
        ErrorCode::Storage
    );
    assert_eq!(
        svc.restore(&auditor, dest).unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        svc.list_staff(&b.tel01).unwrap_err().code,
        ErrorCode::Forbidden
    );
    // A co-check needs a supervisor's credentials: a teller's are refused.
    let e = svc
        .cocheck_identity(&b.tel01, c, &creds("tel01"), None)
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
}

#[test]
fn a_session_locks_when_idle_and_unlocks_with_the_password() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let mut s = svc.sign_in("tel01", PW, "desk-1").unwrap();
    b.clock.advance(chrono::Duration::minutes(4));
    let actor = svc.session_actor(&mut s).unwrap();
    assert_eq!(actor.staff_id().as_str(), "tel01");
    assert_eq!(actor.terminal(), "desk-1");
    b.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(
        svc.session_actor(&mut s).unwrap_err().code,
        ErrorCode::SessionLocked
    );
    assert!(s.is_locked());
    assert_eq!(
        svc.unlock_session(&mut s, "wrong").unwrap_err().code,
        ErrorCode::AuthFailed
    );
    svc.unlock_session(&mut s, PW).unwrap();
    svc.session_actor(&mut s).unwrap();
}

#[test]
fn printing_stores_the_rendered_copy_and_counts_a_reprint() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let c = submitted(&b, None);
    let first = svc
        .print_document(&b.tel01, c, DocumentKind::Application, CopyKind::Bank)
        .unwrap();
    svc.print_document(&b.tel01, c, DocumentKind::Application, CopyKind::Bank)
        .unwrap();
    let bytes = svc.document_bytes(&b.tel01, c, &first.id).unwrap();
    // The bank copy holds the full number; what was rendered is what is stored.
    assert!(String::from_utf8_lossy(&bytes).contains(ID));
    let actions: Vec<String> = svc
        .case_view(&b.tel01, c)
        .unwrap()
        .history
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.contains("print"))
        .collect();
    // `submitted` printed and delivered the bank copy once; two more are reprints.
    assert_eq!(actions, ["print", "print-delivery", "reprint", "reprint"]);
    let v = svc.case_view(&b.tel01, c).unwrap();
    assert_eq!((v.case.prints.len(), v.reprints), (3, 2));
    assert_eq!(v.case.prints[1].outcome, PrintOutcome::Pending);
    // Without a renderer, printing says so.
    let bare = Service::new(MemoryStore::default(), clock(), Arc::new(OsEntropy));
    assert_eq!(bare.renderer().err().unwrap().code, ErrorCode::Render);
}

#[test]
fn the_view_says_what_the_form_screen_needs() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let c = submitted(&b, None);
    let v = svc.case_view(&b.tel01, c).unwrap();
    let doc = v.form_document.clone().unwrap();
    assert_eq!(doc.kind, DocumentType::PrcId);
    assert_eq!(doc.number, "110***********002X");
    assert!(!v.cocheck_needed);
    // The amendment draft blanks what core keeps when left blank, and sent back as it is it
    // changes no number.
    let draft = v.amendment_draft.clone().unwrap();
    assert_eq!((draft.phone.as_str(), draft.wallet_id.as_str()), ("", ""));
    assert_eq!(draft.id_number, "");
    let again = submitted(&b, None);
    let before = b.svc.store.read(|tx| tx.case(again)).unwrap().unwrap();
    let view = svc.case_view(&b.tel01, again).unwrap();
    let mut amended = view.amendment_draft.unwrap();
    amended.address = "北京市东城区测试路2号".into();
    // Back to the form step: a return for information, then the amendment.
    svc.authorize(
        &b.tel01,
        again,
        &b.sup01,
        Decision::ReturnForInfo,
        Some(ReasonCode::FormIncomplete),
        "address",
        None,
    )
    .unwrap();
    svc.record_form(&b.tel01, again, &amended, None).unwrap();
    let after = b.svc.store.read(|tx| tx.case(again)).unwrap().unwrap();
    let (f0, f1) = (before.form.unwrap(), after.form.unwrap());
    assert_eq!(
        (f1.phone, f1.wallet_id, f1.id_number),
        (f0.phone, f0.wallet_id, f0.id_number)
    );
    assert_eq!(f1.address, "北京市东城区测试路2号");
}

/// Rules 1, 4, 5, 7 through the use cases: print before signing (again after an amendment),
/// contact before unlock, receipt or reason before close, reprints counted and audited,
/// online check required and recorded, agents by branch policy, anti-fraud refused at once.
#[test]
fn evidence_rules_print_sign_contact_unlock_close() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let open = || {
        svc.open_case(
            &b.tel01,
            &OpenCaseInput {
                customer_name: "测试甲".into(),
                lock_cause: Some(LockCause::WrongPassword),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case
        .id
    };
    // Rule 5: the online check is required for a resident ID card (branch default).
    let c = open();
    let mut no_check = id_card();
    no_check.online_check = None;
    let e = svc
        .verify_identity(&b.tel01, c, &no_check, None)
        .unwrap_err();
    assert_eq!(
        (e.fields[0].field.as_str(), e.fields[0].rule.as_str()),
        ("online_check", "required")
    );
    let mut blank_ref = id_card();
    blank_ref.online_check.as_mut().unwrap().reference = " ".into();
    let e = svc
        .verify_identity(&b.tel01, c, &blank_ref, None)
        .unwrap_err();
    assert_eq!(e.fields[0].field, "online_check.reference");
    let v = svc.verify_identity(&b.tel01, c, &id_card(), None).unwrap();
    let oc = v
        .case
        .identity
        .as_ref()
        .unwrap()
        .online_check
        .clone()
        .unwrap();
    assert_eq!(
        (oc.result, oc.reference.as_str()),
        (OnlineCheckResult::Match, "LWHC-0001")
    );
    assert!(v.history.last().unwrap().detail.contains("LWHC-0001"));
    // Prefill: the ID card says female (sequence digit) and CHN.
    let p = v.prefill.clone().unwrap();
    assert_eq!((p.sex, p.nationality.as_str()), (Some(Sex::Female), "CHN"));
    let mut wrong_sex = form();
    wrong_sex.sex = Some(Sex::Male);
    let e = svc.record_form(&b.tel01, c, &wrong_sex, None).unwrap_err();
    assert!(
        e.fields
            .iter()
            .any(|f| f.field == "sex" && f.rule == "differs-from-document"),
        "{e:?}"
    );

    // Rule 1: sign only after the print of the current revision.
    svc.record_form(&b.tel01, c, &form(), None).unwrap();
    let e = svc.confirm_signed(&b.tel01, c, None).unwrap_err();
    assert_eq!(e.code, ErrorCode::IllegalTransition);
    assert!(e.message.contains("print the bank copy"), "{}", e.message);
    let v = svc.case_view(&b.tel01, c).unwrap();
    assert!(v
        .blocked
        .iter()
        .any(|s| s.event == EventKind::ConfirmSigned && s.rule == "not-printed"));
    // A failed CUPS job does not count, and is recorded as failed.
    let doc = svc
        .print_document(&b.tel01, c, DocumentKind::Application, CopyKind::Bank)
        .unwrap();
    let failed = PrintDelivery {
        channel: PrintChannel::Cups,
        printer: Some("CUPS-PDF".into()),
        job_id: None,
        outcome: PrintOutcome::Failed,
        message: "printer stopped".into(),
    };
    let v = svc.record_delivery(&b.tel01, c, &doc.id, &failed).unwrap();
    assert!(!v.form_printed);
    assert_eq!(
        svc.record_delivery(&b.tel01, c, &doc.id, &failed)
            .unwrap_err()
            .code,
        ErrorCode::Conflict
    );
    assert!(svc.confirm_signed(&b.tel01, c, None).is_err());
    // The print after a failed job is not a reprint: the failed one reached no paper.
    let v = print_delivered(svc, &b.tel01, c, DocumentKind::Application);
    assert!(v.form_printed);
    assert_eq!(v.reprints, 0);
    assert!(!v.history.iter().any(|e| e.action == "reprint"));
    // The same copy again after one reached paper is a reprint, audited and counted.
    let v = print_delivered(svc, &b.tel01, c, DocumentKind::Application);
    assert_eq!(v.reprints, 1);
    assert!(v.history.iter().any(|e| e.action == "reprint"));
    svc.confirm_signed(&b.tel01, c, None).unwrap();
    // An amendment is a new revision: print and sign again.
    let mut amended = form();
    amended.address = "北京市东城区测试路2号".into();
    let v = svc.record_form(&b.tel01, c, &amended, None).unwrap();
    assert_eq!(
        (v.case.state, v.case.form_revision, v.form_printed),
        (CaseState::FormRecorded, 2, false)
    );
    assert!(svc.confirm_signed(&b.tel01, c, None).is_err());
    print_delivered(svc, &b.tel01, c, DocumentKind::Application);
    svc.confirm_signed(&b.tel01, c, None).unwrap();
    svc.submit(&b.tel01, c, None).unwrap();
    svc.authorize(&b.tel01, c, &b.sup01, Decision::Approve, None, "", None)
        .unwrap();

    // Rule 4: the unlock needs the operator contact.
    let unlock = UnlockInput {
        operator_reference: "OPREF-1".into(),
        notified_via: NotificationChannel::InPerson,
    };
    let e = svc
        .confirm_unlock(&b.tel01, c, &creds("sup02"), &unlock, None)
        .unwrap_err();
    assert!(e.message.contains("log the contact"), "{}", e.message);
    contact(svc, &b.tel01, c);
    svc.confirm_unlock(&b.tel01, c, &creds("sup02"), &unlock, None)
        .unwrap();

    // Rule 1 (close): receipt or reason.
    let e = svc.close_case(&b.tel01, c, None, None).unwrap_err();
    assert_eq!(
        (e.fields[0].field.as_str(), e.fields[0].rule.as_str()),
        ("receipt_waiver", "receipt-not-printed")
    );
    let v = svc
        .close_case(&b.tel01, c, Some("customer declined the receipt"), None)
        .unwrap();
    assert_eq!(v.case.state, CaseState::Closed);
    assert_eq!(
        v.case.receipt_waiver.as_deref(),
        Some("customer declined the receipt")
    );
    assert!(v
        .history
        .last()
        .unwrap()
        .detail
        .contains("customer declined"));

    // Rule 5: a mismatch stops the case with its reference.
    let c2 = open();
    let mut mismatch = id_card();
    mismatch.online_check = Some(crate::model::OnlineCheck {
        result: OnlineCheckResult::Mismatch,
        reference: "LWHC-0002".into(),
    });
    let v = svc.verify_identity(&b.tel01, c2, &mismatch, None).unwrap();
    assert_eq!(v.case.state, CaseState::RefusedIdentity);
    assert!(v.case.last_reason.contains("LWHC-0002"));

    // Rule 7: agents are off by default; on by the branch's policy.
    let c3 = open();
    svc.verify_identity(&b.tel01, c3, &id_card(), None).unwrap();
    let mut by_agent = form();
    by_agent.agent = Some(Agent {
        name: "测试乙".into(),
        id_type: DocumentType::PrcId,
        id_number: "11010519491231002X".into(),
        phone: "13123456780".into(),
        relationship: "spouse".into(),
        online_check: None,
    });
    let e = svc.record_form(&b.tel01, c3, &by_agent, None).unwrap_err();
    assert_eq!(
        (e.fields[0].field.as_str(), e.fields[0].rule.as_str()),
        ("agent", "not-allowed-by-branch")
    );
    let mut br = svc.branch().unwrap();
    br.agents_allowed = true;
    svc.update_branch(&b.admin, &br).unwrap();
    let e = svc.record_form(&b.tel01, c3, &by_agent, None).unwrap_err();
    assert_eq!(e.fields[0].field, "agent.online_check");
    by_agent.agent.as_mut().unwrap().online_check = Some(crate::model::OnlineCheck {
        result: OnlineCheckResult::NotFound,
        reference: "LWHC-0003".into(),
    });
    let v = svc.record_form(&b.tel01, c3, &by_agent, None).unwrap();
    assert_eq!(v.case.state, CaseState::RefusedIdentity);
    assert!(v.case.last_reason.starts_with("agent:"));

    // Rule 7: an anti-fraud restriction is refused at check-in, with its route.
    let v = svc
        .open_case(
            &b.tel01,
            &OpenCaseInput {
                customer_name: "测试丙".into(),
                lock_cause: Some(LockCause::AntiFraudRestriction),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    assert_eq!(v.case.state, CaseState::RefusedAuthorityFreeze);
    assert_eq!(v.case.lock_cause, Some(LockCause::AntiFraudRestriction));
    assert!(v.freeze_route.unwrap().contains("anti-fraud"));
}

/// After a failed unlock attempt, the retry needs a contact of its own (logged after the
/// failure), and the receipt printed for the failed attempt is no receipt of the unlock; a CUPS
/// job CUPS only accepted (`sent`) is not yet a print.
#[test]
fn a_retry_needs_its_own_contact_and_receipt() {
    let b = branch();
    let svc: &dyn Counter = &b.svc;
    let c = svc
        .open_case(
            &b.tel01,
            &OpenCaseInput {
                customer_name: "测试甲".into(),
                lock_cause: Some(LockCause::WrongPassword),
                ..Default::default()
            },
            None,
        )
        .unwrap()
        .case
        .id;
    svc.verify_identity(&b.tel01, c, &id_card(), None).unwrap();
    svc.record_form(&b.tel01, c, &form(), None).unwrap();
    // Only accepted by CUPS: not printed yet.
    let doc = svc
        .print_document(&b.tel01, c, DocumentKind::Application, CopyKind::Bank)
        .unwrap();
    let sent = PrintDelivery {
        channel: PrintChannel::Cups,
        printer: Some("CUPS-PDF".into()),
        job_id: Some("CUPS-PDF-7".into()),
        outcome: PrintOutcome::Sent,
        message: String::new(),
    };
    let v = svc.record_delivery(&b.tel01, c, &doc.id, &sent).unwrap();
    assert!(!v.form_printed, "a job only sent does not count");
    assert!(svc.confirm_signed(&b.tel01, c, None).is_err());
    // CUPS then reports it completed: the same print counts, and is no reprint.
    let done = PrintDelivery {
        outcome: PrintOutcome::Completed,
        ..sent
    };
    let v = svc.record_delivery(&b.tel01, c, &doc.id, &done).unwrap();
    assert!(v.form_printed);
    assert_eq!(v.reprints, 0);
    svc.confirm_signed(&b.tel01, c, None).unwrap();
    svc.submit(&b.tel01, c, None).unwrap();
    svc.authorize(&b.tel01, c, &b.sup01, Decision::Approve, None, "", None)
        .unwrap();
    b.clock.advance(chrono::Duration::minutes(1));
    contact(svc, &b.tel01, c);
    b.clock.advance(chrono::Duration::minutes(1));
    svc.record_unlock_failure(
        &b.tel01,
        c,
        &UnlockFailureInput {
            reason: "operator system down".into(),
            next: UnlockFailureNext::Retry,
            operator_ticket: "OP-2".into(),
        },
        None,
    )
    .unwrap();
    // The failed attempt's receipt.
    print_delivered(svc, &b.tel01, c, DocumentKind::Receipt);
    b.clock.advance(chrono::Duration::minutes(1));
    let unlock = UnlockInput {
        operator_reference: "OPREF-2".into(),
        notified_via: NotificationChannel::InPerson,
    };
    let e = svc
        .confirm_unlock(&b.tel01, c, &creds("sup02"), &unlock, None)
        .unwrap_err();
    assert!(e.message.contains("log the contact"), "{}", e.message);
    contact(svc, &b.tel01, c);
    let v = svc
        .confirm_unlock(&b.tel01, c, &creds("sup02"), &unlock, None)
        .unwrap();
    assert_eq!(v.case.state, CaseState::Unlocked);
    assert!(
        !v.receipt_printed,
        "the failed attempt's receipt is not this one"
    );
    assert!(svc.close_case(&b.tel01, c, None, None).is_err());
    b.clock.advance(chrono::Duration::minutes(1));
    let v = print_delivered(svc, &b.tel01, c, DocumentKind::Receipt);
    assert!(v.receipt_printed);
    let v = svc.close_case(&b.tel01, c, None, None).unwrap();
    assert_eq!(v.case.state, CaseState::Closed);
}

/// The retention report reads every candidate page by page: held cases (and tombstones) that
/// stay candidates for years never hide the cases due after them.
#[test]
fn retention_report_pages_past_held_candidates() {
    let b = branch();
    let aud = Counter::authenticate(&b.svc, "aud01", PW, "desk-a").unwrap();
    let walk_in = || {
        b.clock.advance(chrono::Duration::minutes(1));
        let c = b
            .svc
            .open_case(
                &b.tel01,
                &OpenCaseInput {
                    customer_name: "测试甲".into(),
                    phone: "13123456789".into(),
                    lock_cause: Some(LockCause::WrongPassword),
                    ..Default::default()
                },
                None,
            )
            .unwrap()
            .case
            .id;
        b.svc
            .cancel_case(&b.tel01, c, "customer left", None)
            .unwrap();
        c
    };
    // The oldest three are held: they fill the first pages of candidates (two a page here).
    let held: Vec<CaseId> = (0..3).map(|_| walk_in()).collect();
    for c in &held {
        b.svc
            .set_legal_hold(&aud, *c, "complaint not settled")
            .unwrap();
    }
    let later: Vec<CaseId> = (0..3).map(|_| walk_in()).collect();
    b.clock.advance(chrono::Duration::days(366 * 10 + 5));
    let r = b.svc.retention_report(&aud).unwrap();
    let due: Vec<CaseId> = r.due.iter().map(|d| d.case_id).collect();
    assert_eq!(due, later, "{r:?}");
    assert_eq!(r.held.iter().map(|d| d.case_id).collect::<Vec<_>>(), held);
    assert!(!r.truncated);
}
