//! Domain vocabulary: ids, roles, case states, lock causes, and the records a case carries.
//!
//! Every enum serialises in one kebab-case spelling shared by Rust, TypeScript, the CLI and
//! the database.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};

/// `LockCause` → `lock_cause`: the field name a parse error of an enum reports.
pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

macro_rules! kebab_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS,
        )]
        #[serde(rename_all = "kebab-case")]
        #[ts(export)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The kebab-case spelling used everywhere.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
        impl std::str::FromStr for $name {
            type Err = CoreError;
            fn from_str(s: &str) -> CoreResult<Self> {
                match s.trim() {
                    $($s => Ok($name::$variant),)+
                    other => Err(CoreError::field(
                        &snake_case(stringify!($name)),
                        "one-of",
                        format!("'{}' is not one of: {}", other, [$($s),+].join(", ")),
                    )),
                }
            }
        }
    };
}

kebab_enum!(
    /// Where a case stands. Main path: checked-in → identity-verified → form-recorded →
    /// form-signed → submitted → approved → unlocked → closed (docs/domain.md §2).
    CaseState {
        CheckedIn = "checked-in",
        IdentityVerified = "identity-verified",
        /// Captured and printed, not yet signed.
        FormRecorded = "form-recorded",
        FormSigned = "form-signed",
        Submitted = "submitted",
        ReturnedForInfo = "returned-for-info",
        Approved = "approved",
        Rejected = "rejected",
        Unlocked = "unlocked",
        UnlockFailed = "unlock-failed",
        Closed = "closed",
        Cancelled = "cancelled",
        RefusedAuthorityFreeze = "refused-authority-freeze",
        /// The online citizen-identity check (联网核查) of the customer or the agent did not
        /// match, or found no such number: the case stops with the reason and its reference.
        RefusedIdentity = "refused-identity",
    }
);

impl CaseState {
    /// No event leaves a terminal state.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CaseState::Closed
                | CaseState::Cancelled
                | CaseState::Rejected
                | CaseState::RefusedAuthorityFreeze
                | CaseState::RefusedIdentity
        )
    }
}

kebab_enum!(
    /// What a request in the supervisors' queue (待授权) asks for (see `crate::authorizations`).
    AuthorizationKind {
        /// Decide a submitted case: approve, return for more information, or reject.
        Authorize = "authorize",
        /// Co-check an identity document other than the resident ID card (双人审核).
        CoCheck = "co-check",
        /// Confirm the unlock the operator carried out (manual path).
        ConfirmUnlock = "confirm-unlock",
    }
);

kebab_enum!(
    /// Status of a booked appointment. `no-show` belongs to appointments only.
    AppointmentStatus {
        Waiting = "waiting",
        CheckedIn = "checked-in",
        InProgress = "in-progress",
        Done = "done",
        NoShow = "no-show",
    }
);

kebab_enum!(
    /// Why the wallet is locked (seed text, 数字钱包锁定的原因, plus bank practice).
    LockCause {
        WrongPassword = "wrong-password",
        AbnormalActivity = "abnormal-activity",
        PaymentFailures = "payment-failures",
        SelfLocked = "self-locked",
        IdDataExpired = "id-data-expired",
        /// Court- or police-ordered freeze (不收不付 / 只收不付): never lifted at the counter.
        AuthorityFreeze = "authority-freeze",
        /// A restriction the police designated under the anti-fraud rules (电信网络诈骗
        /// 联合惩戒, Anti-Telecom and Online Fraud Law 2022 Art. 31): never lifted at the
        /// counter either; the customer appeals to the designating public-security organ.
        AntiFraudRestriction = "anti-fraud-restriction",
    }
);

impl LockCause {
    /// A cause the counter cannot lift (an authority-ordered freeze, an anti-fraud
    /// restriction): the case is refused and the route explained.
    pub fn counter_cannot_lift(self) -> bool {
        matches!(
            self,
            LockCause::AuthorityFreeze | LockCause::AntiFraudRestriction
        )
    }
}

kebab_enum!(
    /// Staff roles (docs/domain.md §2).
    Role {
        Teller = "teller",
        Supervisor = "supervisor",
        Admin = "admin",
        Auditor = "auditor",
    }
);

kebab_enum!(
    /// What the customer asks for on the form (docs/domain.md §3).
    RequestedAction {
        Unlock = "unlock",
        ResetPassword = "reset-password",
        UpdateIdData = "update-id-data",
    }
);

kebab_enum!(
    /// A supervisor's decision on a submitted case.
    Decision {
        Approve = "approve",
        ReturnForInfo = "return-for-info",
        Reject = "reject",
    }
);

kebab_enum!(
    /// Channel of a contact with the wallet operator (钱包服务商).
    ContactChannel {
        Phone = "phone",
        OperatorPortal = "operator-portal",
        Email = "email",
        Api = "api",
    }
);

