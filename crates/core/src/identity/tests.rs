//! Specimens from the standards, tables of junk, and properties. All numbers are synthetic
//! (built with the check algorithms) or the standards' own published specimens.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;

use super::policy::{evaluate, Evidence, EvidenceKind, IdPolicy, PolicyRule, SecondFactor};
use super::*;
use crate::model::Sex;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn today() -> NaiveDate {
    d(2026, 5, 20)
}

fn rules(c: &DocCheck) -> Vec<&str> {
    c.errors.iter().map(|e| e.rule.as_str()).collect()
}

/// 17-digit body + computed check character.
fn with_check(body: &str) -> String {
    format!("{body}{}", mod11_2_check_char(body).unwrap())
}

const ICAO_L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
const ICAO_L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";

// ---- GB 11643-1999 ------------------------------------------------------------------------

#[test]
fn gb11643_specimens_are_valid() {
    // The common specimen (Beijing Chaoyang, 1949-12-31, check X).
    let c = check(Some(DocKind::PrcId), "11010519491231002X", today());
    assert!(c.valid, "{c:?}");
    assert_eq!(c.normalized.as_deref(), Some("11010519491231002X"));
    assert_eq!(c.fields.birth_date, Some(d(1949, 12, 31)));
    assert_eq!(c.fields.sex, Some(Sex::Female));
    assert_eq!(c.fields.province.as_deref(), Some("11 北京市"));
    // The standard's 1880 specimen (Guangdong Shantou): no lower bound on birth year.
    let c = check(Some(DocKind::PrcId), "440524188001010014", today());
    assert!(c.valid, "{c:?}");
    assert_eq!(c.fields.birth_date, Some(d(1880, 1, 1)));
    assert_eq!(c.fields.sex, Some(Sex::Male));
    assert_eq!(c.fields.province.as_deref(), Some("44 广东省"));
    // The brief's "11010518800101002X" is not a specimen: its check character is 5.
    assert_eq!(mod11_2_check_char("11010518800101002"), Some('5'));
    assert!(!check(None, "11010518800101002X", today()).valid);
}

#[test]
fn normalises_lower_case_full_width_and_spaces() {
    for raw in [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２ｘ",
        "110105\u{3000}19491231002X",
    ] {
        let c = check(Some(DocKind::PrcId), raw, today());
        assert!(c.valid, "{raw}: {c:?}");
        assert_eq!(c.normalized.as_deref(), Some("11010519491231002X"));
    }
}

#[test]
fn wrong_check_digit_reports_expected_and_found() {
    let c = check(Some(DocKind::PrcId), "110105194912310021", today());
    assert!(!c.valid);
    assert_eq!(rules(&c), ["check-digit"]);
    let e = &c.errors[0];
    assert_eq!(e.expected.as_deref(), Some("X"));
    assert_eq!(e.found.as_deref(), Some("1"));
    assert!(e.message.contains("expected X, found 1"), "{}", e.message);
    assert!(c.normalized.is_none());
}

#[test]
fn calendar_dates_are_real() {
    // 1900 was not a leap year: Feb 29 1900 is no date even with a correct check character.
    let c = check(
        Some(DocKind::PrcId),
        &with_check("11010519000229001"),
        today(),
    );
    assert_eq!(rules(&c), ["date"], "{c:?}");
    assert!(c.errors[0].message.contains("1900 is not a leap year"));
    // 2000 was.
    let c = check(
        Some(DocKind::PrcId),
        &with_check("11010520000229001"),
        today(),
    );
    assert!(c.valid, "{c:?}");
    for body in [
        "11010519491301001",
        "11010519490001001",
        "11010519490431001",
        "11010519490100001",
    ] {
        let c = check(Some(DocKind::PrcId), &with_check(body), today());
        assert_eq!(rules(&c), ["date"], "{body}");
    }
}

#[test]
fn birth_date_not_after_today() {
    let c = check(
        Some(DocKind::PrcId),
        &with_check("11010520260521001"),
        today(),
    );
    assert_eq!(rules(&c), ["future-date"]);
    let c = check(
        Some(DocKind::PrcId),
        &with_check("11010520260520001"),
        today(),
    );
    assert!(c.valid, "born today is fine");
}

#[test]
fn province_prefix_only() {
    // A retired county code under a real province is fine: only the 2 digits are judged.
    assert!(
        check(
            Some(DocKind::PrcId),
            &with_check("11999919491231002"),
            today()
        )
        .valid
    );
    for p in [
        "00", "10", "16", "20", "24", "30", "38", "40", "47", "49", "55", "60", "66", "70", "72",
        "80", "84", "99",
    ] {
        let c = check(
            Some(DocKind::PrcId),
            &with_check(&format!("{p}010519491231002")),
            today(),
        );
        assert_eq!(rules(&c), ["province"], "{p}");
    }
    for p in [
        "11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71",
    ] {
        assert!(
            check(
                Some(DocKind::PrcId),
                &with_check(&format!("{p}010519491231002")),
                today()
            )
            .valid,
            "{p}"
        );
    }
    // 81/82/83 only on residence permits.
    let c = check(
        Some(DocKind::PrcId),
        &with_check("81000019900101001"),
        today(),
    );
    assert_eq!(rules(&c), ["province"]);
    assert!(c.errors[0].message.contains("residence permits"));
}

#[test]
fn reports_every_failed_rule() {
    // Bad province, Feb 29 1900, wrong check character: all three.
    let c = check(Some(DocKind::PrcId), "990105190002290011", today());
    assert_eq!(rules(&c), ["province", "date", "check-digit"], "{c:?}");
    // Wrong length and a junk character: no date or check-digit judgement (would be meaningless).
    let c = check(Some(DocKind::PrcId), "1101051949123100?", today());
    assert_eq!(rules(&c), ["length", "character"], "{c:?}");
    // X in the middle: character error, never mapped to a digit.
    let c = check(Some(DocKind::PrcId), "1101051949X231002X", today());
    assert_eq!(rules(&c), ["character"], "{c:?}");
}

