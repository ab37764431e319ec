//! The use-case surface: **one** trait, [`Counter`], listing every operation the desktop
//! shell, the CLI and the branch server call. The local implementation is
//! [`crate::service::Service`] over a [`crate::ports::Store`]; a remote client of a branch
//! server implements the same trait, so no screen or subcommand knows which one it holds
//! (`Arc<dyn Counter>`).
//!
//! Conventions of every method:
//! * an [`Actor`] comes first when one is needed; core checks it against
//!   [`crate::permissions`] and, inside the transaction, against the stored account;
//! * `idem` is the caller's idempotency key for one attempt: a retry with the same key
//!   returns the first call's result and applies nothing; the same key sent with another
//!   request is refused with `conflict`;
//! * errors are [`CoreError`]s with a stable [`crate::ErrorCode`] and, for bad input, the
//!   field and the rule ([`crate::FieldError`]); nothing is written on an error;
//! * personal numbers come back masked, except from [`Counter::reveal`] (audited) and the bank
//!   copy of a printed document.

use chrono::NaiveDate;
use std::path::Path;

use crate::auditor::{AuditFilter, AuditPage, RetentionReport, RevealPage};
use crate::authorizations::{AuthorizationEvents, AuthorizationItem};
use crate::dto::*;
use crate::error::CoreResult;
use crate::model::*;
use crate::ports::{AuditEvent, AuditVerification, CaseQuery, CaseSummary, DocumentRecord};
use crate::print::{CopyKind, DocumentKind};

/// Every operation of UnlockDesk, as one object-safe trait.
pub trait Counter: Send + Sync {
    // ------------------------------------------------------------ branch and set-up

    /// True once a branch exists (an empty store opens set-up).
    fn is_set_up(&self) -> CoreResult<bool>;
    /// The branch profile (shown before sign-in too). Errors: `not-set-up`.
    fn branch(&self) -> CoreResult<Branch>;
    /// The branch's local date now. Errors: `not-set-up`.
    fn today(&self) -> CoreResult<NaiveDate>;
    /// First run on an empty store: the branch and its first administrator. Errors:
    /// `already-set-up`; `invalid` with fields `branch_code`, `branch_name`, `time_zone`,
    /// `staff_id`, `admin_name`, `password`.
    fn setup(&self, input: &SetupInput, terminal: &str) -> CoreResult<()>;
    /// Update the branch settings (admin). Errors: `forbidden`, `invalid`.
    fn update_branch(&self, actor: &Actor, branch: &Branch) -> CoreResult<Branch>;
    /// Fill an empty store with the synthetic demo branch (actor from
    /// [`Counter::first_run_actor`]), plus `extra_appointments` generated bookings. Returns a
    /// JSON report. Errors: `forbidden`, `already-set-up`.
    fn load_demo(&self, actor: &Actor, extra_appointments: u64) -> CoreResult<serde_json::Value>;

    // ------------------------------------------------------------ sessions and actors

    /// Sign in with staff id and password; failures are counted and lock the account after the
    /// branch's limit. Errors: `auth-failed`, `account-locked`, `account-disabled`.
    fn sign_in(&self, staff_id: &str, password: &str, terminal: &str) -> CoreResult<Session>;
    /// Authenticate for one command (the CLI's `--as`). Errors: as [`Counter::sign_in`], and
    /// `password-change-required`.
    fn authenticate(&self, staff_id: &str, password: &str, terminal: &str) -> CoreResult<Actor>;
    /// The actor of a session for the next use case: refuses (and locks) a session idle longer
    /// than the branch allows, and one that must change its password first. Errors:
    /// `session-locked`, `password-change-required`.
    fn session_actor(&self, session: &mut Session) -> CoreResult<Actor>;
    /// Unlock a locked session with the same person's password.
    fn unlock_session(&self, session: &mut Session, password: &str) -> CoreResult<()>;
    /// Change one's own password (also the forced change at first sign-in). Errors:
    /// `auth-failed` (old password), `invalid` (`new_password` rules or reuse).
    fn change_password(
        &self,
        staff_id: &str,
        old: &str,
        new: &str,
        terminal: &str,
    ) -> CoreResult<StaffView>;
    /// [`Counter::change_password`] for the person signed in to `session`, which then shows
    /// the account as changed. Errors: as `change_password`, and `session-locked`.
    fn change_own_password(&self, session: &mut Session, old: &str, new: &str) -> CoreResult<()>;
    /// A named system actor ([`SystemActor::Import`], [`SystemActor::CliReader`]).
    fn system_actor(&self, kind: SystemActor, terminal: &str) -> Actor;
    /// The actor that may load demo data, on an empty store only. Errors: `already-set-up`.
    fn first_run_actor(&self, terminal: &str) -> CoreResult<Actor>;

