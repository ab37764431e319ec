//! An in-memory implementation of the ports, for core's own tests of use-case logic
//! (permissions, four-eyes, idempotency, effects, audit of refusals). It proves nothing about a
//! real store: every store behaviour is proven on real databases by the store conformance
//! suite (`unlockdesk_conformance`).
//!
//! A write transaction works on a copy of the data and replaces it on `Ok`, so a failed use
//! case leaves nothing behind, as a real transaction would.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::ports::*;

#[derive(Debug, Clone, Default)]
struct Data {
    branch: Option<Branch>,
    staff: BTreeMap<StaffId, Staff>,
    cases: BTreeMap<CaseId, Case>,
    appointments: BTreeMap<AppointmentId, Appointment>,
    audit: Vec<AuditEvent>,
    idempotency: HashMap<String, (IdempotentCall, DateTime<Utc>)>,
    documents: Vec<(DocumentRecord, Vec<u8>)>,
    case_seq: HashMap<NaiveDate, u32>,
    sessions: HashMap<String, ServerSession>,
    terminals: BTreeMap<String, TerminalRecord>,
    codes: HashMap<String, EnrolmentCode>,
    holds: Vec<LegalHold>,
    batches: Vec<PurgeBatch>,
    outbox: Vec<crate::operator::OutboxMessage>,
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Mutex<Data>,
}

struct Tx<'a>(&'a mut Data);

impl MemoryStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn transact<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> CoreResult<T>) -> CoreResult<T> {
        let mut guard = self.lock();
        let mut copy = guard.clone();
        let out = f(&mut Tx(&mut copy))?;
        *guard = copy;
        Ok(out)
    }
    fn read<T>(&self, f: impl FnOnce(&mut dyn ReadTx) -> CoreResult<T>) -> CoreResult<T> {
        let mut copy = self.lock().clone();
        f(&mut Tx(&mut copy))
    }
    fn verify_audit(&self) -> CoreResult<AuditVerification> {
        let d = self.lock();
        let broken = d.audit.iter().enumerate().find(|(i, e)| {
            e.seq != *i as i64 + 1 || (*i > 0 && e.prev_hash != d.audit[i - 1].hash)
        });
        Ok(AuditVerification {
            ok: broken.is_none(),
            events: d.audit.len() as i64,
            broken_at: broken.map(|(_, e)| e.seq),
            expected: None,
            found: None,
            problem: broken.map(|_| "chain broken".into()),
        })
    }
    fn backup_to(&self, _dest: &std::path::Path) -> CoreResult<()> {
        Err(CoreError::storage(
            "the in-memory store has no file to back up",
        ))
    }
    fn restore_from(&self, _src: &std::path::Path) -> CoreResult<()> {
        Err(CoreError::storage(
            "the in-memory store cannot restore a file",
        ))
    }
}

impl BranchRead for Tx<'_> {
    fn branch(&mut self) -> CoreResult<Option<Branch>> {
        Ok(self.0.branch.clone())
    }
}
impl BranchWrite for Tx<'_> {
    fn save_branch(&mut self, b: &Branch) -> CoreResult<()> {
        self.0.branch = Some(b.clone());
        Ok(())
    }
}

impl StaffRead for Tx<'_> {
    fn staff(&mut self, id: &StaffId) -> CoreResult<Option<Staff>> {
        Ok(self.0.staff.get(id).cloned())
    }
    fn list_staff(&mut self) -> CoreResult<Vec<Staff>> {
        Ok(self.0.staff.values().cloned().collect())
    }
    fn staff_names(&mut self, ids: &[&str]) -> CoreResult<Vec<(String, String)>> {
        let mut out: Vec<(String, String)> = self
            .0
            .staff
            .values()
            .filter(|s| ids.contains(&s.id.as_str()))
            .map(|s| (s.id.as_str().to_owned(), s.name.clone()))
            .collect();
        out.sort();
        Ok(out)
    }
}
impl StaffWrite for Tx<'_> {
    fn insert_staff(&mut self, s: &Staff) -> CoreResult<()> {
        if self.0.staff.contains_key(&s.id) {
            return Err(CoreError::conflict(format!("staff id '{}' exists", s.id)));
        }
        self.0.staff.insert(s.id.clone(), s.clone());
        Ok(())
    }
    fn update_staff(&mut self, s: &Staff) -> CoreResult<()> {
        match self.0.staff.get_mut(&s.id) {
            Some(row) => {
                *row = s.clone();
                Ok(())
            }
            None => Err(CoreError::not_found(format!("staff '{}'", s.id))),
        }
    }
}

