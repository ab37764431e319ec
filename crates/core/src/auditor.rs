//! The auditor's console: the audit trail searched by filters, its CSV export, the report of
//! reveals of full numbers, and the retention report (what the next purge would destroy).
//! Data shapes and pure functions; the use cases are in `service/retention.rs`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::*;
use crate::ports::{AuditEvent, Outcome};

/// The most events one page of [`crate::Counter::search_audit`] returns.
pub const MAX_AUDIT_PAGE: u32 = 500;
/// The most events one CSV export holds; a longer trail is exported in date ranges.
pub const MAX_EXPORT_EVENTS: usize = 200_000;

/// Filters of the audit trail. Every field narrows; none given lists everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AuditFilter {
    /// First branch-local day, inclusive.
    #[serde(default)]
    pub from: Option<NaiveDate>,
    /// Last branch-local day, inclusive (`from` ≤ `to`).
    #[serde(default)]
    pub to: Option<NaiveDate>,
    /// Staff id of the actor (case-insensitive).
    #[serde(default)]
    pub staff_id: Option<String>,
    /// A case number (`BJ001-20261207-0001`) or case id.
    #[serde(default)]
    pub case: Option<String>,
    /// One action (`reveal`, `submit`, `refused-step`, …): lower-case letters and `-`.
    #[serde(default)]
    pub action: Option<String>,
    /// Only refused attempts.
    #[serde(default)]
    pub refused_only: bool,
    /// Page cursor: events before this seq (the previous page's `next`).
    #[serde(default)]
    pub before: Option<i64>,
    /// Events per page, 1 to [`MAX_AUDIT_PAGE`]; default 100.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The store's form of a checked [`AuditFilter`] (UTC instants, a case id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Events at or after.
    pub from: Option<DateTime<Utc>>,
    /// Events before.
    pub to: Option<DateTime<Utc>>,
    /// Canonical (lower-case) staff id.
    pub staff_id: Option<String>,
    pub case_id: Option<CaseId>,
    pub action: Option<String>,
    pub refused_only: bool,
    /// Events with a smaller seq.
    pub before: Option<i64>,
    pub limit: u32,
}

impl AuditQuery {
    /// Whether `e` passes the filters (the memory store's and the tests' reference).
    pub fn matches(&self, e: &AuditEvent) -> bool {
        self.from.is_none_or(|t| e.at >= t)
            && self.to.is_none_or(|t| e.at < t)
            && self.staff_id.as_ref().is_none_or(|s| e.staff_id == *s)
            && self.case_id.is_none_or(|c| e.case_id == Some(c))
            && self.action.as_ref().is_none_or(|a| e.action == *a)
            && (!self.refused_only || e.outcome == Outcome::Refused)
            && self.before.is_none_or(|b| e.seq < b)
    }
}

/// One page of the audit trail, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// The case numbers of the events' cases, by case id.
    pub case_numbers: std::collections::BTreeMap<String, String>,
    /// Staff names by id (accounts that exist).
    pub staff: std::collections::BTreeMap<String, String>,
    /// Pass as `before` for the next page; `None` on the last page.
    pub next: Option<i64>,
}

/// One reveal of a full number: who, when, which case, which field, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RevealRecord {
    pub seq: i64,
    #[ts(type = "string")]
    pub at: DateTime<Utc>,
    pub staff_id: String,
    pub staff_name: Option<String>,
    pub role: Option<Role>,
    pub terminal: String,
    pub case_id: Option<CaseId>,
    pub case_number: Option<String>,
    /// `id-number`, `phone`, `bank-card` or `wallet-id`.
    pub field: String,
    pub reason: String,
}

/// One page of reveals, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RevealPage {
    pub reveals: Vec<RevealRecord>,
    /// Pass as the filter's `before` for the next page; `None` on the last page.
    pub next: Option<i64>,
}

