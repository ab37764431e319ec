//! The small traits the use cases are written against: the clock, entropy (ids and salts),
//! and the store. Adapters live in other crates (`unlockdesk-store` for SQLite); the PDF
//! renderer port is [`crate::print::Renderer`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use uuid::Uuid;

use crate::error::{CoreError, CoreResult};
use crate::model::*;

/// Wall-clock time, passed in so tests can pin it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;
impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that returns a settable instant (tests, demo data).
#[derive(Debug)]
pub struct FixedClock(pub std::sync::Mutex<DateTime<Utc>>);
impl FixedClock {
    pub fn new(t: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(t))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }
    pub fn advance(&self, d: chrono::Duration) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *g += d;
    }
}
impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Randomness: new ids and password salts.
pub trait Entropy: Send + Sync {
    fn uuid(&self) -> Uuid;
    fn salt(&self) -> [u8; 16];
}

/// Operating-system randomness (UUID v4 uses the OS generator).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;
impl Entropy for OsEntropy {
    fn uuid(&self) -> Uuid {
        Uuid::new_v4()
    }
    fn salt(&self) -> [u8; 16] {
        *Uuid::new_v4().as_bytes()
    }
}

/// Outcome of an audited action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum Outcome {
    Ok,
    Refused,
}

/// An audit event before the store chains it (docs/domain.md §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditDraft {
    pub at: DateTime<Utc>,
    pub staff_id: String,
    pub role: Option<Role>,
    pub terminal: String,
    pub case_id: Option<CaseId>,
    /// kebab-case action, e.g. `open-case`, `approve`, `reveal`, `print`.
    pub action: String,
    pub from_state: Option<CaseState>,
    pub to_state: Option<CaseState>,
    pub reason: String,
    pub outcome: Outcome,
    /// Extra context as JSON text; never carries unmasked C2 values.
    pub detail: String,
}

/// A stored, chained audit event: `hash` = SHA-256 over every column and `prev_hash`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
    pub staff_id: String,
    pub role: Option<Role>,
    pub terminal: String,
    pub case_id: Option<CaseId>,
    pub action: String,
    pub from_state: Option<CaseState>,
    pub to_state: Option<CaseState>,
    pub reason: String,
    pub outcome: Outcome,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Result of walking the audit chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditVerification {
    pub ok: bool,
    pub events: i64,
    /// The first broken link: the event's seq, the hash expected there, the hash found.
    pub broken_at: Option<i64>,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub problem: Option<String>,
}

/// One row of a case list (masked where it shows personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseSummary {
    pub id: CaseId,
    pub case_number: String,
    pub state: CaseState,
    pub customer_name: String,
    pub phone_masked: String,
    pub lock_cause: Option<LockCause>,
    #[ts(type = "string")]
    pub opened_at: DateTime<Utc>,
    /// The branch-local day the case was opened (`YYYY-MM-DD`), as the store keeps it for
    /// "today's cases" and the date range of a query.
    #[ts(type = "string")]
    pub opened_day: NaiveDate,
    #[ts(type = "string")]
    pub updated_at: DateTime<Utc>,
    pub opened_by: StaffId,
    /// The appointment the case was opened from; `None` for a walk-in.
    pub appointment_id: Option<AppointmentId>,
    /// The wallet operator (钱包运营机构): the one on the recorded form, before the form the
    /// one the appointment was booked for; empty for a walk-in without a form.
    pub wallet_operator: String,
    /// Opened on a day before today (branch-local) and not in a terminal state: a case a
    /// branch must not leave behind. Set by the use case from its clock; stores leave it
    /// `false`.
    pub open_from_earlier_day: bool,
}