impl Tx<'_> {
    /// The case's wallet operator as the databases keep it: the form's, else the booking's.
    fn operator(&self, c: &Case) -> String {
        c.form
            .as_ref()
            .map(|f| f.wallet_operator.clone())
            .or_else(|| {
                c.appointment_id
                    .and_then(|a| self.0.appointments.get(&a))
                    .map(|a| a.wallet_operator.clone())
            })
            .unwrap_or_default()
    }
}

fn tail4(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    c[c.len().saturating_sub(4)..].iter().collect()
}

impl CaseRead for Tx<'_> {
    fn case(&mut self, id: CaseId) -> CoreResult<Option<Case>> {
        Ok(self.0.cases.get(&id).cloned())
    }
    fn list_cases(&mut self, q: &CaseQuery, tz: &str) -> CoreResult<Vec<CaseSummary>> {
        let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let day_of = |c: &Case| c.opened_at.with_timezone(&tz).date_naive();
        let key = |c: &Case| (day_of(c), c.opened_at, c.case_number.clone());
        let after = q
            .after
            .as_ref()
            .map(|a| (a.opened_day, a.opened_at, a.case_number.clone()));
        let mut out: Vec<&Case> = self
            .0
            .cases
            .values()
            .filter(|c| q.day.is_none_or(|d| day_of(c) == d))
            .filter(|c| q.from.is_none_or(|d| day_of(c) >= d))
            .filter(|c| q.to.is_none_or(|d| day_of(c) <= d))
            .filter(|c| q.states.is_empty() || q.states.contains(&c.state))
            .filter(|c| {
                q.opened_by
                    .as_ref()
                    .is_none_or(|t| c.opened_by.as_str() == t)
            })
            .filter(|c| {
                q.wallet_operator
                    .as_ref()
                    .is_none_or(|o| &self.operator(c) == o)
            })
            .filter(|c| q.case_number.as_ref().is_none_or(|n| &c.case_number == n))
            .filter(|c| {
                q.name_prefix
                    .as_ref()
                    .is_none_or(|p| c.customer_name.starts_with(p.as_str()))
            })
            .filter(|c| {
                q.tail4.as_ref().is_none_or(|t| {
                    let id = c.identity.as_ref().map(|i| i.number.as_str()).unwrap_or("");
                    &tail4(id) == t || &tail4(&c.phone) == t
                })
            })
            .filter(|c| after.as_ref().is_none_or(|a| key(c) < *a))
            .collect();
        out.sort_by_key(|c| std::cmp::Reverse(key(c)));
        Ok(out
            .into_iter()
            .take(q.limit.unwrap_or(500) as usize)
            .map(|c| CaseSummary {
                id: c.id,
                case_number: c.case_number.clone(),
                state: c.state,
                customer_name: c.customer_name.clone(),
                phone_masked: crate::masking::phone(&c.phone),
                lock_cause: c.lock_cause,
                opened_at: c.opened_at,
                opened_day: day_of(c),
                updated_at: c.updated_at,
                opened_by: c.opened_by.clone(),
                appointment_id: c.appointment_id,
                wallet_operator: self.operator(c),
                open_from_earlier_day: false,
            })
            .collect())
    }
    fn case_operators(&mut self) -> CoreResult<Vec<String>> {
        let all: std::collections::BTreeSet<String> =
            self.0.cases.values().map(|c| self.operator(c)).collect();
        Ok(all.into_iter().filter(|o| !o.is_empty()).collect())
    }
    fn count_cases(&mut self) -> CoreResult<i64> {
        Ok(self.0.cases.len() as i64)
    }
}
impl CaseWrite for Tx<'_> {
    fn insert_case(&mut self, c: &Case) -> CoreResult<()> {
        if self.0.cases.contains_key(&c.id) {
            return Err(CoreError::conflict(format!("case {} exists", c.id)));
        }
        self.0.cases.insert(c.id, c.clone());
        Ok(())
    }
    fn update_case(&mut self, c: &Case, expected_version: i64) -> CoreResult<()> {
        match self.0.cases.get_mut(&c.id) {
            Some(row) if row.version == expected_version => {
                *row = c.clone();
                Ok(())
            }
            Some(_) => Err(CoreError::conflict(format!(
                "case {} was changed by someone else",
                c.case_number
            ))),
            None => Err(CoreError::not_found(format!("case {}", c.id))),
        }
    }
    fn next_case_seq(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let n = self.0.case_seq.entry(day).or_insert(0);
        *n += 1;
        Ok(*n)
    }
}

