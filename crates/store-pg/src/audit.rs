//! The tamper-evident audit chain (docs/domain.md §6) on PostgreSQL.
//!
//! Same chain as the embedded store: each event stores the previous event's hash and its own
//! SHA-256 over all of its columns and that previous hash, computed by
//! [`unlockdesk_store::audit::event_hash`] from values normalised the same way on both backends
//! (timestamps to microseconds), so a chain copied from SQLite verifies here. Triggers refuse
//! UPDATE, DELETE and TRUNCATE; the one-row `audit_head` records the chain's end (truncation
//! is detected) and is the lock that serialises appends.

use postgres::{Row, Transaction};
use unlockdesk_core::ports::{
    AuditDraft, AuditEvent, AuditRead, AuditVerification, AuditWrite, Outcome,
};
use unlockdesk_core::{CaseId, CaseState, CoreError, CoreResult, Role};
use unlockdesk_store::audit::{event_hash, ts_text, ChainWalk};

use crate::tx::Tx;

/// The head row, locked by every write transaction before it writes or locks any row (at
/// `BEGIN`, or an optimistic one at its first write).
pub(crate) const HEAD_LOCK: &str = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
const EVENT_COLS: &str = "seq, at, staff_id, role, terminal, case_id, action, from_state, \
     to_state, reason, outcome, detail, prev_hash, hash";

fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Refused => "refused",
    }
}

/// The raw text columns of a row, kept to check that they round-trip exactly.
struct Raw {
    role: Option<String>,
    from_state: Option<String>,
    to_state: Option<String>,
    outcome: String,
}

/// Read one row. Unparseable values are kept as text that will not hash the same, so a
/// tampered enum shows up as a broken link instead of an error.
fn from_row(r: &Row) -> Result<(AuditEvent, Raw), postgres::Error> {
    let raw = Raw {
        role: r.try_get("role")?,
        from_state: r.try_get("from_state")?,
        to_state: r.try_get("to_state")?,
        outcome: r.try_get("outcome")?,
    };
    let case_id: Option<uuid::Uuid> = r.try_get("case_id")?;
    let e = AuditEvent {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        staff_id: r.try_get("staff_id")?,
        role: raw.role.as_deref().and_then(|s| s.parse::<Role>().ok()),
        terminal: r.try_get("terminal")?,
        case_id: case_id.map(CaseId),
        action: r.try_get("action")?,
        from_state: raw
            .from_state
            .as_deref()
            .and_then(|s| s.parse::<CaseState>().ok()),
        to_state: raw
            .to_state
            .as_deref()
            .and_then(|s| s.parse::<CaseState>().ok()),
        reason: r.try_get("reason")?,
        outcome: if raw.outcome == "refused" {
            Outcome::Refused
        } else {
            Outcome::Ok
        },
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    };
    Ok((e, raw))
}

/// Walk the chain in `seq` order and report the first broken link: the embedded store's
/// [`ChainWalk`], so both backends judge a chain alike. Run it in one snapshot.
pub fn verify(tx: &mut Transaction<'_>) -> Result<AuditVerification, postgres::Error> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut walk = ChainWalk::default();
    {
        let sql = format!("SELECT {EVENT_COLS} FROM audit_events ORDER BY seq");
        // Streamed: a long trail is never held in memory at once.
        let mut rows = tx.query_raw(sql.as_str(), std::iter::empty::<i32>())?;
        while let Some(row) = rows.next()? {
            let (e, raw) = from_row(&row)?;
            // The stored text must round-trip exactly (catches edits the parser would hide);
            // `at` and `case_id` are typed columns and round-trip by construction.
            let exact = raw.role.as_deref() == e.role.map(|r| r.as_str())
                && raw.from_state.as_deref() == e.from_state.map(|s| s.as_str())
                && raw.to_state.as_deref() == e.to_state.map(|s| s.as_str())
                && raw.outcome == outcome_str(e.outcome);
            if let Some(v) = walk.step(e, exact) {
                return Ok(v);
            }
        }
    }
    let head = tx.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    Ok(walk.finish(head.map(|r| (r.get(0), r.get(1)))))
}