#[test]
fn junk_and_empty_inputs() {
    let cases: &[(Option<DocKind>, &str, &[&str])] = &[
        (Some(DocKind::PrcId), "", &["required"]),
        (Some(DocKind::PrcId), "   \u{3000} ", &["required"]),
        (None, "", &["required"]),
        (None, "\t\n", &["required"]),
        (Some(DocKind::BankCard), " - - ", &["required"]),
        (Some(DocKind::Mobile), "", &["required"]),
        (Some(DocKind::PassportMrz), "", &["required"]),
        (
            Some(DocKind::PrcId),
            "11010519491231002X\u{301}",
            &["length", "character"],
        ),
        (
            Some(DocKind::PrcId),
            "一一〇一〇五一九四九一二三一〇〇二X",
            &["character"],
        ),
        (Some(DocKind::PrcId), "11010519491231002Ⅹ", &["character"]),
        (Some(DocKind::PrcId), "110105194912310O2X", &["character"]),
        (Some(DocKind::PrcId), "11010519491231002X1", &["length"]),
        (Some(DocKind::PrcId15), "11010549123100X", &["character"]),
        (Some(DocKind::Mobile), "131234567８9", &[]),
        (Some(DocKind::Mobile), "1312345678?", &["character"]),
        (
            Some(DocKind::BankCard),
            "4111 1111 1111 111O",
            &["character"],
        ),
        (None, "hello", &["kind"]),
        (None, "💳💳💳", &["kind"]),
    ];
    for (kind, raw, want) in cases {
        let c = check(*kind, raw, today());
        assert_eq!(rules(&c), *want, "{kind:?} {raw:?}: {c:?}");
        assert_eq!(c.valid, want.is_empty());
    }
    // Huge input: one bounded message, no panic.
    let huge = "9".repeat(1_000_000);
    let c = check(None, &huge, today());
    assert!(!c.valid);
    let junk = "é".repeat(100_000);
    let c = check(Some(DocKind::PrcId), &junk, today());
    assert!(
        c.errors.iter().all(|e| e.message.len() < 300),
        "{:?}",
        c.errors
    );
}

#[test]
fn legacy_15_converts_to_18() {
    let c = check(None, "110105491231002", today());
    assert_eq!(c.kind, Some(DocKind::PrcId15));
    assert!(c.valid, "{c:?}");
    assert_eq!(c.normalized.as_deref(), Some("11010519491231002X"));
    assert_eq!(c.fields.legacy_18.as_deref(), Some("11010519491231002X"));
    assert_eq!(c.fields.birth_date, Some(d(1949, 12, 31)));
    assert_eq!(c.fields.sex, Some(Sex::Female));
    let c = check(Some(DocKind::PrcId15), "110105000229001", today());
    assert_eq!(rules(&c), ["date"], "1900-02-29");
}

#[test]
fn residence_permits() {
    for (body, prov) in [
        ("81000019900101001", "81"),
        ("82000019851231002", "82"),
        ("83000020000229003", "83"),
    ] {
        let n = with_check(body);
        let c = check(None, &n, today());
        assert_eq!(c.kind, Some(DocKind::ResidencePermit));
        assert!(c.valid, "{c:?}");
        assert!(c.fields.province.as_deref().unwrap().starts_with(prov));
    }
    let c = check(
        Some(DocKind::ResidencePermit),
        &with_check("81010019900101001"),
        today(),
    );
    assert_eq!(rules(&c), ["prefix"]);
    let c = check(
        Some(DocKind::ResidencePermit),
        &with_check("11010519491231002"),
        today(),
    );
    assert_eq!(rules(&c), ["prefix"]);
}

#[test]
fn foreign_permanent_ids() {
    let n = with_check("93184019900101001");
    let c = check(None, &n, today());
    assert_eq!(c.kind, Some(DocKind::ForeignPermanentId));
    assert!(c.valid, "{c:?}");
    assert_eq!(c.fields.card_version.as_deref(), Some("2023"));
    assert_eq!(c.fields.birth_date, Some(d(1990, 1, 1)));
    let mut bad = n.clone();
    bad.replace_range(17.., if n.ends_with('0') { "1" } else { "0" });
    assert_eq!(rules(&check(None, &bad, today())), ["check-digit"]);
    // 2017: 3 letters + 12 digits, format only; lower case accepted.
    let c = check(None, "usa110090100012", today());
    assert_eq!(c.kind, Some(DocKind::ForeignPermanentId));
    assert!(c.valid, "{c:?}");
    assert_eq!(c.normalized.as_deref(), Some("USA110090100012"));
    assert_eq!(c.fields.nationality.as_deref(), Some("USA"));
    assert_eq!(
        rules(&check(
            Some(DocKind::ForeignPermanentId),
            "US1110090100012",
            today()
        )),
        ["character"]
    );
    assert_eq!(rules(&check(None, "USA11009010001", today())), ["length"]);
}

#[test]
fn hk_macau_permits() {
    let c = check(None, "M1234567801", today());
    assert_eq!(c.kind, Some(DocKind::HkMacauPermit));
    assert!(c.valid);
    assert_eq!(c.normalized.as_deref(), Some("M1234567801"));
    assert_eq!(c.fields.person_key.as_deref(), Some("M12345678"));
    assert_eq!(c.fields.renewal_count, Some(1));
    assert_eq!(c.fields.issuer.as_deref(), Some("MO"));
    let c = check(None, "ｈ１２３４５６７８", today());
    assert!(c.valid);
    assert_eq!(c.normalized.as_deref(), Some("H12345678"));
    assert_eq!(
        rules(&check(Some(DocKind::HkMacauPermit), "K12345678", today())),
        ["prefix"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::HkMacauPermit), "H1234567", today())),
        ["length"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::HkMacauPermit), "H123456789", today())),
        ["length"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::HkMacauPermit), "H1234567A", today())),
        ["character"]
    );
}

