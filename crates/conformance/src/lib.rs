//! The store conformance suite: one set of tests written against the ports and the use
//! cases (every step, four-eyes, the audit trail, idempotency, concurrency, appointment
//! lookups and import, the branch server's sessions and terminals), run unchanged against
//! every adapter of [`Store`].
//!
//! A crate of its own, depending on core only, so every adapter (SQLite in
//! `unlockdesk-store`, PostgreSQL next) takes it as a dev-dependency. An adapter's test crate
//! implements [`Fixture`] (a fresh, empty store per test, and a second connection to it) and
//! expands [`conformance_suite!`](crate::conformance_suite) once; each suite test becomes one
//! `#[test]`:
//!
//! ```ignore
//! unlockdesk_conformance::conformance_suite!(MyFixture::default());
//! ```
//!
//! Every person in it is synthetic; ID numbers carry valid check characters.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use unlockdesk_core::dto::*;
use unlockdesk_core::identity::mod11_2_check_char;
use unlockdesk_core::ports::CaseQuery;
use unlockdesk_core::ports::{FixedClock, OsEntropy, Store};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;

mod appointments;
mod browse;
mod desk;
mod flow;
mod outbox;
mod retention;
mod sessions;

pub use appointments::*;
pub use browse::*;
pub use desk::*;
pub use flow::*;
pub use outbox::*;
pub use retention::*;
pub use sessions::*;

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// What the suite needs of an adapter.
pub trait Fixture {
    type S: Store + 'static;
    /// A new, empty, migrated store with its own database.
    fn fresh(&self) -> Self::S;
    /// Another connection to the database `fresh` made last (as a second terminal has).
    fn again(&self) -> Self::S;
}

/// Expands to one `#[test]` per suite test, each on `$fixture` (an expression building the
/// adapter's [`Fixture`]).
#[macro_export]
macro_rules! conformance_suite {
    ($fixture:expr) => {
        $crate::conformance_suite!(@each $fixture;
            walk_in_to_closed_with_history_and_masking,
            maker_cannot_authorize_on_any_path,
            idempotency_key_makes_one_transition,
            one_key_from_two_terminals_at_once_is_one_transition,
            idempotency_key_reused_for_another_request_is_refused,
            case_search_columns_follow_each_step,
            amending_keeps_recorded_numbers_left_blank_or_masked,
            form_must_be_the_verified_person,
            amending_keeps_agent_numbers_only_for_the_same_agent,
            two_approvals_at_once_exactly_one_wins,
            a_lost_decision_is_recorded_naming_its_supervisor,
            lockout_after_failed_sign_ins_and_admin_unlock,
            session_locks_after_idle_minutes,
            authority_freeze_refused_at_check_in,
            bad_form_reports_every_field_and_changes_nothing,
            branch_id_policy_decides_which_evidence_suffices,
            audit_chain_verifies_after_every_step,
            read_snapshot_sees_committed_steps_only,
            printed_documents_are_stored_with_their_hash,
            import_is_idempotent_audited_and_keeps_checked_in_links,
            file_errors_import_nothing_and_permissions,
            no_shows_at_end_of_day,
            check_in_verifies_the_booked_document,
            whole_store_lists_and_verbatim_writes,
            past_cases_by_range_state_teller_operator_in_pages,
            server_sessions_are_stored_updated_and_revoked_by_terminal_and_staff,
            enrolment_codes_and_terminals_are_stored_listed_and_revoked,
            an_error_inside_transact_leaves_no_session_code_or_terminal,
            branch_server_enrols_terminals_and_keeps_sessions_in_the_store,
            authorization_queue_kinds_four_eyes_and_events,
            unlock_confirmation_is_never_given_by_its_asker,
            signed_scan_is_typed_stored_per_revision_and_required_by_policy,
            retention_purge_is_four_eyes_spares_holds_and_leaves_tombstones,
            audit_trail_filters_pages_and_reveals,
            outbox_claims_under_a_lease_and_never_hands_one_message_to_two_workers,
            staff_names_are_read_for_the_ids_asked_only,
            session_check_reads_the_session_its_account_and_idle_minutes,
            a_password_hashed_with_older_parameters_is_made_again_at_the_next_sign_in,
        );
    };
    (@each $fixture:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::$name(&$fixture);
            }
        )*
    };
}

