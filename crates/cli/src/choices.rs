//! Enumerated options: clap parses them into core's closed sets, so a wrong value is a usage
//! error (exit 2) that lists the accepted values as typed (kebab-case), `--help` lists them
//! too, and no Rust type name or `Debug` spelling ever reaches the person at the counter.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use unlockdesk_core::dto::RevealField;
use unlockdesk_core::identity::policy::SecondFactor;
use unlockdesk_core::identity::DocKind;

/// A value parser accepting exactly the spellings of `all` (as `name` gives them).
#[derive(Clone)]
pub struct OneOf<T: 'static> {
    all: &'static [T],
    name: fn(T) -> &'static str,
}

/// The parser of one closed set: `one_of(LockCause::ALL, LockCause::as_str)`.
pub fn one_of<T: Copy>(all: &'static [T], name: fn(T) -> &'static str) -> OneOf<T> {
    OneOf { all, name }
}

impl<T: Copy + Send + Sync + 'static> OneOf<T> {
    fn names(&self) -> Vec<&'static str> {
        self.all.iter().map(|v| (self.name)(*v)).collect()
    }
}

impl<T: Copy + Send + Sync + 'static> TypedValueParser for OneOf<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        // clap's own parser words the error: "invalid value 'x' for '--flag <NAME>'
        // [possible values: a, b]".
        let s = PossibleValuesParser::new(self.names()).parse_ref(cmd, arg, value)?;
        self.all
            .iter()
            .copied()
            .find(|v| (self.name)(*v) == s)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.names().into_iter().map(PossibleValue::new)))
    }
}

/// A value parser that takes any text but lists `values` in `--help`: for an option whose
/// command reports a wrong value itself (`id check --kind` answers in JSON with `--json`).
#[derive(Clone)]
pub struct Listed(Vec<&'static str>);

/// See [`Listed`].
pub fn listed(values: impl IntoIterator<Item = &'static str>) -> Listed {
    Listed(values.into_iter().collect())
}

impl TypedValueParser for Listed {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().copied().map(PossibleValue::new)))
    }
}

/// Second factors on the no-ID-card path, in the order the identity screen offers them.
pub const SECOND_FACTORS: &[SecondFactor] = &[
    SecondFactor::CardPin,
    SecondFactor::SmsToRegisteredPhone,
    SecondFactor::FaceVerification,
    SecondFactor::SecurityQuestions,
    SecondFactor::Other,
];

/// The kebab-case spelling of a second factor (its serde name).
pub fn second_factor_name(f: SecondFactor) -> &'static str {
    match f {
        SecondFactor::CardPin => "card-pin",
        SecondFactor::SmsToRegisteredPhone => "sms-to-registered-phone",
        SecondFactor::FaceVerification => "face-verification",
        SecondFactor::SecurityQuestions => "security-questions",
        SecondFactor::Other => "other",
    }
}

/// Personal fields an audited reveal may show.
pub const REVEAL_FIELDS: &[RevealField] = &[
    RevealField::IdNumber,
    RevealField::Phone,
    RevealField::BankCard,
    RevealField::WalletId,
];

/// The kebab-case spelling of a reveal field (its serde name).
pub fn reveal_field_name(f: RevealField) -> &'static str {
    match f {
        RevealField::IdNumber => "id-number",
        RevealField::Phone => "phone",
        RevealField::BankCard => "bank-card",
        RevealField::WalletId => "wallet-id",
    }
}

/// The evidence `case verify-identity --kind` takes: every checked document kind but a mobile
/// number (which proves no identity), and the electronic ID.
pub fn identity_kinds() -> PossibleValuesParser {
    PossibleValuesParser::new(
        DocKind::ALL
            .iter()
            .filter(|k| **k != DocKind::Mobile)
            .map(|k| k.as_str())
            .chain(["e-id"]),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use unlockdesk_core::LockCause;

    #[test]
    fn local_spellings_are_the_serde_names() {
        for f in SECOND_FACTORS {
            assert_eq!(serde_json::to_value(f).unwrap(), second_factor_name(*f));
        }
        for f in REVEAL_FIELDS {
            assert_eq!(serde_json::to_value(f).unwrap(), reveal_field_name(*f));
        }
    }

    #[derive(Parser, Debug)]
    struct T {
        #[arg(long, value_parser = one_of(LockCause::ALL, LockCause::as_str))]
        lock_cause: Option<LockCause>,
    }

    #[test]
    fn a_wrong_value_lists_the_spellings() {
        let t = T::try_parse_from(["t", "--lock-cause", "self-locked"]).unwrap();
        assert_eq!(t.lock_cause, Some(LockCause::SelfLocked));
        let e = T::try_parse_from(["t", "--lock-cause", "forgot"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("wrong-password, abnormal-activity"), "{e}");
        assert!(
            !e.contains("LockCause") && !e.contains("WrongPassword"),
            "{e}"
        );
    }
}
