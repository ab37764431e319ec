//! The identity step of a case: one document checked to its standard,
//! names compared, expiry refused, co-check and minor flags set, as the record the workflow
//! stores. Used by the identity use case (`Counter::verify_identity`).

use chrono::{DateTime, NaiveDate, Utc};

use super::policy::{evaluate, Evidence, IdPolicy, SecondFactor};
use super::{check, check_mrz, is_minor, names_match, DocKind, RuleError};
use crate::error::{CoreError, CoreResult, FieldError};
use crate::model::{DocumentType, IdentityRecord, OnlineCheck, SecondFactorCheck, StaffId};
use crate::normalize::{compact, name_key};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the teller enters at the identity step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IdentityInput {
    /// A document kind of `id check` (`prc-id`, `passport-mrz`, `bank-card`, ...) or `e-id`.
    pub kind: String,
    /// The number; for `passport-mrz` the first MRZ line.
    pub number: String,
    /// Second MRZ line (passports only).
    #[serde(default)]
    pub mrz_line2: String,
    /// Name as printed on the document (Chinese), or the Latin name for passports.
    pub name_on_document: String,
    /// e-ID verification reference, or the second factor used with a bank card.
    #[serde(default)]
    pub reference: String,
    /// Validity end as printed on the document: `YYYY-MM-DD`, or `长期` / `long-term`; empty
    /// when not entered. An MRZ's expiry is read from the MRZ and must agree.
    #[serde(default)]
    pub valid_until: String,
    /// The online citizen-identity check (联网核查): result and serial number.
    #[serde(default)]
    pub online_check: Option<OnlineCheck>,
    /// A second factor used on the no-ID-card path (kind, outcome, score, reference).
    #[serde(default)]
    pub second_factor: Option<SecondFactorCheck>,
}

/// Check the online check and second factor entered beside the document. Fields
/// `online_check.reference` (`required`, `format`: 1-64 printable characters), and
/// `second_factor.reference` (`required`), `second_factor.score` (`required` for face
/// verification, `range` 0-100), `second_factor.passed` (`failed`: the factor did not
/// verify, so it proves nothing).
pub fn check_references(input: &IdentityInput) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(oc) = &input.online_check {
        errs.extend(check_reference(
            "online_check.reference",
            &oc.reference,
            "the online identity check's serial number (联网核查流水号) is required",
        ));
    }
    if let Some(sf) = &input.second_factor {
        errs.extend(check_reference(
            "second_factor.reference",
            &sf.reference,
            "the second factor's reference is required",
        ));
        if sf.kind == SecondFactor::FaceVerification {
            match sf.score {
                None => errs.push(FieldError::new(
                    "second_factor.score",
                    "required",
                    "face verification needs its similarity score (0-100)",
                )),
                Some(s) if s > 100 => errs.push(FieldError::new(
                    "second_factor.score",
                    "range",
                    format!("the score {s} is not between 0 and 100"),
                )),
                _ => {}
            }
        }
        if !sf.passed {
            errs.push(FieldError::new(
                "second_factor.passed",
                "failed",
                "the second factor did not verify: it proves nothing; use another or refuse",
            ));
        }
    }
    errs
}

/// A reference number typed at the counter: required, 1-64 printable characters.
pub fn check_reference(field: &str, value: &str, required: &str) -> Option<FieldError> {
    let v = value.trim();
    if v.is_empty() {
        Some(FieldError::new(field, "required", required))
    } else if v.chars().count() > 64 || v.chars().any(char::is_control) {
        Some(FieldError::new(
            field,
            "format",
            "a reference is 1-64 printable characters",
        ))
    } else {
        None
    }
}

/// The validity end entered: `Ok(None)` when blank, `Ok(Some(None))` for long-term,
/// `Ok(Some(Some(date)))`; errors name `valid_until` (`format`).
fn parse_valid_until(raw: &str) -> Result<Option<Option<NaiveDate>>, FieldError> {
    let t = crate::normalize::fold_width(raw.trim());
    if t.is_empty() {
        return Ok(None);
    }
    if t == "长期" || t.eq_ignore_ascii_case("long-term") {
        return Ok(Some(None));
    }
    NaiveDate::parse_from_str(&t, "%Y-%m-%d")
        .map(|d| Some(Some(d)))
        .map_err(|_| {
            FieldError::new(
                "valid_until",
                "format",
                format!("'{raw}' is not a validity end (YYYY-MM-DD, or 长期 / long-term)"),
            )
        })
}

/// [`verify_for_case_with`] under the default policy table.
pub fn verify_for_case(input: &IdentityInput, today: NaiveDate) -> CoreResult<IdentityRecord> {
    verify_for_case_with(input, today, &IdPolicy::default())
}

