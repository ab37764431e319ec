//! Printing the application form and the receipt: the print view (masked for the customer
//! copy), rendering outside the write lock, storing and auditing.

use super::{draft, Service};
use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;
use crate::print::{CopyKind, DocumentKind, PrintDocument};

impl<S: Store> Service<S> {
    /// Build the print view of a case for one copy. Customer copies always mask; the bank
    /// copy follows the branch's archive setting.
    fn print_view(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<(Case, PrintDocument)> {
        self.permit(
            actor,
            if copy == CopyKind::Bank {
                Action::PrintBankCopy
            } else {
                Action::PrintCustomerCopy
            },
            Some(case_id),
        )?;
        let now = self.now();
        let (case, branch, staff) = self.store.read(|tx| {
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let b = super::branch_of(tx)?;
            Ok((c, b, tx.list_staff()?))
        })?;
        let names = |id: &StaffId| {
            staff
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let doc = match kind {
            DocumentKind::Application => PrintDocument::Application(
                crate::print::application_view(&case, &branch, copy, now, &names)?,
            ),
            DocumentKind::Receipt => PrintDocument::Receipt(crate::print::receipt_view(
                &case, &branch, copy, now, &names,
            )?),
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
            let reprint = tx
                .documents(case_id)?
                .iter()
                .any(|d| d.kind == rec.kind && d.copy == rec.copy);
            let saved = tx.save_document(&rec, &bytes)?;
            let detail = serde_json::json!({
                "kind": saved.kind,
                "copy": saved.copy,
                "sha256": saved.sha256,
                "path": saved.path
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
        self.permit(
            actor,
            if rec.copy == CopyKind::Bank {
                Action::PrintBankCopy
            } else {
                Action::PrintCustomerCopy
            },
            Some(case_id),
        )?;
        self.store.read(|tx| tx.document_bytes(&rec))
    }
}