kebab_enum!(
    /// How the customer was told the outcome.
    NotificationChannel {
        InPerson = "in-person",
        Sms = "sms",
        Phone = "phone",
    }
);

kebab_enum!(
    /// After a failed unlock: try again with the operator, or escalate to them.
    UnlockFailureNext {
        Retry = "retry",
        Escalate = "escalate",
    }
);

kebab_enum!(
    /// Sex as printed on the form.
    Sex {
        Male = "male",
        Female = "female",
        Unspecified = "unspecified",
    }
);

kebab_enum!(
    /// A kind of identity evidence a case records or a form names: every kind the identity
    /// rules check (`crate::identity::DocKind`) and the electronic ID (e-ID, verified online
    /// with a reference).
    #[derive(Default)]
    DocumentType {
        /// Resident ID card, GB 11643-1999 (18 characters); the default of a new form.
        #[default]
        PrcId = "prc-id",
        /// Legacy 15-digit resident ID, GB 11643-1989.
        #[serde(rename = "prc-id-15")]
        PrcId15 = "prc-id-15",
        ResidencePermit = "residence-permit",
        HkMacauPermit = "hk-macau-permit",
        TaiwanPermit = "taiwan-permit",
        ForeignPermanentId = "foreign-permanent-id",
        PassportMrz = "passport-mrz",
        DrivingLicence = "driving-licence",
        BankCard = "bank-card",
        EId = "e-id",
        /// A mobile number named as the document: the importer and the form accepted it
        /// before this type existed, so stored bookings and forms may hold it. It proves no
        /// identity (the identity step refuses it) and never matches a verified document.
        Mobile = "mobile",
    }
);

/// Every closed set serialises as its `as_str` spelling, and parses back from it (a
/// kebab-case derive alone would write `prc-id15` and `cli-reader`).
#[cfg(test)]
#[test]
fn every_closed_set_serialises_as_its_spelling() {
    fn check<T>(all: &[T])
    where
        T: Copy + Serialize + std::fmt::Display + std::str::FromStr + PartialEq + fmt::Debug,
        <T as std::str::FromStr>::Err: fmt::Debug,
    {
        for t in all {
            assert_eq!(serde_json::to_value(t).unwrap(), t.to_string());
            assert_eq!(t.to_string().parse::<T>().unwrap(), *t);
        }
    }
    check(CaseState::ALL);
    check(AppointmentStatus::ALL);
    check(LockCause::ALL);
    check(Role::ALL);
    check(RequestedAction::ALL);
    check(Decision::ALL);
    check(ContactChannel::ALL);
    check(NotificationChannel::ALL);
    check(UnlockFailureNext::ALL);
    check(Sex::ALL);
    check(DocumentType::ALL);
    check(ReasonCode::ALL);
    check(SystemActor::ALL);
    check(OnlineCheckResult::ALL);
    check(PrintChannel::ALL);
    check(PrintOutcome::ALL);
}

impl DocumentType {
    /// The identity rules' kind for this document; `None` for the e-ID (no number to check).
    pub fn doc_kind(self) -> Option<crate::identity::DocKind> {
        use crate::identity::DocKind as K;
        Some(match self {
            DocumentType::PrcId => K::PrcId,
            DocumentType::PrcId15 => K::PrcId15,
            DocumentType::ResidencePermit => K::ResidencePermit,
            DocumentType::HkMacauPermit => K::HkMacauPermit,
            DocumentType::TaiwanPermit => K::TaiwanPermit,
            DocumentType::ForeignPermanentId => K::ForeignPermanentId,
            DocumentType::PassportMrz => K::PassportMrz,
            DocumentType::DrivingLicence => K::DrivingLicence,
            DocumentType::BankCard => K::BankCard,
            DocumentType::Mobile => K::Mobile,
            DocumentType::EId => return None,
        })
    }
    /// The document type of a checked kind (every kind has one).
    pub fn of_kind(kind: crate::identity::DocKind) -> Self {
        use crate::identity::DocKind as K;
        match kind {
            K::PrcId => DocumentType::PrcId,
            K::PrcId15 => DocumentType::PrcId15,
            K::ResidencePermit => DocumentType::ResidencePermit,
            K::HkMacauPermit => DocumentType::HkMacauPermit,
            K::TaiwanPermit => DocumentType::TaiwanPermit,
            K::ForeignPermanentId => DocumentType::ForeignPermanentId,
            K::PassportMrz => DocumentType::PassportMrz,
            K::DrivingLicence => DocumentType::DrivingLicence,
            K::BankCard => DocumentType::BankCard,
            K::Mobile => DocumentType::Mobile,
        }
    }
    /// Documents that carry a citizen identity number the online check (联网核查 against the
    /// public-security citizen database) can verify: the resident ID card (both generations)
    /// and the residence permit for Hong Kong, Macao and Taiwan residents (GB 11643 numbers).
    pub fn has_citizen_number(self) -> bool {
        matches!(
            self,
            DocumentType::PrcId | DocumentType::PrcId15 | DocumentType::ResidencePermit
        )
    }
    /// Evidence with a document number to compare between the identity step and the form
    /// (not an e-ID, not a bank card).
    pub fn has_document_number(self) -> bool {
        !matches!(self, DocumentType::EId | DocumentType::BankCard)
    }
}

