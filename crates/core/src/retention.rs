//! How long a case's records are kept, and what a purge leaves behind: pure rules, no IO.
//!
//! Sources of the rules:
//! * Anti-Money Laundering Law of the PRC (2024 revision, in force 2025-01-01), Art. 34:
//!   customer identity data are kept at least ten years after the business relationship ends,
//!   transaction records (business vouchers included) at least ten years after the
//!   transaction. A case's business ends when the case closes, so both periods count from the
//!   branch-local day the case reached a final state ([`closed_on`]).
//! * 会计档案管理办法 (Ministry of Finance and State Archives Administration, 2015), Art. 14
//!   and its retention table: accounting vouchers are kept 30 years, and destroyed only under
//!   a destruction register (销毁清册) signed off by the people responsible and supervised
//!   (Art. 19): one person prepares a batch, another approves it ([`crate::model::PurgeBatch`]).
//! * Personal Information Protection Law, Art. 47: once the period is over the personal data
//!   is deleted; while it runs it is only stored and protected, so a closed case is read-only
//!   ([`read_only_reason`]). Records tied to an open investigation, complaint or dispute are
//!   kept until it is settled: a [`crate::model::LegalHold`] blocks the purge.
//!
//! A branch sets one period per [`RecordClass`] (`Branch::retention_years` for the case with
//! its identity copy, `Branch::voucher_retention_years` for the vouchers); neither may be
//! shorter than [`AML_MIN_YEARS`].

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::*;

/// AML Law Art. 34: the shortest period any record class may have, in years.
pub const AML_MIN_YEARS: u32 = 10;
/// 会计档案管理办法 (2015): accounting vouchers, in years (the default of the voucher class).
pub const VOUCHER_ARCHIVE_YEARS: u32 = 30;
/// The longest period a branch may set, in years (a typing error, not a policy).
pub const MAX_YEARS: u32 = 100;
/// The most cases one destruction batch holds (one transaction at approval).
pub const MAX_BATCH_CASES: usize = 1000;

/// The period of `class` at `branch`, in years (never below [`AML_MIN_YEARS`]).
pub fn years(branch: &Branch, class: RecordClass) -> u32 {
    match class {
        RecordClass::Case => branch.retention_years,
        RecordClass::Voucher => branch.voucher_retention_years,
    }
    .max(AML_MIN_YEARS)
}

/// The branch-local day the case reached a final state (closed, cancelled, rejected,
/// refused), from which its periods count; `None` while it is open. A final case never
/// changes again ([`read_only_reason`]), so its last change is its close.
pub fn closed_on(case: &Case, branch: &Branch) -> Option<NaiveDate> {
    case.state
        .is_terminal()
        .then(|| branch.local_date(case.updated_at))
}

/// The last day `class` of a case closed on `closed` must still be kept: `closed` plus the
/// class's years (29 February moves to 28 February in a common year). The class is due for
/// destruction the day after.
pub fn kept_until(closed: NaiveDate, years: u32) -> NaiveDate {
    closed
        .checked_add_months(Months::new(12 * years))
        .unwrap_or(NaiveDate::MAX)
}

/// Retention of one case as a screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RetentionStatus {
    /// `None` while the case is open (no period runs yet).
    pub closed_on: Option<NaiveDate>,
    /// Per record class: kept until this day (inclusive), or destroyed.
    pub classes: Vec<ClassRetention>,
    /// The active legal hold, if any.
    pub hold: Option<LegalHold>,
}

/// One record class of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ClassRetention {
    pub class: RecordClass,
    pub years: u32,
    /// `None` while the case is open.
    pub kept_until: Option<NaiveDate>,
    /// Set when the class was destroyed.
    pub purged: Option<PurgeMark>,
}

/// The retention of `case` at `branch`.
pub fn status(case: &Case, branch: &Branch, hold: Option<LegalHold>) -> RetentionStatus {
    let closed = closed_on(case, branch);
    RetentionStatus {
        closed_on: closed,
        classes: RecordClass::ALL
            .iter()
            .map(|&class| {
                let years = years(branch, class);
                ClassRetention {
                    class,
                    years,
                    kept_until: closed.map(|d| kept_until(d, years)),
                    purged: case.purges.iter().find(|p| p.class == class).cloned(),
                }
            })
            .collect(),
        hold,
    }
}