pub const PW: &str = "Counter#2026";
/// A synthetic resident ID (GB 11643-1999 specimen body with a valid check character).
pub const ID: &str = "11010519491231002X";

/// A renderer that writes the print view as text: the suite tests the store, not the PDF.
pub struct TextRenderer;
impl unlockdesk_core::print::Renderer for TextRenderer {
    fn render(&self, doc: &unlockdesk_core::print::PrintDocument) -> CoreResult<Vec<u8>> {
        Ok(format!("{doc:?}").into_bytes())
    }
}

/// The local service on a fresh store of `fix`.
pub fn svc<F: Fixture>(fix: &F, clock: Arc<FixedClock>) -> Service<F::S> {
    Service::new(fix.fresh(), clock, Arc::new(OsEntropy)).with_renderer(Arc::new(TextRenderer))
}

/// The local service on another connection to the store `fix` made last.
pub fn svc_again<F: Fixture>(fix: &F, clock: Arc<FixedClock>) -> Service<F::S> {
    Service::new(fix.again(), clock, Arc::new(OsEntropy)).with_renderer(Arc::new(TextRenderer))
}

/// Print the bank copy of `kind` and record it handed out as a file (as the CLI does
/// without `--printer`).
pub fn print_delivered(
    svc: &dyn Counter,
    teller: &Actor,
    c: CaseId,
    kind: unlockdesk_core::print::DocumentKind,
) -> CaseView {
    let doc = svc
        .print_document(teller, c, kind, unlockdesk_core::print::CopyKind::Bank)
        .unwrap();
    svc.record_delivery(
        teller,
        c,
        &doc.id,
        &PrintDelivery {
            channel: PrintChannel::File,
            printer: None,
            job_id: None,
            outcome: PrintOutcome::Completed,
            message: String::new(),
        },
    )
    .unwrap()
}

/// The branch accepts applications by an agent (off by default).
pub fn allow_agents(svc: &dyn Counter) {
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    let mut b = svc.branch().unwrap();
    b.agents_allowed = true;
    svc.update_branch(&admin, &b).unwrap();
}

/// The printed application form, then the signed paper confirmed.
pub fn print_and_sign(svc: &dyn Counter, teller: &Actor, c: CaseId) {
    print_delivered(
        svc,
        teller,
        c,
        unlockdesk_core::print::DocumentKind::Application,
    );
    svc.confirm_signed(teller, c, None).unwrap();
}

pub fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap(),
    ))
}