kebab_enum!(
    /// Reason codes for a supervisor's return or rejection (the free text goes beside them).
    ReasonCode {
        IdentityDoubt = "identity-doubt",
        FormIncomplete = "form-incomplete",
        SignatureMissing = "signature-missing",
        MaterialsMissing = "materials-missing",
        OperatorRefused = "operator-refused",
        SuspectedFraud = "suspected-fraud",
        Other = "other",
    }
);

/// A case's identity: a UUID, stable forever. Humans use [`Case::case_number`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export, type = "string")]
pub struct CaseId(pub Uuid);

impl CaseId {
    pub fn parse(s: &str) -> CoreResult<Self> {
        Uuid::parse_str(s.trim()).map(CaseId).map_err(|_| {
            CoreError::field(
                "case_id",
                "format",
                format!("'{s}' is not a case id (UUID)"),
            )
        })
    }
}
impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An appointment's id (UUID); the call centre's own key is `reference`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export, type = "string")]
pub struct AppointmentId(pub Uuid);

impl fmt::Display for AppointmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A staff member's login id in canonical form: trimmed, ASCII lower-case, full-width folded.
/// `sup01` and `SUP01` are one person (four-eyes compares canonical ids).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export, type = "string")]
pub struct StaffId(String);

impl StaffId {
    /// Canonicalise and check: 2–32 characters of `a-z 0-9 . _ -` after folding.
    /// Errors: field `staff_id`, rules `required` / `format`.
    pub fn parse(raw: &str) -> CoreResult<Self> {
        let folded: String = crate::normalize::fold_width(raw.trim()).to_ascii_lowercase();
        if folded.is_empty() {
            return Err(CoreError::field(
                "staff_id",
                "required",
                "staff id is required",
            ));
        }
        if folded.len() < 2
            || folded.len() > 32
            || !folded.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
        {
            return Err(CoreError::field(
                "staff_id",
                "format",
                format!("'{raw}' is not a staff id (2-32 of a-z, 0-9, '.', '_', '-')"),
            ));
        }
        Ok(StaffId(folded))
    }
    /// Non-staff actors recorded in the audit trail (`cli`, `import`, `system`).
    pub fn system(name: &str) -> Self {
        StaffId(name.to_ascii_lowercase())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for StaffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Branch profile and configuration (admin-owned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Branch {
    /// Short branch code printed in case numbers, e.g. `BJ001`.
    pub code: String,
    pub name: String,
    /// IANA time zone; "today" is the branch's local date in it. Default `Asia/Shanghai`.
    pub time_zone: String,
    /// Minutes of inactivity before a desktop session locks. Default 5.
    pub idle_lock_minutes: u32,
    /// Failed sign-ins before an account locks. Default 5.
    pub max_failed_logins: u32,
    /// Extra materials the branch asks for, beyond the three standard ones.
    pub extra_materials: Vec<String>,
    /// Print full numbers on the bank copy (the archive rule); the customer copy always masks.
    pub bank_copy_unmasked: bool,
    /// Years the case record with its identity copy is kept after the case closes: at least
    /// 10 (Anti-Money Laundering Law, 2024 revision, Art. 34: customer identity data at least
    /// ten years after the business relationship ends). Default 10.
    pub retention_years: u32,
    /// Which evidence proves identity at this branch (docs/domain.md §1 step 3). Branches
    /// stored before the field existed read as the default table.
    #[serde(default)]
    pub id_policy: crate::identity::policy::IdPolicy,
    /// The online citizen-identity check (联网核查) is required for a document with a citizen
    /// number (customer and agent). Default true; branches stored before the field read true.
    #[serde(default = "yes")]
    pub online_check_required: bool,
    /// Whether an agent (代理人) may apply for an unlock at all; off by default (a password
    /// reset is usually 本人办理). A minor's guardian is always allowed.
    #[serde(default)]
    pub agents_allowed: bool,
    /// A scan or photo of the signed application form (of the current revision) must be
    /// attached before the case is submitted. Off by default: the paper itself is the voucher.
    #[serde(default)]
    pub signed_scan_required: bool,
    /// Years signed forms, receipts and attached scans (the counter's vouchers) are kept after
    /// the case closes: at least 10 (AML Law Art. 34, transaction records); 30 when the signed
    /// forms are filed as accounting vouchers (会计档案管理办法, 2015, Art. 14 and its table).
    /// Default 30; branches stored before the field read 30.
    #[serde(default = "voucher_years")]
    pub voucher_retention_years: u32,
    /// Which wallet operators have a connector, and where (contract `docs/operator-api.md`);
    /// an operator not listed is served the manual way. `UNLOCKDESK_OPERATOR_URL`, when set,
    /// serves every operator and overrides this list. Absent on branches stored before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub operator_connectors: Option<Vec<OperatorConnector>>,
}

/// A wallet operator served by a connector: the operator's name as on the form, and the
/// base URL of its API (`http(s)://host:port`, no path); its SMS gateway answers there too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OperatorConnector {
    pub wallet_operator: String,
    pub base_url: String,
}

fn yes() -> bool {
    true
}

fn voucher_years() -> u32 {
    crate::retention::VOUCHER_ARCHIVE_YEARS
}

impl Branch {
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }
    /// The branch's local calendar date at `now`.
    pub fn local_date(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.tz()).date_naive()
    }
    pub fn local_datetime(&self, now: DateTime<Utc>) -> NaiveDateTime {
        now.with_timezone(&self.tz()).naive_local()
    }
}