#[test]
fn taiwan_permits() {
    let c = check(None, "12345678", today());
    assert_eq!(c.kind, Some(DocKind::TaiwanPermit));
    assert!(c.valid);
    let c = check(None, "1234567890（b）", today());
    assert_eq!(c.kind, Some(DocKind::TaiwanPermit));
    assert!(c.valid, "{c:?}");
    assert_eq!(c.normalized.as_deref(), Some("1234567890B"));
    assert_eq!(c.fields.renewal_count, Some(90));
    assert_eq!(c.fields.suffix_letter.as_deref(), Some("B"));
    assert!(
        check(Some(DocKind::TaiwanPermit), "1234567890B", today()).valid,
        "normalised form re-checks"
    );
    assert_eq!(
        rules(&check(Some(DocKind::TaiwanPermit), "1234567", today())),
        ["length"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::TaiwanPermit), "12345678(B", today())),
        ["format"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::TaiwanPermit), "12345678?", today())),
        ["character"]
    );
}

// ---- ICAO 9303 TD3 ---------------------------------------------------------------------------

#[test]
fn icao_specimen_parses_and_is_expired() {
    let c = check_mrz(ICAO_L1, ICAO_L2, today());
    assert!(c.valid, "{c:?}");
    assert_eq!(c.kind, Some(DocKind::PassportMrz));
    assert_eq!(c.normalized.as_deref(), Some("L898902C3"));
    let f = &c.fields;
    assert_eq!(f.document_type.as_deref(), Some("P"));
    assert_eq!(f.issuer.as_deref(), Some("UTO"));
    assert_eq!(f.surname.as_deref(), Some("ERIKSSON"));
    assert_eq!(f.given_names.as_deref(), Some("ANNA MARIA"));
    assert_eq!(f.document_number.as_deref(), Some("L898902C3"));
    assert_eq!(f.nationality.as_deref(), Some("UTO"));
    assert_eq!(f.birth_date, Some(d(1974, 8, 12)));
    assert_eq!(f.sex, Some(Sex::Female));
    assert_eq!(f.expiry, Some(d(2012, 4, 15)));
    assert_eq!(f.expired, Some(true));
    assert_eq!(f.personal_number.as_deref(), Some("ZE184226B"));
    // Same through check() with both lines in one value, lower case and full-width tolerated.
    let joined = format!("{}\r\n{}", ICAO_L1.to_lowercase(), ICAO_L2);
    assert!(check(Some(DocKind::PassportMrz), &joined, today()).valid);
    assert!(check(None, &joined, today()).valid);
    assert!(
        check(
            Some(DocKind::PassportMrz),
            &format!("{ICAO_L1}{ICAO_L2}"),
            today()
        )
        .valid
    );
    // Valid on the day of expiry, expired the day after.
    assert_eq!(
        check_mrz(ICAO_L1, ICAO_L2, d(2012, 4, 15)).fields.expired,
        Some(false)
    );
}

#[test]
fn mrz_reports_which_check_failed() {
    let cases = [
        (9, '7', "document-number"),
        (19, '3', "birth-date"),
        (27, '8', "expiry"),
        (42, '2', "personal-number"),
        (43, '1', "composite"),
    ];
    for (pos, ch, field) in cases {
        let mut l2: Vec<char> = ICAO_L2.chars().collect();
        l2[pos] = ch;
        let l2: String = l2.into_iter().collect();
        let c = check_mrz(ICAO_L1, &l2, today());
        assert!(!c.valid);
        let fields: Vec<_> = c.errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert!(fields.contains(&field), "{field}: {:?}", c.errors);
        assert!(
            c.errors.iter().all(|e| e.rule == "check-digit"),
            "{:?}",
            c.errors
        );
    }
    // A changed birth date (check digits left alone) fails both its own check and the composite.
    let l2 = ICAO_L2.replace("740812", "740813");
    let c = check_mrz(ICAO_L1, &l2, today());
    let fields: Vec<_> = c.errors.iter().filter_map(|e| e.field.as_deref()).collect();
    assert_eq!(fields, ["birth-date", "composite"]);
}

#[test]
fn mrz_lengths_characters_and_format() {
    let c = check_mrz(ICAO_L1, &ICAO_L2[..43], today());
    assert_eq!(rules(&c), ["length"]);
    assert_eq!(c.errors[0].field.as_deref(), Some("line2"));
    let c = check_mrz(ICAO_L1, "", today());
    assert_eq!(rules(&c), ["length"]);
    let c = check_mrz(&ICAO_L1.replace("ANNA<", "ANNA "), ICAO_L2, today());
    assert_eq!(rules(&c), ["character"]);
    let c = check_mrz(&ICAO_L1.replacen('P', "I", 1), ICAO_L2, today());
    assert_eq!(rules(&c), ["format"]);
    let c = check_mrz(&ICAO_L1.replace("ANNA", "ANN4"), ICAO_L2, today());
    assert_eq!(rules(&c), ["format"]);
}

#[test]
fn mrz_empty_personal_number_check_may_be_filler() {
    let mut l2 = String::from(&ICAO_L2[..28]);
    l2.push_str("<<<<<<<<<<<<<<<");
    let composite =
        mrz_check_digit(&format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43])).unwrap();
    l2.push(composite);
    let c = check_mrz(ICAO_L1, &l2, today());
    assert!(c.valid, "{c:?}");
    assert_eq!(c.fields.personal_number, None);
    // `0` is accepted as well, and must then enter the composite.
    let mut l2b = String::from(&l2[..42]);
    l2b.push('0');
    l2b.push(mrz_check_digit(&format!("{}{}{}", &l2b[0..10], &l2b[13..20], &l2b[21..43])).unwrap());
    assert!(check_mrz(ICAO_L1, &l2b, today()).valid);
}

