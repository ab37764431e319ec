//! Passport machine-readable zone, TD3 format (ICAO Doc 9303, 8th ed., Part 4 §4.2 layout;
//! Part 3 §4.9 check digits). Nationality and issuer codes are reported as read, not looked
//! up in a country list (the ICAO specimen's `UTO` is a valid code for this purpose).
//!
//! Line 1: `P` + type, issuing state (3), name `SURNAME<<GIVEN<NAMES` (39).
//! Line 2: document number (9) + check, nationality (3), birth YYMMDD + check, sex,
//! expiry YYMMDD + check, personal number (14) + check, composite check.

use chrono::{Datelike, NaiveDate};

use super::{character_error, show_char, DocCheck, DocFields, DocKind, RuleError};
use crate::model::Sex;
use crate::normalize::fold_width;

const LINE_LEN: usize = 44;
const WEIGHTS: [u32; 3] = [7, 3, 1];

/// Value of an MRZ character for check digits: `0`–`9` → 0–9, `A`–`Z` → 10–35, `<` → 0
/// (Doc 9303 Part 3 §4.9). Other characters have no value.
fn value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'<' => Some(0),
        _ => None,
    }
}

fn check_of(bytes: impl Iterator<Item = u8>) -> u8 {
    let sum: u32 = bytes
        .enumerate()
        .map(|(i, c)| value(c).unwrap_or(0) * WEIGHTS[i % 3])
        .sum();
    b'0' + (sum % 10) as u8
}

/// The Doc 9303 check digit (weights 7-3-1 repeating, sum mod 10) of an MRZ field. `None` when
/// the field holds a character outside `0-9 A-Z <`.
pub fn mrz_check_digit(field: &str) -> Option<char> {
    if !field.bytes().all(|c| value(c).is_some()) {
        return None;
    }
    Some(char::from(check_of(field.bytes())))
}

/// Split one value holding both lines: by line break, or 88 characters in one run.
pub(crate) fn split_lines(value: &str) -> (&str, &str) {
    let t = value.trim();
    if let Some((a, b)) = t.split_once('\n') {
        return (a.trim(), b.trim());
    }
    if t.chars().count() == 2 * LINE_LEN {
        if let Some((i, _)) = t.char_indices().nth(LINE_LEN) {
            return t.split_at(i);
        }
    }
    (t, "")
}

/// Fold width, trim, upper-case ASCII letters. Inner whitespace is kept so it is reported:
/// a space typed for `<` would otherwise shift every field after it.
fn prepare_line(line: &str) -> String {
    let mut s = fold_width(line).trim().to_string();
    s.make_ascii_uppercase();
    s
}

fn is_letter_or_filler(c: u8) -> bool {
    c.is_ascii_uppercase() || c == b'<'
}

fn trim_filler(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim_matches('<').to_string()
}

/// Birth date century: the one that puts the date in the past (not after `today`).
fn birth_year(yy: u32, m: u32, d: u32, today: NaiveDate) -> i32 {
    let century = today.year().div_euclid(100) * 100;
    let y = century + yy as i32;
    if (y, m, d) > (today.year(), today.month(), today.day()) {
        y - 100
    } else {
        y
    }
}

/// Expiry century: the one that puts the date within 50 years of `today`, either side
/// (the nearest; on a tie the earlier).
fn expiry_year(yy: u32, m: u32, today: NaiveDate) -> i32 {
    let century = today.year().div_euclid(100) * 100;
    let now = i64::from(today.year()) * 12 + i64::from(today.month());
    [century - 100, century, century + 100]
        .iter()
        .map(|c| c + yy as i32)
        .min_by_key(|y| ((i64::from(*y) * 12 + i64::from(m.clamp(1, 12))) - now).abs())
        .unwrap_or(century + yy as i32)
}

fn yymmdd(b: &[u8]) -> Option<(u32, u32, u32)> {
    let d = super::digits_value;
    Some((d(&b[0..2])?, d(&b[2..4])?, d(&b[4..6])?))
}

