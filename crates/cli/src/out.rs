//! Output: one JSON document with `--json`, readable text otherwise. Errors go to stdout as
//! JSON (with `--json`) or stderr as text.

use serde_json::Value;
use unlockdesk_core::CoreError;

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

    /// Print a core error as `{code, message, fields}`.
    pub fn error(&self, e: &CoreError) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(e).unwrap_or_else(|_| "{}".into())
            );
        } else {
            eprintln!(
                "refused ({}): {}",
                serde_json::to_value(e.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                e.message
            );
            for f in &e.fields {
                eprintln!("  {}: {} [{}]", f.field, f.message, f.rule);
            }
        }
    }
}