fn events(rows: Vec<Row>) -> CoreResult<Vec<AuditEvent>> {
    rows.iter()
        .map(|r| from_row(r).map(|(e, _)| e).map_err(crate::pg_err))
        .collect()
}

impl AuditRead for Tx<'_, '_> {
    fn case_history(&mut self, id: CaseId) -> CoreResult<Vec<AuditEvent>> {
        let rows = self.query(
            &format!("SELECT {EVENT_COLS} FROM audit_events WHERE case_id = $1 ORDER BY seq"),
            &[&id.0],
        )?;
        events(rows)
    }

    fn audit_events(&mut self, from_seq: i64, limit: u32) -> CoreResult<Vec<AuditEvent>> {
        let rows = self.query(
            &format!("SELECT {EVENT_COLS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2"),
            &[&from_seq, &i64::from(limit)],
        )?;
        events(rows)
    }

    fn search_audit(
        &mut self,
        q: &unlockdesk_core::auditor::AuditQuery,
    ) -> CoreResult<Vec<AuditEvent>> {
        // Every filter is a typed parameter (NULL = not filtered).
        let rows = self.query(
            &format!(
                "SELECT {EVENT_COLS} FROM audit_events WHERE ($1::timestamptz IS NULL OR at >= $1) \
                 AND ($2::timestamptz IS NULL OR at < $2) AND ($3::text IS NULL OR staff_id = $3) \
                 AND ($4::uuid IS NULL OR case_id = $4) AND ($5::text IS NULL OR action = $5) \
                 AND (NOT $6::boolean OR outcome = 'refused') AND ($7::bigint IS NULL OR seq < $7) \
                 ORDER BY seq DESC LIMIT $8"
            ),
            &[
                &q.from,
                &q.to,
                &q.staff_id,
                &q.case_id.map(|c| c.0),
                &q.action,
                &q.refused_only,
                &q.before,
                &i64::from(q.limit),
            ],
        )?;
        events(rows)
    }

    fn audit_head(&mut self) -> CoreResult<i64> {
        let row = self.query(
            "SELECT COALESCE(MAX(seq), 0)::bigint FROM audit_events",
            &[],
        )?;
        Ok(row.first().map_or(0, |r| r.get(0)))
    }
}

impl AuditWrite for Tx<'_, '_> {
    fn append_audit(&mut self, d: &AuditDraft) -> CoreResult<AuditEvent> {
        // The head this transaction locked when it began or at its first write (no other
        // writer can have moved it since), advanced by this transaction's own appends.
        self.serialise()?;
        let (head_seq, prev_hash) = self.head.clone().ok_or_else(|| {
            CoreError::storage("the audit chain head is missing: the database was altered")
        })?;
        // At microsecond precision (PostgreSQL's), so the hash recomputes from the stored
        // value; the same normalisation as the embedded store.
        let at = chrono::DateTime::parse_from_rfc3339(&ts_text(&d.at))
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(d.at);
        let mut e = AuditEvent {
            seq: head_seq + 1,
            at,
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
            hash: String::new(),
        };
        e.hash = event_hash(&e);
        self.insert_event(&e)?;
        Ok(e)
    }
}

impl Tx<'_, '_> {
    /// Store `e` as it is and move the chain head (locked by this transaction) to it.
    pub(crate) fn insert_event(&mut self, e: &AuditEvent) -> CoreResult<()> {
        self.execute(
            &format!(
                "INSERT INTO audit_events ({EVENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ),
            &[
                &e.seq,
                &e.at,
                &e.staff_id,
                &e.role.map(|r| r.as_str()),
                &e.terminal,
                &e.case_id.map(|c| c.0),
                &e.action,
                &e.from_state.map(|s| s.as_str()),
                &e.to_state.map(|s| s.as_str()),
                &e.reason,
                &outcome_str(e.outcome),
                &e.detail,
                &e.prev_hash,
                &e.hash,
            ],
        )?;
        self.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[&e.seq, &e.hash],
        )?;
        self.head = Some((e.seq, e.hash.clone()));
        Ok(())
    }
}
