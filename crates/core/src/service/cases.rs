//! The case steps: each is a permission check, input validation, then one
//! [`Service::transition`] (or, for opening, its own transaction).

use super::{draft, log_step, Service};
use crate::dto::*;
use crate::error::{CoreError, CoreResult, ErrorCode, FieldError};
use crate::form::*;
use crate::masking;
use crate::model::*;
use crate::normalize;
use crate::permissions::Action;
use crate::ports::*;
use crate::workflow::{self, Event};

impl<S: Store> Service<S> {
    /// Open a case at check-in (from an appointment) or as a walk-in. A case whose lock cause
    /// is an authority-ordered freeze is refused at once (`refused-authority-freeze`).
    /// `idem`: an idempotency key; a repeated call returns the first call's case.
    pub(crate) fn open_case(
        &self,
        actor: &Actor,
        input: &OpenCaseInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::OpenCase, None)?;
        let now = self.now();
        let mut errs = Vec::new();
        let phone = if input.phone.trim().is_empty() {
            String::new()
        } else {
            match normalize_phone(&input.phone) {
                Ok(p) => p,
                Err(e) => {
                    errs.push(e);
                    String::new()
                }
            }
        };
        if input.appointment_id.is_none() && input.customer_name.trim().is_empty() {
            errs.push(FieldError::new(
                "customer_name",
                "required",
                "a walk-in needs the customer's name",
            ));
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let id = CaseId(self.uuid());
        let case_id = self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            if let Some(key) = idem {
                if let Some(first) = tx.idempotent(key)? {
                    // Strict: a key of any other step (or one stored before use cases were
                    // recorded) never replays as an opened case.
                    if first.use_case != "open-case" {
                        first.replays(key, CaseId(uuid::Uuid::nil()), "open-case")?;
                    }
                    return Ok(first.case_id);
                }
            }
            let branch = tx
                .branch()?
                .ok_or_else(|| CoreError::new(ErrorCode::NotSetUp, "not set up"))?;
            let day = branch.local_date(now);
            let seq = tx.next_case_seq(day)?;
            let mut case = Case {
                id,
                case_number: format!("{}-{}-{:04}", branch.code, day.format("%Y%m%d"), seq),
                state: CaseState::CheckedIn,
                version: 1,
                appointment_id: input.appointment_id,
                customer_name: input.customer_name.trim().to_string(),
                phone: phone.clone(),
                lock_cause: input.lock_cause,
                opened_by: actor.staff_id().clone(),
                opened_at: now,
                updated_at: now,
                makers: vec![actor.staff_id().clone()],
                identity: None,
                form: None,
                form_signed_at: None,
                authorization: None,
                unlock: None,
                unlock_failures: vec![],
                contacts: vec![],
                last_reason: String::new(),
                form_revision: 0,
                prints: vec![],
                receipt_waiver: None,
                unlock_request: None,
                signed_scans: Vec::new(),
                purges: Vec::new(),
                operator_unlock: None,
                wallet_check: None,
            };
            if let Some(aid) = input.appointment_id {
                let mut a = tx
                    .appointment(aid)?
                    .ok_or_else(|| CoreError::not_found("appointment"))?;
                if a.case_id.is_some()
                    || !matches!(
                        a.status,
                        AppointmentStatus::Waiting | AppointmentStatus::NoShow
                    )
                {
                    return Err(CoreError::conflict(format!(
                        "appointment {} is already {}",
                        a.reference, a.status
                    )));
                }
                case.customer_name = a.name.clone();
                case.phone = a.phone.clone();
                case.lock_cause = input.lock_cause.or(Some(a.lock_cause));
                a.status = AppointmentStatus::InProgress;
                a.case_id = Some(id);
                tx.update_appointment(&a)?;
            }
            tx.insert_case(&case)?;
            let detail = format!(
                "{{\"case_number\":\"{}\",\"appointment\":{}}}",
                case.case_number,
                input.appointment_id.is_some()
            );
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(id),
                "open-case",
                None,
                Some(CaseState::CheckedIn),
                "",
                Outcome::Ok,
                &detail,
            ))?;
            if let Some(cause) = case.lock_cause.filter(|c| c.counter_cannot_lift()) {
                let ev = Event::RefuseAuthorityFreeze {
                    reason: format!("{cause} recorded at check-in"),
                };
                let step = workflow::step(&case, actor.staff_id(), &ev, now)?;
                tx.update_case(&step.case, case.version)?;
                tx.append_audit(&draft(
                    now,
                    actor.staff_id(),
                    actor.role(),
                    actor.terminal(),
                    Some(id),
                    step.audit.action,
                    Some(step.audit.from),
                    Some(step.audit.to),
                    &step.case.last_reason,
                    Outcome::Ok,
                    "{}",
                ))?;
                for effect in &step.effects {
                    self.apply(tx, id, effect)?;
                }
            }
            if let Some(key) = idem {
                tx.remember_idempotent(key, id, "open-case", now)?;
            }
            Ok(id)
        })?;
        let view = self.case_view(actor, case_id)?;
        log_step(actor, &view);
        Ok(view)
    }

    /// Identity step: check the document to its standard, compare names, refuse expired
    /// documents (with the expiry date), flag non-ID-card documents for the supervisor's
    /// co-check and minors for the guardian/agent path.
    /// Errors: `invalid` with fields `kind`, `number`, `mrz_line2`, `name_on_document`,
    /// `reference`.
    pub(crate) fn verify_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &IdentityInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::VerifyIdentity, Some(case_id))?;
        let now = self.now();
        let branch = self.branch()?;
        let today = branch.local_date(now);
        let record = crate::identity::verify_for_case_with(input, today, &branch.id_policy)?;
        // 联网核查: a document with a citizen number is checked online when the branch says so
        // (the default); its result and serial number are recorded.
        if branch.online_check_required
            && record.kind.has_citizen_number()
            && record.online_check.is_none()
        {
            return Err(CoreError::field(
                "online_check",
                "required",
                "this branch requires the online identity check (联网核查) for this document: record its result and serial number",
            ));
        }
        // A case opened from an appointment: the document must be the one booked (when the
        // same kind of document was booked), so a check-in cannot move to another person.
        let booked =
            self.store.read(
                |tx| match tx.case(case_id)?.and_then(|c| c.appointment_id) {
                    Some(aid) => tx.appointment(aid),
                    None => Ok(None),
                },
            )?;
        if let Some(e) = booked.and_then(|a| appointment_mismatch(&a, &record)) {
            return Err(CoreError::invalid(vec![e]));
        }
        let by = actor.staff_id().clone();
        self.transition(
            actor,
            case_id,
            idem,
            "verify-identity",
            move |case, _| {
                let mut record = record.clone();
                let expected = normalize::name_key(&case.customer_name);
                if record.kind != DocumentType::PassportMrz
                    && !expected.is_empty()
                    && normalize::name_key(&record.name_on_document) != expected
                {
                    record.name_matches = false;
                }
                if !record.name_matches {
                    return Err(CoreError::field(
                        "name_on_document",
                        "name-mismatch",
                        format!(
                            "the name on the document does not match the customer ({})",
                            masking::name(&case.customer_name)
                        ),
                    ));
                }
                Ok(Event::VerifyIdentity(IdentityRecord {
                    checked_by: by.clone(),
                    checked_at: now,
                    ..record
                }))
            },
            |c| {
                let i = c.identity.as_ref();
                serde_json::json!({
                    "kind": i.map(|i| i.kind.as_str()).unwrap_or(""),
                    "number": i.map(|i| masking::id_number(&i.number)).unwrap_or_default(),
                    "cocheck": i.is_some_and(|i| i.needs_cocheck),
                    "online_check": i.and_then(|i| i.online_check.clone()),
                    "second_factor": i.and_then(|i| i.second_factor.clone()),
                })
                .to_string()
            },
        )
    }

    /// The supervisor's co-check of a document other than the resident ID card (双人审核).
    pub(crate) fn cocheck_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit_terminal_for_authorization(actor, case_id)?;
        let sup = self.supervisor(
            supervisor,
            actor.terminal(),
            case_id,
            Action::CocheckIdentity,
        )?;
        let sup2 = sup.clone();
        self.transition(
            actor,
            case_id,
            idem,
            "cocheck-identity",
            move |_, _| {
                Ok(Event::CoCheckIdentity {
                    supervisor: sup.clone(),
                })
            },
            move |_| format!("{{\"supervisor\":\"{sup2}\"}}"),
        )
    }

    /// Record (or amend) the application form. Validates every field; numbers are
    /// normalised and checked (phone, card, ID). Errors: `invalid` with dotted field names.
    pub(crate) fn record_form(
        &self,
        actor: &Actor,
        case_id: CaseId,
        form: &ApplicationForm,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::RecordForm, Some(case_id))?;
        let today = self.today()?;
        let input = form.clone();
        self.transition(
            actor,
            case_id,
            idem,
            "record-form",
            move |case, branch| {
                // Merged with the case read in this transaction, so an amendment made at
                // another terminal meanwhile is never overwritten with older numbers.
                let mut form = input.clone();
                // The UI only ever sees masked numbers: a document number left blank (or its
                // mask sent back) means "the document verified at the identity step".
                if let Some(i) = &case.identity {
                    if i.kind.has_document_number()
                        && blank_or_unchanged(&form.id_number, &masking::id_number(&i.number))
                    {
                        form.id_type = i.kind;
                        form.id_number = i.number.clone();
                    }
                }
                if let Some(recorded) = &case.form {
                    keep_recorded_numbers(&mut form, recorded);
                }
                if let Some(i) = &case.identity {
                    apply_prefill(&mut form, &prefill(i)).map_err(CoreError::invalid)?;
                }
                let form = validate_form(&form, today)?;
                if let Some(agent) = &form.agent {
                    let minor = case.identity.as_ref().is_some_and(|i| i.minor);
                    // 本人办理: an agent applies only where the branch allows it; a minor's
                    // guardian always may (and must).
                    if !branch.agents_allowed && !minor {
                        return Err(CoreError::field(
                            "agent",
                            "not-allowed-by-branch",
                            "this branch does not accept applications by an agent: the customer applies in person",
                        ));
                    }
                    let mut errs = Vec::new();
                    match &agent.online_check {
                        Some(oc) => errs.extend(crate::identity::case::check_reference(
                            "agent.online_check.reference",
                            &oc.reference,
                            "the agent's online identity check serial number is required",
                        )),
                        None if branch.online_check_required
                            && agent.id_type.has_citizen_number() =>
                        {
                            errs.push(FieldError::new(
                                "agent.online_check",
                                "required",
                                "this branch requires the online identity check (联网核查) of the agent's document",
                            ))
                        }
                        None => {}
                    }
                    if !errs.is_empty() {
                        return Err(CoreError::invalid(errs));
                    }
                }
                if let Some(i) = &case.identity {
                    let errs = identity_mismatches(&form, i, today);
                    if !errs.is_empty() {
                        return Err(CoreError::invalid(errs));
                    }
                }
                // Materials: the three standard ones plus the branch's extras must be ticked.
                let mut missing = Vec::new();
                for m in required_materials(branch) {
                    if !form.materials.iter().any(|x| x == &m) {
                        missing.push(m);
                    }
                }
                let cannot_lift = form.lock_cause.is_some_and(|c| c.counter_cannot_lift());
                if !missing.is_empty() && !cannot_lift {
                    return Err(CoreError::field(
                        "materials",
                        "required",
                        format!("materials not presented: {}", missing.join(", ")),
                    ));
                }
                if let Some(id) = &case.identity {
                    if id.minor && form.agent.is_none() {
                        return Err(CoreError::field(
                            "agent",
                            "required",
                            "the customer is a minor: a guardian must act as agent",
                        ));
                    }
                }
                Ok(Event::RecordForm(form))
            },
            |c| {
                serde_json::json!({
                    "lock_cause": c.lock_cause.map(|l| l.as_str()).unwrap_or(""),
                    "form_revision": c.form_revision,
                    "agent_online_check": c.form.as_ref()
                        .and_then(|f| f.agent.as_ref())
                        .and_then(|a| a.online_check.clone()),
                })
                .to_string()
            },
        )
    }

    /// The teller confirms the signed paper is in hand.
    pub(crate) fn confirm_signed(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.plain_step(
            actor,
            case_id,
            idem,
            Action::ConfirmSigned,
            "confirm-signed",
            Event::ConfirmSigned,
        )
    }

    /// A step whose event needs nothing read from the case (confirm signed, submit, close,
    /// cancel, refuse a freeze): the permission, then one transition with an empty detail.
    fn plain_step(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
        action: Action,
        use_case: &'static str,
        event: Event,
    ) -> CoreResult<CaseView> {
        self.permit(actor, action, Some(case_id))?;
        self.transition(
            actor,
            case_id,
            idem,
            use_case,
            move |_, _| Ok(event.clone()),
            |_| "{}".into(),
        )
    }

    /// Submit for the supervisor's authorization.
    pub(crate) fn submit(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::Submit, Some(case_id))?;
        self.transition(
            actor,
            case_id,
            idem,
            "submit",
            |case, branch| {
                // Branch policy: the signed paper's scan travels with the request.
                if branch.signed_scan_required
                    && case.state == CaseState::FormSigned
                    && case.current_scan().is_none()
                {
                    return Err(CoreError::field(
                        "signed_scan",
                        "required",
                        format!(
                            "this branch asks for a scan or photo of the signed form (revision {}) before submitting: attach it first",
                            case.form_revision
                        ),
                    ));
                }
                Ok(Event::Submit)
            },
            |_| "{}".into(),
        )
    }

    /// The supervisor's decision, authenticated at this moment with the supervisor's own
    /// credentials (whoever is signed in). Four-eyes is checked by the workflow. Errors:
    /// `auth-failed`, `forbidden` (not a supervisor), `four-eyes`, `illegal-transition`
    /// ("already decided" when another approval won), `invalid` (reason required).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn authorize(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        decision: Decision,
        reason_code: Option<ReasonCode>,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit_terminal_for_authorization(actor, case_id)?;
        let sup = self.supervisor(supervisor, actor.terminal(), case_id, Action::Authorize)?;
        let sup2 = sup.clone();
        let reason = reason.trim().to_string();
        let code = reason_code;
        self.transition(
            actor,
            case_id,
            idem,
            // One use case per decision: a key sent again with another decision is refused.
            match decision {
                Decision::Approve => "approve",
                Decision::ReturnForInfo => "return-for-info",
                Decision::Reject => "reject",
            },
            move |_, _| {
                Ok(Event::Authorize {
                    decision,
                    supervisor: sup.clone(),
                    reason_code: code,
                    reason: reason.clone(),
                })
            },
            move |_| format!("{{\"supervisor\":\"{sup2}\",\"decision\":\"{decision}\"}}"),
        )
    }

    /// Log a contact with the wallet operator (channel, ticket, result; time is now).
    pub(crate) fn log_contact(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &ContactInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::LogContact, Some(case_id))?;
        let mut errs = Vec::new();
        if input.ticket.trim().is_empty() {
            errs.push(FieldError::new(
                "ticket",
                "required",
                "the operator's ticket number is required",
            ));
        }
        if input.result.trim().is_empty() {
            errs.push(FieldError::new(
                "result",
                "required",
                "the result of the contact is required",
            ));
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let c = OperatorContact {
            channel: input.channel,
            at: self.now(),
            ticket: input.ticket.trim().into(),
            result: input.result.trim().into(),
            by: actor.staff_id().clone(),
        };
        self.transition(
            actor,
            case_id,
            idem,
            "log-contact",
            move |_, _| Ok(Event::LogContact(c.clone())),
            |c| {
                let last = c.contacts.last();
                format!(
                    "{{\"channel\":\"{}\",\"ticket\":{}}}",
                    last.map(|l| l.channel.as_str()).unwrap_or(""),
                    serde_json::to_string(&last.map(|l| l.ticket.clone()).unwrap_or_default())
                        .unwrap_or_default()
                )
            },
        )
    }

    /// Confirm the unlock carried out with the operator; a supervisor authorizes at this
    /// moment. Never possible for an authority-ordered freeze.
    pub(crate) fn confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::ConfirmUnlock, Some(case_id))?;
        if input.operator_reference.trim().is_empty() {
            return Err(CoreError::field(
                "operator_reference",
                "required",
                "the operator's reference is required",
            ));
        }
        let sup = self.supervisor(supervisor, actor.terminal(), case_id, Action::Authorize)?;
        let now = self.now();
        let reference = input.operator_reference.trim().to_string();
        let notified_via = input.notified_via;
        let at_desk = actor.staff_id() == &sup;
        self.transition(
            actor,
            case_id,
            idem,
            "confirm-unlock",
            move |case, _| {
                // At the supervisor's own desk the confirmation answers the teller's request:
                // the teller who asked carried out the unlock with the operator.
                // What is confirmed is what the teller asked: a request changed since the
                // supervisor read it is refused, never credited to the teller with other words.
                let confirmed_by = match &case.unlock_request {
                    Some(r) if at_desk => {
                        if r.operator_reference != reference || r.notified_via != notified_via {
                            return Err(CoreError::conflict(format!(
                                "the teller's request changed meanwhile (operator reference {}, customer told by {}): read it again",
                                r.operator_reference, r.notified_via
                            )));
                        }
                        r.by.clone()
                    }
                    _ => actor.staff_id().clone(),
                };
                Ok(Event::ConfirmUnlock(UnlockRecord {
                    operator_reference: reference.clone(),
                    notified_via,
                    notified_at: now,
                    confirmed_by,
                    authorized_by: sup.clone(),
                    at: now,
                }))
            },
            |c| {
                format!(
                    "{{\"authorized_by\":\"{}\"}}",
                    c.unlock
                        .as_ref()
                        .map(|u| u.authorized_by.as_str())
                        .unwrap_or("")
                )
            },
        )
    }

    /// Record a failed unlock: retry later, or escalate to the operator.
    pub(crate) fn record_unlock_failure(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockFailureInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::RecordUnlockFailure, Some(case_id))?;
        let f = UnlockFailure {
            reason: input.reason.trim().into(),
            next: input.next,
            operator_ticket: input.operator_ticket.trim().into(),
            by: actor.staff_id().clone(),
            at: self.now(),
        };
        self.transition(
            actor,
            case_id,
            idem,
            "record-unlock-failure",
            move |case, _| {
                // A request the operator's connector still waits for is withdrawn only by a
                // supervisor, who has confirmed with the operator that it was not applied (it
                // might still be, under its key).
                let supervisor = actor.role() == Some(Role::Supervisor);
                if crate::operator::waiting(case).is_some() && !supervisor {
                    return Err(CoreError::forbidden(
                        "the unlock asked of the wallet operator's connector is still awaited: only a supervisor may withdraw it, after confirming with the operator that it was not applied",
                    ));
                }
                Ok(Event::RecordUnlockFailure(f.clone()))
            },
            |c| {
                format!(
                    "{{\"next\":\"{}\"}}",
                    c.unlock_failures
                        .last()
                        .map(|f| f.next.as_str())
                        .unwrap_or("")
                )
            },
        )
    }

    /// Close an unlocked case: the receipt printed and handed over, or `receipt_waiver`
    /// saying why not. Errors: `invalid` field `receipt_waiver` rule `receipt-not-printed`.
    pub(crate) fn close_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        receipt_waiver: Option<&str>,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::CloseCase, Some(case_id))?;
        let waiver = receipt_waiver.map(|w| w.trim().to_string());
        self.transition(
            actor,
            case_id,
            idem,
            "close-case",
            move |_, _| {
                Ok(Event::Close {
                    receipt_waiver: waiver.clone(),
                })
            },
            |c| {
                serde_json::json!({
                    "receipt_printed": c.receipt_printed(),
                    "receipt_waiver": c.receipt_waiver,
                    "reprints": c.reprints(),
                })
                .to_string()
            },
        )
    }

    /// Cancel a case (reason required).
    pub(crate) fn cancel_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        let reason = reason.trim().to_string();
        self.plain_step(
            actor,
            case_id,
            idem,
            Action::CancelCase,
            "cancel-case",
            Event::Cancel { reason },
        )
    }

    /// Refuse a case as an authority-ordered freeze (recognised during the interview).
    pub(crate) fn refuse_authority_freeze(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        let reason = reason.trim().to_string();
        self.plain_step(
            actor,
            case_id,
            idem,
            Action::RefuseAuthorityFreeze,
            "refuse-authority-freeze",
            Event::RefuseAuthorityFreeze { reason },
        )
    }
}
