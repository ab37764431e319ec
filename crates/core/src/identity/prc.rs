//! GB 11643-1999 citizen identity numbers and the numbers built on the same rules: residence
//! permits for HK/Macau/Taiwan residents, the 2023 foreign permanent resident ID, the legacy
//! 15-digit number (GB 11643-1989) and the driving licence (whose number is the ID number).

use chrono::NaiveDate;

use super::{
    ascii_view, birth_date_rules, character_error, digits_value, show_char, DocCheck, DocFields,
    DocKind, RuleError,
};
use crate::model::Sex;

/// GB 11643-1999 §6.2 / ISO 7064 MOD 11-2 weights, 2^(18-i) mod 11 for positions 1..=17.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// S mod 11 = 0..=10 → check character.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// The MOD 11-2 check character (`0`–`9` or `X`) of a 17-digit body (GB 11643-1999 §6.2,
/// ISO 7064). Returns `None` unless `body` is exactly 17 ASCII digits.
pub fn mod11_2_check_char(body: &str) -> Option<char> {
    let b = body.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(char::from(mod11_2(b)))
}

/// MOD 11-2 over 17 ASCII digits (caller guarantees).
#[inline]
pub(crate) fn mod11_2(body: &[u8]) -> u8 {
    let s: u32 = body
        .iter()
        .zip(WEIGHTS.iter())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(s % 11) as usize]
}

/// Province-level code (GB/T 2260, first two digits of the address code) → name. 81/82/83
/// appear only on residence permits (and 83 there means Taiwan residents; 71 is the code
/// reserved for Taiwan in GB/T 2260).
pub(crate) fn province_name(code: u32) -> Option<&'static str> {
    Some(match code {
        11 => "北京市",
        12 => "天津市",
        13 => "河北省",
        14 => "山西省",
        15 => "内蒙古自治区",
        21 => "辽宁省",
        22 => "吉林省",
        23 => "黑龙江省",
        31 => "上海市",
        32 => "江苏省",
        33 => "浙江省",
        34 => "安徽省",
        35 => "福建省",
        36 => "江西省",
        37 => "山东省",
        41 => "河南省",
        42 => "湖北省",
        43 => "湖南省",
        44 => "广东省",
        45 => "广西壮族自治区",
        46 => "海南省",
        50 => "重庆市",
        51 => "四川省",
        52 => "贵州省",
        53 => "云南省",
        54 => "西藏自治区",
        61 => "陕西省",
        62 => "甘肃省",
        63 => "青海省",
        64 => "宁夏回族自治区",
        65 => "新疆维吾尔自治区",
        71 => "台湾省",
        81 => "香港特别行政区",
        82 => "澳门特别行政区",
        83 => "台湾地区",
        _ => return None,
    })
}

const RESIDENCE_PREFIXES: [&[u8; 6]; 3] = [b"810000", b"820000", b"830000"];

/// 18-character numbers: resident ID (`PrcId`), residence permit, 2023 foreign permanent ID.
///
/// Rules: characters (digits; `X` only as the 18th), length 18, then per kind —
/// `PrcId`: province prefix (11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71; only the 2-digit
/// province, because county codes are retired over time and real people still carry them);
/// `ResidencePermit`: prefix 810000/820000/830000; `ForeignPermanentId`: first digit 9 —
/// then the birth date (positions 7–14, real date, not after today; no lower bound — the
/// standard's specimen was born in 1880), then the MOD 11-2 check character.
///
/// The 2023 permanent-residence card number (National Immigration Administration, 2023 rules
/// for machine-readable information) is only checked for its leading `9` and check character,
/// as docs/domain.md §4 ask; its birth date (positions 7–14) and sex are reported when they read
/// as a real date, but are not a validity rule.
pub(crate) fn check18(kind: DocKind, s: &str, today: NaiveDate) -> DocCheck {
    let b = ascii_view(s);
    let n = b.len();
    let mut errors = Vec::new();
    let mut fields = DocFields::default();

    if n != 18 {
        errors.push(RuleError::new(
            "length",
            format!("expected 18 characters, found {n}"),
        ));
    }
    if let Some(e) = character_error(
        s,
        |i, c| c.is_ascii_digit() || (i == 17 && c == 'X'),
        "digits only; X only as the 18th, check character",
    ) {
        errors.push(e);
    }

    match kind {
        DocKind::ResidencePermit => {
            if n >= 6 && !RESIDENCE_PREFIXES.iter().any(|p| b.starts_with(&p[..])) {
                errors.push(RuleError::new(
                    "prefix",
                    format!(
                        "a residence permit number starts with 810000, 820000 or 830000, found {}",
                        s.chars().take(6).collect::<String>()
                    ),
                ));
            }
            if let Some(code) = digits_value(&b[..n.min(2)]).filter(|_| n >= 2) {
                if let Some(name) = province_name(code).filter(|_| (81..=83).contains(&code)) {
                    fields.province = Some(format!("{code} {name}"));
                }
            }
        }
        DocKind::ForeignPermanentId => {
            fields.card_version = Some("2023".into());
            if n >= 1 && b[0] != b'9' {
                errors.push(RuleError::new(
                    "prefix",
                    format!(
                        "a 2023 foreign permanent resident ID starts with 9, found {}",
                        show_char(s.chars().next().unwrap_or(' '))
                    ),
                ));
            }
            if n >= 6 {
                if let Some(code) = digits_value(&b[3..6]) {
                    fields.nationality = Some(format!("{code:03}"));
                }
            }
        }
        _ => {
            if n >= 2 {
                if let Some(code) = digits_value(&b[..2]) {
                    match province_name(code).filter(|_| !(81..=83).contains(&code)) {
                        Some(name) => fields.province = Some(format!("{code:02} {name}")),
                        None => {
                            let hint = if (81..=83).contains(&code) {
                                " (81/82/83 are used only on residence permits for HK/Macau/Taiwan residents)"
                            } else if code / 10 == 9 {
                                " (numbers starting with 9 are foreign permanent resident IDs)"
                            } else {
                                ""
                            };
                            errors.push(RuleError::new(
                                "province",
                                format!("{code:02} is not a province code{hint}"),
                            ));
                        }
                    }
                }
            }
        }
    }

    // Date and check digit only on the right length (see module docs).
    if n == 18 {
        if let (Some(y), Some(m), Some(d)) = (
            digits_value(&b[6..10]),
            digits_value(&b[10..12]),
            digits_value(&b[12..14]),
        ) {
            if kind == DocKind::ForeignPermanentId {
                let mut ignored = Vec::new();
                fields.birth_date = birth_date_rules(y as i32, m, d, today, &mut ignored)
                    .filter(|_| ignored.is_empty());
            } else {
                fields.birth_date = birth_date_rules(y as i32, m, d, today, &mut errors);
            }
        }
        if b[16].is_ascii_digit()
            && (kind != DocKind::ForeignPermanentId || fields.birth_date.is_some())
        {
            fields.sex = Some(if (b[16] - b'0') % 2 == 1 {
                Sex::Male
            } else {
                Sex::Female
            });
        }
        if b[..17].iter().all(u8::is_ascii_digit) && (b[17].is_ascii_digit() || b[17] == b'X') {
            let expected = mod11_2(&b[..17]);
            if expected != b[17] {
                errors.push(RuleError::check_digit(
                    "check-character",
                    "MOD 11-2",
                    char::from(expected),
                    char::from(b[17]),
                ));
            }
        }
    }
    DocCheck::finish(Some(kind), s.to_string(), fields, errors)
}