fn build_l2(doc: &str, nat: &str, birth: &str, sex: char, expiry: &str, personal: &str) -> String {
    let pad = |s: &str, n: usize| format!("{s:<<n$}");
    let doc9 = pad(doc, 9);
    let pers = pad(personal, 14);
    let mut l2 = String::new();
    l2.push_str(&doc9);
    l2.push(mrz_check_digit(&doc9).unwrap());
    l2.push_str(nat);
    l2.push_str(birth);
    l2.push(mrz_check_digit(birth).unwrap());
    l2.push(sex);
    l2.push_str(expiry);
    l2.push(mrz_check_digit(expiry).unwrap());
    l2.push_str(&pers);
    l2.push(mrz_check_digit(&pers).unwrap());
    let composite = format!("{}{}{}", &l2[0..10], &l2[13..20], &l2[21..43]);
    l2.push(mrz_check_digit(&composite).unwrap());
    l2
}

#[test]
fn mrz_two_digit_year_centuries() {
    let l1 = "P<CHNZHANG<<SAN<<<<<<<<<<<<<<<<<<<<<<<<<<<<<";
    let c = check_mrz(
        l1,
        &build_l2("E12345678", "CHN", "490522", 'M', "340425", ""),
        today(),
    );
    assert!(c.valid, "{c:?}");
    assert_eq!(c.fields.birth_date, Some(d(1949, 5, 22)));
    assert_eq!(c.fields.expiry, Some(d(2034, 4, 25)));
    assert_eq!(c.fields.expired, Some(false));
    let c = check_mrz(
        l1,
        &build_l2("E12345678", "CHN", "260520", 'M', "760101", ""),
        today(),
    );
    assert_eq!(
        c.fields.birth_date,
        Some(d(2026, 5, 20)),
        "born today: this century"
    );
    assert_eq!(
        c.fields.expiry,
        Some(d(2076, 1, 1)),
        "49 years 8 months ahead beats 50 years 4 months back"
    );
    let c = check_mrz(
        l1,
        &build_l2("E12345678", "CHN", "260521", 'M', "000229", ""),
        today(),
    );
    assert_eq!(
        c.fields.birth_date,
        Some(d(1926, 5, 21)),
        "tomorrow's date is a century back"
    );
    assert_eq!(c.fields.expiry, Some(d(2000, 2, 29)));
    let c = check_mrz(
        l1,
        &build_l2("E12345678", "CHN", "000229", 'M', "010229", ""),
        today(),
    );
    assert_eq!(rules(&c), ["date"], "2001-02-29 does not exist");
}

#[test]
fn driving_licence_follows_id_rules() {
    let c = check(Some(DocKind::DrivingLicence), "11010519491231002x", today());
    assert!(c.valid);
    assert_eq!(c.kind, Some(DocKind::DrivingLicence));
    assert_eq!(c.fields.id_kind, Some(DocKind::PrcId));
    let c = check(Some(DocKind::DrivingLicence), "110105194912310021", today());
    assert_eq!(rules(&c), ["check-digit"]);
    let c = check(Some(DocKind::DrivingLicence), "110105491231002", today());
    assert_eq!(c.normalized.as_deref(), Some("11010519491231002X"));
    assert_eq!(c.fields.id_kind, Some(DocKind::PrcId15));
}

#[test]
fn bank_cards_luhn() {
    let full_width: String = "6200 0000 0000 0005"
        .chars()
        .map(|c| {
            if c == ' ' {
                '\u{3000}'
            } else {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            }
        })
        .collect();
    for ok in [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "6200000000000005",
        &full_width,
        "6212345678901234569",
    ] {
        let c = check(Some(DocKind::BankCard), ok, today());
        assert!(c.valid, "{ok}: {c:?}");
    }
    let c = check(Some(DocKind::BankCard), "4111 1111 1111 1112", today());
    assert_eq!(rules(&c), ["check-digit"]);
    assert_eq!(c.errors[0].expected.as_deref(), Some("1"));
    assert_eq!(
        rules(&check(Some(DocKind::BankCard), "411111111111111", today())),
        ["length"]
    );
    assert_eq!(
        rules(&check(
            Some(DocKind::BankCard),
            "41111111111111111111",
            today()
        )),
        ["length"]
    );
}

#[test]
fn mobile_numbers() {
    for (raw, want) in [
        ("13123456789", "13123456789"),
        ("+86 131 2345 6789", "13123456789"),
        ("0086-131-2345-6789", "13123456789"),
        ("＋８６１９９１２３４５６７８", "19912345678"),
    ] {
        let c = check(Some(DocKind::Mobile), raw, today());
        assert!(c.valid, "{raw}: {c:?}");
        assert_eq!(c.normalized.as_deref(), Some(want));
    }
    assert_eq!(
        rules(&check(Some(DocKind::Mobile), "12123456789", today())),
        ["prefix"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::Mobile), "23123456789", today())),
        ["prefix"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::Mobile), "1312345678", today())),
        ["length"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::Mobile), "86 13123456789", today())),
        ["length", "prefix"]
    );
    assert_eq!(
        rules(&check(Some(DocKind::Mobile), "131+2345678", today())),
        ["character"]
    );
}

