//! `unlockdesk-cli id check`: check one identity-document number against its standard
//!. Pure: never opens or creates a database.
//!
//! ```text
//! unlockdesk-cli id check [--kind KIND] [--today YYYY-MM-DD] --json VALUE
//! unlockdesk-cli id check --kind passport-mrz --json LINE1 LINE2
//! ```
//!
//! Output (with `--json`): exactly one JSON object
//! `{"valid": bool, "kind": str|null, "normalized": str|null, "fields": {...}, "errors":
//! [{"rule", "message", ...}]}`; `kind` is `null` when no `--kind` was given and the value is
//! not recognised as any document number (then the one error has rule `kind`).
//! Exit code: 0 valid, 1 invalid (an empty value is invalid), 2 usage error (bad `--kind`, bad
//! `--today`, wrong number of values); a usage error prints
//! `{"code": "invalid", "message": str, "fields": [{"field", "rule", "message"}]}`.

use chrono::{FixedOffset, NaiveDate, Utc};
use serde_json::{json, Value};
use unlockdesk_core::identity::{check, check_mrz, DocCheck, DocKind};

/// Arguments of `id check`. Values come last; `--` ends the options so a value may start
/// with `-`.
#[derive(clap::Args, Debug, Clone)]
pub struct IdCheckArgs {
    /// Document kind. Without it the kind is detected among the ID kinds (two values: passport
    /// MRZ); a wrong kind is reported like any usage error of this command (JSON with --json).
    #[arg(long, value_name = "KIND",
        value_parser = crate::choices::listed(DocKind::ALL.iter().map(|k| k.as_str())))]
    pub kind: Option<String>,
    /// The counter's date (YYYY-MM-DD) for birth-date and expiry rules; default today in China
    /// (UTC+8).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<String>,
    /// The number; for passport-mrz the two MRZ lines.
    #[arg(value_name = "VALUE", num_args = 1..=2, required = true)]
    pub values: Vec<String>,
}

/// Today's date at the counter: China has one time zone, UTC+8, and no daylight saving.
fn china_today() -> NaiveDate {
    let offset = FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    Utc::now().with_timezone(&offset).date_naive()
}

fn usage(field: &str, rule: &str, message: String) -> (Value, i32) {
    (
        json!({
            "code": "invalid",
            "message": format!("{field}: {message}"),
            "fields": [{"field": field, "rule": rule, "message": message}],
        }),
        2,
    )
}

/// Build the JSON report and the exit code, without printing (unit-testable).
pub fn report(args: &IdCheckArgs) -> (Value, i32) {
    report_at(args, china_today)
}

fn report_at(args: &IdCheckArgs, default_today: impl Fn() -> NaiveDate) -> (Value, i32) {
    let kind = match args.kind.as_deref().map(str::trim) {
        None => None,
        Some(k) => match k.parse::<DocKind>() {
            Ok(k) => Some(k),
            Err(_) => {
                let all: Vec<&str> = DocKind::ALL.iter().map(|k| k.as_str()).collect();
                return usage(
                    "kind",
                    "one-of",
                    format!("'{k}' is not one of: {}", all.join(", ")),
                );
            }
        },
    };
    let today = match args.today.as_deref().map(str::trim) {
        None => default_today(),
        Some(t) => match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) if t.len() == 10 => d,
            _ => return usage("today", "date", format!("'{t}' is not a date YYYY-MM-DD")),
        },
    };
    let c: DocCheck = match (kind, args.values.as_slice()) {
        (Some(DocKind::PassportMrz) | None, [l1, l2]) => check_mrz(l1, l2, today),
        (Some(DocKind::PassportMrz), [one]) => {
            // Both lines in one value: a line break, or 88 characters.
            let t = one.trim();
            if t.is_empty() || t.contains('\n') || t.chars().count() == 88 {
                check(Some(DocKind::PassportMrz), one, today)
            } else {
                return usage(
                    "values",
                    "count",
                    "passport-mrz takes the two MRZ lines as two values".into(),
                );
            }
        }
        (k, [one]) => check(k, one, today),
        (Some(k), _) => {
            return usage(
                "values",
                "count",
                format!("{} takes one value, got {}", k.as_str(), args.values.len()),
            )
        }
        (None, _) => {
            return usage(
                "values",
                "count",
                format!("expected one value, got {}", args.values.len()),
            )
        }
    };
    let code = if c.valid { 0 } else { 1 };
    let mut v = serde_json::to_value(&c)
        .unwrap_or_else(|e| json!({"code": "internal", "message": e.to_string()}));
    if c.kind.is_none() {
        // No kind given and none recognised: say so, never a placeholder kind.
        v["kind"] = Value::Null;
    }
    (v, code)
}