/// Branch + admin + two tellers + two supervisors, all with `PW`.
pub fn setup(svc: &dyn Counter) -> (Actor, Actor, Credentials, Credentials) {
    svc.setup(
        &SetupInput {
            branch_code: "t1".into(),
            branch_name: "测试支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "test",
    )
    .unwrap();
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    for (id, role) in [
        ("tel01", Role::Teller),
        ("tel02", Role::Teller),
        ("sup01", Role::Supervisor),
        ("sup02", Role::Supervisor),
    ] {
        svc.add_staff(
            &admin,
            &NewStaff {
                id: id.into(),
                // Unlike the id, so a name shown is a name looked up.
                name: format!("职员{id}"),
                role,
                password: "Initial#2026".into(),
            },
        )
        .unwrap();
        // must change at first sign-in
        assert_eq!(
            svc.authenticate(id, "Initial#2026", "test")
                .unwrap_err()
                .code,
            ErrorCode::PasswordChangeRequired
        );
        svc.change_password(id, "Initial#2026", PW, "test").unwrap();
    }
    let tel01 = svc.authenticate("tel01", PW, "t").unwrap();
    let tel02 = svc.authenticate("tel02", PW, "t").unwrap();
    (
        tel01,
        tel02,
        Credentials {
            staff_id: "sup01".into(),
            password: PW.into(),
        },
        Credentials {
            staff_id: "SUP02".into(),
            password: PW.into(),
        },
    )
}

pub fn form() -> ApplicationForm {
    ApplicationForm {
        customer_name: "测试甲".into(),
        sex: Some(Sex::Female),
        nationality: "中国".into(),
        occupation: "职员".into(),
        address: "北京市东城区测试路1号".into(),
        phone: "+86 131 2345 6789".into(),
        id_type: "prc-id".parse().unwrap(),
        id_number: ID.into(),
        id_valid_until: "long-term".into(),
        wallet_operator: "运营机构A".into(),
        wallet_id: "0099123456789012".into(),
        wallet_class: "2".into(),
        lock_cause: Some(LockCause::WrongPassword),
        requested_action: Some(RequestedAction::Unlock),
        reason: "forgot password".into(),
        bank_card: "6200 0000 0000 0005".into(),
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

pub fn walk_in(svc: &dyn Counter, teller: &Actor) -> CaseId {
    let v = svc
        .open_case(
            teller,
            &OpenCaseInput {
                customer_name: "测试甲".into(),
                phone: "13123456789".into(),
                lock_cause: Some(LockCause::WrongPassword),
                ..Default::default()
            },
            None,
        )
        .unwrap();
    v.case.id
}

/// A walk-in (测试甲) whose resident ID card has been verified.
/// The resident ID card of 测试甲 (`ID`), as the identity step takes it.
pub fn id_card() -> IdentityInput {
    IdentityInput {
        kind: "prc-id".into(),
        online_check: Some(OnlineCheck {
            result: OnlineCheckResult::Match,
            reference: "LWHC-T1".into(),
        }),
        number: ID.into(),
        name_on_document: "测试甲".into(),
        valid_until: "long-term".into(),
        ..Default::default()
    }
}

pub fn identified_walk_in(svc: &dyn Counter, teller: &Actor) -> CaseId {
    let c = walk_in(svc, teller);
    let idn = id_card();
    svc.verify_identity(teller, c, &idn, None).unwrap();
    c
}

pub fn to_submitted(svc: &dyn Counter, teller: &Actor) -> CaseId {
    let c = identified_walk_in(svc, teller);
    svc.record_form(teller, c, &form(), None).unwrap();
    print_and_sign(svc, teller, c);
    svc.submit(teller, c, None).unwrap();
    c
}

pub const HEADER: &str =
    "reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes";

pub fn id(body17: &str) -> String {
    format!("{body17}{}", mod11_2_check_char(body17).unwrap())
}

/// 2026-11-29 10:00 in Shanghai.
pub fn service<F: Fixture>(fix: &F) -> Service<F::S> {
    let svc = svc(fix, clock());
    svc.setup(
        &SetupInput {
            branch_code: "t1".into(),
            branch_name: "测试支行".into(),
            time_zone: "Asia/Shanghai".into(),
            admin_id: "admin".into(),
            admin_name: "管理员".into(),
            admin_password: PW.into(),
        },
        "test",
    )
    .unwrap();
    let admin = svc.authenticate("admin", PW, "test").unwrap();
    for (sid, role) in [("tel01", Role::Teller), ("aud01", Role::Auditor)] {
        svc.add_staff(
            &admin,
            &NewStaff {
                id: sid.into(),
                name: sid.into(),
                role,
                password: "Initial#2026".into(),
            },
        )
        .unwrap();
        svc.change_password(sid, "Initial#2026", PW, "test")
            .unwrap();
    }
    svc
}

/// The CLI's masked read-only actor.
pub fn reader(svc: &dyn Counter) -> Actor {
    svc.system_actor(SystemActor::CliReader, "test")
}

/// The call centre's feed: the `import` system actor.
pub fn import_actor(svc: &dyn Counter) -> Actor {
    svc.system_actor(SystemActor::Import, "test")
}

pub fn rows(lines: &[String]) -> Vec<u8> {
    format!("{HEADER}\n{}\n", lines.join("\n")).into_bytes()
}

pub fn book() -> Vec<String> {
    let a = id("11010519800101123");
    let b = id("31010419750505456");
    vec![
        format!(
            "R-1,张伟,13912345671,prc-id,{a},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"
        ),
        format!(
            "R-2,张伟华,13987654322,prc-id,{b},B,self-locked,2026-11-28T10:00,2026-11-28T10:30,"
        ),
        "R-3,李娜,13700001113,prc-id,002X,B,abnormal-activity,2026-11-28T14:00,2026-11-28T14:30,"
            .to_string(),
    ]
}

/// Every audit event's (action, reason, detail, case id), read on another connection.
pub fn audit<F: Fixture>(fix: &F) -> Vec<(String, String, String, Option<String>)> {
    fix.again()
        .read(|tx| tx.audit_events(1, 1_000_000))
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.action,
                e.reason,
                e.detail,
                e.case_id.map(|c| c.to_string()),
            )
        })
        .collect()
}