/// Check the document entered at the identity step and build the record to store.
///
/// `input.kind` is a [`DocKind`] spelling or `e-id`. Returns `invalid` with fields:
/// `kind` (`one-of`, or `insufficient` when the policy says this evidence alone does not
/// prove identity, e.g. a driving licence); `number` / `mrz_line2` (every failed rule of the
/// number, MRZ line-2 rules on `mrz_line2`; `expired` with the expiry date); `reference`
/// (`required`: the e-ID verification reference, or the second factor used with a linked bank
/// card); `name_on_document` (`required` when blank; `name-mismatch`: MRZ name vs the Latin
/// name entered).
///
/// `checked_by` / `checked_at` are placeholders the service fills in. For documents other than
/// a passport the name printed on the card is not in its number, so `name_matches` is `true`
/// here and the service compares `name_on_document` with the customer's name.
pub fn verify_for_case_with(
    input: &IdentityInput,
    today: NaiveDate,
    policy: &IdPolicy,
) -> CoreResult<IdentityRecord> {
    let kind_str = input.kind.trim();
    let reference = input.reference.trim();
    let mut errs: Vec<FieldError> = check_references(input);
    let valid_until = match parse_valid_until(&input.valid_until) {
        Ok(v) => v,
        Err(e) => {
            errs.push(e);
            None
        }
    };
    if let Some(Some(d)) = valid_until {
        if d < today {
            errs.push(FieldError::new(
                "valid_until",
                "expired",
                format!("the document expired on {d}"),
            ));
        }
    }
    if input.name_on_document.trim().is_empty() {
        errs.push(FieldError::new(
            "name_on_document",
            "required",
            "the name as printed on the document is required",
        ));
    }

    if kind_str == "e-id" {
        if reference.is_empty() {
            errs.push(FieldError::new(
                "reference",
                "required",
                "the e-ID verification reference is required",
            ));
            return Err(CoreError::invalid(errs));
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let outcome = evaluate(
            policy,
            &[Evidence::EId {
                reference: reference.to_string(),
            }],
        );
        if !outcome.sufficient {
            return Err(insufficient(kind_str));
        }
        let mut r = record(
            DocumentType::EId,
            compact(&input.number),
            input,
            None,
            None,
            true,
            Some(reference.to_string()),
            outcome.needs_cocheck,
            today,
        );
        apply_validity(&mut r, valid_until);
        return Ok(r);
    }

    let kind: DocKind = kind_str.parse().map_err(|_| {
        CoreError::field(
            "kind",
            "one-of",
            format!("'{kind_str}' is not a document kind (prc-id, prc-id-15, residence-permit, hk-macau-permit, taiwan-permit, foreign-permanent-id, passport-mrz, driving-licence, bank-card, e-id)"),
        )
    })?;
    let evidence = match kind {
        DocKind::Mobile => {
            return Err(CoreError::field(
                "kind",
                "one-of",
                "a mobile number is not an identity document",
            ));
        }
        DocKind::BankCard => {
            // The card corroborates identity only with a second factor, and the bank files
            // that factor's outcome and reference (a free-text name of the factor is no
            // evidence that it was done).
            if input.second_factor.is_none() {
                errs.push(FieldError::new(
                    "second_factor",
                    "required",
                    "record the second factor used with the linked bank card: its kind \
                     (card-pin, sms-to-registered-phone, face-verification, security-questions), \
                     outcome and reference",
                ));
            }
            Evidence::LinkedBankCard {
                second_factor: input.second_factor.as_ref().map(|f| f.kind),
            }
        }
        _ => Evidence::Document { kind },
    };
    // A card whose number carries no expiry (resident ID, permits, licences) is checked for
    // expiry by the validity printed on it, so it must be entered: left blank, an expired
    // card would pass. An MRZ carries its expiry; a bank card and an e-ID have none to judge.
    let expiry_in_number = matches!(kind, DocKind::PassportMrz | DocKind::BankCard);
    if !expiry_in_number && input.valid_until.trim().is_empty() {
        errs.push(FieldError::new(
            "valid_until",
            "required",
            "enter the validity end printed on the document: YYYY-MM-DD, or 长期 / long-term",
        ));
    }

    let chk = if kind == DocKind::PassportMrz {
        check_mrz(&input.number, &input.mrz_line2, today)
    } else {
        check(Some(kind), &input.number, today)
    };
    for e in &chk.errors {
        errs.push(field_error(kind, e));
    }
    if let (Some(Some(entered)), Some(expiry)) = (valid_until, chk.fields.expiry) {
        if entered != expiry {
            errs.push(FieldError::new(
                "valid_until",
                "differs-from-document",
                format!("the MRZ gives the expiry {expiry}, not {entered}"),
            ));
        }
    }
    if let (Some(true), Some(expiry)) = (chk.fields.expired, chk.fields.expiry) {
        errs.push(FieldError::new(
            if kind == DocKind::PassportMrz {
                "mrz_line2"
            } else {
                "number"
            },
            "expired",
            format!("the document expired on {expiry}"),
        ));
    }
    let mut name_matches = true;
    if kind == DocKind::PassportMrz && chk.valid {
        let mrz_name = input
            .number
            .trim()
            .get(5..)
            .unwrap_or("")
            .to_ascii_uppercase();
        name_matches = names_match(kind, &mrz_name, &input.name_on_document);
        if !name_matches {
            errs.push(FieldError::new(
                "name_on_document",
                "name-mismatch",
                format!(
                    "the name in the MRZ ({} {}) does not match the Latin name entered",
                    chk.fields.surname.as_deref().unwrap_or(""),
                    chk.fields.given_names.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    if !errs.is_empty() {
        return Err(CoreError::invalid(errs));
    }
    let outcome = evaluate(policy, &[evidence]);
    if !outcome.sufficient {
        return Err(insufficient(kind_str));
    }
    let number = chk.normalized.clone().unwrap_or_default();
    let reference = match kind {
        DocKind::BankCard => Some(reference.to_string()),
        _ => (!reference.is_empty()).then(|| reference.to_string()),
    };
    let mut r = record(
        DocumentType::of_kind(kind),
        number,
        input,
        chk.fields.birth_date,
        chk.fields.expiry,
        name_matches,
        reference,
        outcome.needs_cocheck,
        today,
    );
    r.sex = chk.fields.sex;
    r.nationality = match kind {
        // GB 11643: only citizens of the PRC hold a resident ID card.
        DocKind::PrcId | DocKind::PrcId15 => "CHN".into(),
        _ => chk.fields.nationality.clone().unwrap_or_default(),
    };
    if kind == DocKind::PassportMrz {
        r.name_latin = [
            chk.fields.surname.as_deref(),
            chk.fields.given_names.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    }
    if r.expiry.is_none() {
        apply_validity(&mut r, valid_until);
    }
    Ok(r)
}

/// The validity entered at the counter, for a document whose number does not encode it.
fn apply_validity(r: &mut IdentityRecord, valid_until: Option<Option<NaiveDate>>) {
    match valid_until {
        Some(Some(d)) => r.expiry = Some(d),
        Some(None) => r.long_term = true,
        None => {}
    }
}

fn insufficient(kind: &str) -> CoreError {
    CoreError::field(
        "kind",
        "insufficient",
        format!("'{kind}' alone does not prove identity under this branch's policy (supporting evidence only)"),
    )
}

/// Map a rule error of the number onto the form field it belongs to.
fn field_error(kind: DocKind, e: &RuleError) -> FieldError {
    let on_line2 = kind == DocKind::PassportMrz && e.field.as_deref().is_some_and(|f| f != "line1");
    FieldError::new(
        if on_line2 { "mrz_line2" } else { "number" },
        e.rule.clone(),
        e.message.clone(),
    )
}

#[allow(clippy::too_many_arguments)]
fn record(
    kind: DocumentType,
    number: String,
    input: &IdentityInput,
    birth_date: Option<NaiveDate>,
    expiry: Option<NaiveDate>,
    name_matches: bool,
    reference: Option<String>,
    needs_cocheck: bool,
    today: NaiveDate,
) -> IdentityRecord {
    IdentityRecord {
        kind,
        number,
        name_on_document: name_key(&input.name_on_document),
        birth_date,
        expiry,
        name_matches,
        reference,
        needs_cocheck,
        checked_by: StaffId::system("identity"),
        checked_at: DateTime::<Utc>::UNIX_EPOCH,
        cochecked_by: None,
        cochecked_at: None,
        minor: birth_date.is_some_and(|b| is_minor(b, today)),
        online_check: input.online_check.clone().map(|mut c| {
            c.reference = c.reference.trim().to_string();
            c
        }),
        second_factor: input.second_factor.clone().map(|mut f| {
            f.reference = f.reference.trim().to_string();
            f
        }),
        sex: None,
        nationality: String::new(),
        name_latin: String::new(),
        long_term: false,
    }
}

#[cfg(test)]
mod required_name_tests {
    use super::*;

    /// A blank name on the document is `required`, for every kind (not a name mismatch).
    #[test]
    fn blank_name_on_document_is_required() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        for (kind, number, reference) in [
            ("prc-id", "11010519491231002X", ""),
            ("e-id", "", "EID-REF-1"),
        ] {
            let input = IdentityInput {
                kind: kind.into(),
                number: number.into(),
                name_on_document: "  ".into(),
                reference: reference.into(),
                ..Default::default()
            };
            let e = verify_for_case(&input, today).unwrap_err();
            assert!(
                e.fields
                    .iter()
                    .any(|f| f.field == "name_on_document" && f.rule == "required"),
                "{kind}: {e:?}"
            );
        }
    }
}
