//! Feedback while the teller types. A partial number is "incomplete", never
//! judged as another kind: 15 typed digits of an 18-digit ID are not a legacy ID. The final
//! check ([`super::check`]) runs in core when the teller confirms.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{birth_date_rules, check, digits_value, mrz, prepare, DocCheck, DocKind, RuleError};

/// Live status of a field being typed. JSON: `{"status": "incomplete"}`,
/// `{"status": "invalid", "detail": [errors]}`, `{"status": "valid", "detail": {DocCheck}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "status", content = "detail", rename_all = "kebab-case")]
#[ts(export)]
pub enum LiveStatus {
    /// Nothing wrong yet, but not complete (also: empty).
    Incomplete,
    /// Already wrong whatever comes next (a bad character, province, date, or too long), or
    /// complete and wrong.
    Invalid(Vec<RuleError>),
    /// Complete and valid (it may still grow into a longer valid form, e.g. an HK/Macau permit
    /// with renewal digits or a 19-digit card).
    Valid(Box<DocCheck>),
}

/// Judge a partly typed value of `kind` (see [`LiveStatus`]). Never panics.
pub fn live_status(kind: DocKind, partial: &str, today: NaiveDate) -> LiveStatus {
    if kind == DocKind::PassportMrz {
        return live_mrz(partial, today);
    }
    let grouped = matches!(kind, DocKind::BankCard | DocKind::Mobile);
    let s = prepare(partial, grouped);
    if s.is_empty() {
        return LiveStatus::Incomplete;
    }
    // `+`, `+8`, `0`, `00`, `008`: the start of a country prefix.
    if kind == DocKind::Mobile && ("+86".starts_with(s.as_str()) || "0086".starts_with(s.as_str()))
    {
        return LiveStatus::Incomplete;
    }
    let n = s.chars().count();
    let full = check(Some(kind), &s, today);
    // A driving licence number is complete at 18: 15 digits typed so far are not a legacy ID.
    if full.valid && !(kind == DocKind::DrivingLicence && n < 18) {
        return LiveStatus::Valid(Box::new(full));
    }
    let (max, can_grow) = growth(kind, &s, n);
    if n > max {
        return LiveStatus::Invalid(full.errors);
    }
    // Errors that more typing cannot cure.
    let fatal: Vec<RuleError> = full
        .errors
        .iter()
        .filter(|e| match e.rule.as_str() {
            // Under 18, a driving licence number was read as a legacy 15-digit ID: only what sits
            // at the same place in both (characters, province) is judged.
            "date" | "future-date" | "check-digit" if kind == DocKind::DrivingLicence && n < 18 => {
                false
            }
            "length" => false,
            // A card number shorter than 19 may still grow into a Luhn-valid one.
            "check-digit" => !can_grow,
            // `(` or `(B` after the 8 or 10 digits of a Taiwan permit still being typed.
            "format" => !(kind == DocKind::TaiwanPermit && can_grow && taiwan_bracket_open(&s)),
            _ => true,
        })
        .cloned()
        .collect();
    if !fatal.is_empty() {
        return LiveStatus::Invalid(fatal);
    }
    if !can_grow {
        return LiveStatus::Invalid(full.errors);
    }
    if let Some(errors) = partial_date_errors(kind, &s, today) {
        return LiveStatus::Invalid(errors);
    }
    LiveStatus::Incomplete
}

/// The longest complete length of `kind`, and whether `s` (length `n`) may still grow.
fn growth(kind: DocKind, s: &str, n: usize) -> (usize, bool) {
    let max = match kind {
        DocKind::PrcId | DocKind::ResidencePermit | DocKind::DrivingLicence => 18,
        DocKind::PrcId15 => 15,
        DocKind::ForeignPermanentId => {
            if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
                15
            } else {
                18
            }
        }
        DocKind::HkMacauPermit => 11,
        // 10 digits + `(L)`.
        DocKind::TaiwanPermit => 13,
        DocKind::BankCard => 19,
        DocKind::Mobile => {
            let prefix = if s.starts_with("+86") {
                3
            } else if s.starts_with("0086") {
                4
            } else {
                0
            };
            11 + prefix
        }
        DocKind::PassportMrz => 88,
    };
    (max, n < max)
}

/// 8 or 10 digits then an opening bracket, perhaps with its letter.
fn taiwan_bracket_open(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &s.as_bytes()[digits..];
    (digits == 8 || digits == 10) && matches!(rest, [b'('] | [b'(', b'A'..=b'Z'])
}

/// Once the 8 birth-date digits of an 18-character ID are typed, judge them (the final check
/// only judges dates on the full length).
fn partial_date_errors(kind: DocKind, s: &str, today: NaiveDate) -> Option<Vec<RuleError>> {
    let b = s.as_bytes();
    // Not for a driving licence: its number may be a legacy 15-digit ID, whose date sits elsewhere.
    let judged = matches!(kind, DocKind::PrcId | DocKind::ResidencePermit);
    if !judged || b.len() < 14 || !s.is_ascii() {
        return None;
    }
    let (y, m, d) = (
        digits_value(&b[6..10])?,
        digits_value(&b[10..12])?,
        digits_value(&b[12..14])?,
    );
    let mut errors = Vec::new();
    birth_date_rules(y as i32, m, d, today, &mut errors);
    (!errors.is_empty()).then_some(errors)
}

fn live_mrz(partial: &str, today: NaiveDate) -> LiveStatus {
    let (l1, l2) = mrz::split_lines(partial);
    if l1.is_empty() && l2.is_empty() {
        return LiveStatus::Incomplete;
    }
    let full = super::check_mrz(l1, l2, today);
    if full.valid {
        return LiveStatus::Valid(Box::new(full));
    }
    let short = |l: &str| l.chars().count() < 44;
    if short(l1) || short(l2) {
        let fatal: Vec<RuleError> = full
            .errors
            .iter()
            .filter(|e| e.rule == "character" || (e.rule == "length" && !(short(l1) || short(l2))))
            .cloned()
            .collect();
        let too_long = l1.chars().count() > 44 || l2.chars().count() > 44;
        if fatal.is_empty() && !too_long {
            return LiveStatus::Incomplete;
        }
        return LiveStatus::Invalid(full.errors);
    }
    LiveStatus::Invalid(full.errors)
}