impl AppointmentRead for Tx<'_> {
    fn appointment(&mut self, id: AppointmentId) -> CoreResult<Option<Appointment>> {
        Ok(self.0.appointments.get(&id).cloned())
    }
    fn appointment_by_reference(&mut self, reference: &str) -> CoreResult<Option<Appointment>> {
        Ok(self
            .0
            .appointments
            .values()
            .find(|a| a.reference == reference)
            .cloned())
    }
    fn appointments_on(&mut self, day: NaiveDate) -> CoreResult<Vec<Appointment>> {
        let mut v: Vec<Appointment> = self
            .0
            .appointments
            .values()
            .filter(|a| a.slot_start.date() == day)
            .cloned()
            .collect();
        v.sort_by_key(|a| a.slot_start);
        Ok(v)
    }
    fn find_appointments(
        &mut self,
        key: &AppointmentKey,
        today: NaiveDate,
        limit: u32,
    ) -> CoreResult<Vec<Appointment>> {
        let hit = |a: &Appointment| match key {
            AppointmentKey::Reference(r) => &a.reference == r || &a.id_number == r,
            AppointmentKey::Phone(p) => &a.phone == p,
            AppointmentKey::PhoneTail(t) => &tail4(&a.phone) == t || &tail4(&a.id_number) == t,
            AppointmentKey::IdNumber(n) => &a.id_number == n,
            AppointmentKey::IdTail(t) => &tail4(&a.id_number) == t,
            AppointmentKey::NamePrefix(p) => a.name.starts_with(p.as_str()),
        };
        let mut v: Vec<Appointment> = self
            .0
            .appointments
            .values()
            .filter(|a| hit(a))
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            let (ta, tb) = (a.slot_start.date() == today, b.slot_start.date() == today);
            tb.cmp(&ta).then(if ta {
                a.slot_start.cmp(&b.slot_start)
            } else {
                b.slot_start.cmp(&a.slot_start)
            })
        });
        v.truncate(limit as usize);
        Ok(v)
    }
}
impl AppointmentWrite for Tx<'_> {
    fn insert_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        if self
            .0
            .appointments
            .values()
            .any(|x| x.reference == a.reference)
        {
            return Err(CoreError::conflict(format!(
                "appointment {} exists",
                a.reference
            )));
        }
        self.0.appointments.insert(a.id, a.clone());
        Ok(())
    }
    fn update_appointment(&mut self, a: &Appointment) -> CoreResult<()> {
        match self.0.appointments.get_mut(&a.id) {
            Some(row) => {
                *row = a.clone();
                Ok(())
            }
            None => Err(CoreError::not_found(format!("appointment {}", a.reference))),
        }
    }
    fn mark_no_shows(&mut self, day: NaiveDate) -> CoreResult<u32> {
        let mut n = 0;
        for a in self.0.appointments.values_mut() {
            if a.slot_start.date() == day && a.status == AppointmentStatus::Waiting {
                a.status = AppointmentStatus::NoShow;
                n += 1;
            }
        }
        Ok(n)
    }
}