/// Check a TD3 passport MRZ (ICAO Doc 9303 Part 4): two lines of 44 characters `A-Z 0-9 <`.
///
/// Reports every failed rule: `required` (both lines empty), `length` and `character` per line
/// (`field` = `line1`/`line2`), `format` (document code not `P…`, digits in the name or codes,
/// bad sex), `date` (birth or expiry not a real date), `check-digit` with `field` =
/// `document-number` | `birth-date` | `expiry` | `personal-number` | `composite` and expected
/// vs found. The personal number's check may be `<` when the field is empty. A birth date of
/// fillers (unknown, Doc 9303 Part 3 §4.6) is accepted and left out of the fields.
///
/// Two-digit years: a birth date takes the century that puts it in the past
/// (`490522` → 1949-05-22 in 2026); an expiry the century within 50 years of `today` either side
/// (`340425` → 2034-04-25, `120415` → 2012-04-15). An expiry before `today` sets
/// `fields.expired` but leaves `valid` true. `normalized` is the document number.
pub fn check_mrz(line1: &str, line2: &str, today: NaiveDate) -> DocCheck {
    let mut c = check_mrz_lines(line1, line2, today);
    // Every error says which line it is on (`field`), so a form can put it beside that line.
    for e in &mut c.errors {
        if e.field.is_none() {
            if e.message.starts_with("line 1") {
                e.field = Some("line1".into());
            } else if e.message.starts_with("line 2") {
                e.field = Some("line2".into());
            }
        }
    }
    c
}

