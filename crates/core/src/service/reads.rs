//! Reads: the case view with what core allows, search, the audited reveal,
//! the audit trail.

use std::collections::{BTreeMap, BTreeSet};

use super::{draft, Service};
use crate::dto::*;
use crate::error::{CoreError, CoreResult};
use crate::masking;
use crate::model::*;
use crate::normalize;
use crate::permissions::{self, Action};
use crate::ports::*;
use crate::workflow::{self, EventKind};

impl<S: Store> Service<S> {
    /// One case, masked, with allowed actions for the viewer's role and its history.
    pub(crate) fn case_view(&self, actor: &Actor, case_id: CaseId) -> CoreResult<CaseView> {
        self.permit(actor, Action::ViewCases, Some(case_id))?;
        let (case, history, documents, branch, staff, hold, notes, appointment_operator) =
            self.store.read(|tx| {
                let c = tx
                    .case(case_id)?
                    .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
                let history = tx.case_history(case_id)?;
                let documents = tx.documents(case_id)?;
                // From the same snapshot as the history, so every name matches the record shown.
                let staff = staff_names(&mentioned_staff(&c, &history, &documents), tx)?;
                let hold = tx.legal_holds(Some(case_id), true)?.into_iter().next();
                let notes =
                    tx.outbox(Some(case_id), Some(crate::operator::OutboxKind::Sms), 100)?;
                let appointment_operator = self.appointment_operator(tx, &c)?;
                Ok((
                    c,
                    history,
                    documents,
                    tx.branch()?,
                    staff,
                    hold,
                    notes,
                    appointment_operator,
                ))
            })?;
        let connector = self.has_connector(&case, branch.as_ref(), appointment_operator.as_deref());
        let allowed = workflow::allowed_events(&case)
            .into_iter()
            .filter(|k| {
                matches!(k, EventKind::WalletStatus | EventKind::RequestUnlock) <= connector
            })
            .filter(|k| {
                if k.needs_supervisor() && *k != EventKind::ConfirmUnlock {
                    // Authorization happens in a dialog with the supervisor's own credentials:
                    // offered to anyone who may work the case.
                    permissions::allows_actor(actor, Action::ViewCases)
                        && permissions::allows_actor(actor, Action::Submit)
                } else {
                    permissions::allows_actor(actor, Action::for_event(*k))
                }
            })
            .collect();
        let freeze_route = match case.lock_cause {
            Some(LockCause::AntiFraudRestriction) => Some(ANTI_FRAUD_ROUTE.to_string()),
            _ if case.state == CaseState::RefusedAuthorityFreeze
                || case.lock_cause == Some(LockCause::AuthorityFreeze) =>
            {
                Some(FREEZE_ROUTE.to_string())
            }
            _ => None,
        };
        let mut blocked: Vec<BlockedStep> = workflow::blocked_events(&case)
            .into_iter()
            .map(|(event, e)| BlockedStep {
                event,
                rule: e.rule().to_string(),
                message: e.to_string(),
            })
            .collect();
        let scan_required = branch.as_ref().is_some_and(|b| b.signed_scan_required);
        // The branch's rule, beside the workflow's: the same words as the submit's refusal.
        if scan_required && case.state == CaseState::FormSigned && case.current_scan().is_none() {
            blocked.push(BlockedStep {
                event: EventKind::Submit,
                rule: "signed-scan-required".into(),
                message: format!(
                    "this branch asks for a scan or photo of the signed form (revision {}) before submitting",
                    case.form_revision
                ),
            });
        }
        let prefill = case.identity.as_ref().map(crate::form::prefill);
        let required_materials = branch
            .as_ref()
            .map(crate::form::required_materials)
            .unwrap_or_default();
        let masked = masking::mask_case(&case);
        let form_document = masked.identity.as_ref().and_then(|i| {
            i.kind.has_document_number().then(|| FormDocument {
                kind: i.kind,
                number: i.number.clone(),
            })
        });
        let cocheck_needed = case
            .identity
            .as_ref()
            .is_some_and(|i| i.needs_cocheck && i.cochecked_by.is_none());
        let amendment_draft = masked.form.as_ref().map(crate::form::amendment_draft);
        let pending_authorization = crate::authorizations::item(&case, &history, actor);
        let retention = branch
            .as_ref()
            .map(|b| crate::retention::status(&case, b, hold));
        Ok(CaseView {
            retention,
            pending_authorization,
            blocked,
            prefill,
            form_printed: case.form_printed(),
            receipt_printed: case.receipt_printed(),
            reprints: case.reprints() as u32,
            online_check_required: branch.as_ref().is_none_or(|b| b.online_check_required),
            agents_allowed: branch.as_ref().is_some_and(|b| b.agents_allowed),
            signed_scan_required: scan_required,
            operator_connector: Some(connector),
            notifications: Some(notes),
            form_document,
            cocheck_needed,
            amendment_draft,
            case: masked,
            allowed,
            history,
            documents,
            freeze_route,
            required_materials,
            staff,
        })
    }

