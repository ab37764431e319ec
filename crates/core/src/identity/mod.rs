//! Identity-document rules (docs/domain.md §4): every document a counter sees, parsed
//! and checked to its standard.
//!
//! Entry points:
//! - [`check`] one number of a known or detected kind → [`DocCheck`] (kind, normalised value,
//!   parsed fields, and **every** failed rule);
//! - [`check_mrz`] the two lines of a passport's TD3 machine-readable zone (ICAO Doc 9303);
//! - [`live_status`] for feedback while the teller types (a partial number is "incomplete",
//!   never judged as another kind);
//! - [`names_match`] document name against the name entered; [`is_minor`];
//! - [`policy`] which combinations of evidence suffice when there is no ID card (domain §1).
//!
//! Normalise, then be strict: full-width forms are folded to ASCII, spaces are
//! dropped (hyphens too for card and phone numbers), ASCII letters are upper-cased (`x`, `h`,
//! `m`, MRZ letters); after that any character the standard does not allow is reported as a
//! `character` error. Nothing is ever mapped to `0`: a parser that does that lets junk pass a
//! checksum.
//!
//! Rule ids ([`RuleError::rule`], kebab-case, stable; the UI translates them):
//! `required`, `length`, `character`, `format`, `prefix`, `province`, `date`, `future-date`,
//! `check-digit`, `kind` (no kind could be detected).
//!
//! Which rules are judged when others already failed: a `check-digit` error is only reported
//! when the length is right and every character the check covers is allowed (with junk or a
//! missing digit, an "expected vs found" would point at the wrong character); the embedded date
//! is only judged when the length is right (a missing or extra digit shifts it). Province /
//! prefix sit at the start and are judged whenever their characters are digits.

mod card;
pub mod case;
mod live;
mod mrz;
mod names;
mod permits;
mod phone;
pub mod policy;
mod prc;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::CoreError;
use crate::model::Sex;
use crate::normalize::{compact, compact_grouped};

pub use case::{verify_for_case, verify_for_case_with};
pub use live::{live_status, LiveStatus};
pub use mrz::{check_mrz, mrz_check_digit};
pub use names::names_match;
pub use prc::mod11_2_check_char;

/// The kinds of number a counter checks. Serialised kebab-case (`prc-id`, `prc-id-15`, ...),
/// the same spelling in the CLI's `--kind`, the JSON output and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum DocKind {
    /// Resident ID card number, GB 11643-1999: 17 digits + MOD 11-2 check character.
    PrcId,
    /// Legacy 15-digit resident ID number, GB 11643-1989; normalised to its 18-digit form.
    #[serde(rename = "prc-id-15")]
    PrcId15,
    /// Residence permit for Hong Kong, Macau and Taiwan residents (港澳台居民居住证):
    /// 810000 / 820000 / 830000 + GB 11643 date, sequence and check rules.
    ResidencePermit,
    /// Mainland travel permit for HK/Macau residents (回乡证): `H`/`M` + 8 digits (+ 2).
    HkMacauPermit,
    /// Mainland travel permit for Taiwan residents (台胞证): 8 digits (legacy 10, letter).
    TaiwanPermit,
    /// Foreign permanent resident ID (外国人永久居留身份证), 2023 (18) or 2017 (15) format.
    ForeignPermanentId,
    /// Passport, read from the TD3 machine-readable zone (ICAO Doc 9303 Part 4).
    PassportMrz,
    /// Driving licence: its number is the holder's ID number. Supporting document only.
    DrivingLicence,
    /// Bank card number: Luhn (ISO/IEC 7812-1), 16–19 digits. Corroborates, never proves.
    BankCard,
    /// Mainland mobile number: 11 digits `1[3-9]…`, `+86`/`0086` accepted and removed.
    Mobile,
}