/// Run `id check`: print one JSON object (`json`) or a readable text, return the exit code.
pub fn run(args: &IdCheckArgs, json: bool) -> i32 {
    let (v, code) = report(args);
    if json {
        println!("{v}");
    } else if code == 2 {
        eprintln!("error: {}", v["message"].as_str().unwrap_or("usage error"));
    } else {
        print!("{}", text(&v));
    }
    code
}

/// Readable form: verdict line, then fields, then errors.
fn text(v: &Value) -> String {
    let mut out = String::new();
    let valid = v["valid"].as_bool().unwrap_or(false);
    match (v["normalized"].as_str(), v["kind"].as_str()) {
        (Some(n), Some(kind)) if valid => out.push_str(&format!("valid {kind}: {n}\n")),
        (_, Some(kind)) => out.push_str(&format!(
            "{} {kind}\n",
            if valid { "valid" } else { "INVALID" }
        )),
        // No kind: the errors below say why (not recognised, or empty).
        (_, None) => out.push_str("INVALID\n"),
    }
    if let Some(fields) = v["fields"].as_object() {
        for (k, val) in fields {
            let shown = val
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| val.to_string());
            out.push_str(&format!("  {k}: {shown}\n"));
        }
    }
    if let Some(errors) = v["errors"].as_array() {
        for e in errors {
            out.push_str(&format!(
                "  error [{}]: {}\n",
                e["rule"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const L1: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<";
    const L2: &str = "L898902C36UTO7408122F1204159ZE184226B<<<<<10";

    fn args(kind: Option<&str>, today: Option<&str>, values: &[&str]) -> IdCheckArgs {
        IdCheckArgs {
            kind: kind.map(String::from),
            today: today.map(String::from),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn fixed() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 20).unwrap()
    }

    fn rep(kind: Option<&str>, today: Option<&str>, values: &[&str]) -> (Value, i32) {
        report_at(&args(kind, today, values), fixed)
    }

    #[test]
    fn valid_id_detected() {
        let (v, code) = rep(None, None, &["11010519491231002x"]);
        assert_eq!(code, 0);
        assert_eq!(v["valid"], true);
        assert_eq!(v["kind"], "prc-id");
        assert_eq!(v["normalized"], "11010519491231002X");
        assert_eq!(v["fields"]["birth_date"], "1949-12-31");
        assert_eq!(v["errors"], json!([]));
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 5, "{keys:?}");
    }

    #[test]
    fn invalid_and_empty_exit_1() {
        let (v, code) = rep(Some("prc-id"), None, &["110105194912310021"]);
        assert_eq!(code, 1);
        assert_eq!(v["errors"][0]["rule"], "check-digit");
        assert_eq!(v["normalized"], Value::Null);
        let (v, code) = rep(None, None, &[""]);
        assert_eq!(code, 1);
        assert_eq!(v["kind"], Value::Null);
        assert_eq!(v["errors"][0]["rule"], "required");
        let (_, code) = rep(Some("bank-card"), None, &["  "]);
        assert_eq!(code, 1);
    }

    #[test]
    fn usage_errors_exit_2() {
        assert_eq!(rep(Some("passport"), None, &["x"]).1, 2);
        assert_eq!(rep(None, Some("2026-02-30"), &["x"]).1, 2);
        assert_eq!(rep(None, Some("20260520"), &["x"]).1, 2);
        assert_eq!(rep(Some("prc-id"), None, &["a", "b"]).1, 2);
        assert_eq!(rep(Some("passport-mrz"), None, &[L1]).1, 2);
        let (v, _) = rep(Some("nope"), None, &["x"]);
        assert_eq!(v["code"], "invalid");
        assert_eq!(v["fields"][0]["field"], "kind");
    }

    #[test]
    fn passport_two_lines_and_today() {
        let (v, code) = rep(Some("passport-mrz"), Some("2026-01-01"), &[L1, L2]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["fields"]["expiry"], "2012-04-15");
        assert_eq!(v["fields"]["expired"], true);
        assert_eq!(v["normalized"], "L898902C3");
        let (v, _) = rep(None, Some("2010-01-01"), &[L1, L2]);
        assert_eq!(v["kind"], "passport-mrz");
        assert_eq!(v["fields"]["expired"], false);
        // Birth after --today is a future date.
        let (v, code) = rep(Some("prc-id"), Some("1949-12-30"), &["11010519491231002X"]);
        assert_eq!(code, 1);
        assert_eq!(v["errors"][0]["rule"], "future-date");
    }

    #[test]
    fn a_word_is_no_document() {
        for word in ["foo", "FOO", "ｆｏｏ", "H", "hello world"] {
            let (v, code) = rep(None, None, &[word]);
            assert_eq!(code, 1, "{word}");
            assert_eq!(v["valid"], false);
            assert_eq!(v["kind"], Value::Null, "{word}: {v}");
            assert_eq!(v["errors"][0]["rule"], "kind");
            let t = text(&v);
            assert!(
                t.starts_with("INVALID\n  error [kind]: not recognised as any identity document"),
                "{t}"
            );
        }
        // A named kind is judged against that kind.
        let (v, _) = rep(Some("foreign-permanent-id"), None, &["foo"]);
        assert_eq!(v["kind"], "foreign-permanent-id");
        // Digits of an unknown shape: not recognised either, by core's shapes.
        let (v, _) = rep(None, None, &["12"]);
        assert_eq!(v["kind"], Value::Null, "{v}");
    }

    #[test]
    fn mobile_and_card() {
        let (v, code) = rep(Some("mobile"), None, &["+86 131-2345-6789"]);
        assert_eq!((code, v["normalized"].as_str()), (0, Some("13123456789")));
        let (_, code) = rep(Some("bank-card"), None, &["4111 1111 1111 1111"]);
        assert_eq!(code, 0);
    }

    #[test]
    fn text_form() {
        let (v, _) = rep(None, None, &["11010519491231002X"]);
        let t = text(&v);
        assert!(t.starts_with("valid prc-id: 11010519491231002X\n"), "{t}");
        assert!(t.contains("birth_date: 1949-12-31"));
        let (v, _) = rep(None, None, &["110105194912310021"]);
        assert!(text(&v).contains("error [check-digit]"));
    }

    #[test]
    fn clap_parses_values_after_double_dash() {
        use clap::Parser;
        #[derive(clap::Parser, Debug)]
        struct Cli {
            #[arg(long, global = true)]
            json: bool,
            #[command(flatten)]
            args: IdCheckArgs,
        }
        let cli = Cli::try_parse_from(["x", "--kind", "mobile", "--json", "--", "-131"]).unwrap();
        assert!(cli.json);
        assert_eq!(cli.args.values, ["-131"]);
        let cli = Cli::try_parse_from(["x", "--kind", "passport-mrz", "--json", L1, L2]).unwrap();
        assert_eq!(cli.args.values.len(), 2);
        let cli = Cli::try_parse_from(["x", "11010519491231002X", "--json"]).unwrap();
        assert!(cli.json);
        assert!(Cli::try_parse_from(["x", "--json"]).is_err());
        assert!(Cli::try_parse_from(["x", "a", "b", "c"]).is_err());
        let cli = Cli::try_parse_from(["x", ""]).unwrap();
        assert_eq!(cli.args.values, [""]);
    }
}