/// What is due for destruction on `as_of` (the dry run of a purge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RetentionReport {
    pub as_of: NaiveDate,
    /// Years per class at this branch.
    pub case_years: u32,
    pub voucher_years: u32,
    /// Due and free to destroy.
    pub due: Vec<DueCase>,
    /// Due, but under a legal hold: never purged while it is active.
    pub held: Vec<DueCase>,
    /// The prepared batch waiting for its second person, if any.
    pub pending: Option<PurgeBatch>,
    /// Appointments no case links to (the customer never came), with a slot before
    /// `appointments_before`: due with the case class's period counted from the slot.
    pub appointments_due: u64,
    pub appointments_before: NaiveDate,
    /// True when more cases were due than one report lists ([`crate::retention::MAX_BATCH_CASES`]).
    pub truncated: bool,
}

/// A case with at least one class due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DueCase {
    pub case_id: CaseId,
    pub case_number: String,
    pub state: CaseState,
    pub opened_at: DateTime<Utc>,
    pub closed_on: NaiveDate,
    pub classes: Vec<DueClass>,
    pub hold: Option<LegalHold>,
}

/// One class of a case that is due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DueClass {
    pub class: RecordClass,
    /// The last day it had to be kept.
    pub kept_until: NaiveDate,
    /// What its purge removes: for `case` the personal data on the case and `appointment`
    /// (its row), for `voucher` the stored `documents` (printed copies and scans).
    pub removes: Vec<String>,
}

/// The CSV of `events` for a spreadsheet: UTF-8 with a byte-order mark (Excel opens it with
/// the right characters), CRLF line ends, RFC 4180 quoting, and every cell that starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return prefixed with `'` so that no spreadsheet
/// runs it as a formula (OWASP "CSV injection"). Columns: seq, time (UTC, RFC 3339), staff,
/// staff name, role, terminal, case number, case id, action, from, to, outcome, reason,
/// detail, hash.
pub fn audit_csv(
    events: &[AuditEvent],
    case_numbers: &std::collections::BTreeMap<String, String>,
    staff: &std::collections::BTreeMap<String, String>,
) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let header = [
        "seq",
        "at_utc",
        "staff_id",
        "staff_name",
        "role",
        "terminal",
        "case_number",
        "case_id",
        "action",
        "from_state",
        "to_state",
        "outcome",
        "reason",
        "detail",
        "hash",
    ];
    push_row(&mut out, header.iter().map(|h| h.to_string()));
    for e in events {
        let case_id = e.case_id.map(|c| c.to_string()).unwrap_or_default();
        push_row(
            &mut out,
            [
                e.seq.to_string(),
                e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                e.staff_id.clone(),
                staff.get(&e.staff_id).cloned().unwrap_or_default(),
                e.role.map(|r| r.to_string()).unwrap_or_default(),
                e.terminal.clone(),
                case_numbers.get(&case_id).cloned().unwrap_or_default(),
                case_id,
                e.action.clone(),
                e.from_state.map(|s| s.to_string()).unwrap_or_default(),
                e.to_state.map(|s| s.to_string()).unwrap_or_default(),
                match e.outcome {
                    Outcome::Ok => "ok".to_string(),
                    Outcome::Refused => "refused".to_string(),
                },
                e.reason.clone(),
                e.detail.clone(),
                e.hash.clone(),
            ]
            .into_iter(),
        );
    }
    out.into_bytes()
}

fn push_row(out: &mut String, cells: impl Iterator<Item = String>) {
    let mut first = true;
    for c in cells {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(&csv_cell(&c));
    }
    out.push_str("\r\n");
}

/// One CSV cell: formula-looking text defused with a leading `'`, then quoted when it holds
/// a comma, a quote or a line break (quotes doubled).
pub fn csv_cell(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_defused_and_quoted() {
        assert_eq!(csv_cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@x"), "'@x");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1,2"), "\"'=1,2\"");
        assert_eq!(csv_cell("张三"), "张三");
        assert_eq!(csv_cell(""), "");
    }
}