/// Filters for listing and finding cases. Every field narrows; empty finds all.
///
/// Rows come newest first: by opening day, then opening time, then case number, all
/// descending (so a page never splits a tie differently from the next one).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseQuery {
    /// Branch-local day the case was opened: shorthand for `from` = `to` = `day`.
    #[ts(type = "string | null")]
    pub day: Option<NaiveDate>,
    /// First branch-local opening day, inclusive (`YYYY-MM-DD`).
    #[serde(default)]
    #[ts(type = "string | null")]
    pub from: Option<NaiveDate>,
    /// Last branch-local opening day, inclusive (`YYYY-MM-DD`); today when only `from` is set.
    #[serde(default)]
    #[ts(type = "string | null")]
    pub to: Option<NaiveDate>,
    /// Any of these states; empty for every state.
    #[serde(default)]
    pub states: Vec<CaseState>,
    /// Only cases left open from an earlier day (see [`CaseSummary::open_from_earlier_day`]).
    #[serde(default)]
    pub open_from_earlier_day: bool,
    /// The teller who opened the case (staff id, any case or width).
    #[serde(default)]
    pub opened_by: Option<String>,
    /// Exact wallet operator, as [`CaseSummary::wallet_operator`] shows it.
    #[serde(default)]
    pub wallet_operator: Option<String>,
    /// Exact case number.
    pub case_number: Option<String>,
    /// Customer name prefix.
    pub name_prefix: Option<String>,
    /// Last 4 characters of the ID number or phone.
    pub tail4: Option<String>,
    /// Rows per page: 1 to 500, default 100.
    pub limit: Option<u32>,
    /// The next page: the rows after this one (a previous page's `next`).
    #[serde(default)]
    pub after: Option<CaseCursor>,
}

impl CaseQuery {
    /// A query as a caller sent it (JSON), read so that a bad value names its field: an
    /// unknown state is `invalid` with field `states` (rule `one-of`), a malformed date, id or
    /// number `invalid` with its own field (rule `format`), anything else field `query`.
    pub fn from_json(v: serde_json::Value) -> CoreResult<CaseQuery> {
        serde_json::from_value::<CaseQuery>(v.clone()).map_err(|e| {
            // Every field may be left out, so a query of one key fails only for a bad value.
            let bad = v.as_object().and_then(|m| {
                m.iter().find(|(k, x)| {
                    let one = serde_json::json!({ k.as_str(): x });
                    serde_json::from_value::<CaseQuery>(one).is_err()
                })
            });
            let (field, rule) = match bad {
                Some((k, _)) if k == "states" => ("states", "one-of"),
                Some((k, _)) => (k.as_str(), "format"),
                None => ("query", "format"),
            };
            CoreError::field(field, rule, format!("the case query is malformed: {e}"))
        })
    }
}

/// Where a page of cases ended: the last row's sort key (opening day, opening time, case
/// number). Opaque to callers: pass it back as [`CaseQuery::after`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseCursor {
    #[ts(type = "string")]
    pub opened_day: NaiveDate,
    #[ts(type = "string")]
    pub opened_at: DateTime<Utc>,
    pub case_number: String,
}

impl CaseCursor {
    /// The cursor after `s`.
    pub fn after(s: &CaseSummary) -> Self {
        CaseCursor {
            opened_day: s.opened_day,
            opened_at: s.opened_at,
            case_number: s.case_number.clone(),
        }
    }
}

/// A printed document stored beside the database (`documents/`), recorded on the case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DocumentRecord {
    pub id: String,
    pub case_id: CaseId,
    /// `application` or `receipt`.
    pub kind: crate::print::DocumentKind,
    /// `customer` or `bank`.
    pub copy: crate::print::CopyKind,
    /// Path relative to the data directory, e.g. `documents/<case>/application-customer-1.pdf`.
    pub path: String,
    pub sha256: String,
    pub bytes: i64,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
    pub by: StaffId,
}

impl DocumentRecord {
    /// The stored name of the `n`-th document of its kind and copy on the case:
    /// `documents/<case>/<kind>-<copy>-<n>.<ext>`, `.pdf` for printed documents and an attached
    /// scan's own type (`.png`, `.jpg`, `.pdf`) from its content. Both stores use it (a file
    /// beside the embedded store; a row's name on PostgreSQL).
    pub fn stored_path(&self, n: i64, bytes: &[u8]) -> String {
        let ext = match crate::service::scan_type(bytes) {
            Ok("image/png") => "png",
            Ok("image/jpeg") => "jpg",
            _ => "pdf",
        };
        format!(
            "documents/{}/{}-{}-{n}.{ext}",
            self.case_id, self.kind, self.copy
        )
    }
}