/// A staff account. The password hash is argon2id PHC text; it never leaves the store/core.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    pub id: StaffId,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub must_change_password: bool,
    pub failed_logins: u32,
    pub locked: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// What the UI and CLI may see of a staff account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StaffView {
    pub id: StaffId,
    pub name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub locked: bool,
    pub disabled: bool,
}

impl From<&Staff> for StaffView {
    fn from(s: &Staff) -> Self {
        StaffView {
            id: s.id.clone(),
            name: s.name.clone(),
            role: s.role,
            must_change_password: s.must_change_password,
            locked: s.locked,
            disabled: s.disabled,
        }
    }
}

/// Who is acting, as recorded in the audit trail: a signed-in staff member (with the role
/// their account has) or one of the named [`SystemActor`]s, always at a terminal.
///
/// Built only by core: by sign-in and authentication (`Counter::sign_in`,
/// `Counter::authenticate`), or as a named system actor (`Counter::system_actor`,
/// `Counter::first_run_actor`). The fields are private and the type cannot be deserialised,
/// so no front end can make up an actor, and every use case checks the actor it is given
/// against [`crate::permissions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    staff_id: StaffId,
    role: Option<Role>,
    terminal: String,
    system: Option<SystemActor>,
    /// The session token of a branch server, carried by the remote client's actor only.
    /// Never serialised; the local service refuses an actor that has one.
    #[serde(skip)]
    remote_token: Option<std::sync::Arc<str>>,
}

impl Actor {
    /// A staff member authenticated by core.
    pub(crate) fn staff(staff_id: StaffId, role: Role, terminal: &str) -> Self {
        Actor {
            staff_id,
            role: Some(role),
            terminal: terminal.to_string(),
            system: None,
            remote_token: None,
        }
    }
    /// The actor of a session on a branch server, as the remote client holds it: what the
    /// server said at sign-in plus the session token that every request carries. Only the
    /// server can act on it: the local service refuses it (`forbidden`), so a made-up remote
    /// actor gains nothing locally, and the server trusts only the token.
    pub fn remote(staff_id: StaffId, role: Role, terminal: &str, token: &str) -> Self {
        Actor {
            staff_id,
            role: Some(role),
            terminal: terminal.to_string(),
            system: None,
            remote_token: Some(token.into()),
        }
    }
    /// The branch server's session token of a remote actor; `None` for every local actor.
    pub fn remote_token(&self) -> Option<&str> {
        self.remote_token.as_deref()
    }
    /// A named system actor (no staff account behind it). Public because
    /// [`crate::Counter::system_actor`] hands it to anyone already; each may do only what
    /// [`crate::permissions::allows_system`] lists.
    pub fn system(kind: SystemActor, terminal: &str) -> Self {
        Actor {
            staff_id: StaffId::system(kind.as_str()),
            role: None,
            terminal: terminal.to_string(),
            system: Some(kind),
            remote_token: None,
        }
    }
    /// The staff id recorded for this actor (`import`, `cli`, `first-run` for system actors).
    pub fn staff_id(&self) -> &StaffId {
        &self.staff_id
    }
    /// The staff member's role; `None` for a system actor.
    pub fn role(&self) -> Option<Role> {
        self.role
    }
    /// The terminal (workstation) id, e.g. `desk:<host>` or `cli:<os user>`.
    pub fn terminal(&self) -> &str {
        &self.terminal
    }
    /// Which system actor this is; `None` for a staff member.
    pub fn system_kind(&self) -> Option<SystemActor> {
        self.system
    }
}