/// The classes of `case` due for destruction on `today` (kept past their last day and not
/// destroyed yet), each with its last kept day. Holds are the caller's to check.
pub fn due_classes(
    case: &Case,
    branch: &Branch,
    today: NaiveDate,
) -> Vec<(RecordClass, NaiveDate)> {
    let Some(closed) = closed_on(case, branch) else {
        return Vec::new();
    };
    RecordClass::ALL
        .iter()
        .filter(|c| !case.purges.iter().any(|p| p.class == **c))
        .map(|&c| (c, kept_until(closed, years(branch, c))))
        .filter(|(_, until)| *until < today)
        .collect()
}

/// The latest instant a case may have closed for some class of it to be due on `today`:
/// cases last changed before it are the candidates a store lists
/// ([`crate::ports::RetentionRead::closed_cases`]).
pub fn candidates_before(branch: &Branch, today: NaiveDate) -> DateTime<Utc> {
    let shortest = RecordClass::ALL
        .iter()
        .map(|c| years(branch, *c))
        .min()
        .unwrap_or(AML_MIN_YEARS);
    // Due when today > closed + years, i.e. closed < today - years (whole local days): the
    // day after the last candidate day starts at local midnight; a day of margin on each
    // side of the zone offset is filtered out again by `due_classes`.
    let last_day = today
        .checked_sub_months(Months::new(12 * shortest))
        .unwrap_or(NaiveDate::MIN);
    let next = last_day.succ_opt().unwrap_or(last_day);
    next.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc() + chrono::Duration::days(1))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Appointments no case links to with a slot before the returned branch-local day are due on
/// `today`: kept the case class's years from their slot (the booking holds the customer's
/// identity data; without a visit there is no longer period to keep it for).
pub fn unlinked_appointments_before(branch: &Branch, today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_months(Months::new(12 * years(branch, RecordClass::Case)))
        .unwrap_or(NaiveDate::MIN)
}

/// Why a step may not change `case` now: a case in a final state is read-only while its
/// periods run (PIPL Art. 47: only storage and protection), and a destroyed one for ever.
pub fn read_only_reason(case: &Case) -> Option<String> {
    if !case.purges.is_empty() {
        return Some(format!(
            "case {} was destroyed after its retention ran out: only its tombstone is kept",
            case.case_number
        ));
    }
    case.state.is_terminal().then(|| {
        format!(
            "case {} is {} and kept read-only while its retention runs (Anti-Money Laundering \
             Law, Art. 34)",
            case.case_number, case.state
        )
    })
}

/// The case after destroying `class`: the tombstone keeps the case number, dates, state,
/// lock cause, the staff who worked it, the decision, prints and the operator's tickets and
/// references (no personal data); `mark` says who prepared and who approved. For
/// [`RecordClass::Case`] the customer's name and phone, the identity record, the application
/// form, the link to the appointment and every free text staff typed (reasons, contact
/// results, a receipt waiver) go; for
/// [`RecordClass::Voucher`] the scans' file names (the stored documents themselves are
/// removed by the store). The version is bumped; `updated_at` stays the close.
pub fn scrub(case: &Case, mark: PurgeMark) -> Case {
    let mut c = case.clone();
    match mark.class {
        RecordClass::Case => {
            c.customer_name = String::new();
            c.phone = String::new();
            c.identity = None;
            c.form = None;
            c.appointment_id = None;
            c.unlock_request = None;
            // Words staff typed about the customer may name them: the reasons and results go
            // (the audit trail keeps its own digit-masked copy, as it must stay whole).
            c.last_reason = String::new();
            c.receipt_waiver = c.receipt_waiver.as_ref().map(|_| String::new());
            if let Some(a) = &mut c.authorization {
                a.reason = String::new();
            }
            for f in &mut c.unlock_failures {
                f.reason = String::new();
            }
            for k in &mut c.contacts {
                k.result = String::new();
            }
        }
        RecordClass::Voucher => {
            for s in &mut c.signed_scans {
                s.file_name = String::new();
            }
        }
    }
    c.purges.push(mark);
    c.version += 1;
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_until_counts_whole_years_and_leap_days() {
        let d = NaiveDate::from_ymd_opt(2016, 2, 29).unwrap();
        assert_eq!(
            kept_until(d, 10),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        let d = NaiveDate::from_ymd_opt(2015, 6, 30).unwrap();
        assert_eq!(
            kept_until(d, 30),
            NaiveDate::from_ymd_opt(2045, 6, 30).unwrap()
        );
    }
}
