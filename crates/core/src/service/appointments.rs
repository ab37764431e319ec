//! The appointment book: today's list, the counter's lookup, one booking, the
//! import of the call centre's file, and the end-of-day no-shows.

use chrono::NaiveDate;

use super::{act, draft, Service};
use crate::dto::*;
use crate::error::{CoreError, CoreResult};
use crate::masking;
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;

impl<S: Store> Service<S> {
    /// Today's appointments (branch-local), by slot.
    pub(crate) fn appointments_today(&self, actor: &Actor) -> CoreResult<Vec<Appointment>> {
        self.permit(actor, Action::LookupAppointments, None)?;
        let today = self.today()?;
        self.store
            .read(|tx| tx.appointments_on(today))
            .map(|v| v.iter().map(masking::mask_appointment).collect())
    }

    /// Counter lookup from one search box (reference, phone or its last 4, ID number or its
    /// last 4, name prefix). Today's first, at most 20, masked.
    pub(crate) fn find_appointments(
        &self,
        actor: &Actor,
        text: &str,
    ) -> CoreResult<Vec<Appointment>> {
        self.permit(actor, Action::LookupAppointments, None)?;
        let key = crate::appointments::appointment_key(text)?;
        let today = self.today()?;
        self.store
            .read(|tx| tx.find_appointments(&key, today, 20))
            .map(|v| v.iter().map(masking::mask_appointment).collect())
    }

    /// Insert a booked appointment (used by the importer and the demo).
    pub(crate) fn add_appointment(&self, actor: &Actor, a: &Appointment) -> CoreResult<()> {
        self.permit(actor, Action::ImportAppointments, None)?;
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            if tx.appointment_by_reference(&a.reference)?.is_some() {
                return Err(CoreError::conflict(format!(
                    "appointment {} exists",
                    a.reference
                )));
            }
            tx.insert_appointment(a)?;
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                None,
                "appointment-add",
                None,
                None,
                "",
                Outcome::Ok,
                &format!(
                    "{{\"reference\":{}}}",
                    serde_json::to_string(&a.reference).unwrap_or_default()
                ),
            ))?;
            Ok(())
        })
    }

    /// Import the call centre's export (CSV or JSON bytes; see [`crate::appointments`] for the
    /// format rules). `file_name` is recorded in the audit trail (digit runs masked).
    ///
    /// One store transaction for the whole file: a crash imports nothing half-way. Rows are
    /// matched by reference after normalisation: a new reference is inserted `waiting`
    /// (`imported`); a known one whose booked fields are equal is `unchanged`; a changed one is
    /// `updated`, keeping its status and case link, with one `appointment-update` audit event
    /// naming the changed fields (never their values). One `appointment-import` event records
    /// the counts. The actor is a signed-in staff member whose role may import, or the system
    /// actor `import` (role `None`; the call-centre feed).
    ///
    /// Errors: `forbidden`; `not-set-up`; `invalid` for a file-level problem (fields `file`
    /// with rules `encoding` / `json` / `empty`, or `header`); `storage`. Row problems are
    /// not errors: they are listed in [`ImportReport::rejected`].
    pub(crate) fn import_appointments(
        &self,
        actor: &Actor,
        bytes: &[u8],
        file_name: &str,
    ) -> CoreResult<ImportReport> {
        self.permit(actor, Action::ImportAppointments, None)?;
        let now = self.now();
        let today = self.today()?;
        let parsed = crate::appointments::parse_file(bytes, today)?;
        let file = masking::scrub_digits(
            std::path::Path::new(file_name)
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or(file_name),
        );
        let file_json = serde_json::to_string(&file).unwrap_or_else(|_| "\"\"".into());
        let references: Vec<String> = parsed
            .rows
            .iter()
            .map(|(_, r)| r.reference.clone())
            .collect();
        let mut report = ImportReport {
            rejected: parsed.rejected,
            ..Default::default()
        };
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let known: std::collections::HashMap<String, Appointment> = tx
                .appointments_by_references(&references)?
                .into_iter()
                .map(|a| (a.reference.clone(), a))
                .collect();
            let mut new = Vec::new();
            for (_, row) in &parsed.rows {
                match known.get(&row.reference) {
                    None => {
                        let seq = new.len() as u32;
                        let id = crate::appointments::time_ordered_id(now, seq, self.uuid());
                        new.push(row.to_new(id))
                    }
                    Some(stored) => {
                        let changed = row.changes(stored);
                        if changed.is_empty() {
                            report.unchanged += 1;
                            continue;
                        }
                        tx.update_appointment(&row.apply_to(stored))?;
                        let detail = serde_json::json!({
                            "reference": row.reference,
                            "changed": changed,
                            "file": file
                        })
                        .to_string();
                        tx.append_audit(&draft(
                            now,
                            actor.staff_id(),
                            actor.role(),
                            actor.terminal(),
                            stored.case_id,
                            "appointment-update",
                            None,
                            None,
                            "changed by import",
                            Outcome::Ok,
                            &detail,
                        ))?;
                        report.updated += 1;
                    }
                }
            }
            tx.insert_appointments(&new)?;
            report.imported = new.len() as u32;
            let rejected_rows = report
                .rejected
                .iter()
                .map(|r| r.row)
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let detail = format!(
                "{{\"file\":{file_json},\"imported\":{},\"updated\":{},\"unchanged\":{},\"rejected_rows\":{rejected_rows}}}",
                report.imported, report.updated, report.unchanged,
            );
            tx.append_audit(&act(now, actor, None, "appointment-import", &detail))?;
            Ok(())
        })?;
        Ok(report)
    }

    /// End of day: every `waiting` appointment whose slot starts on `day` (branch-local)
    /// becomes `no-show`, with one `appointment-no-shows` audit event carrying the day and the
    /// count. Returns the count. Errors: `forbidden`, `invalid` (field `day`, rule
    /// `future-date`: a day after today), `not-set-up`, `storage`.
    pub(crate) fn mark_no_shows(&self, actor: &Actor, day: NaiveDate) -> CoreResult<u32> {
        self.permit(actor, Action::MarkNoShows, None)?;
        let today = self.today()?;
        if day > today {
            return Err(CoreError::field(
                "day",
                "future-date",
                format!("{day} has not ended yet"),
            ));
        }
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let n = tx.mark_no_shows(day)?;
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                None,
                "appointment-no-shows",
                None,
                None,
                "",
                Outcome::Ok,
                &format!("{{\"day\":\"{day}\",\"count\":{n}}}"),
            ))?;
            Ok(n)
        })
    }
}