kebab_enum!(
    /// Actors that are not a person with an account. Each may do only what
    /// [`crate::permissions::allows_system`] lists.
    SystemActor {
        /// The scheduled import of the call centre's appointment file (no login).
        Import = "import",
        /// The CLI's masked read-only subcommands run without `--as` (`case list|show`,
        /// `appointments find|today`, `audit verify`, the customer copy of `form render`).
        #[serde(rename = "cli")]
        CliReader = "cli",
        /// Loading demo data on an empty store (before any account exists).
        FirstRun = "first-run",
        /// The outbox worker: delivers queued notifications and settles cases waiting for the
        /// wallet operator's answer, in the app (standalone) or in the branch server.
        OutboxWorker = "outbox-worker",
    }
);

/// A booked appointment from the call centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Appointment {
    pub id: AppointmentId,
    /// The call centre's reference (unique).
    pub reference: String,
    pub name: String,
    /// Normalised 11-digit mobile number (C2: masked when shown).
    pub phone: String,
    /// Kind of the ID document booked (`prc-id`, `passport-mrz`, ...).
    pub id_type: DocumentType,
    /// Full number or its last 4 (C2).
    pub id_number: String,
    pub wallet_operator: String,
    pub lock_cause: LockCause,
    pub slot_start: NaiveDateTime,
    pub slot_end: NaiveDateTime,
    pub notes: String,
    pub status: AppointmentStatus,
    pub case_id: Option<CaseId>,
}

kebab_enum!(
    /// Result of the online citizen-identity check (联网核查) against the public-security
    /// citizen database: 一致 / 不一致 / 库中无此号.
    OnlineCheckResult {
        Match = "match",
        Mismatch = "mismatch",
        NotFound = "not-found",
    }
);

/// An online citizen-identity check (联网核查) as done on the bank's terminal: its result and
/// the check's serial number (联网核查流水号), which the bank files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OnlineCheck {
    pub result: OnlineCheckResult,
    /// The check's serial number (1-64 printable characters).
    pub reference: String,
}

/// A second factor on the no-ID-card path (face recognition, SMS to the registered phone,
/// …): which one, whether it passed, the face-comparison score (0-100) and its reference.
/// The code or PIN itself is never recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SecondFactorCheck {
    pub kind: crate::identity::policy::SecondFactor,
    pub passed: bool,
    /// Face-verification similarity score, 0-100 (required for `face-verification` only).
    pub score: Option<u8>,
    pub reference: String,
}

kebab_enum!(
    /// How a document reached paper: the terminal's CUPS printer, a PDF viewer (the
    /// fallback), or a file handed out by the CLI.
    PrintChannel {
        Cups = "cups",
        Viewer = "viewer",
        File = "file",
    }
);

kebab_enum!(
    /// A print's outcome: `pending` until the terminal reports it, `sent` when CUPS accepted
    /// the job (not yet seen completed), `completed`, or `failed` (with the message).
    PrintOutcome {
        Pending = "pending",
        Sent = "sent",
        Completed = "completed",
        Failed = "failed",
    }
);

/// One print (or reprint) of a document of the case, with its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PrintRecord {
    /// The stored document (`DocumentRecord::id`).
    pub document_id: String,
    pub kind: crate::print::DocumentKind,
    pub copy: crate::print::CopyKind,
    /// The form revision printed (application form; the receipt records the current one).
    pub form_revision: u32,
    /// True when the same document and copy was printed before.
    pub reprint: bool,
    /// How it was delivered; `None` while pending.
    pub channel: Option<PrintChannel>,
    /// CUPS queue name, when printed through CUPS.
    pub printer: Option<String>,
    /// CUPS job id (`QUEUE-N`), when one was accepted.
    pub job_id: Option<String>,
    pub outcome: PrintOutcome,
    /// What CUPS or the viewer said, for a failed or fallback print.
    pub message: String,
    pub by: StaffId,
    pub at: DateTime<Utc>,
}

impl PrintRecord {
    /// The paper is in the teller's hand: the CUPS job completed, or the copy was handed out
    /// as a file or opened in the viewer (recorded `completed`). A job CUPS only accepted
    /// (`sent`) does not count yet: it may sit held on a stopped queue and never print.
    pub fn delivered(&self) -> bool {
        self.outcome == PrintOutcome::Completed
    }
}