impl DocKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [DocKind] = &[
        DocKind::PrcId,
        DocKind::PrcId15,
        DocKind::ResidencePermit,
        DocKind::HkMacauPermit,
        DocKind::TaiwanPermit,
        DocKind::ForeignPermanentId,
        DocKind::PassportMrz,
        DocKind::DrivingLicence,
        DocKind::BankCard,
        DocKind::Mobile,
    ];

    /// The kinds [`check`] chooses among when no kind is given (identity documents proper;
    /// a passport is detected when two MRZ lines are given).
    pub const DETECTABLE: &'static [DocKind] = &[
        DocKind::PrcId,
        DocKind::PrcId15,
        DocKind::ResidencePermit,
        DocKind::HkMacauPermit,
        DocKind::TaiwanPermit,
        DocKind::ForeignPermanentId,
        DocKind::PassportMrz,
    ];

    /// The kebab-case spelling used everywhere.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::PrcId => "prc-id",
            DocKind::PrcId15 => "prc-id-15",
            DocKind::ResidencePermit => "residence-permit",
            DocKind::HkMacauPermit => "hk-macau-permit",
            DocKind::TaiwanPermit => "taiwan-permit",
            DocKind::ForeignPermanentId => "foreign-permanent-id",
            DocKind::PassportMrz => "passport-mrz",
            DocKind::DrivingLicence => "driving-licence",
            DocKind::BankCard => "bank-card",
            DocKind::Mobile => "mobile",
        }
    }

    /// True for the resident ID card (18-digit or legacy 15-digit number). Every other
    /// document needs the supervisor's co-check (双人审核, docs/domain.md §1 step 3).
    pub fn is_resident_id_card(self) -> bool {
        matches!(self, DocKind::PrcId | DocKind::PrcId15)
    }
}

impl fmt::Display for DocKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DocKind {
    type Err = CoreError;
    /// Parses the kebab-case spelling (surrounding space ignored). Error: field `kind`,
    /// rule `one-of`.
    fn from_str(s: &str) -> Result<Self, CoreError> {
        let t = s.trim();
        DocKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| {
                let all: Vec<&str> = DocKind::ALL.iter().map(|k| k.as_str()).collect();
                CoreError::field(
                    "kind",
                    "one-of",
                    format!("'{t}' is not one of: {}", all.join(", ")),
                )
            })
    }
}

/// One failed rule. `rule` is a stable kebab-case id (see the module docs); `message` is
/// English for logs and the CLI. For check digits, `field` names which check failed (MRZ:
/// `document-number`, `birth-date`, `expiry`, `personal-number`, `composite`; others:
/// `check-character`) and `expected` / `found` carry the two characters, so the UI can say it
/// in zh-CN without parsing the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RuleError {
    pub rule: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub expected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub found: Option<String>,
}

impl RuleError {
    /// A rule error without field / expected / found.
    pub fn new(rule: impl Into<String>, message: impl Into<String>) -> Self {
        RuleError {
            rule: rule.into(),
            message: message.into(),
            field: None,
            expected: None,
            found: None,
        }
    }

    /// A `check-digit` error naming which check failed and both characters.
    pub fn check_digit(field: &str, what: &str, expected: char, found: char) -> Self {
        RuleError {
            rule: "check-digit".into(),
            message: format!("{what} check digit: expected {expected}, found {found}"),
            field: Some(field.into()),
            expected: Some(expected.to_string()),
            found: Some(found.to_string()),
        }
    }
}

