//! The tamper-evident audit chain (docs/domain.md §6).
//!
//! Each event stores the previous event's hash and its own SHA-256 over all of its columns
//! (including its sequence number) and that previous hash, serialised as a JSON array so the
//! encoding is unambiguous. The first event's previous hash is 64 zeros. Triggers refuse
//! UPDATE and DELETE; the verifier finds edits, deletions, insertions, swaps and truncation
//! (via `audit_head`).

use rusqlite::{params, Connection, OptionalExtension, Row};
use sha2::{Digest, Sha256};
use unlockdesk_core::ports::{
    AuditDraft, AuditEvent, AuditRead, AuditVerification, AuditWrite, Outcome,
};
use unlockdesk_core::{CaseId, CaseState, CoreResult, Role};

/// The previous hash of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Timestamp format stored for UTC instants (sortable, microseconds).
pub const TS: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// `t` in the stored form `TS` (UTC, microseconds, `Z`). Same text as `t.format(TS)` without
/// interpreting the format string at every call (a step formats a few timestamps).
pub fn ts_text(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The hash of one event: SHA-256 (hex) over the JSON array of its columns and `prev_hash`.
pub fn event_hash(e: &AuditEvent) -> String {
    let cols = serde_json::json!([
        e.seq,
        ts_text(&e.at),
        e.staff_id,
        e.role.map(|r| r.as_str()),
        e.terminal,
        e.case_id.map(|c| c.to_string()),
        e.action,
        e.from_state.map(|s| s.as_str()),
        e.to_state.map(|s| s.as_str()),
        e.reason,
        outcome_str(e.outcome),
        e.detail,
        e.prev_hash,
    ]);
    hex::encode(Sha256::digest(cols.to_string().as_bytes()))
}

pub(crate) fn outcome_str(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Refused => "refused",
    }
}

/// Append one event at the end of the chain. Must run inside a write (`IMMEDIATE`) transaction.
pub fn append(conn: &Connection, d: &AuditDraft) -> rusqlite::Result<AuditEvent> {
    // Cached statements: a step's commit is dominated by its writes, and re-parsing the same
    // SQL at every step showed up as ~10 % of a transition (benches/transitions.rs).
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    // Store at microsecond precision so the hash recomputes from the stored text.
    let at = chrono::DateTime::parse_from_rfc3339(&ts_text(&d.at))
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or(d.at);
    let mut e = AuditEvent {
        seq,
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
    insert_event(conn, &e)?;
    Ok(e)
}

/// Store `e` as it is and move the chain head to it (an append, or `store copy`).
pub(crate) fn insert_event(conn: &Connection, e: &AuditEvent) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_events (seq, at, staff_id, role, terminal, case_id, action, from_state, to_state, reason, outcome, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
            e.seq,
            ts_text(&e.at),
            e.staff_id,
            e.role.map(|r| r.as_str()),
            e.terminal,
            e.case_id.map(|c| c.to_string()),
            e.action,
            e.from_state.map(|s| s.as_str()),
            e.to_state.map(|s| s.as_str()),
            e.reason,
            outcome_str(e.outcome),
            e.detail,
            e.prev_hash,
            e.hash
        ])?;
    conn.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )?
    .execute(params![e.seq, e.hash])?;
    Ok(())
}

/// Read one row. Unparseable values are kept as text that will not hash the same, so a
/// tampered enum shows up as a broken link instead of an error.
pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<AuditEvent> {
    let at: String = r.get("at")?;
    let role: Option<String> = r.get("role")?;
    let case_id: Option<String> = r.get("case_id")?;
    let from: Option<String> = r.get("from_state")?;
    let to: Option<String> = r.get("to_state")?;
    let outcome: String = r.get("outcome")?;
    Ok(AuditEvent {
        seq: r.get("seq")?,
        at: chrono::DateTime::parse_from_rfc3339(&at)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default(),
        staff_id: r.get("staff_id")?,
        role: role.and_then(|s| s.parse::<Role>().ok()),
        terminal: r.get("terminal")?,
        case_id: case_id.and_then(|s| CaseId::parse(&s).ok()),
        action: r.get("action")?,
        from_state: from.and_then(|s| s.parse::<CaseState>().ok()),
        to_state: to.and_then(|s| s.parse::<CaseState>().ok()),
        reason: r.get("reason")?,
        outcome: if outcome == "refused" {
            Outcome::Refused
        } else {
            Outcome::Ok
        },
        detail: r.get("detail")?,
        prev_hash: r.get("prev_hash")?,
        hash: r.get("hash")?,
    })
}