/// The identity check recorded at the identity step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IdentityRecord {
    /// Document kind (`prc-id`, `passport-mrz`, `bank-card`, `e-id`, ...).
    pub kind: DocumentType,
    /// Normalised document number (C2).
    pub number: String,
    pub name_on_document: String,
    pub birth_date: Option<NaiveDate>,
    pub expiry: Option<NaiveDate>,
    /// Whether the name on the document matched the customer's name.
    pub name_matches: bool,
    /// Second factor / reference for alternatives (e-ID verification ref, bank-card second factor).
    pub reference: Option<String>,
    /// True when the document is not the resident ID card: a supervisor must co-check (双人审核).
    pub needs_cocheck: bool,
    pub checked_by: StaffId,
    pub checked_at: DateTime<Utc>,
    /// The supervisor who co-checked, when required.
    pub cochecked_by: Option<StaffId>,
    pub cochecked_at: Option<DateTime<Utc>>,
    /// Holder is a minor: the guardian/agent path applies.
    pub minor: bool,
    /// The online citizen-identity check (联网核查), when done.
    #[serde(default)]
    pub online_check: Option<OnlineCheck>,
    /// The second factor on the no-ID-card path, when one was used.
    #[serde(default)]
    pub second_factor: Option<SecondFactorCheck>,
    /// Sex as the document says (the citizen number's sequence digit, or the MRZ).
    #[serde(default)]
    pub sex: Option<Sex>,
    /// Nationality as the document says (ISO 3166 alpha-3, `CHN` for a resident ID card).
    #[serde(default)]
    pub nationality: String,
    /// The Latin name from an MRZ (`SURNAME GIVEN NAMES`).
    #[serde(default)]
    pub name_latin: String,
    /// The document is valid long-term (长期), as entered at the counter.
    #[serde(default)]
    pub long_term: bool,
}

/// Someone acting for the customer (代理人).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[ts(export)]
pub struct Agent {
    pub name: String,
    pub id_type: DocumentType,
    pub id_number: String,
    pub phone: String,
    pub relationship: String,
    /// The agent's online citizen-identity check (联网核查), when the agent's document has a
    /// citizen number.
    #[serde(default)]
    pub online_check: Option<OnlineCheck>,
}

/// The application form (业务申请书), docs/domain.md §3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, Default)]
#[ts(export)]
pub struct ApplicationForm {
    pub customer_name: String,
    /// Latin name (for passports; MRZ name match).
    #[serde(default)]
    pub customer_name_latin: String,
    pub sex: Option<Sex>,
    pub nationality: String,
    pub occupation: String,
    pub address: String,
    pub phone: String,
    pub id_type: DocumentType,
    pub id_number: String,
    /// Document validity end, `YYYY-MM-DD`, or empty for long-term (长期).
    pub id_valid_until: String,
    #[serde(default)]
    pub agent: Option<Agent>,
    pub wallet_operator: String,
    pub wallet_id: String,
    /// Wallet class (e.g. "1", "2", "3", "4" for the e-CNY classes) as text.
    pub wallet_class: String,
    pub lock_cause: Option<LockCause>,
    pub requested_action: Option<RequestedAction>,
    pub reason: String,
    /// Linked bank card, optional (C2).
    #[serde(default)]
    pub bank_card: String,
    pub declaration_true: bool,
    pub consent_query: bool,
    pub risk_acknowledged: bool,
    /// Materials checklist: labels ticked as presented.
    #[serde(default)]
    pub materials: Vec<String>,
}

/// A contact with the wallet operator, logged on the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OperatorContact {
    pub channel: ContactChannel,
    pub at: DateTime<Utc>,
    pub ticket: String,
    pub result: String,
    pub by: StaffId,
}

/// The supervisor's decision as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Authorization {
    pub decision: Decision,
    pub supervisor: StaffId,
    pub reason_code: Option<ReasonCode>,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// The unlock as carried out with the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UnlockRecord {
    pub operator_reference: String,
    pub notified_via: NotificationChannel,
    pub notified_at: DateTime<Utc>,
    pub confirmed_by: StaffId,
    pub authorized_by: StaffId,
    pub at: DateTime<Utc>,
}

/// A teller's request that a supervisor confirm the unlock carried out with the operator (the
/// manual path, 远程授权): what the operator answered, waiting in the supervisors' queue
/// (待授权) until a supervisor confirms it, a failure is recorded, or the case ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UnlockRequest {
    /// The operator's reference of the unlock (1-64 printable characters).
    pub operator_reference: String,
    pub notified_via: NotificationChannel,
    /// The teller who asked; never the one who confirms (four-eyes).
    pub by: StaffId,
    pub at: DateTime<Utc>,
}

kebab_enum!(
    /// Where the unlock asked of the operator's connector stands.
    OperatorUnlockStatus {
        /// Sent (or about to be), no final answer yet: settled by status queries.
        Waiting = "waiting",
        Confirmed = "confirmed",
        Rejected = "rejected",
    }
);