#[test]
fn json_shape() {
    let c = check(None, "11010519491231002X", today());
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["kind"], "prc-id");
    assert_eq!(v["fields"]["birth_date"], "1949-12-31");
    assert_eq!(v["fields"]["sex"], "female");
    assert!(v["fields"].get("expiry").is_none());
    assert_eq!(v["errors"], serde_json::json!([]));
    let c = check(None, "???", today());
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["kind"], "unknown");
    assert_eq!(v["normalized"], serde_json::Value::Null);
    let back: DocCheck = serde_json::from_value(v).unwrap();
    assert_eq!(back, c);
    assert_eq!(serde_json::to_value(DocKind::PrcId15).unwrap(), "prc-id-15");
    for k in DocKind::ALL {
        assert_eq!(k.as_str().parse::<DocKind>().unwrap(), *k);
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
    assert!("passport".parse::<DocKind>().is_err());
}

// ---- Live status -----------------------------------------------------------------------------

#[test]
fn live_feedback_while_typing() {
    let full = "11010519491231002X";
    for n in 0..18 {
        assert_eq!(
            live_status(DocKind::PrcId, &full[..n], today()),
            LiveStatus::Incomplete,
            "{n}"
        );
    }
    assert!(matches!(
        live_status(DocKind::PrcId, full, today()),
        LiveStatus::Valid(_)
    ));
    // 15 typed digits of an 18-digit ID are not a legacy ID — even of a driving licence.
    assert_eq!(
        live_status(DocKind::PrcId, "110105194912310", today()),
        LiveStatus::Incomplete
    );
    assert_eq!(
        live_status(DocKind::DrivingLicence, "110105194912310", today()),
        LiveStatus::Incomplete
    );
    // A legacy number typed into an 18-digit field is judged as the start of an 18-digit ID.
    assert!(matches!(
        live_status(DocKind::PrcId, "110105491231002", today()),
        LiveStatus::Invalid(_)
    ));
    // A driving licence may carry a legacy number: no judgement before 18.
    assert_eq!(
        live_status(DocKind::DrivingLicence, "110105491231002", today()),
        LiveStatus::Incomplete
    );
    // Already wrong: province, junk, date once typed, X too early, too long, wrong check.
    for bad in [
        "99",
        "11a",
        "11010519000229",
        "11010519491331",
        "1101X",
        "11010519491231002X0",
        "110105194912310021",
    ] {
        assert!(
            matches!(
                live_status(DocKind::PrcId, bad, today()),
                LiveStatus::Invalid(_)
            ),
            "{bad}"
        );
    }
    assert_eq!(
        live_status(DocKind::HkMacauPermit, "M123456780", today()),
        LiveStatus::Incomplete
    );
    assert!(matches!(
        live_status(DocKind::HkMacauPermit, "M12345678", today()),
        LiveStatus::Valid(_)
    ));
    assert_eq!(
        live_status(DocKind::BankCard, "4111 1111 1111 1112", today()),
        LiveStatus::Incomplete
    );
    assert!(matches!(
        live_status(DocKind::BankCard, "4111 1111 1111 1112 0000", today()),
        LiveStatus::Invalid(_)
    ));
    for p in ["+", "+8", "+86", "0", "00", "008", "+86 131"] {
        assert_eq!(
            live_status(DocKind::Mobile, p, today()),
            LiveStatus::Incomplete,
            "{p}"
        );
    }
    assert_eq!(
        live_status(DocKind::TaiwanPermit, "12345678(", today()),
        LiveStatus::Incomplete
    );
    assert_eq!(
        live_status(DocKind::PassportMrz, &ICAO_L1[..20], today()),
        LiveStatus::Incomplete
    );
    assert_eq!(
        live_status(
            DocKind::PassportMrz,
            &format!("{ICAO_L1}\n{}", &ICAO_L2[..30]),
            today()
        ),
        LiveStatus::Incomplete
    );
    assert!(matches!(
        live_status(
            DocKind::PassportMrz,
            &format!("{ICAO_L1}\n{ICAO_L2}"),
            today()
        ),
        LiveStatus::Valid(_)
    ));
    let v = serde_json::to_value(live_status(DocKind::PrcId, "99", today())).unwrap();
    assert_eq!(v["status"], "invalid");
    assert_eq!(v["detail"][0]["rule"], "province");
}

// ---- Names, minors ---------------------------------------------------------------------------

#[test]
fn name_matching() {
    assert!(names_match(DocKind::PrcId, "张三", " 张　三 "));
    assert!(names_match(DocKind::PrcId, "张三", "张三"));
    assert!(names_match(
        DocKind::PrcId,
        "阿依古丽·买买提",
        "阿依古丽・买买提"
    ));
    assert!(!names_match(DocKind::PrcId, "张三", "张叁"));
    assert!(!names_match(DocKind::PrcId, "张三", ""));
    let mrz = "ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    for ok in [
        "Anna Maria Eriksson",
        "ERIKSSON ANNA MARIA",
        "eriksson, anna-maria",
        "Anna-Maria ERIKSSON",
    ] {
        assert!(names_match(DocKind::PassportMrz, mrz, ok), "{ok}");
    }
    for bad in [
        "Anna Eriksson",
        "Maria Anna Eriksson",
        "Erikson Anna Maria",
        "",
    ] {
        assert!(!names_match(DocKind::PassportMrz, mrz, bad), "{bad}");
    }
    assert!(names_match(
        DocKind::PassportMrz,
        "MUELLER<<JUERGEN",
        "Jürgen Müller"
    ));
    assert!(names_match(
        DocKind::PassportMrz,
        "MULLER<<JURGEN",
        "Jürgen Müller"
    ));
    assert!(names_match(DocKind::PassportMrz, "ZHANG<<SAN", "Zhang San"));
    // Truncated name field (39 characters, no filler at the end).
    let cut = "WOLFESCHLEGELSTEINHAUSENBERGERDORFF<<HU";
    assert_eq!(cut.len(), 39);
    assert!(names_match(
        DocKind::PassportMrz,
        cut,
        "Wolfeschlegelsteinhausenbergerdorff Hubert"
    ));
    assert!(names_match(
        DocKind::ForeignPermanentId,
        "SMITH JOHN",
        "John Smith"
    ));
}