impl AuditRead for Tx<'_> {
    fn case_history(&mut self, id: CaseId) -> CoreResult<Vec<AuditEvent>> {
        Ok(self
            .0
            .audit
            .iter()
            .filter(|e| e.case_id == Some(id))
            .cloned()
            .collect())
    }
    fn audit_events(&mut self, from_seq: i64, limit: u32) -> CoreResult<Vec<AuditEvent>> {
        Ok(self
            .0
            .audit
            .iter()
            .filter(|e| e.seq >= from_seq)
            .take(limit as usize)
            .cloned()
            .collect())
    }
    fn search_audit(&mut self, q: &crate::auditor::AuditQuery) -> CoreResult<Vec<AuditEvent>> {
        Ok(self
            .0
            .audit
            .iter()
            .rev()
            .filter(|e| q.matches(e))
            .take(q.limit as usize)
            .cloned()
            .collect())
    }
    fn audit_head(&mut self) -> CoreResult<i64> {
        Ok(self.0.audit.last().map_or(0, |e| e.seq))
    }
}
impl AuditWrite for Tx<'_> {
    fn append_audit(&mut self, d: &AuditDraft) -> CoreResult<AuditEvent> {
        let seq = self.0.audit.len() as i64 + 1;
        let prev_hash = self
            .0
            .audit
            .last()
            .map(|e| e.hash.clone())
            .unwrap_or_default();
        // Not a cryptographic chain: the stores' chains are proven by the conformance suite.
        let e = AuditEvent {
            seq,
            at: d.at,
            staff_id: d.staff_id.clone(),
            role: d.role,
            terminal: d.terminal.clone(),
            case_id: d.case_id,
            action: d.action.clone(),
            from_state: d.from_state,
            to_state: d.to_state,
            reason: d.reason.clone(),
            outcome: d.outcome,
            detail: d.detail.clone(),
            prev_hash,
            hash: format!("mem-{seq}"),
        };
        self.0.audit.push(e.clone());
        Ok(e)
    }
}

impl IdempotencyRead for Tx<'_> {
    fn idempotent(&mut self, key: &str) -> CoreResult<Option<IdempotentCall>> {
        Ok(self.0.idempotency.get(key).map(|(c, _)| c.clone()))
    }
}
impl IdempotencyWrite for Tx<'_> {
    fn remember_idempotent(
        &mut self,
        key: &str,
        case_id: CaseId,
        use_case: &str,
        at: DateTime<Utc>,
    ) -> CoreResult<()> {
        if self.0.idempotency.contains_key(key) {
            return Err(CoreError::conflict(format!(
                "idempotency key '{key}' exists"
            )));
        }
        self.0.idempotency.insert(
            key.to_string(),
            (
                IdempotentCall {
                    case_id,
                    use_case: use_case.to_string(),
                },
                at,
            ),
        );
        Ok(())
    }
}

impl DocumentRead for Tx<'_> {
    fn documents(&mut self, case_id: CaseId) -> CoreResult<Vec<DocumentRecord>> {
        Ok(self
            .0
            .documents
            .iter()
            .filter(|(d, _)| d.case_id == case_id)
            .map(|(d, _)| d.clone())
            .collect())
    }
    fn document_bytes(&mut self, rec: &DocumentRecord) -> CoreResult<Vec<u8>> {
        self.0
            .documents
            .iter()
            .find(|(d, _)| d.id == rec.id)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| CoreError::storage("no such document"))
    }
}
impl DocumentWrite for Tx<'_> {
    fn save_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<DocumentRecord> {
        let mut out = rec.clone();
        out.path = format!("memory/{}", rec.id);
        out.bytes = bytes.len() as i64;
        out.sha256 = format!("len-{}", bytes.len());
        self.0.documents.push((out.clone(), bytes.to_vec()));
        Ok(out)
    }
}