/// The audit-chain check both store backends run (docs/domain.md §6): fed the stored events
/// in `seq` order, it reports the first broken link — a sequence gap, a `prev_hash` that is not
/// the hash before, or content that does not hash to the stored `hash` — and at the end a
/// chain head (`audit_head`: last seq and hash) that disagrees with the last event (events
/// removed from the end). One definition, so a chain verifies the same on SQLite and
/// PostgreSQL.
pub struct ChainWalk {
    prev: String,
    expected_seq: i64,
    n: i64,
}

impl Default for ChainWalk {
    fn default() -> Self {
        ChainWalk {
            prev: GENESIS.to_string(),
            expected_seq: 1,
            n: 0,
        }
    }
}

fn broken(seq: i64, expected: String, found: String, problem: &str) -> AuditVerification {
    AuditVerification {
        ok: false,
        events: seq,
        broken_at: Some(seq),
        expected: Some(expected),
        found: Some(found),
        problem: Some(problem.to_string()),
    }
}

impl ChainWalk {
    /// The next stored event; `exact` says whether its stored columns round-trip to the
    /// decoded values (an edit a lenient parser would hide breaks the link). Returns the
    /// verdict at the first broken link, `None` while the chain holds.
    pub fn step(&mut self, e: AuditEvent, exact: bool) -> Option<AuditVerification> {
        self.n += 1;
        if e.seq != self.expected_seq {
            return Some(broken(
                e.seq,
                self.expected_seq.to_string(),
                e.seq.to_string(),
                "sequence gap: an event was removed or inserted",
            ));
        }
        if e.prev_hash != self.prev {
            return Some(broken(
                e.seq,
                std::mem::take(&mut self.prev),
                e.prev_hash,
                "previous-hash link does not match the event before",
            ));
        }
        // Recompute from the stored values; a changed column changes the hash.
        let mut probe = e.clone();
        probe.hash = String::new();
        let h = event_hash(&probe);
        let recomputed = if exact {
            h
        } else {
            format!("(columns do not round-trip) {h}")
        };
        if recomputed != e.hash {
            return Some(broken(
                e.seq,
                recomputed,
                e.hash,
                "event content does not match its hash",
            ));
        }
        self.prev = e.hash;
        self.expected_seq += 1;
        None
    }

    /// The verdict after the last event, given the stored chain head (`seq`, `hash`).
    pub fn finish(self, head: Option<(i64, String)>) -> AuditVerification {
        let n = self.n;
        match head {
            Some((seq, hash)) if seq != n || hash != self.prev => AuditVerification {
                ok: false,
                events: n,
                broken_at: Some(n + 1),
                expected: Some(hash),
                found: Some(self.prev),
                problem: Some(format!(
                    "the chain ends at event {n} but its head says {seq}: events were removed \
                     from the end"
                )),
            },
            None if n > 0 => AuditVerification {
                ok: false,
                events: n,
                broken_at: Some(n),
                expected: None,
                found: Some(self.prev),
                problem: Some("the chain head is missing".into()),
            },
            _ => AuditVerification {
                ok: true,
                events: n,
                broken_at: None,
                expected: None,
                found: None,
                problem: None,
            },
        }
    }
}