#[test]
fn minors() {
    assert!(is_minor(d(2008, 5, 21), d(2026, 5, 20)));
    assert!(!is_minor(d(2008, 5, 20), d(2026, 5, 20)));
    // Born on 29 Feb: 18 on 1 March of a common year.
    assert!(is_minor(d(2008, 2, 29), d(2026, 2, 28)));
    assert!(!is_minor(d(2008, 2, 29), d(2026, 3, 1)));
    assert!(!is_minor(d(1880, 1, 1), d(2026, 3, 1)));
}

// ---- Policy ----------------------------------------------------------------------------------

#[test]
fn default_policy_table() {
    let p = IdPolicy::default();
    assert!(p.validate().is_ok());
    let doc = |kind| Evidence::Document { kind };
    let o = evaluate(&p, &[doc(DocKind::PrcId)]);
    assert!(o.sufficient && !o.needs_cocheck);
    assert_eq!(o.matched_rule.as_deref(), Some("resident-id-card"));
    // An ID card together with a driving licence still needs no co-check.
    let o = evaluate(&p, &[doc(DocKind::DrivingLicence), doc(DocKind::PrcId15)]);
    assert!(o.sufficient && !o.needs_cocheck);
    let o = evaluate(&p, &[doc(DocKind::PassportMrz)]);
    assert!(o.sufficient && o.needs_cocheck);
    let o = evaluate(&p, &[doc(DocKind::DrivingLicence)]);
    assert!(!o.sufficient && o.needs_cocheck);
    let o = evaluate(
        &p,
        &[Evidence::EId {
            reference: "EID-REF-0001".into(),
        }],
    );
    assert!(o.sufficient && o.needs_cocheck);
    assert_eq!(o.e_id_reference.as_deref(), Some("EID-REF-0001"));
    let o = evaluate(
        &p,
        &[Evidence::EId {
            reference: "  ".into(),
        }],
    );
    assert!(!o.sufficient);
    let o = evaluate(
        &p,
        &[Evidence::LinkedBankCard {
            second_factor: None,
        }],
    );
    assert!(!o.sufficient);
    assert_eq!(o.missing, [EvidenceKind::SecondFactor]);
    let o = evaluate(
        &p,
        &[Evidence::LinkedBankCard {
            second_factor: Some(SecondFactor::CardPin),
        }],
    );
    assert!(o.sufficient && o.needs_cocheck);
    assert_eq!(o.second_factor, Some(SecondFactor::CardPin));
    assert_eq!(
        o.matched_rule.as_deref(),
        Some("linked-bank-card-second-factor")
    );
    let o = evaluate(&p, &[]);
    assert!(!o.sufficient && !o.needs_cocheck);
    assert_eq!(o.missing, [EvidenceKind::ResidentIdCard]);
    let v = serde_json::to_value(&p).unwrap();
    let back: IdPolicy = serde_json::from_value(v).unwrap();
    assert_eq!(back, p);
}

#[test]
fn branch_policy_cannot_make_supporting_evidence_sufficient() {
    let p = IdPolicy {
        rules: vec![
            PolicyRule {
                id: "licence".into(),
                all_of: vec![EvidenceKind::DrivingLicence],
                cocheck: false,
            },
            PolicyRule {
                id: "passport-and-licence".into(),
                all_of: vec![EvidenceKind::Passport, EvidenceKind::DrivingLicence],
                cocheck: false,
            },
            PolicyRule {
                id: "id-card-cocheck".into(),
                all_of: vec![EvidenceKind::ResidentIdCard],
                cocheck: true,
            },
        ],
    };
    assert_eq!(p.validate().unwrap_err().len(), 1);
    let doc = |kind| Evidence::Document { kind };
    assert!(!evaluate(&p, &[doc(DocKind::DrivingLicence)]).sufficient);
    let o = evaluate(&p, &[doc(DocKind::PassportMrz)]);
    assert!(!o.sufficient);
    assert_eq!(o.missing, [EvidenceKind::DrivingLicence]);
    let o = evaluate(
        &p,
        &[doc(DocKind::PassportMrz), doc(DocKind::DrivingLicence)],
    );
    assert!(
        o.sufficient && o.needs_cocheck,
        "a row without the ID card always needs the co-check"
    );
    let o = evaluate(&p, &[doc(DocKind::PrcId)]);
    assert!(o.sufficient && o.needs_cocheck, "the branch asked for it");
}

// ---- Properties ------------------------------------------------------------------------------

const PROVINCES: [&str; 35] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82", "83",
];

#[test]
fn every_date_of_several_years_is_valid() {
    // Includes 1900 (not leap), 2000 and 2024 (leap), 1880 (the standard's specimen year).
    let mut count = 0;
    for year in [1880, 1900, 1999, 2000, 2024, 2025] {
        let mut day = d(year, 1, 1);
        while day.year() == year && day <= today() {
            let seq = (count * 7 % 1000) as u32;
            let prov = PROVINCES[count % 32];
            let body = format!(
                "{prov}{:04}{}{seq:03}",
                count % 10_000,
                day.format("%Y%m%d")
            );
            let n = with_check(&body);
            let c = check(None, &n, today());
            assert!(c.valid, "{n}: {c:?}");
            assert_eq!(c.kind, Some(DocKind::PrcId));
            assert_eq!(c.fields.birth_date, Some(day));
            assert_eq!(
                c.fields.sex,
                Some(if seq % 2 == 1 { Sex::Male } else { Sex::Female })
            );
            // The same through the residence-permit prefix.
            let rp = with_check(&format!(
                "{}0000{}{seq:03}",
                ["81", "82", "83"][count % 3],
                day.format("%Y%m%d")
            ));
            assert!(check(None, &rp, today()).valid, "{rp}");
            day = day.succ_opt().unwrap();
            count += 1;
        }
    }
    assert!(count > 5 * 365);
}

