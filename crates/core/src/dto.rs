//! The data of the use-case surface ([`crate::api::Counter`]): what the shell, the CLI and
//! the branch server send in and get back. Every type here crosses IPC or the network, so
//! each is exported to TypeScript (ts-rs) and keeps its JSON shape.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use crate::appointments::{ImportReport, RejectedRow};
pub use crate::identity::case::IdentityInput;
use crate::model::*;
use crate::ports::{AuditEvent, DocumentRecord};
use crate::workflow::EventKind;

/// Credentials typed at the moment of authorization (the supervisor's own id and password).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Credentials {
    pub staff_id: String,
    pub password: String,
}

/// A signed-in person at a terminal (desktop session). Made by `Counter::sign_in` only: the
/// fields are private and it cannot be deserialised, so it cannot be forged; the actor it
/// carries is the one the sign-in authenticated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    staff: StaffView,
    actor: Actor,
    signed_in_at: DateTime<Utc>,
    last_activity: DateTime<Utc>,
    /// Locked on demand or after idle minutes; unlocking needs the password again.
    locked: bool,
}

impl Session {
    pub(crate) fn new(staff: StaffView, terminal: &str, now: DateTime<Utc>) -> Self {
        Session {
            actor: Actor::staff(staff.id.clone(), staff.role, terminal),
            staff,
            signed_in_at: now,
            last_activity: now,
            locked: false,
        }
    }
    /// The signed-in staff member as the window may see them.
    pub fn staff(&self) -> &StaffView {
        &self.staff
    }
    /// The terminal the session was opened at.
    pub fn terminal(&self) -> &str {
        self.actor.terminal()
    }
    pub fn signed_in_at(&self) -> DateTime<Utc> {
        self.signed_in_at
    }
    pub fn last_activity(&self) -> DateTime<Utc> {
        self.last_activity
    }
    /// Locked (idle or on demand): only the same person's password unlocks it.
    pub fn is_locked(&self) -> bool {
        self.locked
    }
    /// Lock on demand (the lock button or the window's idle timer); anyone may lock.
    pub fn lock(&mut self) {
        self.locked = true;
    }
    /// True when idle longer than `idle_minutes` at `now` (minutes; 0 never locks).
    pub fn is_idle(&self, now: DateTime<Utc>, idle_minutes: u32) -> bool {
        idle_minutes > 0
            && now - self.last_activity >= chrono::Duration::minutes(i64::from(idle_minutes))
    }
    /// Core's use of the session: refreshed after sign-in, unlock or password change.
    pub(crate) fn refresh(&mut self, staff: StaffView, now: DateTime<Utc>) {
        self.actor = Actor::staff(staff.id.clone(), staff.role, self.actor.terminal());
        self.staff = staff;
        self.locked = false;
        self.last_activity = now;
    }
    pub(crate) fn touched(&mut self, now: DateTime<Utc>) {
        self.last_activity = now;
    }
    pub(crate) fn set_locked(&mut self) {
        self.locked = true;
    }
    pub(crate) fn actor(&self) -> &Actor {
        &self.actor
    }
    /// A session held on a branch server, as the remote client keeps it: the staff member the
    /// server signed in and the remote actor carrying the server's token. The local service
    /// refuses its actor (see [`Actor::remote`]).
    pub fn remote(staff: StaffView, actor: Actor, now: DateTime<Utc>) -> Self {
        Session {
            staff,
            actor,
            signed_in_at: now,
            last_activity: now,
            locked: false,
        }
    }
    /// The remote actor of a branch server session; `None` for a local session.
    pub fn remote_actor(&self) -> Option<&Actor> {
        self.actor.remote_token().map(|_| &self.actor)
    }
    /// The remote client's bookkeeping after the server answered: last activity now, unlocked
    /// (the server keeps the real idle clock).
    pub fn mark_active(&mut self, now: DateTime<Utc>) {
        self.last_activity = now;
        self.locked = false;
    }
    /// The remote client's bookkeeping after the server refused the token.
    pub fn mark_locked(&mut self) {
        self.locked = true;
    }
}