/// What a number tells about its holder and the document, where the standard encodes it.
/// Every field is optional and omitted from JSON when absent; dates are `YYYY-MM-DD`.
/// Fields are filled whenever they can be read, also on an invalid number (look at
/// [`DocCheck::valid`] before relying on them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DocFields {
    /// Birth date (GB 11643 positions 7–14; MRZ line 2 positions 14–19).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub birth_date: Option<NaiveDate>,
    /// Sex: GB 11643 sequence code, odd = male; MRZ `M`/`F` (`<`/`X` → unspecified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub sex: Option<Sex>,
    /// Province of the address code: 2-digit code and name, e.g. `11 北京市`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub province: Option<String>,
    /// Issuer: MRZ issuing state (3 letters, not looked up); `HK`/`MO` for a travel permit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub issuer: Option<String>,
    /// Nationality: MRZ code; 2017 permanent-residence card letters; 2023 card numeric code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub nationality: Option<String>,
    /// Document expiry (MRZ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub expiry: Option<NaiveDate>,
    /// `true` when the expiry is before today. Does not make the number invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub expired: Option<bool>,
    /// MRZ document code (`P`, `PO`, ...), fillers removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub document_type: Option<String>,
    /// MRZ document number, fillers removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub document_number: Option<String>,
    /// MRZ primary identifier, fillers turned into spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub surname: Option<String>,
    /// MRZ secondary identifier, fillers turned into spaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub given_names: Option<String>,
    /// MRZ personal number / optional data, fillers removed; absent when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub personal_number: Option<String>,
    /// Renewal (issue) count of an HK/Macau permit (last 2 of 10 digits) or legacy Taiwan permit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub renewal_count: Option<u8>,
    /// The part that identifies the person across renewals (HK/Macau: letter + 8 digits;
    /// Taiwan: 8 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub person_key: Option<String>,
    /// Bracketed letter on a legacy Taiwan permit, e.g. `B` from `1234567890(B)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub suffix_letter: Option<String>,
    /// A legacy 15-digit ID converted to 18 digits (GB 11643-1999 §…: insert `19`, append
    /// the MOD 11-2 character). Same as `normalized` when valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub legacy_18: Option<String>,
    /// Card edition of a foreign permanent resident ID: `2023` or `2017`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub card_version: Option<String>,
    /// Driving licence: which ID kind its number follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub id_kind: Option<DocKind>,
}

/// The result of checking one number: never a bare bool.
///
/// JSON: `{"valid": bool, "kind": str, "normalized": str|null, "fields": {...},
/// "errors": [{"rule", "message", ...}]}`; `kind` is `"unknown"` when none was given and none
/// could be detected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DocCheck {
    /// The number follows its standard (an expired document is still `valid`; see
    /// `fields.expired`).
    pub valid: bool,
    #[serde(with = "kind_or_unknown")]
    #[ts(type = "string")]
    pub kind: Option<DocKind>,
    /// Digits and upper-case letters only; a 15-digit ID as its 18-digit form; a mobile number
    /// without `+86`; a passport as its document number. `None` unless `valid`.
    pub normalized: Option<String>,
    pub fields: DocFields,
    /// Every failed rule, in the order length, character, prefix/province, date, check digit.
    pub errors: Vec<RuleError>,
}

impl DocCheck {
    /// The kind's spelling, or `unknown`.
    pub fn kind_str(&self) -> &'static str {
        self.kind.map(DocKind::as_str).unwrap_or("unknown")
    }

    /// Build from errors: valid iff none, normalised value kept only when valid.
    pub(crate) fn finish(
        kind: Option<DocKind>,
        normalized: String,
        fields: DocFields,
        errors: Vec<RuleError>,
    ) -> Self {
        let valid = errors.is_empty();
        DocCheck {
            valid,
            kind,
            normalized: valid.then_some(normalized),
            fields,
            errors,
        }
    }

    /// Does any error carry this rule id?
    pub fn has_rule(&self, rule: &str) -> bool {
        self.errors.iter().any(|e| e.rule == rule)
    }
}