fn valid_id() -> impl Strategy<Value = String> {
    (0..32usize, 0..10_000u32, 0..(365 * 140), 0..1000u32).prop_map(|(p, county, days, seq)| {
        let birth = d(1886, 1, 1) + chrono::Duration::days(i64::from(days));
        with_check(&format!(
            "{}{county:04}{}{seq:03}",
            PROVINCES[p],
            birth.format("%Y%m%d")
        ))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_ids_are_valid(n in valid_id()) {
        let c = check(None, &n, today());
        prop_assert!(c.valid, "{} {:?}", n, c);
        prop_assert_eq!(c.normalized.as_deref(), Some(n.as_str()));
    }

    #[test]
    fn every_single_character_change_is_caught(n in valid_id()) {
        let orig: Vec<char> = n.chars().collect();
        for pos in 0..18 {
            for rep in "0123456789XA?Ｘ".chars() {
                if rep == orig[pos] || (rep == 'Ｘ' && orig[pos] == 'X') {
                    continue;
                }
                let mut v = orig.clone();
                v[pos] = rep;
                let changed: String = v.into_iter().collect();
                let c = check(Some(DocKind::PrcId), &changed, today());
                prop_assert!(!c.valid, "{} → {} passed", n, changed);
            }
        }
    }

    #[test]
    fn legacy_15_round_trips(n in valid_id().prop_filter("1900s", |n| &n[6..8] == "19" && !n.starts_with('8'))) {
        let legacy = format!("{}{}", &n[..6], &n[8..17]);
        let c = check(None, &legacy, today());
        prop_assert!(c.valid, "{:?}", c);
        prop_assert_eq!(c.normalized.as_deref(), Some(n.as_str()));
    }

    #[test]
    fn mrz_round_trips(
        doc in "[A-Z0-9]{1,9}",
        nat in "[A-Z]{3}",
        days in 0..(365 * 99i64),
        sex in prop::sample::select(vec!['M', 'F', '<', 'X']),
        valid_for in 1..(365 * 10i64),
        personal in "[A-Z0-9]{0,14}",
        surname in "[A-Z]{1,15}",
        given in "[A-Z]{0,10}",
    ) {
        let birth = today() - chrono::Duration::days(days);
        let expiry = today() + chrono::Duration::days(valid_for);
        let l1 = format!("{:<<44}", format!("P<{nat}{surname}<<{given}"));
        let l2 = build_l2(&doc, &nat, &birth.format("%y%m%d").to_string(), sex, &expiry.format("%y%m%d").to_string(), &personal);
        let c = check_mrz(&l1, &l2, today());
        prop_assert!(c.valid, "{}\n{}\n{:?}", l1, l2, c);
        prop_assert_eq!(c.fields.birth_date, Some(birth));
        prop_assert_eq!(c.fields.expiry, Some(expiry));
        prop_assert_eq!(c.fields.expired, Some(false));
        prop_assert_eq!(c.fields.document_number.as_deref(), Some(doc.as_str()));
        prop_assert_eq!(c.fields.surname.as_deref(), Some(surname.as_str()));
        prop_assert_eq!(
            c.fields.personal_number.as_deref(),
            (!personal.is_empty()).then_some(personal.as_str())
        );
        let entered = format!("{given} {surname}");
        prop_assert!(names_match(DocKind::PassportMrz, &l1[5..], &entered));
    }

    #[test]
    fn luhn_generated_cards_are_valid(body in "[0-9]{15,18}") {
        let n = format!("{body}{}", char::from(card::luhn_check_digit(body.as_bytes())));
        prop_assert!(check(Some(DocKind::BankCard), &n, today()).valid);
    }

    #[test]
    fn never_panics(s in "\\PC{0,60}", kind in prop::sample::select(DocKind::ALL.to_vec())) {
        let _ = check(Some(kind), &s, today());
        let _ = check(None, &s, today());
        let _ = live_status(kind, &s, today());
        let _ = names_match(kind, &s, &s);
        let _ = check_mrz(&s, &s, today());
    }

    #[test]
    fn never_panics_on_near_misses(s in "[0-9Xx<A-Z()+\\- ]{0,100}", kind in prop::sample::select(DocKind::ALL.to_vec())) {
        let c = check(Some(kind), &s, today());
        prop_assert_eq!(c.valid, c.errors.is_empty());
        prop_assert_eq!(c.valid, c.normalized.is_some());
        let _ = live_status(kind, &s, today());
    }
}

// ---- Identity step of a case -----------------------------------------------------------------

fn input(
    kind: &str,
    number: &str,
    line2: &str,
    name: &str,
    reference: &str,
) -> crate::identity::case::IdentityInput {
    crate::identity::case::IdentityInput {
        kind: kind.into(),
        number: number.into(),
        mrz_line2: line2.into(),
        name_on_document: name.into(),
        reference: reference.into(),
        // The validity printed on the card (required where the number carries no expiry).
        valid_until: if matches!(kind, "passport-mrz" | "bank-card") {
            String::new()
        } else {
            "long-term".into()
        },
        ..Default::default()
    }
}

fn field_rules(e: &crate::error::CoreError) -> Vec<(String, String)> {
    e.fields
        .iter()
        .map(|f| (f.field.clone(), f.rule.clone()))
        .collect()
}

#[test]
fn identity_step_records() {
    let r = verify_for_case(
        &input("prc-id", "11010519491231002x", "", "张三", ""),
        today(),
    )
    .unwrap();
    assert_eq!(r.number, "11010519491231002X");
    assert!(!r.needs_cocheck && !r.minor && r.name_matches);
    assert_eq!(r.birth_date, Some(d(1949, 12, 31)));
    let minor = with_check("11010520100101001");
    assert!(
        verify_for_case(&input("prc-id", &minor, "", "张三", ""), today())
            .unwrap()
            .minor
    );
    // Passport: co-check, MRZ name against the Latin name; the specimen is expired.
    let e = verify_for_case(
        &input("passport-mrz", ICAO_L1, ICAO_L2, "Anna Maria Eriksson", ""),
        today(),
    )
    .unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("mrz_line2".to_string(), "expired".to_string())]
    );
    assert!(e.message.contains("2012-04-15"));
    let r = verify_for_case(
        &input("passport-mrz", ICAO_L1, ICAO_L2, "Anna Maria Eriksson", ""),
        d(2010, 1, 1),
    )
    .unwrap();
    assert!(r.needs_cocheck && r.name_matches);
    assert_eq!(r.number, "L898902C3");
    assert_eq!(r.expiry, Some(d(2012, 4, 15)));
    let e = verify_for_case(
        &input("passport-mrz", ICAO_L1, ICAO_L2, "Anna Eriksson", ""),
        d(2010, 1, 1),
    )
    .unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("name_on_document".to_string(), "name-mismatch".to_string())]
    );
    let bad2 = ICAO_L2.replace("C36", "C37");
    let e = verify_for_case(
        &input("passport-mrz", ICAO_L1, &bad2, "Anna Maria Eriksson", ""),
        d(2010, 1, 1),
    )
    .unwrap_err();
    assert!(field_rules(&e)
        .iter()
        .all(|(f, r)| f == "mrz_line2" && r == "check-digit"));
    // Wrong check digit and Feb 29 1900 on the number field.
    let e = verify_for_case(
        &input("prc-id", "110105194912310021", "", "张三", ""),
        today(),
    )
    .unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("number".to_string(), "check-digit".to_string())]
    );
    let e = verify_for_case(
        &input("prc-id", &with_check("11010519000229001"), "", "张三", ""),
        today(),
    )
    .unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("number".to_string(), "date".to_string())]
    );
    // Bank card + a second factor recorded with its outcome and reference; a factor named
    // only in free text is no evidence, and without a factor the step is refused.
    let mut card = input("bank-card", "6200 0000 0000 0005", "", "张三", "");
    card.second_factor = Some(crate::model::SecondFactorCheck {
        kind: crate::identity::policy::SecondFactor::SmsToRegisteredPhone,
        passed: true,
        score: None,
        reference: "SMS-0001".into(),
    });
    let r = verify_for_case(&card, today()).unwrap();
    assert!(r.needs_cocheck);
    assert_eq!(r.second_factor.as_ref().unwrap().reference, "SMS-0001");
    for reference in ["", "card-pin"] {
        let e = verify_for_case(
            &input("bank-card", "6200000000000005", "", "张三", reference),
            today(),
        )
        .unwrap_err();
        assert_eq!(
            field_rules(&e),
            [("second_factor".to_string(), "required".to_string())],
            "{reference}"
        );
    }
    // e-ID needs its reference; a driving licence alone is not enough; mobile is no document.
    assert!(
        verify_for_case(&input("e-id", "", "", "张三", "EID-0001"), today())
            .unwrap()
            .needs_cocheck
    );
    let e = verify_for_case(&input("e-id", "", "", "张三", ""), today()).unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("reference".to_string(), "required".to_string())]
    );
    let e = verify_for_case(
        &input("driving-licence", "11010519491231002X", "", "张三", ""),
        today(),
    )
    .unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("kind".to_string(), "insufficient".to_string())]
    );
    for k in ["mobile", "passport", ""] {
        let e = verify_for_case(&input(k, "13123456789", "", "张三", ""), today()).unwrap_err();
        assert_eq!(
            field_rules(&e),
            [("kind".to_string(), "one-of".to_string())],
            "{k}"
        );
    }
}