/// First-run set-up: the branch and its first administrator.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SetupInput {
    pub branch_code: String,
    pub branch_name: String,
    pub time_zone: String,
    pub admin_id: String,
    pub admin_name: String,
    pub admin_password: String,
}

/// A new staff account; it must change the password at first sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewStaff {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// Open a case from an appointment, or as a walk-in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpenCaseInput {
    pub appointment_id: Option<AppointmentId>,
    /// Walk-in: customer name (required without an appointment).
    #[serde(default)]
    pub customer_name: String,
    #[serde(default)]
    pub phone: String,
    pub lock_cause: Option<LockCause>,
}

/// An operator contact to log.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactInput {
    pub channel: ContactChannel,
    pub ticket: String,
    pub result: String,
}

/// The unlock as confirmed with the operator.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UnlockInput {
    pub operator_reference: String,
    pub notified_via: NotificationChannel,
}

/// A failed unlock.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UnlockFailureInput {
    pub reason: String,
    pub next: UnlockFailureNext,
    #[serde(default)]
    pub operator_ticket: String,
}

/// A case as shown to staff: personal numbers masked, the actions core allows, the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseView {
    pub case: Case,
    /// Events the state table allows now and the viewer's role may start.
    pub allowed: Vec<EventKind>,
    pub history: Vec<AuditEvent>,
    pub documents: Vec<DocumentRecord>,
    /// The refusal route for an authority-ordered freeze, when it applies.
    pub freeze_route: Option<String>,
    /// The materials checklist for this branch (standard three plus the branch's extras).
    pub required_materials: Vec<String>,
    /// The document the form names, as verified at the identity step (number masked), when it
    /// has a number to compare (not an e-ID or a bank card): a number left blank on the form
    /// means this one.
    pub form_document: Option<FormDocument>,
    /// A supervisor must still co-check the verified document (双人审核).
    pub cocheck_needed: bool,
    /// The recorded form as the draft of an amendment: the personal numbers an amendment keeps
    /// when left blank (phone, wallet id, document and agent numbers) are blank, the optional
    /// bank card keeps its mask (sent back unchanged it is kept, cleared it is removed).
    pub amendment_draft: Option<ApplicationForm>,
    /// Steps the state has but the evidence refuses now, with the reason.
    pub blocked: Vec<BlockedStep>,
    /// Form fields from the verified document.
    pub prefill: Option<FormPrefill>,
    /// The bank copy of the current form revision was printed (needed before signing).
    pub form_printed: bool,
    /// A receipt was printed (else closing needs a reason).
    pub receipt_printed: bool,
    /// Prints that were reprints.
    pub reprints: u32,
    /// Branch policy: the online identity check is required for a citizen number.
    pub online_check_required: bool,
    /// Branch policy: agents may apply.
    pub agents_allowed: bool,
    /// Branch policy: a scan of the signed form (current revision) before submit.
    #[serde(default)]
    pub signed_scan_required: bool,
    /// A connector serves the case's wallet operator: the screen offers the wallet status and
    /// "request unlock"; otherwise the manual path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub operator_connector: Option<bool>,
    /// The customer notifications (SMS) of the case, newest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub notifications: Option<Vec<crate::operator::OutboxMessage>>,
    /// The names of the staff this view mentions, staff id → display name: the opener and
    /// makers, the identity checker and co-checker, the authorizer, the unlock's confirmer,
    /// whoever logged a contact, printed or failed an unlock, every history actor and the staff
    /// an event's detail names (`operator`, `supervisor`, `authorized_by`, `cochecked_by`).
    /// A disabled account keeps its name (the record says who acted then); an id without an
    /// account (a system actor such as `import` or `cli`) is absent: screens show the bare id.
    #[serde(default)]
    pub staff: BTreeMap<String, String>,
    /// What waits for a supervisor on this case (waiting since, who has it opened, whether this
    /// viewer may decide it), when something does.
    #[serde(default)]
    pub pending_authorization: Option<crate::authorizations::AuthorizationItem>,
    /// How long the case's records are kept (from its close), its active legal hold, and the
    /// classes already destroyed (a tombstone).
    #[serde(default)]
    pub retention: Option<crate::retention::RetentionStatus>,
}