/// Which appointments a lookup matches; built by [`crate::appointments::appointment_key`]
/// from the teller's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppointmentKey {
    Reference(String),
    Phone(String),
    PhoneTail(String),
    IdNumber(String),
    IdTail(String),
    NamePrefix(String),
}

/// The store, as seen by the use cases. `transact` runs `f` in one write transaction
/// (SQLite `BEGIN IMMEDIATE`), committing when `f` returns `Ok` and rolling back otherwise;
/// `read` runs `f` on a read snapshot whose handle has no write methods.
///
/// Every adapter (SQLite in `unlockdesk-store`, PostgreSQL next) passes the same store
/// conformance suite (`unlockdesk_conformance`).
pub trait Store: Send + Sync {
    fn transact<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>) -> CoreResult<T>;
    /// [`Store::transact`] for a transaction that re-checks, once it writes, every decision
    /// it took on what it read before (a case step: `update_case` compares the case's version,
    /// every step writes its case first, and the service reads the account and the branch
    /// again after it). The store may then let the reads before the first write run without
    /// holding the other writers up (PostgreSQL takes the audit head's lock at the first
    /// statement that writes or locks rows instead of at `BEGIN`); it says so with
    /// [`Store::optimistic_reads`]. A case changed by another writer in between fails the
    /// version check with `conflict`: the caller runs the step again with
    /// [`Store::transact`]. Default: [`Store::transact`].
    fn transact_optimistic<T>(
        &self,
        f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>,
    ) -> CoreResult<T> {
        self.transact(f)
    }
    /// Whether [`Store::transact_optimistic`] runs the reads before the first write
    /// unserialised (true for PostgreSQL). Default: false (it is [`Store::transact`]).
    fn optimistic_reads(&self) -> bool {
        false
    }
    fn read<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> CoreResult<T>) -> CoreResult<T>;
    /// What the branch server's check of one request's session reads, from one snapshot: the
    /// session whose token hashes to `token_hash` (SHA-256, lowercase hex), its staff account,
    /// and the branch's idle minutes (0 before set-up). It runs on every request, so a store
    /// may answer it in one statement (PostgreSQL: one round trip instead of five). Errors:
    /// `storage`, `unavailable`. Default: the three reads in one [`Store::read`].
    fn session_check(&self, token_hash: &str) -> CoreResult<SessionCheck> {
        self.read(|tx| {
            let session = tx.server_session(token_hash)?;
            let staff = match &session {
                Some(s) => tx.staff(&s.staff_id)?,
                None => None,
            };
            let idle_lock_minutes = tx.branch()?.map_or(0, |b| b.idle_lock_minutes);
            Ok(SessionCheck {
                session,
                staff,
                idle_lock_minutes,
            })
        })
    }
    /// Walk the audit chain from the start.
    fn verify_audit(&self) -> CoreResult<AuditVerification>;
    /// Write a consistent snapshot of the whole store to the file `dest` (an embedded-store
    /// file; it must not exist yet). Errors: `storage`.
    fn backup_to(&self, dest: &std::path::Path) -> CoreResult<()>;
    /// Replace the store's whole content with the snapshot in `src` (a file written by
    /// [`Store::backup_to`]), checked before anything changes. Errors: `storage`.
    fn restore_from(&self, src: &std::path::Path) -> CoreResult<()>;
    /// A wake-up for followers of the audit trail (the supervisors' queue events): `None` when
    /// the store has none and followers poll (the embedded store); the PostgreSQL store
    /// LISTENs for the trail's NOTIFY, so every branch server wakes on any server's commit.
    fn audit_wake(&self) -> CoreResult<Option<Box<dyn AuditWake>>> {
        Ok(None)
    }
    /// After a purge committed: remove what the store keeps of these cases' documents outside
    /// its database, and any copy of destroyed rows left in its files (the embedded store:
    /// the documents' files, and its write-ahead log checkpointed and truncated). Safe to
    /// repeat. Errors: `storage` (the purge stands; repeating finishes it).
    fn after_purge(&self, _case_ids: &[CaseId]) -> CoreResult<()> {
        Ok(())
    }
}