mod kind_or_unknown {
    use super::DocKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(k: &Option<DocKind>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.map(DocKind::as_str).unwrap_or("unknown"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DocKind>, D::Error> {
        let s = String::deserialize(d)?;
        if s == "unknown" {
            return Ok(None);
        }
        s.parse::<DocKind>()
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

/// Check one number.
///
/// `kind`: `Some` checks against that kind's standard; `None` detects among the ID kinds
/// ([`DocKind::DETECTABLE`]; a value with two lines is taken as a passport MRZ). For
/// `PassportMrz` the value holds both lines separated by a newline, or the 88 characters in one.
/// `today` is the counter's local date: birth dates must not be after it, expiry is judged
/// against it, and MRZ two-digit years take their century from it.
///
/// Never panics, whatever the input (non-ASCII, huge, combining marks).
pub fn check(kind: Option<DocKind>, value: &str, today: NaiveDate) -> DocCheck {
    match kind {
        Some(DocKind::PassportMrz) => {
            let (l1, l2) = mrz::split_lines(value);
            check_mrz(l1, l2, today)
        }
        Some(k) => check_prepared(k, &prepare_for(k, value), today),
        None => {
            if value.trim().contains('\n') {
                let (l1, l2) = mrz::split_lines(value);
                return check_mrz(l1, l2, today);
            }
            let s = prepare(value, false);
            match detect(&s) {
                Ok(k) => check_prepared(k, &s, today),
                Err(e) => DocCheck::finish(None, String::new(), DocFields::default(), vec![e]),
            }
        }
    }
}

/// Check an already prepared (folded, compacted, upper-cased) value of a non-MRZ kind.
fn check_prepared(kind: DocKind, s: &str, today: NaiveDate) -> DocCheck {
    if s.is_empty() {
        return DocCheck::finish(
            Some(kind),
            String::new(),
            DocFields::default(),
            vec![required()],
        );
    }
    match kind {
        DocKind::PrcId | DocKind::ResidencePermit => prc::check18(kind, s, today),
        DocKind::PrcId15 => prc::check15(s, today),
        DocKind::ForeignPermanentId => {
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                permits::check_fpr_2017(s)
            } else {
                prc::check18(kind, s, today)
            }
        }
        DocKind::HkMacauPermit => permits::check_hk_macau(s),
        DocKind::TaiwanPermit => permits::check_taiwan(s),
        DocKind::DrivingLicence => prc::check_driving_licence(s, today),
        DocKind::BankCard => card::check_card(s),
        DocKind::Mobile => phone::check_mobile(s),
        DocKind::PassportMrz => {
            let (l1, l2) = mrz::split_lines(s);
            check_mrz(l1, l2, today)
        }
    }
}

/// Guess the kind of an ID number from its shape (prepared input). Order matters: the 2023
/// foreign permanent ID starts with `9`, which is no province, so it is tried before the PRC
/// rules; residence permits by their fixed 6-digit prefix; `H`/`M` permits by their letter.
/// A number of no known length but close to 18 is judged as a PRC ID, so the teller sees a
/// length error rather than "unknown".
fn detect(s: &str) -> Result<DocKind, RuleError> {
    if s.is_empty() {
        return Err(required());
    }
    let b = s.as_bytes();
    let n = s.chars().count();
    let all_digits = b.iter().all(u8::is_ascii_digit);
    let first = b[0];
    // A letter prefix names a document only when digits follow it: every number the counter
    // checks has digits, so a word such as `FOO` or `HELLO` is no document at all instead of
    // being judged (and refused) as the kind its letters happen to resemble.
    if (first == b'H' || first == b'M') && b.get(1).is_some_and(u8::is_ascii_digit) {
        return Ok(DocKind::HkMacauPermit);
    }
    if b.len() >= 3
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b.get(3).is_some_and(u8::is_ascii_digit)
    {
        return Ok(DocKind::ForeignPermanentId);
    }
    if first == b'9' && (16..=20).contains(&n) {
        return Ok(DocKind::ForeignPermanentId);
    }
    if [b"810000", b"820000", b"830000"]
        .iter()
        .any(|p| b.starts_with(&p[..]))
    {
        return Ok(DocKind::ResidencePermit);
    }
    if s.contains('(') || s.contains(')') {
        return Ok(DocKind::TaiwanPermit);
    }
    if all_digits && n == 15 {
        return Ok(DocKind::PrcId15);
    }
    if all_digits && (n == 8 || n == 10) {
        return Ok(DocKind::TaiwanPermit);
    }
    if (14..=22).contains(&n) && b.iter().any(u8::is_ascii_digit) {
        return Ok(DocKind::PrcId);
    }
    Err(RuleError::new(
        "kind",
        format!(
            "not recognised as any identity document number ({n} characters; known shapes: 18 \
             characters, 15 digits, H/M + 8 or 10 digits, 8 or 10 digits, 3 letters + 12 digits)"
        ),
    ))
}

/// Whether someone born on `birth` is under 18 on `today` (guardian/agent path). Age counts
/// whole years; someone born on 29 February turns 18 on 1 March in a common year (the later
/// reading, so the guardian path is never skipped a day early).
pub fn is_minor(birth: NaiveDate, today: NaiveDate) -> bool {
    let eighteenth = match NaiveDate::from_ymd_opt(birth.year() + 18, birth.month(), birth.day()) {
        Some(d) => d,
        // 29 February without a leap year 18 years later.
        None => NaiveDate::from_ymd_opt(birth.year() + 18, 3, 1)
            .or_else(|| birth.checked_add_months(Months::new(216)))
            .unwrap_or(NaiveDate::MAX),
    };
    today < eighteenth
}

// ---------------------------------------------------------------------------------------------
// Shared helpers.

/// Fold width, drop whitespace (and hyphens when `grouped`), upper-case ASCII letters.
pub(crate) fn prepare(value: &str, grouped: bool) -> String {
    let mut s = if grouped {
        compact_grouped(value)
    } else {
        compact(value)
    };
    s.make_ascii_uppercase();
    s
}

fn prepare_for(kind: DocKind, value: &str) -> String {
    prepare(value, matches!(kind, DocKind::BankCard | DocKind::Mobile))
}

pub(crate) fn required() -> RuleError {
    RuleError::new("required", "a value is required (empty or blank input)")
}

/// Byte view where every ASCII character keeps its position and every non-ASCII character is
/// one `0xFF` byte (never an allowed character), so positions count characters.
pub(crate) fn ascii_view(s: &str) -> Cow<'_, [u8]> {
    if s.is_ascii() {
        Cow::Borrowed(s.as_bytes())
    } else {
        Cow::Owned(
            s.chars()
                .map(|c| if c.is_ascii() { c as u8 } else { 0xFF })
                .collect(),
        )
    }
}

/// One `character` error listing the first few offending characters (1-based positions) of
/// `s`, or `None` when `allowed(index, char)` holds everywhere. `rule_text` says what is allowed.
pub(crate) fn character_error(
    s: &str,
    allowed: impl Fn(usize, char) -> bool,
    rule_text: &str,
) -> Option<RuleError> {
    const SHOWN: usize = 5;
    let mut shown: Vec<String> = Vec::new();
    let mut found = String::new();
    let mut count = 0usize;
    for (i, c) in s.chars().enumerate() {
        if !allowed(i, c) {
            count += 1;
            if shown.len() < SHOWN {
                shown.push(format!("{} at position {}", show_char(c), i + 1));
                found.push(c);
            }
        }
    }
    if count == 0 {
        return None;
    }
    let more = if count > SHOWN {
        format!(" and {} more", count - SHOWN)
    } else {
        String::new()
    };
    let mut e = RuleError::new(
        "character",
        format!("not allowed: {}{more} ({rule_text})", shown.join(", ")),
    );
    e.found = Some(found);
    Some(e)
}

/// A character as shown in messages: quoted, with invisible ones escaped.
pub(crate) fn show_char(c: char) -> String {
    format!("{c:?}")
}

/// Parse `N` ASCII digits.
pub(crate) fn digits_value(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// Validate a birth date as a real calendar date not after `today` (GB 11643-1999 §5.2 via
/// GB/T 7408: the Gregorian calendar, so 1900-02-29 does not exist and 2000-02-29 does).
/// Pushes `date` or `future-date` errors; returns the date when it exists.
pub(crate) fn birth_date_rules(
    y: i32,
    m: u32,
    d: u32,
    today: NaiveDate,
    errors: &mut Vec<RuleError>,
) -> Option<NaiveDate> {
    match NaiveDate::from_ymd_opt(y, m, d) {
        None => {
            let why = if m == 2 && d == 29 {
                format!(" ({y} is not a leap year)")
            } else if !(1..=12).contains(&m) {
                " (no such month)".to_string()
            } else {
                " (no such day in that month)".to_string()
            };
            let typed = format!("{y:04}-{m:02}-{d:02}");
            errors.push(RuleError {
                // The date as typed, so a screen can name it without re-reading the number.
                found: Some(typed.clone()),
                ..RuleError::new("date", format!("birth date {typed} does not exist{why}"))
            });
            None
        }
        Some(date) => {
            if date > today {
                errors.push(RuleError::new(
                    "future-date",
                    format!("birth date {date} is after today ({today})"),
                ));
            }
            Some(date)
        }
    }
}