/// A word is no document: a letter prefix names a kind (HK/Macau permit, 2017 foreign
/// permanent-resident card) only when digits follow it, and an all-letter value of ID length is
/// not judged as a resident ID.
#[test]
fn a_word_is_not_recognised_as_any_document() {
    for word in ["FOO", "foo", "H", "M", "HELLO", "ABCDEFGHIJKLMNOPQR"] {
        let c = check(None, word, today());
        assert!(!c.valid, "{word}");
        assert_eq!(c.kind, None, "{word}: {c:?}");
        assert_eq!(rules(&c), ["kind"], "{word}");
    }
    // The shapes with digits are still detected.
    assert_eq!(
        check(None, "H12345678", today()).kind,
        Some(DocKind::HkMacauPermit)
    );
    assert_eq!(
        check(None, "ABC123456789012", today()).kind,
        Some(DocKind::ForeignPermanentId)
    );
}

/// A card whose number carries no expiry needs its printed validity entered (else an expired
/// card would pass); an expired one is refused; an MRZ and a bank card need none.
#[test]
fn validity_is_required_where_the_number_has_no_expiry() {
    let id = with_check("11010519491231002");
    let mut blank = input("prc-id", &id, "", "张三", "");
    blank.valid_until = String::new();
    let e = verify_for_case(&blank, today()).unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("valid_until".to_string(), "required".to_string())]
    );
    let mut expired = blank.clone();
    expired.valid_until = "2020-01-01".into();
    let e = verify_for_case(&expired, today()).unwrap_err();
    assert_eq!(
        field_rules(&e),
        [("valid_until".to_string(), "expired".to_string())]
    );
    for ok in ["长期", "long-term", "２０３６-０１-０１"] {
        let mut v = blank.clone();
        v.valid_until = ok.into();
        assert!(verify_for_case(&v, today()).is_ok(), "{ok}");
    }
}