/// How a printed document reached paper, as the terminal reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PrintDelivery {
    pub channel: PrintChannel,
    /// CUPS queue name (channel `cups`).
    #[serde(default)]
    pub printer: Option<String>,
    /// CUPS job id, e.g. `CUPS-PDF-12` (channel `cups`, unless the job was refused).
    #[serde(default)]
    pub job_id: Option<String>,
    /// `sent`, `completed` or `failed` (never `pending`).
    pub outcome: PrintOutcome,
    /// What CUPS or the viewer said (required when failed).
    #[serde(default)]
    pub message: String,
}

/// A step the state allows but the case's evidence does not yet: what to do first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BlockedStep {
    pub event: EventKind,
    /// `not-printed`, `receipt-not-printed`, `no-operator-contact`, `authority-freeze`,
    /// `anti-fraud-restriction`, `cocheck-required`, `not-signed`, …
    pub rule: String,
    pub message: String,
}

/// What the verified document already says, for the form: filled in and locked there.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FormPrefill {
    pub sex: Option<Sex>,
    /// ISO 3166 alpha-3 (`CHN`), when the document says.
    pub nationality: String,
    /// `YYYY-MM-DD`, `long-term`, or empty when the document does not say.
    pub id_valid_until: String,
    /// Birth date as the document encodes it.
    pub birth_date: Option<chrono::NaiveDate>,
    /// The Latin name from the MRZ.
    pub customer_name_latin: String,
    /// The form fields filled from the document (`sex`, `nationality`, `id_valid_until`,
    /// `customer_name_latin`): shown read-only.
    pub locked: Vec<String>,
}

/// The verified document a form names: its type and masked number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct FormDocument {
    pub kind: DocumentType,
    /// Masked (first 3 and last 4 characters).
    pub number: String,
}

/// Personal fields that an audited reveal may show in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum RevealField {
    IdNumber,
    Phone,
    BankCard,
    WalletId,
}

/// The explanation given when the lock is an anti-fraud restriction designated by the police.
pub const ANTI_FRAUD_ROUTE: &str = "This account is restricted under the anti-fraud rules \
(电信网络诈骗联合惩戒, designated by the public-security organ). The counter cannot lift it. \
The customer may appeal to the public-security organ that designated the restriction (or \
through the bank's complaint channel, which forwards it); the restriction is lifted only by \
that organ's decision.";

/// The explanation given when a case is an authority-ordered freeze.
pub const FREEZE_ROUTE: &str = "This wallet is frozen by order of a court or the police (不收不付 / 只收不付). \
The counter cannot lift it. The customer must ask the ordering authority for a release \
document (解除冻结通知书); the release is then processed by the bank's legal department, not at the counter.";

/// One page of cases ([`crate::api::Counter::list_cases`]), newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CasePage {
    pub cases: Vec<crate::ports::CaseSummary>,
    /// More cases match than this page holds: ask again with `after` = `next`.
    pub more: bool,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<crate::ports::CaseCursor>,
    /// The branch-local date the page was read on, the "today" of
    /// [`crate::ports::CaseSummary::open_from_earlier_day`].
    #[ts(type = "string")]
    pub today: chrono::NaiveDate,
    /// Display names of the staff who opened the cases on this page (staff id → name);
    /// an id without an account is absent (screens show the bare id).
    pub staff: std::collections::BTreeMap<String, String>,
}

/// The choices of a case query's teller and operator filters
/// ([`crate::api::Counter::case_filters`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseFilters {
    /// The branch-local date now.
    #[ts(type = "string")]
    pub today: chrono::NaiveDate,
    /// Staff whose role may open cases, disabled accounts included (their cases stay on
    /// record), by id.
    pub tellers: Vec<CaseTeller>,
    /// Every wallet operator a case shows, sorted.
    pub operators: Vec<String>,
}

/// A teller as a filter choice: id and display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseTeller {
    pub id: StaffId,
    pub name: String,
    /// The account is disabled (shown so; its cases remain).
    pub disabled: bool,
}