/// Waits for the audit trail to grow (see [`Store::audit_wake`]).
pub trait AuditWake: Send {
    /// Block up to `timeout`: `Ok(true)` when an event was appended (by any process) since
    /// the last call, `Ok(false)` on timeout. Errors: `storage` (the connection was lost;
    /// open a new one).
    fn wait(&mut self, timeout: std::time::Duration) -> CoreResult<bool>;
}

/// `impl Store` for a handle to a store (`$handle`, generic over `S: Store`): every method
/// forwarded to the store behind it.
macro_rules! forward_store {
    ($(#[$doc:meta])* $handle:ty) => {
        $(#[$doc])*
        impl<S: Store> Store for $handle {
            fn transact<T>(
                &self,
                f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>,
            ) -> CoreResult<T> {
                (**self).transact(f)
            }
            fn transact_optimistic<T>(
                &self,
                f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>,
            ) -> CoreResult<T> {
                (**self).transact_optimistic(f)
            }
            fn optimistic_reads(&self) -> bool {
                (**self).optimistic_reads()
            }
            fn read<T>(
                &self,
                f: impl FnOnce(&mut dyn ReadTx) -> CoreResult<T>,
            ) -> CoreResult<T> {
                (**self).read(f)
            }
            fn session_check(&self, token_hash: &str) -> CoreResult<SessionCheck> {
                (**self).session_check(token_hash)
            }
            fn verify_audit(&self) -> CoreResult<AuditVerification> {
                (**self).verify_audit()
            }
            fn backup_to(&self, dest: &std::path::Path) -> CoreResult<()> {
                (**self).backup_to(dest)
            }
            fn restore_from(&self, src: &std::path::Path) -> CoreResult<()> {
                (**self).restore_from(src)
            }
            fn audit_wake(&self) -> CoreResult<Option<Box<dyn AuditWake>>> {
                (**self).audit_wake()
            }
            fn after_purge(&self, case_ids: &[CaseId]) -> CoreResult<()> {
                (**self).after_purge(case_ids)
            }
        }
    };
}

forward_store!(
    /// A shared store is a store (a test or a tool keeps a handle beside the service's).
    std::sync::Arc<S>
);
forward_store!(
    /// A borrowed store is a store (the same store seen by a second service, e.g. at another
    /// clock: [`crate::service::Service`]'s demo data).
    &S
);

/// The branch profile (one row).
pub trait BranchRead {
    fn branch(&mut self) -> CoreResult<Option<Branch>>;
}
pub trait BranchWrite {
    fn save_branch(&mut self, b: &Branch) -> CoreResult<()>;
}

/// Staff accounts.
pub trait StaffRead {
    fn staff(&mut self, id: &StaffId) -> CoreResult<Option<Staff>>;
    fn list_staff(&mut self) -> CoreResult<Vec<Staff>>;
    /// The display names of those of `ids` that have an account (disabled ones included),
    /// as (id, name) in id order; ids without an account (a system actor, a typo) are left
    /// out. One read however long the staff list is: a case view names the few people on it,
    /// and a head office's store holds thousands of accounts.
    fn staff_names(&mut self, ids: &[&str]) -> CoreResult<Vec<(String, String)>>;
}
pub trait StaffWrite {
    /// Errors with `conflict` when the id exists.
    fn insert_staff(&mut self, s: &Staff) -> CoreResult<()>;
    fn update_staff(&mut self, s: &Staff) -> CoreResult<()>;
}

/// Cases and their search columns.
pub trait CaseRead {
    fn case(&mut self, id: CaseId) -> CoreResult<Option<Case>>;
    /// At most `q.limit` cases matching `q` (the use case has checked it), newest first as
    /// [`CaseQuery`] orders them; `tz` is the branch's IANA zone (the memory store derives
    /// opening days from it, the databases keep the day). `q.day`, `q.from` / `q.to`,
    /// `q.states`, `q.opened_by` (canonical id), `q.wallet_operator` and `q.after` narrow;
    /// `q.open_from_earlier_day` is the use case's and ignored here.
    fn list_cases(&mut self, q: &CaseQuery, tz: &str) -> CoreResult<Vec<CaseSummary>>;
    /// Every wallet operator some case shows ([`CaseSummary::wallet_operator`]), non-empty,
    /// sorted, each once.
    fn case_operators(&mut self) -> CoreResult<Vec<String>>;
    fn count_cases(&mut self) -> CoreResult<i64>;
}
pub trait CaseWrite {
    fn insert_case(&mut self, c: &Case) -> CoreResult<()>;
    /// Write `c` only if the stored version is `expected_version`; else `conflict`.
    fn update_case(&mut self, c: &Case, expected_version: i64) -> CoreResult<()>;
    /// Next daily sequence number for case numbers of `day` (1-based).
    fn next_case_seq(&mut self, day: NaiveDate) -> CoreResult<u32>;
}

/// The appointment book: lookups.
pub trait AppointmentRead {
    fn appointment(&mut self, id: AppointmentId) -> CoreResult<Option<Appointment>>;
    fn appointment_by_reference(&mut self, reference: &str) -> CoreResult<Option<Appointment>>;
    /// Appointments whose slot starts on `day` (local), ordered by slot.
    fn appointments_on(&mut self, day: NaiveDate) -> CoreResult<Vec<Appointment>>;
    /// Lookup; appointments on `today` first, then most recent; at most `limit`.
    fn find_appointments(
        &mut self,
        key: &AppointmentKey,
        today: NaiveDate,
        limit: u32,
    ) -> CoreResult<Vec<Appointment>>;
    /// The stored appointments with these references (normalised, as the importer stores
    /// them); unknown references are simply absent. Any order.
    fn appointments_by_references(
        &mut self,
        references: &[String],
    ) -> CoreResult<Vec<Appointment>> {
        let mut out = Vec::new();
        for r in references {
            out.extend(self.appointment_by_reference(r)?);
        }
        Ok(out)
    }
}
/// The appointment book: writes (the importer, check-in, end of day).
pub trait AppointmentWrite {
    fn insert_appointment(&mut self, a: &Appointment) -> CoreResult<()>;
    fn update_appointment(&mut self, a: &Appointment) -> CoreResult<()>;
    /// Insert many new appointments (the importer; adapters reuse one prepared statement).
    /// Errors: `conflict` or `storage` (a duplicate reference violates the unique index).
    fn insert_appointments(&mut self, list: &[Appointment]) -> CoreResult<()> {
        list.iter().try_for_each(|a| self.insert_appointment(a))
    }
    /// Set every `waiting` appointment whose slot starts on `day` (local) to `no-show`;
    /// returns how many changed.
    fn mark_no_shows(&mut self, day: NaiveDate) -> CoreResult<u32>;
}

/// The hash-chained audit trail.
pub trait AuditRead {
    /// The events of one case, in chain order.
    fn case_history(&mut self, id: CaseId) -> CoreResult<Vec<AuditEvent>>;
    /// At most `limit` events of the whole trail from position `from_seq` (1-based) on, in
    /// chain order.
    fn audit_events(&mut self, from_seq: i64, limit: u32) -> CoreResult<Vec<AuditEvent>>;
    /// The seq of the last audit event (0 for an empty trail).
    fn audit_head(&mut self) -> CoreResult<i64>;
    /// At most `q.limit` events passing every filter of `q`
    /// ([`crate::auditor::AuditQuery::matches`]), newest first.
    fn search_audit(&mut self, q: &crate::auditor::AuditQuery) -> CoreResult<Vec<AuditEvent>>;
}
pub trait AuditWrite {
    /// Chain `e` after the current head (serialised with every other append).
    fn append_audit(&mut self, e: &AuditDraft) -> CoreResult<AuditEvent>;
}

/// Idempotency keys of applied steps.
pub trait IdempotencyRead {
    /// What a previous call with this idempotency key did, if any.
    fn idempotent(&mut self, key: &str) -> CoreResult<Option<IdempotentCall>>;
}
pub trait IdempotencyWrite {
    /// Remember `key` as used for `use_case` on `case_id` (same transaction as the step).
    fn remember_idempotent(
        &mut self,
        key: &str,
        case_id: CaseId,
        use_case: &str,
        at: DateTime<Utc>,
    ) -> CoreResult<()>;
}

/// Printed documents of a case.
pub trait DocumentRead {
    fn documents(&mut self, case_id: CaseId) -> CoreResult<Vec<DocumentRecord>>;
    /// The stored bytes of `rec`, checked against its SHA-256. Errors: `storage` when they
    /// are missing or do not match.
    fn document_bytes(&mut self, rec: &DocumentRecord) -> CoreResult<Vec<u8>>;
}
pub trait DocumentWrite {
    /// Store `bytes` (SHA-256 recorded) and record them on the case; returns the record.
    fn save_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<DocumentRecord>;
}

/// Legal holds and the destruction register ([`crate::retention`]).
pub trait RetentionRead {
    /// The holds of one case (`Some`) or of every case (`None`), only the active ones when
    /// `active_only`, newest first.
    fn legal_holds(
        &mut self,
        case_id: Option<CaseId>,
        active_only: bool,
    ) -> CoreResult<Vec<LegalHold>>;
    /// Every destruction batch, newest first (the register: rows are never deleted).
    fn purge_batches(&mut self) -> CoreResult<Vec<PurgeBatch>>;
    fn purge_batch(&mut self, id: &str) -> CoreResult<Option<PurgeBatch>>;
    /// At most `limit` cases in a final state last changed before `before`, ordered by
    /// (last change, id), after the cursor `after` (the last case of the previous page): the
    /// candidates of a purge, read page by page.
    fn closed_cases(
        &mut self,
        before: DateTime<Utc>,
        after: Option<(DateTime<Utc>, CaseId)>,
        limit: u32,
    ) -> CoreResult<Vec<Case>>;
    /// How many appointments no case links to (never checked in: waiting or no-show) have a
    /// slot on a branch-local day before `day`.
    fn count_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64>;
}
pub trait RetentionWrite {
    /// Errors: `conflict` when the id exists.
    fn insert_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()>;
    /// Store the release of an existing hold.
    fn update_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()>;
    /// Errors: `conflict` when the id exists.
    fn insert_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()>;
    /// Store the state, approval and outcomes of an existing batch.
    fn update_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()>;
    /// Delete every stored document of the case (rows, and bytes kept in the database);
    /// returns how many. Bytes kept outside the database go at [`Store::after_purge`].
    fn delete_documents(&mut self, case_id: CaseId) -> CoreResult<u32>;
    /// Delete an appointment row; a case that still names it loses the link.
    fn delete_appointment(&mut self, id: AppointmentId) -> CoreResult<()>;
    /// Delete the appointments [`RetentionRead::count_unlinked_appointments`] counts; returns
    /// how many.
    fn delete_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64>;
}

/// An idempotency key as stored: the key, its call and when it was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub key: String,
    pub call: IdempotentCall,
    pub at: DateTime<Utc>,
}

/// The whole store, read for `store copy` (one snapshot; everything a store holds that the
/// other read ports do not list).
pub trait CopyRead {
    /// Every case, any order.
    fn all_cases(&mut self) -> CoreResult<Vec<Case>>;
    /// Every appointment, any order.
    fn all_appointments(&mut self) -> CoreResult<Vec<Appointment>>;
    /// Every idempotency key, any order.
    fn all_idempotency(&mut self) -> CoreResult<Vec<IdempotencyRecord>>;
    /// Every printed document's record, any order (bytes: [`DocumentRead::document_bytes`]).
    fn all_documents(&mut self) -> CoreResult<Vec<DocumentRecord>>;
    /// The last case number sequence given out per day: `(day, last)`, any order.
    fn case_seqs(&mut self) -> CoreResult<Vec<(NaiveDate, u32)>>;
}

/// The whole store, written verbatim by `store copy` into an empty store.
pub trait CopyWrite {
    /// Append a stored event as it is (same seq, hashes and `prev_hash`; the chain head moves
    /// to it). Errors: `conflict` when its seq is not the next one, `storage`.
    fn insert_audit_event(&mut self, e: &AuditEvent) -> CoreResult<()>;
    /// Store a printed document as recorded (its path and SHA-256 kept). Errors: `storage`
    /// when the bytes do not match `rec.sha256`, `conflict` when the id exists.
    fn insert_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<()>;
    /// Set the last case number sequence of `day`.
    fn set_case_seq(&mut self, day: NaiveDate, last: u32) -> CoreResult<()>;
}

/// [`Store::session_check`]'s answer: what one request's session check decides on.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionCheck {
    /// The session of the token, if one was ever opened with it (ended ones included).
    pub session: Option<ServerSession>,
    /// The session's staff account (None without a session, or if the account is gone).
    pub staff: Option<Staff>,
    /// The branch's idle minutes after which a session ends (0: never; also before set-up).
    pub idle_lock_minutes: u32,
}