/// Walk the chain in `seq` order and report the first broken link ([`ChainWalk`]).
pub fn verify(conn: &Connection) -> rusqlite::Result<AuditVerification> {
    let mut stmt = conn.prepare("SELECT * FROM audit_events ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut walk = ChainWalk::default();
    while let Some(row) = rows.next()? {
        let e = from_row(row)?;
        // The stored text must round-trip exactly (catches edits the parser would hide).
        let raw_at: String = row.get("at")?;
        let stored_role: Option<String> = row.get("role")?;
        let stored_from: Option<String> = row.get("from_state")?;
        let stored_to: Option<String> = row.get("to_state")?;
        let stored_case: Option<String> = row.get("case_id")?;
        let stored_outcome: String = row.get("outcome")?;
        let exact = raw_at == ts_text(&e.at)
            && stored_role.as_deref() == e.role.map(|r| r.as_str())
            && stored_from.as_deref() == e.from_state.map(|s| s.as_str())
            && stored_to.as_deref() == e.to_state.map(|s| s.as_str())
            && stored_case == e.case_id.map(|c| c.to_string())
            && stored_outcome == outcome_str(e.outcome);
        if let Some(v) = walk.step(e, exact) {
            return Ok(v);
        }
    }
    let head: Option<(i64, String)> = conn
        .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(walk.finish(head))
}

// ---------------------------------------------------------------- the ports

impl AuditRead for crate::tx::Tx<'_> {
    fn case_history(&mut self, id: CaseId) -> CoreResult<Vec<AuditEvent>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT * FROM audit_events WHERE case_id = ?1 ORDER BY seq")
            .map_err(crate::sql_err)?;
        let rows = st
            .query_map(rusqlite::params![id.to_string()], from_row)
            .map_err(crate::sql_err)?;
        rows.map(|r| r.map_err(crate::sql_err)).collect()
    }

    fn audit_events(&mut self, from_seq: i64, limit: u32) -> CoreResult<Vec<AuditEvent>> {
        let mut st = self
            .tx
            .prepare_cached("SELECT * FROM audit_events WHERE seq >= ?1 ORDER BY seq LIMIT ?2")
            .map_err(crate::sql_err)?;
        let rows = st
            .query_map(rusqlite::params![from_seq, limit], from_row)
            .map_err(crate::sql_err)?;
        rows.map(|r| r.map_err(crate::sql_err)).collect()
    }

    fn search_audit(
        &mut self,
        q: &unlockdesk_core::auditor::AuditQuery,
    ) -> CoreResult<Vec<AuditEvent>> {
        // Every filter is a bound parameter (NULL = not filtered); the planner picks the
        // index of the most selective one given.
        let mut st = self
            .tx
            .prepare_cached(
                "SELECT * FROM audit_events WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR at < ?2) \
                 AND (?3 IS NULL OR staff_id = ?3) AND (?4 IS NULL OR case_id = ?4) \
                 AND (?5 IS NULL OR action = ?5) AND (?6 = 0 OR outcome = 'refused') \
                 AND (?7 IS NULL OR seq < ?7) ORDER BY seq DESC LIMIT ?8",
            )
            .map_err(crate::sql_err)?;
        let rows = st
            .query_map(
                rusqlite::params![
                    q.from.as_ref().map(ts_text),
                    q.to.as_ref().map(ts_text),
                    q.staff_id,
                    q.case_id.map(|c| c.to_string()),
                    q.action,
                    q.refused_only as i64,
                    q.before,
                    q.limit
                ],
                from_row,
            )
            .map_err(crate::sql_err)?;
        rows.map(|r| r.map_err(crate::sql_err)).collect()
    }

    fn audit_head(&mut self) -> CoreResult<i64> {
        self.tx
            .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM audit_events")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(crate::sql_err)
    }
}

impl AuditWrite for crate::tx::Tx<'_> {
    fn append_audit(&mut self, e: &AuditDraft) -> CoreResult<AuditEvent> {
        append(self.tx, e).map_err(crate::sql_err)
    }
}

#[cfg(test)]
mod ts_tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ts_text_is_the_stored_format() {
        for t in [
            chrono::Utc.with_ymd_and_hms(2026, 11, 29, 2, 0, 0).unwrap(),
            chrono::Utc.timestamp_micros(1_796_000_000_123_456).unwrap(),
            chrono::Utc.timestamp_nanos(1_796_000_000_999_999_999),
            chrono::Utc
                .with_ymd_and_hms(1999, 1, 1, 23, 59, 59)
                .unwrap(),
        ] {
            assert_eq!(ts_text(&t), t.format(TS).to_string());
        }
    }
}
