//! `impl Counter for Service`: the local implementation of the use-case surface. Each
//! operation is one line calling the use case in its concern's file.

use chrono::NaiveDate;
use std::path::Path;

use super::Service;
use crate::api::Counter;
use crate::auditor::{AuditFilter, AuditPage, RetentionReport, RevealPage};
use crate::authorizations::{AuthorizationEvents, AuthorizationItem};
use crate::dto::*;
use crate::error::CoreResult;
use crate::model::*;
use crate::ports::{AuditEvent, AuditVerification, CaseQuery, CaseSummary, DocumentRecord, Store};
use crate::print::{CopyKind, DocumentKind};

impl<S: Store> Counter for Service<S> {
    fn is_set_up(&self) -> CoreResult<bool> {
        Service::is_set_up(self)
    }

    fn branch(&self) -> CoreResult<Branch> {
        Service::branch(self)
    }

    fn today(&self) -> CoreResult<NaiveDate> {
        Service::today(self)
    }

    fn setup(&self, input: &SetupInput, terminal: &str) -> CoreResult<()> {
        Service::setup(self, input, terminal)
    }

    fn update_branch(&self, actor: &Actor, branch: &Branch) -> CoreResult<Branch> {
        Service::update_branch(self, actor, branch)
    }

    fn load_demo(&self, actor: &Actor, extra_appointments: u64) -> CoreResult<serde_json::Value> {
        Service::load_demo(self, actor, extra_appointments)
    }

    fn sign_in(&self, staff_id: &str, password: &str, terminal: &str) -> CoreResult<Session> {
        Service::sign_in(self, staff_id, password, terminal)
    }

    fn authenticate(&self, staff_id: &str, password: &str, terminal: &str) -> CoreResult<Actor> {
        Service::authenticate_actor(self, staff_id, password, terminal)
    }

    fn session_actor(&self, session: &mut Session) -> CoreResult<Actor> {
        Service::session_actor(self, session)
    }

    fn unlock_session(&self, session: &mut Session, password: &str) -> CoreResult<()> {
        Service::unlock_session(self, session, password)
    }

    fn change_password(
        &self,
        staff_id: &str,
        old: &str,
        new: &str,
        terminal: &str,
    ) -> CoreResult<StaffView> {
        Service::change_password(self, staff_id, old, new, terminal)
    }

    fn change_own_password(&self, session: &mut Session, old: &str, new: &str) -> CoreResult<()> {
        Service::change_own_password(self, session, old, new)
    }

    fn system_actor(&self, kind: SystemActor, terminal: &str) -> Actor {
        Actor::system(kind, terminal)
    }

    fn first_run_actor(&self, terminal: &str) -> CoreResult<Actor> {
        Service::first_run_actor(self, terminal)
    }

    fn add_staff(&self, actor: &Actor, input: &NewStaff) -> CoreResult<StaffView> {
        Service::add_staff(self, actor, input)
    }

    fn reset_password(
        &self,
        actor: &Actor,
        staff_id: &str,
        new_password: &str,
    ) -> CoreResult<StaffView> {
        Service::reset_password(self, actor, staff_id, new_password)
    }

    fn set_staff_disabled(
        &self,
        actor: &Actor,
        staff_id: &str,
        disabled: bool,
    ) -> CoreResult<StaffView> {
        Service::set_staff_disabled(self, actor, staff_id, disabled)
    }

    fn unlock_staff(&self, actor: &Actor, staff_id: &str) -> CoreResult<StaffView> {
        Service::unlock_staff(self, actor, staff_id)
    }

    fn list_staff(&self, actor: &Actor) -> CoreResult<Vec<StaffView>> {
        Service::list_staff(self, actor)
    }

    fn open_case(
        &self,
        actor: &Actor,
        input: &OpenCaseInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::open_case(self, actor, input, idem)
    }