/// A session of the branch server: one signed-in staff member at one terminal. The token
/// itself is never stored, only its SHA-256 (hex), so a copy of the store signs nobody in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSession {
    /// SHA-256 of the opaque token, 64 lowercase hex characters.
    pub token_hash: String,
    pub staff_id: StaffId,
    /// The terminal the session is bound to: an enrolled terminal's id, or `local:<name>` for
    /// a client on the server's own loopback address.
    pub terminal: String,
    pub created_at: DateTime<Utc>,
    /// The last request served; the session expires `idle_lock_minutes` after it.
    pub last_seen: DateTime<Utc>,
    /// Set at sign-out, or when the terminal or the account was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A terminal enrolled on the branch server with a one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TerminalRecord {
    /// `term-` and 12 hex characters.
    pub id: String,
    /// The name the terminal gave at enrolment (host name or counter label).
    pub name: String,
    /// SHA-256 (hex) of the terminal's secret; never sent to anyone.
    #[serde(skip)]
    #[ts(skip)]
    pub secret_hash: String,
    pub enrolled_at: DateTime<Utc>,
    /// The admin who issued the enrolment code.
    pub enrolled_by: StaffId,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A one-time enrolment code an admin issued; stored as its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentCode {
    pub code_hash: String,
    pub issued_by: StaffId,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When it was used, and the terminal it enrolled: a code works once.
    pub used_at: Option<DateTime<Utc>>,
    pub terminal_id: Option<String>,
}