impl CopyRead for Tx<'_> {
    fn all_cases(&mut self) -> CoreResult<Vec<Case>> {
        Ok(self.0.cases.values().cloned().collect())
    }
    fn all_appointments(&mut self) -> CoreResult<Vec<Appointment>> {
        Ok(self.0.appointments.values().cloned().collect())
    }
    fn all_idempotency(&mut self) -> CoreResult<Vec<IdempotencyRecord>> {
        Ok(self
            .0
            .idempotency
            .iter()
            .map(|(k, (c, at))| IdempotencyRecord {
                key: k.clone(),
                call: c.clone(),
                at: *at,
            })
            .collect())
    }
    fn all_documents(&mut self) -> CoreResult<Vec<DocumentRecord>> {
        Ok(self.0.documents.iter().map(|(d, _)| d.clone()).collect())
    }
    fn case_seqs(&mut self) -> CoreResult<Vec<(NaiveDate, u32)>> {
        Ok(self.0.case_seq.iter().map(|(d, n)| (*d, *n)).collect())
    }
}
impl CopyWrite for Tx<'_> {
    fn insert_audit_event(&mut self, e: &AuditEvent) -> CoreResult<()> {
        if e.seq != self.0.audit.len() as i64 + 1 {
            return Err(CoreError::conflict(format!(
                "audit event {} is not the next in the chain",
                e.seq
            )));
        }
        self.0.audit.push(e.clone());
        Ok(())
    }
    fn insert_document(&mut self, rec: &DocumentRecord, bytes: &[u8]) -> CoreResult<()> {
        if self.0.documents.iter().any(|(d, _)| d.id == rec.id) {
            return Err(CoreError::conflict(format!("document {} exists", rec.id)));
        }
        self.0.documents.push((rec.clone(), bytes.to_vec()));
        Ok(())
    }
    fn set_case_seq(&mut self, day: NaiveDate, last: u32) -> CoreResult<()> {
        self.0.case_seq.insert(day, last);
        Ok(())
    }
}

impl SessionRead for Tx<'_> {
    fn server_session(&mut self, token_hash: &str) -> CoreResult<Option<ServerSession>> {
        Ok(self.0.sessions.get(token_hash).cloned())
    }
    fn terminal(&mut self, id: &str) -> CoreResult<Option<TerminalRecord>> {
        Ok(self.0.terminals.get(id).cloned())
    }
    fn list_terminals(&mut self) -> CoreResult<Vec<TerminalRecord>> {
        let mut v: Vec<_> = self.0.terminals.values().cloned().collect();
        v.sort_by_key(|t| t.enrolled_at);
        Ok(v)
    }
    fn enrolment_code(&mut self, code_hash: &str) -> CoreResult<Option<EnrolmentCode>> {
        Ok(self.0.codes.get(code_hash).cloned())
    }
}
impl SessionWrite for Tx<'_> {
    fn insert_server_session(&mut self, s: &ServerSession) -> CoreResult<()> {
        if self.0.sessions.contains_key(&s.token_hash) {
            return Err(CoreError::conflict("session exists"));
        }
        self.0.sessions.insert(s.token_hash.clone(), s.clone());
        Ok(())
    }
    fn update_server_session(&mut self, s: &ServerSession) -> CoreResult<()> {
        match self.0.sessions.get_mut(&s.token_hash) {
            Some(old) => {
                old.last_seen = s.last_seen;
                old.revoked_at = s.revoked_at;
                Ok(())
            }
            None => Err(CoreError::not_found("session")),
        }
    }
    fn revoke_terminal_sessions(&mut self, terminal: &str, at: DateTime<Utc>) -> CoreResult<u32> {
        let mut n = 0;
        for s in self.0.sessions.values_mut() {
            if s.terminal == terminal && s.revoked_at.is_none() {
                s.revoked_at = Some(at);
                n += 1;
            }
        }
        Ok(n)
    }
    fn revoke_staff_sessions(&mut self, staff: &StaffId, at: DateTime<Utc>) -> CoreResult<u32> {
        let mut n = 0;
        for s in self.0.sessions.values_mut() {
            if &s.staff_id == staff && s.revoked_at.is_none() {
                s.revoked_at = Some(at);
                n += 1;
            }
        }
        Ok(n)
    }
    fn insert_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()> {
        if self.0.codes.contains_key(&c.code_hash) {
            return Err(CoreError::conflict("code exists"));
        }
        self.0.codes.insert(c.code_hash.clone(), c.clone());
        Ok(())
    }
    fn update_enrolment_code(&mut self, c: &EnrolmentCode) -> CoreResult<()> {
        match self.0.codes.get_mut(&c.code_hash) {
            Some(old) => {
                old.used_at = c.used_at;
                old.terminal_id = c.terminal_id.clone();
                Ok(())
            }
            None => Err(CoreError::not_found("enrolment code")),
        }
    }
    fn insert_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()> {
        if self.0.terminals.contains_key(&t.id) {
            return Err(CoreError::conflict("terminal exists"));
        }
        self.0.terminals.insert(t.id.clone(), t.clone());
        Ok(())
    }
    fn update_terminal(&mut self, t: &TerminalRecord) -> CoreResult<()> {
        match self.0.terminals.get_mut(&t.id) {
            Some(old) => {
                old.revoked_at = t.revoked_at;
                Ok(())
            }
            None => Err(CoreError::not_found("terminal")),
        }
    }
}

