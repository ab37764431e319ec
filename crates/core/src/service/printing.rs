//! Printing the application form and the receipt: the print view (masked for the customer
//! copy), rendering outside the write lock, storing and auditing.

use super::{draft, Service};
use crate::dto::{CaseView, PrintDelivery};
use crate::error::{CoreError, CoreResult, ErrorCode, FieldError};
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;
use crate::print::{CopyKind, DocumentKind, PrintDocument};

impl<S: Store> Service<S> {
    /// The permission to print (or read) one copy: the bank copy holds full numbers.
    fn permit_copy(&self, actor: &Actor, copy: CopyKind, case_id: CaseId) -> CoreResult<()> {
        self.permit(
            actor,
            if copy == CopyKind::Bank {
                Action::PrintBankCopy
            } else {
                Action::PrintCustomerCopy
            },
            Some(case_id),
        )
    }

    /// Build the print view of a case for one copy. Customer copies always mask; the bank
    /// copy follows the branch's archive setting.
    fn print_view(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<(Case, PrintDocument)> {
        self.permit_copy(actor, copy, case_id)?;
        let now = self.now();
        let (case, branch, staff) = self.store.read(|tx| {
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let b = super::branch_of(tx)?;
            // Everyone a printed form or receipt can name is on the case itself.
            let ids = super::reads::mentioned_staff(&c, &[], &[]);
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let names = tx.staff_names(&ids)?;
            Ok((c, b, names))
        })?;
        if !case.purges.is_empty() {
            // A tombstone has no customer left to print for; its stored vouchers are read as
            // they were printed (document bytes), until their own period ends.
            return Err(CoreError::new(
                ErrorCode::IllegalTransition,
                crate::retention::read_only_reason(&case).unwrap_or_default(),
            ));
        }
        let names = |id: &StaffId| {
            staff
                .iter()
                .find(|(s, _)| s == id.as_str())
                .map(|(_, name)| name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let doc = match kind {
            DocumentKind::Application => PrintDocument::Application(
                crate::print::application_view(&case, &branch, copy, now, &names)?,
            ),
            DocumentKind::Receipt => PrintDocument::Receipt(crate::print::receipt_view(
                &case, &branch, copy, now, &names,
            )?),
            DocumentKind::SignedScan => {
                return Err(CoreError::field(
                    "form",
                    "one-of",
                    "a signed scan is attached to the case (case attach-signed), never printed: choose application or receipt",
                ))
            }
        };
        Ok((case, doc))
    }

    /// Print: render the document, store it beside the database (`documents/`, SHA-256 in the
    /// store) and record the print — or reprint — on the case (audited, docs/domain.md §6).
    /// Errors: `forbidden`, `illegal-transition` (nothing to print yet), `render`, `storage`.
    pub(crate) fn print_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<DocumentRecord> {
        if actor.system_kind().is_some() {
            // A print is a person handing paper over; system actors only export.
            let e =
                CoreError::forbidden("printing is recorded on the case: sign in (--as STAFF_ID)");
            self.audit_refusal(
                actor.staff_id(),
                None,
                actor.terminal(),
                Some(case_id),
                "permission",
                &e.message,
            );
            return Err(e);
        }
        let (case, doc) = self.print_view(actor, case_id, kind, copy)?;
        // Render outside the write lock: it takes milliseconds, the lock should not.
        let bytes = self.renderer()?.render(&doc)?;
        let now = self.now();
        let rec = DocumentRecord {
            id: self.uuid().to_string(),
            case_id,
            kind,
            copy,
            path: String::new(),
            sha256: String::new(),
            bytes: 0,
            at: now,
            by: actor.staff_id().clone(),
        };
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            // Read again inside the transaction: the print is recorded on the case as it is
            // now (another terminal may have amended the form since the view was built).
            let mut current = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            if let Some(m) = crate::retention::read_only_reason(&current) {
                return Err(CoreError::new(
                    ErrorCode::IllegalTransition,
                    format!("{m}: export a copy instead of printing one onto the case"),
                ));
            }
            if current.form_revision != case.form_revision {
                return Err(CoreError::conflict(
                    "the form was amended meanwhile: print again",
                ));
            }
            let revision = current.form_revision;
            // A reprint: the same document and copy (of the same form revision) again, after
            // one reached paper (a failed job printed nothing).
            let reprint = current.prints.iter().any(|p| {
                p.delivered()
                    && p.kind == kind
                    && p.copy == copy
                    && (kind != DocumentKind::Application || p.form_revision == revision)
            });
            let saved = tx.save_document(&rec, &bytes)?;
            current.prints.push(PrintRecord {
                document_id: saved.id.clone(),
                kind,
                copy,
                form_revision: revision,
                reprint,
                channel: None,
                printer: None,
                job_id: None,
                outcome: PrintOutcome::Pending,
                message: String::new(),
                by: actor.staff_id().clone(),
                at: now,
            });
            let expected = current.version;
            current.version += 1;
            current.updated_at = now;
            tx.update_case(&current, expected)?;
            let detail = serde_json::json!({
                "kind": saved.kind,
                "copy": saved.copy,
                "sha256": saved.sha256,
                "path": saved.path,
                "document_id": saved.id,
                "form_revision": revision,
                "reprints": current.reprints(),
            })
            .to_string();
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                if reprint { "reprint" } else { "print" },
                Some(case.state),
                Some(case.state),
                "",
                Outcome::Ok,
                &detail,
            ))?;
            Ok(saved)
        })
    }

    /// Record how a printed document reached paper (see `Counter::record_delivery`).
    pub(crate) fn record_delivery(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
        delivery: &PrintDelivery,
    ) -> CoreResult<CaseView> {
        if actor.system_kind().is_some() {
            // A delivery is a person's paper; system actors print nothing.
            return Err(CoreError::forbidden(
                "printing is recorded on the case: sign in (--as STAFF_ID)",
            ));
        }
        self.permit(actor, Action::PrintCustomerCopy, Some(case_id))?;
        // The copy decides the permission (the bank copy carries full numbers). Checked before
        // the write transaction: a refusal is audited in a transaction of its own, which must
        // not nest inside this one.
        let copy = self.store.read(|tx| {
            let case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            case.prints
                .iter()
                .find(|p| p.document_id == document_id)
                .map(|p| p.copy)
                .ok_or_else(|| CoreError::not_found(format!("print {document_id}")))
        })?;
        self.permit_copy(actor, copy, case_id)?;
        let mut errs = Vec::new();
        if delivery.outcome == PrintOutcome::Pending {
            errs.push(FieldError::new(
                "outcome",
                "one-of",
                "a delivery is sent, completed or failed (pending is the print before it)",
            ));
        }
        let job = delivery
            .job_id
            .as_deref()
            .map(str::trim)
            .filter(|j| !j.is_empty());
        let printer = delivery
            .printer
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty());
        if delivery.channel == PrintChannel::Cups {
            if printer.is_none() {
                errs.push(FieldError::new(
                    "printer",
                    "required",
                    "a CUPS print names its printer",
                ));
            }
            if job.is_none() && delivery.outcome != PrintOutcome::Failed {
                errs.push(FieldError::new(
                    "job_id",
                    "required",
                    "a CUPS print that was accepted has a job id",
                ));
            }
        } else if job.is_some() {
            errs.push(FieldError::new(
                "job_id",
                "channel",
                format!("a {} print has no CUPS job", delivery.channel),
            ));
        }
        if delivery.outcome == PrintOutcome::Failed && delivery.message.trim().is_empty() {
            errs.push(FieldError::new(
                "message",
                "required",
                "a failed print says why",
            ));
        }
        for (field, v) in [("job_id", job), ("printer", printer)] {
            if v.is_some_and(|v| v.chars().count() > 128 || v.chars().any(char::is_control)) {
                errs.push(FieldError::new(
                    field,
                    "format",
                    "1-128 printable characters",
                ));
            }
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let mut case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            if let Some(m) = crate::retention::read_only_reason(&case) {
                return Err(CoreError::new(ErrorCode::IllegalTransition, m));
            }
            let p = case
                .prints
                .iter_mut()
                .find(|p| p.document_id == document_id)
                .ok_or_else(|| CoreError::not_found(format!("print {document_id}")))?;
            if matches!(p.outcome, PrintOutcome::Completed | PrintOutcome::Failed) {
                return Err(CoreError::conflict(format!(
                    "this print is already recorded as {}",
                    p.outcome
                )));
            }
            p.channel = Some(delivery.channel);
            p.printer = printer.map(str::to_string);
            p.job_id = job.map(str::to_string).or(p.job_id.take());
            p.outcome = delivery.outcome;
            p.message = delivery.message.trim().chars().take(500).collect();
            let detail = serde_json::json!({
                "document_id": document_id,
                "kind": p.kind,
                "copy": p.copy,
                "form_revision": p.form_revision,
                "channel": p.channel,
                "printer": p.printer,
                "job_id": p.job_id,
                "outcome": p.outcome,
                "message": p.message,
            })
            .to_string();
            let expected = case.version;
            case.version += 1;
            case.updated_at = now;
            tx.update_case(&case, expected)?;
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                "print-delivery",
                Some(case.state),
                Some(case.state),
                "",
                // A failed job is a recorded fact, not a refused step: its outcome is in the
                // detail.
                Outcome::Ok,
                &detail,
            ))?;
            Ok(())
        })?;
        self.case_view(actor, case_id)
    }

    /// Render without storing (the CLI's `form render --out`): the export is audited.
    pub(crate) fn render_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<Vec<u8>> {
        let (case, doc) = self.print_view(actor, case_id, kind, copy)?;
        let bytes = self.renderer()?.render(&doc)?;
        let now = self.now();
        let detail =
            serde_json::json!({"kind": kind.as_str(), "copy": copy.as_str(), "bytes": bytes.len()})
                .to_string();
        self.store.transact(|tx| {
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                "export",
                Some(case.state),
                Some(case.state),
                "",
                Outcome::Ok,
                &detail,
            ))
            .map(|_| ())
        })?;
        Ok(bytes)
    }

    /// The stored bytes of one printed document of the case, checked against its SHA-256.
    /// Errors: `forbidden`, `not-found`, `storage` (missing or altered file).
    pub(crate) fn document_bytes(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
    ) -> CoreResult<Vec<u8>> {
        self.permit(actor, Action::PrintCustomerCopy, Some(case_id))?;
        let rec = self.store.read(|tx| {
            self.check_actor(tx, actor)?;
            tx.documents(case_id)?
                .into_iter()
                .find(|d| d.id == document_id)
                .ok_or_else(|| CoreError::not_found(format!("document {document_id}")))
        })?;
        self.permit_copy(actor, rec.copy, case_id)?;
        self.store.read(|tx| tx.document_bytes(&rec))
    }
}