/// Sessions, terminals and enrolment codes of the branch server: in the store, so several
/// servers on one database agree on them.
pub trait SessionRead {
    fn server_session(&mut self, token_hash: &str) -> CoreResult<Option<ServerSession>>;
    fn terminal(&mut self, id: &str) -> CoreResult<Option<TerminalRecord>>;
    /// Every enrolled terminal, revoked ones included, by enrolment time.
    fn list_terminals(&mut self) -> CoreResult<Vec<TerminalRecord>>;
    fn enrolment_code(&mut self, code_hash: &str) -> CoreResult<Option<EnrolmentCode>>;
}
pub trait SessionWrite {
    /// Errors: `conflict` when the token hash exists.
    fn insert_server_session(&mut self, s: &ServerSession) -> CoreResult<()>;
    /// Store `last_seen` and `revoked_at` of an existing session.
    fn update_server_session(&mut self, s: &ServerSession) -> CoreResult<()>;
    /// Revoke every open session at `terminal` (revoked terminal); returns how many.
    fn revoke_terminal_sessions(&mut self, terminal: &str, at: DateTime<Utc>) -> CoreResult<u32>;
    /// Revoke every open session of `staff` (account disabled or password reset).
    fn revoke_staff_sessions(&mut self, staff: &StaffId, at: DateTime<Utc>) -> CoreResult<u32>;
    /// Errors: `conflict` when the code hash exists.
    fn insert_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()>;
    /// Store `used_at` and `terminal_id` of an existing code.
    fn update_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()>;
    /// Errors: `conflict` when the id exists.
    fn insert_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()>;
    /// Store `revoked_at` of an existing terminal.
    fn update_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()>;
}