/// The unlock asked of the operator's connector (after the supervisor's approval).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OperatorUnlock {
    /// The `Idempotency-Key` of the request: one per unlock attempt, reused by every retry.
    pub key: String,
    /// Who asked (a teller or supervisor of the branch).
    pub by: StaffId,
    pub at: DateTime<Utc>,
    pub status: OperatorUnlockStatus,
    /// Calls made to the operator for this key (request and status queries).
    pub calls: u32,
    /// The last answer, in words (English, no personal data): "no answer: timed out", ….
    pub last_answer: String,
    /// The operator's reference once confirmed; its refusal code once rejected.
    pub reference: String,
    pub settled_at: Option<DateTime<Utc>>,
}

/// A wallet status asked of the operator, as recorded on the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WalletCheck {
    /// The wallet asked about, masked (a typed id may differ from the form's).
    #[serde(default)]
    pub wallet: String,
    pub status: crate::operator::WalletStatus,
    pub by: StaffId,
    pub at: DateTime<Utc>,
}

/// A scan or photo of the signed application form, attached by the teller and shown to the
/// supervisor. The bytes are a stored document (`DocumentKind::SignedScan`, checked by SHA-256
/// on every read); an amended form needs a new signature and a new scan (`form_revision`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SignedScan {
    /// The stored document (`DocumentRecord::id`).
    pub document_id: String,
    /// The form revision the signed paper is a print of.
    pub form_revision: u32,
    /// `image/png`, `image/jpeg` or `application/pdf`, from the content (never the name).
    pub media_type: String,
    pub bytes: i64,
    pub sha256: String,
    /// The file's name as the teller picked it (display only).
    pub file_name: String,
    pub by: StaffId,
    pub at: DateTime<Utc>,
}

/// A failed unlock attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UnlockFailure {
    pub reason: String,
    pub next: UnlockFailureNext,
    pub operator_ticket: String,
    pub by: StaffId,
    pub at: DateTime<Utc>,
}

/// A case: one customer's unlock request from check-in to close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Case {
    pub id: CaseId,
    /// Human number printed on forms: `BRANCH-YYYYMMDD-NNNN` (branch-local date).
    pub case_number: String,
    pub state: CaseState,
    /// Optimistic-concurrency version; bumped by every transition.
    pub version: i64,
    pub appointment_id: Option<AppointmentId>,
    pub customer_name: String,
    /// Full normalised phone (C2), may be empty for walk-ins until the form.
    pub phone: String,
    pub lock_cause: Option<LockCause>,
    pub opened_by: StaffId,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Staff who did teller steps (open, identity, form, signed, submit): never the authorizer.
    pub makers: Vec<StaffId>,
    pub identity: Option<IdentityRecord>,
    pub form: Option<ApplicationForm>,
    /// Set when the signed paper was confirmed in hand; cleared when the form is amended.
    pub form_signed_at: Option<DateTime<Utc>>,
    pub authorization: Option<Authorization>,
    pub unlock: Option<UnlockRecord>,
    pub unlock_failures: Vec<UnlockFailure>,
    pub contacts: Vec<OperatorContact>,
    /// Free-text of the last refusal/cancel/return reason.
    pub last_reason: String,
    /// Revision of the recorded form: 1 for the first, +1 for each amendment. The signed
    /// paper must be a print of the current revision.
    #[serde(default)]
    pub form_revision: u32,
    /// Every print and reprint of the case's documents, with its delivery.
    #[serde(default)]
    pub prints: Vec<PrintRecord>,
    /// Why the case closed without a printed receipt (e.g. the customer declined it).
    #[serde(default)]
    pub receipt_waiver: Option<String>,
    /// The teller's request, waiting for a supervisor, to confirm the unlock; cleared when the
    /// unlock is confirmed or fails.
    #[serde(default)]
    pub unlock_request: Option<UnlockRequest>,
    /// Scans or photos of the signed form, oldest first.
    #[serde(default)]
    pub signed_scans: Vec<SignedScan>,
    /// The record classes destroyed after their retention ran out, oldest first. A case with
    /// a purge is a tombstone for that class: number, dates, state and who prepared and who
    /// approved stay; the class's personal data is gone ([`crate::retention`]).
    #[serde(default)]
    pub purges: Vec<PurgeMark>,
    /// The unlock asked of the operator's connector, with its idempotency key (kept so that a
    /// retry is the same request): waiting, confirmed or rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub operator_unlock: Option<OperatorUnlock>,
    /// The last wallet status the operator gave for this case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub wallet_check: Option<WalletCheck>,
}