/// Legacy 15-digit number (GB 11643-1989): 6-digit address code, YYMMDD (19YY), 3-digit
/// sequence (odd = male), no check character. Normalised to 18 digits by inserting `19`
/// before the year and appending the MOD 11-2 character (GB 11643-1999 conversion).
pub(crate) fn check15(s: &str, today: NaiveDate) -> DocCheck {
    let b = ascii_view(s);
    let n = b.len();
    let mut errors = Vec::new();
    let mut fields = DocFields::default();
    if n != 15 {
        errors.push(RuleError::new(
            "length",
            format!("expected 15 digits, found {n} characters"),
        ));
    }
    if let Some(e) = character_error(
        s,
        |_, c| c.is_ascii_digit(),
        "digits only; a 15-digit ID has no check character",
    ) {
        errors.push(e);
    }
    if n >= 2 {
        if let Some(code) = digits_value(&b[..2]) {
            match province_name(code).filter(|_| !(81..=83).contains(&code)) {
                Some(name) => fields.province = Some(format!("{code:02} {name}")),
                None => errors.push(RuleError::new(
                    "province",
                    format!("{code:02} is not a province code"),
                )),
            }
        }
    }
    let mut normalized = s.to_string();
    if n == 15 {
        if let (Some(y), Some(m), Some(d)) = (
            digits_value(&b[6..8]),
            digits_value(&b[8..10]),
            digits_value(&b[10..12]),
        ) {
            fields.birth_date = birth_date_rules(1900 + y as i32, m, d, today, &mut errors);
        }
        if b[14].is_ascii_digit() {
            fields.sex = Some(if (b[14] - b'0') % 2 == 1 {
                Sex::Male
            } else {
                Sex::Female
            });
        }
        if b.iter().all(u8::is_ascii_digit) {
            let mut body = Vec::with_capacity(18);
            body.extend_from_slice(&b[..6]);
            body.extend_from_slice(b"19");
            body.extend_from_slice(&b[6..15]);
            let check = mod11_2(&body);
            body.push(check);
            // All ASCII by construction.
            normalized = String::from_utf8(body).unwrap_or_default();
            fields.legacy_18 = Some(normalized.clone());
        }
    }
    DocCheck::finish(Some(DocKind::PrcId15), normalized, fields, errors)
}

/// Driving licence (机动车驾驶证): its number is the holder's ID number (GA 482 / 公安部令第162号
/// Art. 13: 驾驶证号码为身份证明号码), so it follows the rules of that ID kind: 18-character
/// resident ID, residence permit or 2023 permanent-residence number, or a legacy 15-digit ID.
/// `fields.id_kind` says which.
pub(crate) fn check_driving_licence(s: &str, today: NaiveDate) -> DocCheck {
    let b = s.as_bytes();
    let underlying = if b.len() == 15 && b.iter().all(u8::is_ascii_digit) {
        DocKind::PrcId15
    } else if b.first() == Some(&b'9') {
        DocKind::ForeignPermanentId
    } else if RESIDENCE_PREFIXES.iter().any(|p| b.starts_with(&p[..])) {
        DocKind::ResidencePermit
    } else {
        DocKind::PrcId
    };
    let mut c = if underlying == DocKind::PrcId15 {
        check15(s, today)
    } else {
        check18(underlying, s, today)
    };
    c.kind = Some(DocKind::DrivingLicence);
    c.fields.id_kind = Some(underlying);
    c
}
