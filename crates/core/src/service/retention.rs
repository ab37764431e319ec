//! Retention, legal holds, the destruction register and the auditor's console
//! ([`crate::retention`] holds the rules and their sources, [`crate::auditor`] the shapes).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::{act, draft, Service};
use crate::auditor::*;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::masking;
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;
use crate::retention::{self, MAX_BATCH_CASES};

/// The shortest reason a hold, a release or a withdrawal accepts, in characters.
const MIN_REASON: usize = 4;
/// The longest, in characters.
const MAX_REASON: usize = 500;
/// Candidates of a purge read per store call (small in core's own tests, so they page).
#[cfg(not(test))]
const CANDIDATES_PAGE: u32 = 1000;
#[cfg(test)]
const CANDIDATES_PAGE: u32 = 2;

fn reason_of(field: &str, text: &str) -> CoreResult<String> {
    let t = text.trim();
    let n = t.chars().count();
    if n < MIN_REASON {
        return Err(CoreError::field(
            field,
            "required",
            format!("type why (at least {MIN_REASON} characters)"),
        ));
    }
    if n > MAX_REASON {
        return Err(CoreError::field(
            field,
            "too-long",
            format!("at most {MAX_REASON} characters"),
        ));
    }
    // A long run of digits could be an ID or card number typed by mistake: masked, as in the
    // audit trail; a docket number keeps its shape.
    Ok(masking::scrub_digits(t))
}

impl<S: Store> Service<S> {
    // ---------------------------------------------------------------- retention report