fn check_mrz_lines(line1: &str, line2: &str, today: NaiveDate) -> DocCheck {
    let l1 = prepare_line(line1);
    let l2 = prepare_line(line2);
    let mut errors = Vec::new();
    let mut fields = DocFields::default();
    if l1.is_empty() && l2.is_empty() {
        return DocCheck::finish(
            Some(DocKind::PassportMrz),
            String::new(),
            fields,
            vec![super::required()],
        );
    }

    let mut usable = [false, false];
    for (k, line) in [&l1, &l2].into_iter().enumerate() {
        let n = line.chars().count();
        let mut ok = true;
        if n != LINE_LEN {
            let what = if n == 0 {
                "missing".to_string()
            } else {
                format!("{n} characters")
            };
            let mut e = RuleError::new(
                "length",
                format!(
                    "line {}: expected {LINE_LEN} characters, found {what}",
                    k + 1
                ),
            );
            e.field = Some(format!("line{}", k + 1));
            errors.push(e);
            ok = false;
        }
        if let Some(mut e) = character_error(
            line,
            |_, c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<',
            "A-Z, 0-9 and < only; use < for spaces",
        ) {
            e.message = format!("line {}: {}", k + 1, e.message);
            e.field = Some(format!("line{}", k + 1));
            errors.push(e);
            ok = false;
        }
        usable[k] = ok;
    }

    if usable[0] {
        let b = l1.as_bytes();
        if b[0] != b'P' || !is_letter_or_filler(b[1]) {
            errors.push(RuleError::new(
                "format",
                format!(
                    "line 1: a passport's document code is P followed by a letter or <, found {}",
                    &l1[..2]
                ),
            ));
        }
        fields.document_type = Some(trim_filler(&b[0..2]));
        if b[2..5].iter().all(|c| is_letter_or_filler(*c)) {
            fields.issuer = Some(trim_filler(&b[2..5]));
        } else {
            errors.push(RuleError::new(
                "format",
                format!("line 1: issuing state must be letters, found {}", &l1[2..5]),
            ));
        }
        let name = &l1[5..];
        if !name.bytes().all(is_letter_or_filler) {
            errors.push(RuleError::new(
                "format",
                "line 1: the name field holds letters and < only",
            ));
        } else if name.starts_with('<') {
            errors.push(RuleError::new(
                "format",
                "line 1: the name field must start with the surname",
            ));
        } else {
            let (surname, given) = match name.find("<<") {
                Some(i) => (&name[..i], &name[i + 2..]),
                None => (name, ""),
            };
            fields.surname = Some(surname.replace('<', " ").trim().to_string());
            let given = given.trim_matches('<').replace('<', " ");
            if !given.is_empty() {
                fields.given_names = Some(given);
            }
        }
    }

    if usable[1] {
        let b = l2.as_bytes();
        // Document number.
        let doc = trim_filler(&b[0..9]);
        if doc.is_empty() {
            errors.push(RuleError::new(
                "format",
                "line 2: the document number is empty",
            ));
        }
        push_check(
            &mut errors,
            &b[0..9],
            b[9],
            "document-number",
            "document number",
        );
        fields.document_number = Some(doc.clone());
        // Nationality.
        if b[10..13].iter().all(|c| is_letter_or_filler(*c)) {
            fields.nationality = Some(trim_filler(&b[10..13]));
        } else {
            errors.push(RuleError::new(
                "format",
                format!("line 2: nationality must be letters, found {}", &l2[10..13]),
            ));
        }
        // Birth date.
        let birth = &b[13..19];
        if let Some((yy, m, d)) = yymmdd(birth) {
            let y = birth_year(yy, m, d, today);
            match NaiveDate::from_ymd_opt(y, m, d) {
                Some(date) => fields.birth_date = Some(date),
                None => errors.push(RuleError::new(
                    "date",
                    format!("line 2: birth date {} does not exist", &l2[13..19]),
                )),
            }
        } else if !birth.iter().all(|c| c.is_ascii_digit() || *c == b'<') {
            errors.push(RuleError::new(
                "format",
                format!("line 2: birth date must be YYMMDD, found {}", &l2[13..19]),
            ));
        }
        push_check(&mut errors, birth, b[19], "birth-date", "birth date");
        // Sex.
        match b[20] {
            b'M' => fields.sex = Some(Sex::Male),
            b'F' => fields.sex = Some(Sex::Female),
            b'<' | b'X' => fields.sex = Some(Sex::Unspecified),
            c => errors.push(RuleError::new(
                "format",
                format!(
                    "line 2: sex is M, F, X or <, found {}",
                    show_char(char::from(c))
                ),
            )),
        }
        // Expiry.
        if let Some((yy, m, d)) = yymmdd(&b[21..27]) {
            let y = expiry_year(yy, m, today);
            match NaiveDate::from_ymd_opt(y, m, d) {
                Some(date) => {
                    fields.expiry = Some(date);
                    fields.expired = Some(date < today);
                }
                None => errors.push(RuleError::new(
                    "date",
                    format!("line 2: expiry date {} does not exist", &l2[21..27]),
                )),
            }
        } else {
            errors.push(RuleError::new(
                "format",
                format!("line 2: expiry date must be YYMMDD, found {}", &l2[21..27]),
            ));
        }
        push_check(&mut errors, &b[21..27], b[27], "expiry", "expiry date");
        // Personal number: an empty field may carry `<` (or 0) as its check digit.
        let personal = &b[28..42];
        let empty = personal.iter().all(|c| *c == b'<');
        if !(empty && (b[42] == b'<' || b[42] == b'0')) {
            push_check(
                &mut errors,
                personal,
                b[42],
                "personal-number",
                "personal number",
            );
        }
        if !empty {
            fields.personal_number = Some(trim_filler(personal));
        }
        // Composite: positions 1–10, 14–20, 22–43.
        let composite = b[0..10].iter().chain(&b[13..20]).chain(&b[21..43]).copied();
        let expected = check_of(composite);
        if expected != b[43] {
            errors.push(RuleError::check_digit(
                "composite",
                "composite",
                char::from(expected),
                char::from(b[43]),
            ));
        }
        return DocCheck::finish(Some(DocKind::PassportMrz), doc, fields, errors);
    }
    DocCheck::finish(Some(DocKind::PassportMrz), String::new(), fields, errors)
}

fn push_check(errors: &mut Vec<RuleError>, field: &[u8], found: u8, id: &str, what: &str) {
    let expected = check_of(field.iter().copied());
    if expected != found {
        errors.push(RuleError::check_digit(
            id,
            what,
            char::from(expected),
            char::from(found),
        ));
    }
}