impl RetentionRead for Tx<'_> {
    fn legal_holds(
        &mut self,
        case_id: Option<CaseId>,
        active_only: bool,
    ) -> CoreResult<Vec<LegalHold>> {
        let mut out: Vec<LegalHold> = self
            .0
            .holds
            .iter()
            .filter(|h| case_id.is_none_or(|c| h.case_id == c) && (!active_only || h.active()))
            .cloned()
            .collect();
        out.sort_by_key(|h| std::cmp::Reverse(h.set_at));
        Ok(out)
    }
    fn purge_batches(&mut self) -> CoreResult<Vec<PurgeBatch>> {
        let mut out = self.0.batches.clone();
        out.sort_by_key(|b| std::cmp::Reverse(b.prepared_at));
        Ok(out)
    }
    fn purge_batch(&mut self, id: &str) -> CoreResult<Option<PurgeBatch>> {
        Ok(self.0.batches.iter().find(|b| b.id == id).cloned())
    }
    fn closed_cases(
        &mut self,
        before: DateTime<Utc>,
        after: Option<(DateTime<Utc>, CaseId)>,
        limit: u32,
    ) -> CoreResult<Vec<Case>> {
        let mut out: Vec<Case> = self
            .0
            .cases
            .values()
            .filter(|c| c.state.is_terminal() && c.updated_at < before)
            .filter(|c| after.is_none_or(|a| (c.updated_at, c.id) > a))
            .cloned()
            .collect();
        out.sort_by_key(|c| (c.updated_at, c.id));
        out.truncate(limit as usize);
        Ok(out)
    }
    fn count_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64> {
        Ok(self
            .0
            .appointments
            .values()
            .filter(|a| a.case_id.is_none() && a.slot_start.date() < day)
            .count() as u64)
    }
}