    // ------------------------------------------------------------ staff (admin)

    fn add_staff(&self, actor: &Actor, input: &NewStaff) -> CoreResult<StaffView>;
    /// The account must change the new password at its next sign-in.
    fn reset_password(
        &self,
        actor: &Actor,
        staff_id: &str,
        new_password: &str,
    ) -> CoreResult<StaffView>;
    /// Disable or re-enable an account; an admin cannot disable themself.
    fn set_staff_disabled(
        &self,
        actor: &Actor,
        staff_id: &str,
        disabled: bool,
    ) -> CoreResult<StaffView>;
    fn unlock_staff(&self, actor: &Actor, staff_id: &str) -> CoreResult<StaffView>;
    fn list_staff(&self, actor: &Actor) -> CoreResult<Vec<StaffView>>;

    // ------------------------------------------------------------ the case steps

    /// Open a case from an appointment or as a walk-in; an authority-ordered freeze is refused
    /// at once (`refused-authority-freeze`).
    fn open_case(
        &self,
        actor: &Actor,
        input: &OpenCaseInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Check the identity document to its standard (fields `kind`, `number`, `mrz_line2`,
    /// `name_on_document`, `reference`).
    fn verify_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &IdentityInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// The supervisor's co-check of a document other than the resident ID card, with their own
    /// credentials now. Errors: `auth-failed`, `forbidden`, `four-eyes`.
    fn cocheck_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Record or amend the application form (dotted field names in `invalid`).
    fn record_form(
        &self,
        actor: &Actor,
        case_id: CaseId,
        form: &ApplicationForm,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// The teller holds the paper signed by the customer.
    fn confirm_signed(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Submit for the supervisor's authorization.
    fn submit(&self, actor: &Actor, case_id: CaseId, idem: Option<&str>) -> CoreResult<CaseView>;
    /// The supervisor's decision with their own credentials now. Errors: `auth-failed`,
    /// `forbidden`, `four-eyes`, `conflict` ("already decided … by …"), `invalid` (reason).
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
    ) -> CoreResult<CaseView>;
    /// Log a contact with the wallet operator (channel, ticket, result).
    fn log_contact(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &ContactInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Confirm the unlock carried out with the operator; a supervisor authorizes now.
    fn confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Record a failed unlock: retry later, or escalate.
    fn record_unlock_failure(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockFailureInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Close an unlocked case: the receipt was printed, or `receipt_waiver` says why not (for
    /// example the customer declined it). Errors: `invalid` field `receipt_waiver` rule
    /// `receipt-not-printed`.
    fn close_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        receipt_waiver: Option<&str>,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Cancel a case (reason required).
    fn cancel_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Ask the wallet operator's connector about the case's wallet (`wallet_id` typed at the
    /// counter, else the form's); recorded on the case and audited (`wallet-status`); a freeze
    /// the operator flags refuses the case. Errors: `invalid` (`wallet_id`; `wallet_operator`
    /// rule `no-connector`: the manual path), `operator-unavailable`, `illegal-transition`.
    fn wallet_status(
        &self,
        actor: &Actor,
        case_id: CaseId,
        wallet_id: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Ask the operator's connector for the unlock of an approved case (a teller or
    /// supervisor: the approval was the four-eyes control), or ask again on a case waiting for
    /// its answer (same idempotency key at the operator). The case comes back `unlocked`,
    /// `unlock-failed`, or still waiting (`operator_unlock.status` = `waiting`), which the
    /// outbox worker settles. Errors: `illegal-transition`, `authority-freeze`, `invalid`
    /// (`wallet_operator` rule `no-connector`), `operator-unavailable` (circuit open, nothing
    /// asked).
    fn request_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Refuse the case as an authority-ordered freeze.
    fn refuse_authority_freeze(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;

    // ------------------------------------------------------------ reads

    /// One case, masked, with the actions core allows this viewer and its history.
    fn case_view(&self, actor: &Actor, case_id: CaseId) -> CoreResult<CaseView>;
    /// One page of cases matching a query (masked summaries), newest first, each flagged when
    /// left open from an earlier day, with their openers' names; `q.after` = the previous
    /// page's `next` reads on. Errors: `forbidden`; `invalid` with field `day`, `from`, `to`,
    /// `opened_by`, `wallet_operator` or `limit` (see [`CaseQuery`]: a range of at most 366
    /// days, `from` ≤ `to`; at most 500 rows a page).
    fn list_cases(&self, actor: &Actor, q: &CaseQuery) -> CoreResult<CasePage>;
    /// The choices of the case list's teller and operator filters. Errors: `forbidden`.
    fn case_filters(&self, actor: &Actor) -> CoreResult<CaseFilters>;
    /// Cases from one search box: a case number, a name, or 4 trailing characters of the ID
    /// number or phone.
    fn find_cases(&self, actor: &Actor, text: &str) -> CoreResult<Vec<CaseSummary>>;
    /// One personal value in full, with a typed reason; audited as `reveal`.
    fn reveal(
        &self,
        actor: &Actor,
        case_id: CaseId,
        field: RevealField,
        reason: &str,
    ) -> CoreResult<String>;
    /// The audit events of one case (auditor, supervisor).
    fn audit_events(&self, actor: &Actor, case_id: CaseId) -> CoreResult<Vec<AuditEvent>>;
    /// Walk the audit chain: OK, or the first broken link.
    fn verify_audit(&self, actor: &Actor) -> CoreResult<AuditVerification>;

    // ------------------------------------------------------------ printing

    /// Render one copy, store it (SHA-256 recorded) and record the print or reprint on the
    /// case as `pending` ([`Case::prints`]); the terminal then reports how it reached paper
    /// with [`Counter::record_delivery`]. Errors: `forbidden`, `illegal-transition` (nothing
    /// to print yet), `render`.
    fn print_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<DocumentRecord>;
    /// How a printed document reached paper: CUPS job and outcome, the viewer fallback, or a
    /// file handed out (audited as `print-delivery`). A `sent` job may be updated to its final
    /// outcome; a `completed` or `failed` print is final. Errors: `forbidden`, `not-found`
    /// (no such print on the case), `conflict` (already final), `invalid` (`channel`,
    /// `job_id`, `outcome`).
    fn record_delivery(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
        delivery: &PrintDelivery,
    ) -> CoreResult<CaseView>;
    /// The stored bytes of a printed document of the case (to show it on the terminal).
    fn document_bytes(
        &self,
        actor: &Actor,
        case_id: CaseId,
        document_id: &str,
    ) -> CoreResult<Vec<u8>>;
    /// Render without storing (an export, audited as `export`).
    fn render_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<Vec<u8>>;

    // ------------------------------------------------------------ appointment book

    /// Today's appointments (branch-local), by slot, masked.
    fn appointments_today(&self, actor: &Actor) -> CoreResult<Vec<Appointment>>;
    /// Counter lookup from one search box; today's first, at most 20, masked.
    fn find_appointments(&self, actor: &Actor, text: &str) -> CoreResult<Vec<Appointment>>;
    /// Insert one booked appointment. Errors: `forbidden`, `conflict` (reference exists).
    fn add_appointment(&self, actor: &Actor, a: &Appointment) -> CoreResult<()>;
    /// Import the call centre's file (CSV or JSON bytes) in one transaction.
    fn import_appointments(
        &self,
        actor: &Actor,
        bytes: &[u8],
        file_name: &str,
    ) -> CoreResult<ImportReport>;
    /// End of day: the day's waiting appointments become no-shows; returns the count.
    fn mark_no_shows(&self, actor: &Actor, day: NaiveDate) -> CoreResult<u32>;

    // ------------------------------------------------------------ backup and restore (admin)

    /// Write a consistent snapshot to `dest` (audited as `backup`).
    fn backup(&self, actor: &Actor, dest: &Path) -> CoreResult<()>;
    /// Replace the store's content with the backup `src`; recorded in the restored chain.
    fn restore(&self, actor: &Actor, src: &Path) -> CoreResult<()>;
    /// Record, in this store's chain, that it was put in place from `src` by a restore that
    /// replaced a damaged database file (the CLI's route when the store could not be opened).
    fn record_restore(&self, actor: &Actor, src: &Path, replaced_damaged: bool) -> CoreResult<()>;

    // ------------------------------------------------------------ the authorization desk

    /// The supervisors' queue (待授权): every request of the branch waiting for a supervisor
    /// (`authorize`, `co-check`, `confirm-unlock`), oldest first, masked; a maker's own request
    /// is listed but never actionable for them. Errors: `forbidden`.
    fn authorization_queue(&self, actor: &Actor) -> CoreResult<Vec<AuthorizationItem>>;
    /// A supervisor opens the request waiting on a case (audited; the others see who has it).
    /// Errors: `forbidden`, `four-eyes` (a maker or the asker), `not-found`,
    /// `illegal-transition` (nothing waits).
    fn open_authorization(&self, actor: &Actor, case_id: CaseId) -> CoreResult<AuthorizationItem>;
    /// The teller asks a supervisor to confirm the unlock the operator carried out (the request
    /// waits in the queue until confirmed or a failure is recorded). Errors: `invalid` field
    /// `operator_reference`, `illegal-transition`, `no-operator-contact`.
    fn request_confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// Attach a scan or photo of the signed application form (PNG, JPEG or PDF by content, at
    /// most 10 MiB) once the form is printed; recorded for the current form revision, audited
    /// with its SHA-256. Errors: `invalid` field `file` (rules `required`, `max-size`,
    /// `type`), `illegal-transition`.
    fn attach_signed_scan(
        &self,
        actor: &Actor,
        case_id: CaseId,
        file_name: &str,
        bytes: &[u8],
        idem: Option<&str>,
    ) -> CoreResult<CaseView>;
    /// The queue's events after audit position `after` (`None`: none, and the head's position
    /// to read on from), at most `limit` (1-1000) audit events scanned. Errors: `forbidden`.
    fn authorization_events(
        &self,
        actor: &Actor,
        after: Option<i64>,
        limit: u32,
    ) -> CoreResult<AuthorizationEvents>;

    // ------------------------------------------------------------ retention and the auditor

    /// The dry run of a purge: what is due for destruction today, per case and record class
    /// ([`crate::retention`]), what a legal hold keeps, and the batch waiting for approval.
    /// Errors: `forbidden` (admin and auditor only).
    fn retention_report(&self, actor: &Actor) -> CoreResult<RetentionReport>;
    /// Prepare a destruction batch of what is due (the first person). Errors: `forbidden`,
    /// `conflict` (a batch waits), `illegal-transition` (nothing due).
    fn prepare_purge(&self, actor: &Actor) -> CoreResult<PurgeBatch>;
    /// Approve a prepared batch and destroy it (the second person: not the preparer, and the
    /// other of administrator and auditor). Errors: `forbidden`, `not-found`, `conflict`,
    /// `four-eyes`.
    fn approve_purge(&self, actor: &Actor, batch_id: &str) -> CoreResult<PurgeBatch>;
    /// Withdraw a prepared batch; nothing is destroyed. Errors: `forbidden`, `not-found`,
    /// `conflict`, `invalid` (`reason`).
    fn withdraw_purge(&self, actor: &Actor, batch_id: &str, reason: &str)
        -> CoreResult<PurgeBatch>;
    /// The customer notifications (SMS) of one case or of all, newest first, at most 500:
    /// status `queued`, `sent` or `failed`, attempts, last error. Errors: `forbidden`
    /// (tellers, supervisors, admins).
    fn notifications(
        &self,
        actor: &Actor,
        case_id: Option<CaseId>,
    ) -> CoreResult<Vec<crate::operator::OutboxMessage>>;
    /// Run one round of the outbox worker now: send due notifications, settle cases waiting
    /// for the operator. Errors: `forbidden`.
    fn deliver_notifications(&self, actor: &Actor) -> CoreResult<crate::service::DeliveryRound>;
    /// The destruction register, newest first. Errors: `forbidden`.
    fn purge_batches(&self, actor: &Actor) -> CoreResult<Vec<PurgeBatch>>;
    /// Put a case, open or closed, under legal hold (admin, auditor). Errors: `forbidden`,
    /// `not-found`, `conflict` (already held), `invalid` (`reason`, 4-500 characters).
    fn set_legal_hold(&self, actor: &Actor, case_id: CaseId, reason: &str)
        -> CoreResult<LegalHold>;
    /// Release the active legal hold of a case. Errors: `forbidden`, `not-found`, `invalid`.
    fn release_legal_hold(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
    ) -> CoreResult<LegalHold>;
    /// Legal holds, newest first (only active ones when `active_only`). Errors: `forbidden`.
    fn legal_holds(&self, actor: &Actor, active_only: bool) -> CoreResult<Vec<LegalHold>>;
    /// One page of the audit trail, newest first, filtered. Errors: `forbidden` (auditor,
    /// supervisor), `invalid` (fields of [`AuditFilter`]).
    fn search_audit(&self, actor: &Actor, filter: &AuditFilter) -> CoreResult<AuditPage>;
    /// The filtered trail as CSV for a spreadsheet ([`crate::auditor::audit_csv`]), audited
    /// as `audit-export`. Errors: as [`Counter::search_audit`], and `invalid` field `to` rule
    /// `too-many`.
    fn export_audit(&self, actor: &Actor, filter: &AuditFilter) -> CoreResult<Vec<u8>>;
    /// Every reveal of a full number (who, when, which case, field, reason), newest first,
    /// one page. Errors: as [`Counter::search_audit`].
    fn audit_reveals(&self, actor: &Actor, filter: &AuditFilter) -> CoreResult<RevealPage>;
}
