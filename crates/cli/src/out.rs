//! Output: one JSON document with `--json`, readable text otherwise. Errors go to stdout as
//! JSON (with `--json`) or stderr as text.

use serde_json::Value;
use unlockdesk_core::{CoreError, ErrorCode, FieldError};

pub struct Out {
    pub json: bool,
}

impl Out {
    /// Print a result: the JSON value, or the text.
    pub fn value(&self, v: &Value, text: &str) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(v).unwrap_or_else(|_| "null".into())
            );
        } else if !text.is_empty() {
            println!("{text}");
        }
    }

    /// Print a core error: `{code, message, fields}` with `--json`; otherwise once, on stderr
    /// (the message, then only the field problems it does not already say).
    pub fn error(&self, e: &CoreError) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(e).unwrap_or_else(|_| "{}".into())
            );
        } else {
            eprintln!("{}", error_text(e));
        }
    }
}

/// The readable form of a core error. An invalid input reads `invalid: <message>`, anything
/// else `refused (<code>): <message>`. A field problem is listed below the message only when
/// the message does not already say it (core's `invalid` message joins the field messages, so
/// a single problem is never printed twice); several problems get a line each.
pub fn error_text(e: &CoreError) -> String {
    let code = serde_json::to_value(e.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let line = |f: &FieldError| format!("{}: {}", f.field, f.message);
    let joined = e.fields.iter().map(line).collect::<Vec<_>>().join("; ");
    let head = if e.code == ErrorCode::Invalid {
        "invalid".to_string()
    } else {
        format!("refused ({code})")
    };
    if e.fields.len() > 1 && e.message == joined {
        let mut text = format!("{head}: {} problems", e.fields.len());
        for f in &e.fields {
            text.push_str(&format!("\n  {}", line(f)));
        }
        return text;
    }
    let mut text = format!("{head}: {}", e.message);
    for f in &e.fields {
        if !e.message.contains(&f.message) {
            text.push_str(&format!("\n  {}", line(f)));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_said_once() {
        let e = CoreError::field("reason_code", "one-of", "'zz' is not one of: a, b");
        assert_eq!(
            error_text(&e),
            "invalid: reason_code: 'zz' is not one of: a, b"
        );
        let e = CoreError::invalid(vec![
            FieldError::new("phone", "format", "not a mobile number"),
            FieldError::new("name", "required", "the name is required"),
        ]);
        assert_eq!(
            error_text(&e),
            "invalid: 2 problems\n  phone: not a mobile number\n  name: the name is required"
        );
        let mut e = CoreError::new(ErrorCode::IllegalTransition, "print the bank copy first");
        e.fields = vec![
            FieldError::new("form", "not-printed", "print the bank copy first"),
            FieldError::new("form", "revision", "revision 2 is not printed"),
        ];
        assert_eq!(
            error_text(&e),
            "refused (illegal-transition): print the bank copy first\n  form: revision 2 is not printed"
        );
        let e = CoreError::new(ErrorCode::FourEyes, "you did a teller step");
        assert_eq!(error_text(&e), "refused (four-eyes): you did a teller step");
    }
}