    /// What is due on `today`, read in `tx`.
    fn due_report(&self, tx: &mut dyn ReadTx, today: NaiveDate) -> CoreResult<RetentionReport> {
        let branch = super::branch_of(tx)?;
        let before = retention::candidates_before(&branch, today);
        let mut due = Vec::new();
        let mut held = Vec::new();
        // Every candidate, page by page: cases already destroyed for one class, or held, stay
        // candidates for years and must not hide the ones due after them.
        let mut cursor = None;
        'pages: loop {
            let page = tx.closed_cases(before, cursor, CANDIDATES_PAGE)?;
            let last = page.last().map(|c| (c.updated_at, c.id));
            for c in &page {
                if due.len() > MAX_BATCH_CASES {
                    break 'pages;
                }
                let classes = retention::due_classes(c, &branch, today);
                if classes.is_empty() {
                    continue;
                }
                let documents = if classes.iter().any(|(k, _)| *k == RecordClass::Voucher) {
                    tx.documents(c.id)?.len()
                } else {
                    0
                };
                let hold = tx.legal_holds(Some(c.id), true)?.into_iter().next();
                let item = DueCase {
                    case_id: c.id,
                    case_number: c.case_number.clone(),
                    state: c.state,
                    opened_at: c.opened_at,
                    closed_on: retention::closed_on(c, &branch).unwrap_or(today),
                    classes: classes
                        .into_iter()
                        .map(|(class, kept_until)| DueClass {
                            class,
                            kept_until,
                            removes: match class {
                                RecordClass::Case => {
                                    let mut r = vec!["personal-data".to_string()];
                                    if c.appointment_id.is_some() {
                                        r.push("appointment".into());
                                    }
                                    r
                                }
                                RecordClass::Voucher => vec![format!("documents:{documents}")],
                            },
                        })
                        .collect(),
                    hold: hold.clone(),
                };
                if hold.is_some() {
                    held.push(item);
                } else {
                    due.push(item);
                }
            }
            if (page.len() as u32) < CANDIDATES_PAGE {
                break;
            }
            cursor = last;
        }
        let truncated = due.len() > MAX_BATCH_CASES;
        due.truncate(MAX_BATCH_CASES);
        let pending = tx
            .purge_batches()?
            .into_iter()
            .find(|b| b.state == PurgeBatchState::Prepared);
        let appointments_before = retention::unlinked_appointments_before(&branch, today);
        Ok(RetentionReport {
            appointments_due: tx.count_unlinked_appointments(appointments_before)?,
            appointments_before,
            as_of: today,
            case_years: retention::years(&branch, RecordClass::Case),
            voucher_years: retention::years(&branch, RecordClass::Voucher),
            due,
            held,
            pending,
            truncated,
        })
    }

    /// The dry run: what a purge would destroy today, per case and record class, and what a
    /// legal hold keeps. Errors: `forbidden` (admin and auditor only).
    pub(crate) fn retention_report(&self, actor: &Actor) -> CoreResult<RetentionReport> {
        self.permit(actor, Action::ViewRetention, None)?;
        let today = self.today()?;
        self.store.read(|tx| self.due_report(tx, today))
    }

    /// The destruction register: every batch, newest first. Errors: `forbidden`.
    pub(crate) fn purge_batches(&self, actor: &Actor) -> CoreResult<Vec<PurgeBatch>> {
        self.permit(actor, Action::ViewRetention, None)?;
        self.store.read(|tx| tx.purge_batches())
    }

    /// Prepare a destruction batch of everything due today and not held (at most
    /// [`MAX_BATCH_CASES`] cases). Audited as `purge-prepared`. Errors: `forbidden`;
    /// `conflict` while another batch waits for approval; `illegal-transition` when nothing
    /// is due.
    pub(crate) fn prepare_purge(&self, actor: &Actor) -> CoreResult<PurgeBatch> {
        self.permit(actor, Action::PreparePurge, None)?;
        let now = self.now();
        let today = self.today()?;
        let suffix = self.uuid().simple().to_string();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let report = self.due_report(tx, today)?;
            if let Some(p) = &report.pending {
                return Err(CoreError::conflict(format!(
                    "destruction batch {} prepared by {} waits for approval: approve or withdraw it first",
                    p.id, p.prepared_by
                )));
            }
            if report.due.is_empty() && report.appointments_due == 0 {
                return Err(CoreError::new(
                    ErrorCode::IllegalTransition,
                    format!("no record is due for destruction on {today}"),
                ));
            }
            let batch = PurgeBatch {
                id: format!("DR-{}-{}", today.format("%Y%m%d"), &suffix[..6]),
                state: PurgeBatchState::Prepared,
                as_of: today,
                prepared_by: actor.staff_id().clone(),
                prepared_at: now,
                approved_by: None,
                approved_at: None,
                withdrawn_reason: None,
                items: report
                    .due
                    .iter()
                    .map(|d| PurgeItem {
                        case_id: d.case_id,
                        case_number: d.case_number.clone(),
                        state: d.state,
                        opened_at: d.opened_at,
                        closed_on: d.closed_on,
                        classes: d.classes.iter().map(|c| c.class).collect(),
                        purged: Vec::new(),
                        skipped: None,
                    })
                    .collect(),
                appointments_before: (report.appointments_due > 0)
                    .then_some(report.appointments_before),
                appointments: report.appointments_due,
            };
            tx.insert_purge_batch(&batch)?;
            tx.append_audit(&act(
                now,
                actor,
                None,
                "purge-prepared",
                &serde_json::json!({
                    "batch": batch.id,
                    "as_of": today,
                    "cases": batch.items.len(),
                    "appointments": batch.appointments,
                })
                .to_string(),
            ))?;
            Ok(batch)
        })
    }

    /// A prepared batch and the four-eyes rule of its approval: another person, of the other
    /// role (an administrator prepares and an auditor approves, or the reverse).
    fn batch_for_decision(&self, tx: &mut dyn ReadTx, batch_id: &str) -> CoreResult<PurgeBatch> {
        let batch = tx
            .purge_batch(batch_id.trim())?
            .ok_or_else(|| CoreError::not_found(format!("destruction batch {batch_id}")))?;
        match batch.state {
            PurgeBatchState::Prepared => Ok(batch),
            PurgeBatchState::Approved => Err(CoreError::conflict(format!(
                "destruction batch {} was already approved by {}",
                batch.id,
                batch.approved_by.as_ref().map_or("", |s| s.as_str())
            ))),
            PurgeBatchState::Withdrawn => Err(CoreError::conflict(format!(
                "destruction batch {} was withdrawn",
                batch.id
            ))),
        }
    }

    /// Approve a batch another person prepared, and destroy it in one transaction: for each
    /// case still due and not held, its due classes are scrubbed to a tombstone
    /// ([`retention::scrub`]), its documents and appointment row deleted, each audited as
    /// `purged`; a case held or no longer due meanwhile is skipped and says why. The batch
    /// becomes part of the destruction register. Errors: `forbidden`, `not-found`,
    /// `conflict` (already approved or withdrawn), `four-eyes` (the preparer, or the same
    /// role as the preparer).
    pub(crate) fn approve_purge(&self, actor: &Actor, batch_id: &str) -> CoreResult<PurgeBatch> {
        self.permit(actor, Action::ApprovePurge, None)?;
        let now = self.now();
        let today = self.today()?;
        let mut refused: Option<String> = None;
        let res = self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let mut batch = self.batch_for_decision(tx, batch_id)?;
            if &batch.prepared_by == actor.staff_id() {
                let m = format!(
                    "{} prepared destruction batch {}: another person approves it (four-eyes)",
                    actor.staff_id(),
                    batch.id
                );
                refused = Some(m.clone());
                return Err(CoreError::new(ErrorCode::FourEyes, m));
            }
            let preparer_role = tx.staff(&batch.prepared_by)?.map(|s| s.role);
            let approver_since = tx.staff(actor.staff_id())?.map(|s| s.created_at);
            // An account made after the batch could be the preparer's own second account (an
            // administrator adds staff): the second person must have been there before.
            if approver_since.is_none_or(|t| t >= batch.prepared_at) {
                let m = format!(
                    "{} was added after destruction batch {} was prepared: an account that \
                     existed before approves it",
                    actor.staff_id(),
                    batch.id
                );
                refused = Some(m.clone());
                return Err(CoreError::new(ErrorCode::FourEyes, m));
            }
            if preparer_role.is_none() || preparer_role == actor.role() {
                let m = format!(
                    "destruction batch {} was prepared by an {}: it is approved by the other role \
                     (an administrator prepares and an auditor approves, or the reverse)",
                    batch.id,
                    preparer_role.map(|r| r.to_string()).unwrap_or_default()
                );
                refused = Some(m.clone());
                return Err(CoreError::new(ErrorCode::FourEyes, m));
            }
            let branch = super::branch_of(tx)?;
            let approver = actor.staff_id().clone();
            let mut purged_ids = Vec::new();
            for item in &mut batch.items {
                let Some(case) = tx.case(item.case_id)? else {
                    item.skipped = Some("the case is not in the store".into());
                    continue;
                };
                if tx
                    .legal_holds(Some(case.id), true)?
                    .into_iter()
                    .next()
                    .is_some()
                {
                    item.skipped = Some("a legal hold was set after the batch was prepared".into());
                    continue;
                }
                let due: Vec<RecordClass> = retention::due_classes(&case, &branch, today)
                    .into_iter()
                    .map(|(c, _)| c)
                    .filter(|c| item.classes.contains(c))
                    .collect();
                if due.is_empty() {
                    item.skipped = Some("no longer due".into());
                    continue;
                }
                let mut next = case.clone();
                let mut documents = 0;
                let appointment = case.appointment_id;
                for class in &due {
                    next = retention::scrub(
                        &next,
                        PurgeMark {
                            class: *class,
                            batch_id: batch.id.clone(),
                            prepared_by: batch.prepared_by.clone(),
                            approved_by: approver.clone(),
                            at: now,
                        },
                    );
                    if *class == RecordClass::Voucher {
                        documents = tx.delete_documents(case.id)?;
                    }
                }
                // The case class drops the link first: the row may then go.
                next.version = case.version + 1;
                tx.update_case(&next, case.version)?;
                let appointment_deleted = due.contains(&RecordClass::Case) && appointment.is_some();
                if let (true, Some(a)) = (appointment_deleted, appointment) {
                    tx.delete_appointment(a)?;
                }
                tx.append_audit(&draft(
                    now,
                    &approver,
                    actor.role(),
                    actor.terminal(),
                    Some(case.id),
                    "purged",
                    Some(case.state),
                    Some(case.state),
                    "",
                    Outcome::Ok,
                    &serde_json::json!({
                        "batch": batch.id,
                        "classes": due,
                        "documents": documents,
                        "appointment": appointment_deleted,
                        "prepared_by": batch.prepared_by.as_str(),
                    })
                    .to_string(),
                ))?;
                item.purged = due;
                purged_ids.push(case.id);
            }
            // Appointments the customer never came to, up to the day the batch was prepared
            // for (never later than today's: the clock only moves on).
            if let Some(day) = batch.appointments_before {
                let today_day = retention::unlinked_appointments_before(&branch, today);
                batch.appointments = tx.delete_unlinked_appointments(day.min(today_day))?;
            }
            batch.state = PurgeBatchState::Approved;
            batch.approved_by = Some(approver.clone());
            batch.approved_at = Some(now);
            tx.update_purge_batch(&batch)?;
            tx.append_audit(&act(
                now,
                actor,
                None,
                "purge-approved",
                &serde_json::json!({
                    "batch": batch.id,
                    "prepared_by": batch.prepared_by.as_str(),
                    "purged": purged_ids.len(),
                    "skipped": batch.items.len() - purged_ids.len(),
                    "appointments": batch.appointments,
                })
                .to_string(),
            ))?;
            Ok((batch, purged_ids))
        });
        let (batch, _purged) = match res {
            Ok(r) => r,
            Err(e) => {
                if let Some(m) = refused {
                    self.audit_refusal(
                        actor.staff_id(),
                        actor.role(),
                        actor.terminal(),
                        None,
                        "purge-approve",
                        &m,
                    );
                }
                return Err(e);
            }
        };
        // The rows are gone; now what the store keeps outside them, for the cases whose
        // vouchers were destroyed (a case purged for its `case` class keeps its documents for
        // their own period). Every earlier batch's such cases too: a crash between a commit and
        // this sweep is finished by the next purge.
        let voucher = |i: &PurgeItem| i.purged.contains(&RecordClass::Voucher);
        let mut all: BTreeSet<CaseId> = batch
            .items
            .iter()
            .filter(|i| voucher(i))
            .map(|i| i.case_id)
            .collect();
        if let Ok(batches) = self.store.read(|tx| tx.purge_batches()) {
            all.extend(
                batches
                    .iter()
                    .flat_map(|b| b.items.iter())
                    .filter(|i| voucher(i))
                    .map(|i| i.case_id),
            );
        }
        let all: Vec<CaseId> = all.into_iter().collect();
        if let Err(e) = self.store.after_purge(&all) {
            tracing::warn!(batch = %batch.id, error = %e, "purge committed; sweeping its files failed");
        }
        tracing::info!(batch = %batch.id, approved_by = %actor.staff_id(), "destruction batch approved");
        Ok(batch)
    }

    /// Withdraw a prepared batch (nothing is destroyed). Audited as `purge-withdrawn`.
    /// Errors: `forbidden`, `not-found`, `conflict`, `invalid` (`reason`).
    pub(crate) fn withdraw_purge(
        &self,
        actor: &Actor,
        batch_id: &str,
        reason: &str,
    ) -> CoreResult<PurgeBatch> {
        self.permit(actor, Action::PreparePurge, None)?;
        let reason = reason_of("reason", reason)?;
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let mut batch = self.batch_for_decision(tx, batch_id)?;
            batch.state = PurgeBatchState::Withdrawn;
            batch.withdrawn_reason = Some(reason.clone());
            tx.update_purge_batch(&batch)?;
            tx.append_audit(&AuditDraft {
                reason: reason.clone(),
                ..act(
                    now,
                    actor,
                    None,
                    "purge-withdrawn",
                    &serde_json::json!({ "batch": batch.id }).to_string(),
                )
            })?;
            Ok(batch)
        })
    }

    // ---------------------------------------------------------------- legal holds

    /// Put a case under legal hold (one active hold per case). Not a change to the case: its
    /// version and state stay; audited as `legal-hold-set`. Errors: `forbidden`, `not-found`,
    /// `conflict` (already held), `invalid` (`reason`).
    pub(crate) fn set_legal_hold(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
    ) -> CoreResult<LegalHold> {
        self.permit(actor, Action::ManageLegalHolds, Some(case_id))?;
        let reason = reason_of("reason", reason)?;
        let now = self.now();
        let id = self.uuid().to_string();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            if let Some(h) = tx.legal_holds(Some(case_id), true)?.into_iter().next() {
                return Err(CoreError::conflict(format!(
                    "case {} is already under legal hold since {} (set by {}): release it first",
                    case.case_number,
                    h.set_at.format("%Y-%m-%d"),
                    h.set_by
                )));
            }
            let hold = LegalHold {
                id: id.clone(),
                case_id,
                case_number: case.case_number.clone(),
                reason: reason.clone(),
                set_by: actor.staff_id().clone(),
                set_at: now,
                released_by: None,
                released_at: None,
                release_reason: None,
            };
            tx.insert_legal_hold(&hold)?;
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                "legal-hold-set",
                Some(case.state),
                Some(case.state),
                &reason,
                Outcome::Ok,
                &serde_json::json!({ "hold": hold.id }).to_string(),
            ))?;
            Ok(hold)
        })
    }

    /// Release the active legal hold of a case. Audited as `legal-hold-released`. Errors:
    /// `forbidden`, `not-found` (no case, or no active hold), `invalid` (`reason`).
    pub(crate) fn release_legal_hold(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
    ) -> CoreResult<LegalHold> {
        self.permit(actor, Action::ManageLegalHolds, Some(case_id))?;
        let reason = reason_of("reason", reason)?;
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let mut hold = tx
                .legal_holds(Some(case_id), true)?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    CoreError::not_found(format!(
                        "an active legal hold on case {}",
                        case.case_number
                    ))
                })?;
            hold.released_by = Some(actor.staff_id().clone());
            hold.released_at = Some(now);
            hold.release_reason = Some(reason.clone());
            tx.update_legal_hold(&hold)?;
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                Some(case_id),
                "legal-hold-released",
                Some(case.state),
                Some(case.state),
                &reason,
                Outcome::Ok,
                &serde_json::json!({ "hold": hold.id }).to_string(),
            ))?;
            Ok(hold)
        })
    }

    /// Legal holds, newest first: the active ones, or every one ever set. Errors: `forbidden`.
    pub(crate) fn legal_holds(
        &self,
        actor: &Actor,
        active_only: bool,
    ) -> CoreResult<Vec<LegalHold>> {
        self.permit(actor, Action::ViewRetention, None)?;
        self.store.read(|tx| tx.legal_holds(None, active_only))
    }

    // ---------------------------------------------------------------- the audit trail

    /// Check a filter and turn it into the store's query (UTC bounds of the branch-local
    /// days, the case resolved). Errors: `invalid` with field `from`/`to` (`order`, `range`),
    /// `staff_id`, `case`, `action` (`format`), `limit` (`range`).
    fn audit_query(&self, tx: &mut dyn ReadTx, f: &AuditFilter) -> CoreResult<AuditQuery> {
        let branch = super::branch_of(tx)?;
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if a > b {
                return Err(CoreError::field(
                    "from",
                    "order",
                    "from must be on or before to",
                ));
            }
        }
        let limit = f.limit.unwrap_or(100);
        if !(1..=MAX_AUDIT_PAGE).contains(&limit) {
            return Err(CoreError::field(
                "limit",
                "range",
                format!("1 to {MAX_AUDIT_PAGE} events a page"),
            ));
        }
        let start_of = |d: NaiveDate| -> DateTime<Utc> {
            use chrono::TimeZone;
            let tz = branch.tz();
            let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
            tz.from_local_datetime(&naive)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| naive.and_utc())
        };
        let staff_id = match f
            .staff_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => Some(StaffId::parse(s)?.as_str().to_string()),
            None => None,
        };
        let case_id = match f.case.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => match CaseId::parse(s) {
                Ok(id) => Some(id),
                Err(_) => {
                    let number = crate::normalize::fold_width(s).to_ascii_uppercase();
                    let q = crate::ports::CaseQuery {
                        case_number: Some(number.clone()),
                        limit: Some(1),
                        ..Default::default()
                    };
                    let found = tx.list_cases(&q, &branch.time_zone)?;
                    match found.first() {
                        Some(c) => Some(c.id),
                        None => {
                            return Err(CoreError::field(
                                "case",
                                "not-found",
                                format!("no case numbered '{number}'"),
                            ))
                        }
                    }
                }
            },
        };
        let action = match f.action.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(a) if a.len() <= 40 && a.chars().all(|c| c.is_ascii_lowercase() || c == '-') => {
                Some(a.to_string())
            }
            Some(_) => {
                return Err(CoreError::field(
                    "action",
                    "format",
                    "an action is lower-case letters and '-' (e.g. reveal, submit)",
                ))
            }
            None => None,
        };
        Ok(AuditQuery {
            from: f.from.map(start_of),
            to: f.to.and_then(|d| d.succ_opt()).map(start_of),
            staff_id,
            case_id,
            action,
            refused_only: f.refused_only,
            before: f.before,
            limit,
        })
    }

    /// Case numbers and staff names the events mention.
    fn names_of(
        &self,
        tx: &mut dyn ReadTx,
        events: &[AuditEvent],
    ) -> CoreResult<(BTreeMap<String, String>, BTreeMap<String, String>)> {
        let mut numbers = BTreeMap::new();
        let ids: BTreeSet<CaseId> = events.iter().filter_map(|e| e.case_id).collect();
        for id in ids {
            if let Some(c) = tx.case(id)? {
                numbers.insert(id.to_string(), c.case_number);
            }
        }
        let staff = tx
            .list_staff()?
            .into_iter()
            .map(|s| (s.id.as_str().to_string(), s.name))
            .collect();
        Ok((numbers, staff))
    }

    /// One page of the audit trail, newest first, filtered. Errors: `forbidden` (auditor,
    /// supervisor), `invalid` (see the filter).
    pub(crate) fn search_audit(&self, actor: &Actor, f: &AuditFilter) -> CoreResult<AuditPage> {
        self.permit(actor, Action::ViewAudit, None)?;
        self.store.read(|tx| {
            let q = self.audit_query(tx, f)?;
            let events = tx.search_audit(&q)?;
            let next = (events.len() as u32 == q.limit)
                .then(|| events.last().map(|e| e.seq))
                .flatten();
            let (case_numbers, staff) = self.names_of(tx, &events)?;
            Ok(AuditPage {
                events,
                case_numbers,
                staff,
                next,
            })
        })
    }

    /// The trail matching `f` (its `before` and `limit` ignored) as CSV ([`audit_csv`]), in
    /// chain order. Audited as `audit-export`. Errors: `forbidden`, `invalid` (the filter, or
    /// field `to` rule `too-many` beyond [`MAX_EXPORT_EVENTS`]).
    pub(crate) fn export_audit(&self, actor: &Actor, f: &AuditFilter) -> CoreResult<Vec<u8>> {
        self.permit(actor, Action::ViewAudit, None)?;
        let (csv, count) = self.store.read(|tx| {
            let mut q = self.audit_query(
                tx,
                &AuditFilter {
                    before: None,
                    limit: None,
                    ..f.clone()
                },
            )?;
            q.limit = MAX_AUDIT_PAGE;
            let mut all: Vec<AuditEvent> = Vec::new();
            loop {
                let page = tx.search_audit(&q)?;
                let n = page.len();
                q.before = page.last().map(|e| e.seq);
                all.extend(page);
                if all.len() > MAX_EXPORT_EVENTS {
                    return Err(CoreError::field(
                        "to",
                        "too-many",
                        format!(
                            "more than {MAX_EXPORT_EVENTS} events match: export a shorter date range"
                        ),
                    ));
                }
                if (n as u32) < q.limit {
                    break;
                }
            }
            all.reverse();
            let (numbers, staff) = self.names_of(tx, &all)?;
            Ok((audit_csv(&all, &numbers, &staff), all.len()))
        })?;
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            tx.append_audit(&act(
                now,
                actor,
                None,
                "audit-export",
                &serde_json::json!({ "events": count, "filter": f }).to_string(),
            ))
            .map(|_| ())
        })?;
        Ok(csv)
    }

    /// Every reveal of a full number matching `f` (its `action` ignored), newest first, one
    /// page. Errors: `forbidden`, `invalid`.
    pub(crate) fn audit_reveals(&self, actor: &Actor, f: &AuditFilter) -> CoreResult<RevealPage> {
        let page = self.search_audit(
            actor,
            &AuditFilter {
                action: Some("reveal".into()),
                refused_only: false,
                ..f.clone()
            },
        )?;
        let reveals = page
            .events
            .iter()
            .map(|e| {
                let field = serde_json::from_str::<serde_json::Value>(&e.detail)
                    .ok()
                    .and_then(|d| d.get("field").and_then(|v| v.as_str()).map(str::to_owned))
                    .unwrap_or_default();
                let case_id = e.case_id.map(|c| c.to_string()).unwrap_or_default();
                RevealRecord {
                    seq: e.seq,
                    at: e.at,
                    staff_id: e.staff_id.clone(),
                    staff_name: page.staff.get(&e.staff_id).cloned(),
                    role: e.role,
                    terminal: e.terminal.clone(),
                    case_id: e.case_id,
                    case_number: page.case_numbers.get(&case_id).cloned(),
                    field,
                    reason: e.reason.clone(),
                }
            })
            .collect();
        Ok(RevealPage {
            reveals,
            next: page.next,
        })
    }
}