impl Case {
    pub fn is_maker(&self, who: &StaffId) -> bool {
        self.makers.iter().any(|m| m == who)
    }
    /// The bank copy of the current form revision was printed and delivered.
    pub fn form_printed(&self) -> bool {
        self.form.is_some()
            && self.prints.iter().any(|p| {
                p.kind == crate::print::DocumentKind::Application
                    && p.copy == crate::print::CopyKind::Bank
                    && p.form_revision == self.form_revision
                    && p.delivered()
            })
    }
    /// A receipt (either copy) of the unlock was printed and delivered: printed at or after
    /// the confirmed unlock (a receipt printed for an earlier failed attempt says "not
    /// unlocked" and is no receipt of this unlock).
    pub fn receipt_printed(&self) -> bool {
        let Some(unlock) = &self.unlock else {
            return false;
        };
        self.prints.iter().any(|p| {
            p.kind == crate::print::DocumentKind::Receipt && p.delivered() && p.at >= unlock.at
        })
    }
    /// The latest scan of the signed paper of the current form revision, if any.
    pub fn current_scan(&self) -> Option<&SignedScan> {
        self.signed_scans
            .iter()
            .rev()
            .find(|s| s.form_revision == self.form_revision)
    }
    /// How many prints were reprints.
    pub fn reprints(&self) -> usize {
        self.prints.iter().filter(|p| p.reprint).count()
    }
    /// The case's lock cause is one the counter cannot lift.
    pub fn counter_cannot_lift(&self) -> bool {
        self.lock_cause.is_some_and(LockCause::counter_cannot_lift)
    }
}

kebab_enum!(
    /// What a purge destroys, each kept for its own period after the case closes
    /// ([`crate::retention`]): `case` is the case record with its identity copy (name, phone,
    /// identity document, application form data) and its appointment row; `voucher` is every
    /// stored document of the case (printed forms and receipts, attached scans of the signed
    /// paper).
    RecordClass {
        Case = "case",
        Voucher = "voucher",
    }
);

/// A record class destroyed on a case: the tombstone's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PurgeMark {
    pub class: RecordClass,
    /// The destruction batch ([`PurgeBatch::id`]) that removed it.
    pub batch_id: String,
    pub prepared_by: StaffId,
    pub approved_by: StaffId,
    /// When the approval ran (UTC).
    pub at: DateTime<Utc>,
}

/// A legal hold (investigation, complaint or dispute not yet settled) on a case: while it is
/// active the case is never purged. Setting or releasing one is not a change to the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LegalHold {
    /// A UUID.
    pub id: String,
    pub case_id: CaseId,
    pub case_number: String,
    /// Why (digit runs of 7 or more masked, as in the audit trail).
    pub reason: String,
    pub set_by: StaffId,
    pub set_at: DateTime<Utc>,
    pub released_by: Option<StaffId>,
    pub released_at: Option<DateTime<Utc>>,
    pub release_reason: Option<String>,
}

impl LegalHold {
    pub fn active(&self) -> bool {
        self.released_at.is_none()
    }
}

kebab_enum!(
    /// Where a destruction batch stands: `prepared` waits for the second person, `approved`
    /// ran (the destruction register), `withdrawn` was abandoned before approval.
    PurgeBatchState {
        Prepared = "prepared",
        Approved = "approved",
        Withdrawn = "withdrawn",
    }
);

/// One case of a destruction batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PurgeItem {
    pub case_id: CaseId,
    pub case_number: String,
    pub state: CaseState,
    pub opened_at: DateTime<Utc>,
    /// The branch-local day the case closed, from which its periods count.
    pub closed_on: NaiveDate,
    /// The classes due when the batch was prepared.
    pub classes: Vec<RecordClass>,
    /// After approval: the classes destroyed (empty when skipped).
    #[serde(default)]
    pub purged: Vec<RecordClass>,
    /// After approval: why the case was left alone (a legal hold set meanwhile, no longer due).
    #[serde(default)]
    pub skipped: Option<String>,
}

/// A destruction batch: prepared by one person, approved by another (an administrator and an
/// auditor), then kept for ever as the destruction register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PurgeBatch {
    /// `DR-` and the branch-local date `YYYYMMDD`, `-` and 6 hex characters.
    pub id: String,
    pub state: PurgeBatchState,
    /// The branch-local day the batch was prepared on (what was due then).
    pub as_of: NaiveDate,
    pub prepared_by: StaffId,
    pub prepared_at: DateTime<Utc>,
    pub approved_by: Option<StaffId>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Why it was withdrawn.
    #[serde(default)]
    pub withdrawn_reason: Option<String>,
    pub items: Vec<PurgeItem>,
    /// Appointments no case links to (the customer never came) with a slot before this
    /// branch-local day are destroyed too (their period, the case class's, counts from the
    /// slot); `None` when none were due.
    #[serde(default)]
    pub appointments_before: Option<NaiveDate>,
    /// How many such appointments were due when prepared; after approval, how many went.
    #[serde(default)]
    pub appointments: u64,
}