impl RetentionWrite for Tx<'_> {
    fn insert_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()> {
        if self.0.holds.iter().any(|x| x.id == h.id) {
            return Err(CoreError::conflict("hold exists"));
        }
        self.0.holds.push(h.clone());
        Ok(())
    }
    fn update_legal_hold(&mut self, h: &LegalHold) -> CoreResult<()> {
        let x = self
            .0
            .holds
            .iter_mut()
            .find(|x| x.id == h.id)
            .ok_or_else(|| CoreError::not_found("hold"))?;
        *x = h.clone();
        Ok(())
    }
    fn insert_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()> {
        if self.0.batches.iter().any(|x| x.id == b.id) {
            return Err(CoreError::conflict("batch exists"));
        }
        self.0.batches.push(b.clone());
        Ok(())
    }
    fn update_purge_batch(&mut self, b: &PurgeBatch) -> CoreResult<()> {
        let x = self
            .0
            .batches
            .iter_mut()
            .find(|x| x.id == b.id)
            .ok_or_else(|| CoreError::not_found("batch"))?;
        *x = b.clone();
        Ok(())
    }
    fn delete_documents(&mut self, case_id: CaseId) -> CoreResult<u32> {
        let before = self.0.documents.len();
        self.0.documents.retain(|(d, _)| d.case_id != case_id);
        Ok((before - self.0.documents.len()) as u32)
    }
    fn delete_appointment(&mut self, id: AppointmentId) -> CoreResult<()> {
        self.0.appointments.remove(&id);
        Ok(())
    }
    fn delete_unlinked_appointments(&mut self, day: NaiveDate) -> CoreResult<u64> {
        let before = self.0.appointments.len();
        self.0
            .appointments
            .retain(|_, a| !(a.case_id.is_none() && a.slot_start.date() < day));
        Ok((before - self.0.appointments.len()) as u64)
    }
}

impl OutboxRead for Tx<'_> {
    fn outbox(
        &mut self,
        case_id: Option<CaseId>,
        kind: Option<crate::operator::OutboxKind>,
        limit: u32,
    ) -> CoreResult<Vec<crate::operator::OutboxMessage>> {
        let mut out: Vec<_> = self
            .0
            .outbox
            .iter()
            .filter(|m| case_id.is_none_or(|c| m.case_id == c) && kind.is_none_or(|k| m.kind == k))
            .cloned()
            .collect();
        out.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        out.truncate(limit as usize);
        Ok(out)
    }
    fn next_outbox_due(&mut self) -> CoreResult<Option<DateTime<Utc>>> {
        use crate::operator::OutboxStatus;
        Ok(self
            .0
            .outbox
            .iter()
            .filter(|m| m.status == OutboxStatus::Queued)
            .map(|m| {
                m.claimed_until
                    .map_or(m.next_attempt_at, |c| c.max(m.next_attempt_at))
            })
            .min())
    }
    fn count_queued_outbox(&mut self) -> CoreResult<u64> {
        Ok(self.queued())
    }
}

impl Tx<'_> {
    fn queued(&self) -> u64 {
        self.0
            .outbox
            .iter()
            .filter(|m| m.status == crate::operator::OutboxStatus::Queued)
            .count() as u64
    }
}

impl OutboxWrite for Tx<'_> {
    fn queue_outbox(&mut self, m: &crate::operator::OutboxMessage) -> CoreResult<()> {
        if self.0.outbox.iter().any(|x| x.id == m.id) {
            return Err(CoreError::conflict("message exists"));
        }
        self.0.outbox.push(m.clone());
        Ok(())
    }
    fn claim_outbox(
        &mut self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
        kinds: &[crate::operator::OutboxKind],
    ) -> CoreResult<Vec<crate::operator::OutboxMessage>> {
        use crate::operator::OutboxStatus;
        let mut due: Vec<&mut crate::operator::OutboxMessage> = self
            .0
            .outbox
            .iter_mut()
            .filter(|m| {
                m.status == OutboxStatus::Queued
                    && kinds.contains(&m.kind)
                    && m.next_attempt_at <= now
                    && m.claimed_until.is_none_or(|c| c <= now)
            })
            .collect();
        due.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(due
            .into_iter()
            .take(limit as usize)
            .map(|m| {
                m.claimed_until = Some(lease_until);
                m.clone()
            })
            .collect())
    }
    fn update_outbox(&mut self, m: &crate::operator::OutboxMessage) -> CoreResult<()> {
        let x = self
            .0
            .outbox
            .iter_mut()
            .find(|x| x.id == m.id)
            .ok_or_else(|| CoreError::not_found("message"))?;
        *x = m.clone();
        Ok(())
    }
}