/// The outbox ([`crate::operator`]): customer notifications and cases waiting for the wallet
/// operator, written in the transaction of the step that causes them, delivered after.
pub trait OutboxRead {
    /// The messages of one case (`Some`) or of every case (`None`), of `kind` when given,
    /// newest first, at most `limit`.
    fn outbox(
        &mut self,
        case_id: Option<CaseId>,
        kind: Option<crate::operator::OutboxKind>,
        limit: u32,
    ) -> CoreResult<Vec<crate::operator::OutboxMessage>>;
    /// When the next queued message is due (its `next_attempt_at`, or its lease's end when a
    /// worker holds it), `None` when nothing is queued.
    fn next_outbox_due(&mut self) -> CoreResult<Option<DateTime<Utc>>>;
    /// How many messages are queued (due now or later).
    fn count_queued_outbox(&mut self) -> CoreResult<u64>;
}
pub trait OutboxWrite {
    /// Queue a message. Errors: `conflict` when the id exists.
    fn queue_outbox(&mut self, m: &crate::operator::OutboxMessage) -> CoreResult<()>;
    /// Take at most `limit` queued messages of `kinds` due at `now` that no live lease holds,
    /// oldest first, and hold them until `lease_until` (two workers never take the same
    /// message: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock on SQLite).
    fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        kinds: &[crate::operator::OutboxKind],
    ) -> CoreResult<Vec<crate::operator::OutboxMessage>>;
    /// Store the status, attempts, next attempt, lease, error and sent time of a message.
    fn update_outbox(&mut self, m: &crate::operator::OutboxMessage) -> CoreResult<()>;
}