    fn verify_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &IdentityInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::verify_identity(self, actor, case_id, input, idem)
    }

    fn cocheck_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::cocheck_identity(self, actor, case_id, supervisor, idem)
    }

    fn record_form(
        &self,
        actor: &Actor,
        case_id: CaseId,
        form: &ApplicationForm,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::record_form(self, actor, case_id, form, idem)
    }

    fn confirm_signed(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::confirm_signed(self, actor, case_id, idem)
    }

    fn submit(&self, actor: &Actor, case_id: CaseId, idem: Option<&str>) -> CoreResult<CaseView> {
        Service::submit(self, actor, case_id, idem)
    }

    #[allow(clippy::too_many_arguments)]
    fn authorize(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        decision: Decision,
        reason_code: Option<ReasonCode>,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::authorize(
            self,
            actor,
            case_id,
            supervisor,
            decision,
            reason_code,
            reason,
            idem,
        )
    }

    fn log_contact(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &ContactInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::log_contact(self, actor, case_id, input, idem)
    }

    fn confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::confirm_unlock(self, actor, case_id, supervisor, input, idem)
    }

    fn record_unlock_failure(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockFailureInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::record_unlock_failure(self, actor, case_id, input, idem)
    }

    fn close_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        receipt_waiver: Option<&str>,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::close_case(self, actor, case_id, receipt_waiver, idem)
    }

    fn cancel_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::cancel_case(self, actor, case_id, reason, idem)
    }

    fn refuse_authority_freeze(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::refuse_authority_freeze(self, actor, case_id, reason, idem)
    }

    fn wallet_status(
        &self,
        actor: &Actor,
        case_id: CaseId,
        wallet_id: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::wallet_status(self, actor, case_id, wallet_id)
    }

    fn request_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::request_unlock(self, actor, case_id, idem)
    }

    fn case_view(&self, actor: &Actor, case_id: CaseId) -> CoreResult<CaseView> {
        Service::case_view(self, actor, case_id)
    }

    fn list_cases(&self, actor: &Actor, q: &CaseQuery) -> CoreResult<CasePage> {
        Service::list_cases(self, actor, q)
    }

    fn case_filters(&self, actor: &Actor) -> CoreResult<CaseFilters> {
        Service::case_filters(self, actor)
    }

    fn find_cases(&self, actor: &Actor, text: &str) -> CoreResult<Vec<CaseSummary>> {
        Service::find_cases(self, actor, text)
    }

    fn reveal(
        &self,
        actor: &Actor,
        case_id: CaseId,
        field: RevealField,
        reason: &str,
    ) -> CoreResult<String> {
        Service::reveal(self, actor, case_id, field, reason)
    }

    fn audit_events(&self, actor: &Actor, case_id: CaseId) -> CoreResult<Vec<AuditEvent>> {
        Service::audit_events(self, actor, case_id)
    }

    fn verify_audit(&self, actor: &Actor) -> CoreResult<AuditVerification> {
        Service::verify_audit(self, actor)
    }

    fn print_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<DocumentRecord> {
        Service::print_document(self, actor, case_id, kind, copy)
    }

    fn record_delivery(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
        delivery: &PrintDelivery,
    ) -> CoreResult<CaseView> {
        Service::record_delivery(self, actor, case_id, document_id, delivery)
    }

    fn document_bytes(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
    ) -> CoreResult<Vec<u8>> {
        Service::document_bytes(self, actor, case_id, document_id)
    }

    fn render_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<Vec<u8>> {
        Service::render_document(self, actor, case_id, kind, copy)
    }

    fn appointments_today(&self, actor: &Actor) -> CoreResult<Vec<Appointment>> {
        Service::appointments_today(self, actor)
    }

    fn find_appointments(&self, actor: &Actor, text: &str) -> CoreResult<Vec<Appointment>> {
        Service::find_appointments(self, actor, text)
    }

    fn add_appointment(&self, actor: &Actor, a: &Appointment) -> CoreResult<()> {
        Service::add_appointment(self, actor, a)
    }

    fn import_appointments(
        &self,
        actor: &Actor,
        bytes: &[u8],
        file_name: &str,
    ) -> CoreResult<ImportReport> {
        Service::import_appointments(self, actor, bytes, file_name)
    }

    fn mark_no_shows(&self, actor: &Actor, day: NaiveDate) -> CoreResult<u32> {
        Service::mark_no_shows(self, actor, day)
    }

    fn backup(&self, actor: &Actor, dest: &Path) -> CoreResult<()> {
        Service::backup(self, actor, dest)
    }

    fn restore(&self, actor: &Actor, src: &Path) -> CoreResult<()> {
        Service::restore(self, actor, src)
    }

    fn record_restore(&self, actor: &Actor, src: &Path, replaced_damaged: bool) -> CoreResult<()> {
        Service::record_restore(self, actor, src, replaced_damaged)
    }

    fn authorization_queue(&self, actor: &Actor) -> CoreResult<Vec<AuthorizationItem>> {
        Service::authorization_queue(self, actor)
    }

    fn open_authorization(&self, actor: &Actor, case_id: CaseId) -> CoreResult<AuthorizationItem> {
        Service::open_authorization(self, actor, case_id)
    }

    fn request_confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::request_confirm_unlock(self, actor, case_id, input, idem)
    }

    fn attach_signed_scan(
        &self,
        actor: &Actor,
        case_id: CaseId,
        file_name: &str,
        bytes: &[u8],
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        Service::attach_signed_scan(self, actor, case_id, file_name, bytes, idem)
    }

    fn authorization_events(
        &self,
        actor: &Actor,
        after: Option<i64>,
        limit: u32,
    ) -> CoreResult<AuthorizationEvents> {
        Service::authorization_events(self, actor, after, limit)
    }

    fn retention_report(&self, actor: &Actor) -> CoreResult<RetentionReport> {
        Service::retention_report(self, actor)
    }

    fn prepare_purge(&self, actor: &Actor) -> CoreResult<PurgeBatch> {
        Service::prepare_purge(self, actor)
    }

    fn approve_purge(&self, actor: &Actor, batch_id: &str) -> CoreResult<PurgeBatch> {
        Service::approve_purge(self, actor, batch_id)
    }

    fn withdraw_purge(
        &self,
        actor: &Actor,
        batch_id: &str,
        reason: &str,
    ) -> CoreResult<PurgeBatch> {
        Service::withdraw_purge(self, actor, batch_id, reason)
    }

    fn purge_batches(&self, actor: &Actor) -> CoreResult<Vec<PurgeBatch>> {
        Service::purge_batches(self, actor)
    }

    fn notifications(
        &self,
        actor: &Actor,
        case_id: Option<CaseId>,
    ) -> CoreResult<Vec<crate::operator::OutboxMessage>> {
        Service::notifications(self, actor, case_id)
    }

    fn deliver_notifications(&self, actor: &Actor) -> CoreResult<super::DeliveryRound> {
        Service::deliver_outbox(self, actor)
    }

    fn set_legal_hold(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
    ) -> CoreResult<LegalHold> {
        Service::set_legal_hold(self, actor, case_id, reason)
    }

    fn release_legal_hold(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
    ) -> CoreResult<LegalHold> {
        Service::release_legal_hold(self, actor, case_id, reason)
    }

    fn legal_holds(&self, actor: &Actor, active_only: bool) -> CoreResult<Vec<LegalHold>> {
        Service::legal_holds(self, actor, active_only)
    }

    fn search_audit(&self, actor: &Actor, filter: &AuditFilter) -> CoreResult<AuditPage> {
        Service::search_audit(self, actor, filter)
    }

    fn export_audit(&self, actor: &Actor, filter: &AuditFilter) -> CoreResult<Vec<u8>> {
        Service::export_audit(self, actor, filter)
    }

    fn audit_reveals(&self, actor: &Actor, filter: &AuditFilter) -> CoreResult<RevealPage> {
        Service::audit_reveals(self, actor, filter)
    }
}