    /// Find cases from one search box: a case number, a name, or 4 trailing characters of the
    /// ID number or phone.
    pub(crate) fn find_cases(&self, actor: &Actor, text: &str) -> CoreResult<Vec<CaseSummary>> {
        let t = normalize::fold_width(text.trim());
        if t.is_empty() {
            return Err(CoreError::field(
                "query",
                "required",
                "type a case number, a name, or the last 4 of the ID or phone",
            ));
        }
        let upper = t.to_ascii_uppercase();
        let q = if upper.matches('-').count() == 2 && upper.chars().any(|c| c.is_ascii_digit()) {
            CaseQuery {
                case_number: Some(upper),
                limit: Some(50),
                ..Default::default()
            }
        } else if upper.len() == 4 && upper.chars().all(|c| c.is_ascii_digit() || c == 'X') {
            CaseQuery {
                tail4: Some(upper),
                limit: Some(50),
                ..Default::default()
            }
        } else {
            CaseQuery {
                name_prefix: Some(t.to_string()),
                limit: Some(50),
                ..Default::default()
            }
        };
        Ok(self.list_cases(actor, &q)?.cases)
    }

    /// Show one personal value in full: permitted roles only, with a typed reason, audited.
    pub(crate) fn reveal(
        &self,
        actor: &Actor,
        case_id: CaseId,
        field: RevealField,
        reason: &str,
    ) -> CoreResult<String> {
        self.permit(actor, Action::RevealPersonalData, Some(case_id))?;
        if reason.trim().chars().count() < 4 {
            return Err(CoreError::field(
                "reason",
                "required",
                "type why the full value is needed",
            ));
        }
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found("case"))?;
            let form = c.form.as_ref();
            let value = match field {
                RevealField::IdNumber => c
                    .identity
                    .as_ref()
                    .map(|i| i.number.clone())
                    .or_else(|| form.map(|f| f.id_number.clone())),
                RevealField::Phone => Some(c.phone.clone()).filter(|p| !p.is_empty()),
                RevealField::BankCard => {
                    form.map(|f| f.bank_card.clone()).filter(|v| !v.is_empty())
                }
                RevealField::WalletId => {
                    form.map(|f| f.wallet_id.clone()).filter(|v| !v.is_empty())
                }
            }
            .ok_or_else(|| CoreError::not_found("that value is not on the case"))?;
            let f = serde_json::to_value(field)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                "reveal",
                Some(c.state),
                Some(c.state),
                &masking::scrub_digits(reason.trim()),
                Outcome::Ok,
                &format!("{{\"field\":\"{f}\"}}"),
            ))?;
            Ok(value)
        })
    }

    /// The audit events of one case (auditor, supervisor).
    pub(crate) fn audit_events(
        &self,
        actor: &Actor,
        case_id: CaseId,
    ) -> CoreResult<Vec<AuditEvent>> {
        self.permit(actor, Action::ViewAudit, Some(case_id))?;
        self.store.read(|tx| tx.case_history(case_id))
    }

    /// Verify the audit chain (auditor, supervisor, admin; the CLI's read-only actor too).
    pub(crate) fn verify_audit(&self, actor: &Actor) -> CoreResult<AuditVerification> {
        self.permit(actor, Action::VerifyAudit, None)?;
        self.store.verify_audit()
    }
}

/// Keys of an audit event's JSON `detail` that name a staff member (the person at the terminal
/// of an authorized step, the authorizing or co-checking supervisor).
const DETAIL_STAFF_KEYS: [&str; 4] = ["operator", "supervisor", "authorized_by", "cochecked_by"];

/// Every staff id a case view shows: on the case (opener, makers, identity checker and
/// co-checker, authorizer, unlock confirmer and authorizer, failed unlocks, contacts, prints),
/// on its documents, and in its history (each actor and the staff its detail names).
pub(crate) fn mentioned_staff(
    case: &Case,
    history: &[AuditEvent],
    documents: &[DocumentRecord],
) -> BTreeSet<String> {
    let mut ids: Vec<&str> = vec![case.opened_by.as_str()];
    ids.extend(case.makers.iter().map(StaffId::as_str));
    if let Some(i) = &case.identity {
        ids.push(i.checked_by.as_str());
        ids.extend(i.cochecked_by.as_ref().map(StaffId::as_str));
    }
    ids.extend(case.authorization.as_ref().map(|a| a.supervisor.as_str()));
    if let Some(u) = &case.unlock {
        ids.extend([u.confirmed_by.as_str(), u.authorized_by.as_str()]);
    }
    ids.extend(case.unlock_failures.iter().map(|f| f.by.as_str()));
    ids.extend(case.contacts.iter().map(|c| c.by.as_str()));
    ids.extend(case.prints.iter().map(|p| p.by.as_str()));
    ids.extend(documents.iter().map(|d| d.by.as_str()));
    let mut out: BTreeSet<String> = ids.into_iter().map(str::to_owned).collect();
    for e in history {
        out.insert(e.staff_id.clone());
        // A detail that is not a JSON object names nobody.
        if let Ok(serde_json::Value::Object(d)) = serde_json::from_str(&e.detail) {
            out.extend(
                DETAIL_STAFF_KEYS
                    .iter()
                    .filter_map(|k| d.get(*k).and_then(|v| v.as_str()))
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    out
}

/// The display names of `ids` that have a staff account (disabled ones included), read in
/// one statement whatever the size of the staff list. Ids without an account are left out.
fn staff_names(
    ids: &BTreeSet<String>,
    tx: &mut dyn ReadTx,
) -> CoreResult<BTreeMap<String, String>> {
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    Ok(tx.staff_names(&ids)?.into_iter().collect())
}