/// Everything a read snapshot offers: the read half of every aggregate.
pub trait ReadTx:
    BranchRead
    + StaffRead
    + CaseRead
    + AppointmentRead
    + AuditRead
    + IdempotencyRead
    + DocumentRead
    + CopyRead
    + SessionRead
    + RetentionRead
    + OutboxRead
{
}
impl<T> ReadTx for T where
    T: BranchRead
        + StaffRead
        + CaseRead
        + AppointmentRead
        + AuditRead
        + IdempotencyRead
        + DocumentRead
        + CopyRead
        + SessionRead
        + RetentionRead
        + OutboxRead
{
}

/// Everything a write transaction offers: every read, and the write half of every aggregate.
pub trait WriteTx:
    ReadTx
    + BranchWrite
    + StaffWrite
    + CaseWrite
    + AppointmentWrite
    + AuditWrite
    + IdempotencyWrite
    + DocumentWrite
    + CopyWrite
    + SessionWrite
    + RetentionWrite
    + OutboxWrite
{
}
impl<T> WriteTx for T where
    T: ReadTx
        + BranchWrite
        + StaffWrite
        + CaseWrite
        + AppointmentWrite
        + AuditWrite
        + IdempotencyWrite
        + DocumentWrite
        + CopyWrite
        + SessionWrite
        + RetentionWrite
        + OutboxWrite
{
}

/// A request already applied under an idempotency key: its case and its use case
/// (`verify-identity`, `authorize`, …; empty for keys stored before schema version 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentCall {
    pub case_id: CaseId,
    pub use_case: String,
}

impl IdempotentCall {
    /// `Ok` when a request for `use_case` on `case_id` is a retry of this call (the caller
    /// then returns the first call's result without applying anything). Otherwise `conflict`:
    /// the client sent one attempt's key with a different request.
    pub fn replays(&self, key: &str, case_id: CaseId, use_case: &str) -> CoreResult<()> {
        let same_step = self.use_case.is_empty() || self.use_case == use_case;
        if self.case_id == case_id && same_step {
            return Ok(());
        }
        Err(CoreError::conflict(format!(
            "idempotency key '{key}' was already used for {} on another request; send a new key for a new action",
            if self.use_case.is_empty() { "a step" } else { self.use_case.as_str() }
        )))
    }
}
