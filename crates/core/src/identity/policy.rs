//! "No ID card" alternatives (docs/domain.md §1 step 3, seed FAQ 1): which
//! combinations of evidence prove who the customer is, as a table in core that each branch may
//! configure.
//!
//! Two rules hold whatever the table says, because they come from the process, not from a
//! branch's preference:
//! - any evidence other than the resident ID card needs the supervisor's co-check (双人审核);
//! - a driving licence, a bank card or a second factor never suffices without a primary
//!   document, an e-ID, or the card and a second factor together (supporting evidence only): a
//!   table row that breaks this is ignored, and [`IdPolicy::validate`] reports it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::DocKind;

/// One kind of evidence a rule may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum EvidenceKind {
    /// Resident ID card (18-digit or legacy 15-digit number), checked valid and not expired.
    ResidentIdCard,
    Passport,
    ResidencePermit,
    HkMacauPermit,
    TaiwanPermit,
    ForeignPermanentId,
    /// Supporting only.
    DrivingLicence,
    /// Electronic ID (e-ID / 网证) with the verification reference recorded.
    EId,
    /// The bank card linked to the wallet, checked (Luhn) and matched to the account.
    LinkedBankCard,
    /// A second factor on top of the linked card; which one is recorded.
    SecondFactor,
}

impl EvidenceKind {
    /// Evidence that can never prove identity on its own (docs/domain.md §4).
    pub fn is_supporting_only(self) -> bool {
        matches!(
            self,
            EvidenceKind::DrivingLicence
                | EvidenceKind::LinkedBankCard
                | EvidenceKind::SecondFactor
        )
    }

    /// The evidence a checked document counts as; `None` for a mobile number.
    pub fn of_document(kind: DocKind) -> Option<EvidenceKind> {
        Some(match kind {
            DocKind::PrcId | DocKind::PrcId15 => EvidenceKind::ResidentIdCard,
            DocKind::PassportMrz => EvidenceKind::Passport,
            DocKind::ResidencePermit => EvidenceKind::ResidencePermit,
            DocKind::HkMacauPermit => EvidenceKind::HkMacauPermit,
            DocKind::TaiwanPermit => EvidenceKind::TaiwanPermit,
            DocKind::ForeignPermanentId => EvidenceKind::ForeignPermanentId,
            DocKind::DrivingLicence => EvidenceKind::DrivingLicence,
            DocKind::BankCard => EvidenceKind::LinkedBankCard,
            DocKind::Mobile => return None,
        })
    }
}

/// Which second factor backed the linked bank card. Authentication data itself (PIN, SMS
/// code) is C3 and never reaches the app: only the fact and the kind are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum SecondFactor {
    /// The customer entered the card PIN on the PIN pad and the core system accepted it.
    CardPin,
    /// A one-time code to the phone registered on the account, verified by the core system.
    SmsToRegisteredPhone,
    /// Face comparison against the public-security photo (联网核查 with portrait).
    FaceVerification,
    /// Account security questions answered correctly.
    SecurityQuestions,
    /// Another verification the branch accepts, described in the case's reference text.
    Other,
}

/// Evidence presented at the counter. Documents are passed only after they checked valid
/// (and not expired) with [`super::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "kebab-case")]
#[ts(export)]
pub enum Evidence {
    /// A checked identity document of this kind.
    Document { kind: DocKind },
    /// An e-ID verification; `reference` is the verification reference (blank = not verified).
    EId { reference: String },
    /// The linked bank card, with the second factor that backed it, if any.
    LinkedBankCard { second_factor: Option<SecondFactor> },
}

/// One row of the policy table: all of `all_of` together suffice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolicyRule {
    /// Stable id shown in the outcome and the audit trail, e.g. `passport`.
    pub id: String,
    pub all_of: Vec<EvidenceKind>,
    /// Ask for the supervisor's co-check even for the resident ID card (a branch may be
    /// stricter). Any row without the resident ID card needs it regardless.
    #[serde(default)]
    pub cocheck: bool,
}

/// The branch's table. Rows are tried in order; the first satisfied row that needs no co-check
/// wins, else the first satisfied row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IdPolicy {
    pub rules: Vec<PolicyRule>,
}

impl Default for IdPolicy {
    /// Domain notes §1 / seed FAQ 1: resident ID card alone; passport alone; e-ID with its
    /// verification reference; linked bank card plus a second factor. **[choice]** the HK/Macau,
    /// Taiwan, residence-permit and permanent-residence documents alone too: for their holders
    /// they are the ID document, and turning them away would leave no route at all. Driving
    /// licence: supporting only, in no row.
    fn default() -> Self {
        let row = |id: &str, all_of: &[EvidenceKind]| PolicyRule {
            id: id.into(),
            all_of: all_of.to_vec(),
            cocheck: false,
        };
        use EvidenceKind as E;
        IdPolicy {
            rules: vec![
                row("resident-id-card", &[E::ResidentIdCard]),
                row("passport", &[E::Passport]),
                row("residence-permit", &[E::ResidencePermit]),
                row("hk-macau-permit", &[E::HkMacauPermit]),
                row("taiwan-permit", &[E::TaiwanPermit]),
                row("foreign-permanent-id", &[E::ForeignPermanentId]),
                row("e-id", &[E::EId]),
                row(
                    "linked-bank-card-second-factor",
                    &[E::LinkedBankCard, E::SecondFactor],
                ),
            ],
        }
    }
}

impl IdPolicy {
    /// Problems with the table: empty rows, rows made only of supporting evidence, duplicate
    /// ids. Such rows are ignored by [`evaluate`]; an admin screen shows these messages.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        let mut seen = BTreeSet::new();
        for r in &self.rules {
            if !seen.insert(r.id.as_str()) {
                problems.push(format!("rule '{}' appears twice", r.id));
            }
            if r.all_of.is_empty() {
                problems.push(format!("rule '{}' requires nothing", r.id));
            } else if !can_suffice(&r.all_of) {
                problems.push(format!(
                    "rule '{}' holds only supporting evidence (driving licence, bank card, second factor), which never suffices",
                    r.id
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

/// A row can suffice when it holds a primary document or e-ID, or the linked bank card together
/// with a second factor (seed FAQ 1); a driving licence, a card or a factor alone never does.
fn can_suffice(all_of: &[EvidenceKind]) -> bool {
    all_of.iter().any(|k| !k.is_supporting_only())
        || (all_of.contains(&EvidenceKind::LinkedBankCard)
            && all_of.contains(&EvidenceKind::SecondFactor))
}

/// What the evidence amounts to under a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PolicyOutcome {
    pub sufficient: bool,
    /// The row that was satisfied.
    pub matched_rule: Option<String>,
    /// What is still missing for the nearest row (empty when sufficient).
    pub missing: Vec<EvidenceKind>,
    /// Supervisor co-check required (双人审核).
    pub needs_cocheck: bool,
    /// The second factor recorded with the linked bank card.
    pub second_factor: Option<SecondFactor>,
    /// The e-ID verification reference recorded.
    pub e_id_reference: Option<String>,
}

/// Evaluate `evidence` against `policy` (see the module docs for the two fixed rules).
/// An e-ID with a blank reference and a bank card without a second factor count only as far
/// as they go: the outcome's `missing` then says `e-id` / `second-factor`.
pub fn evaluate(policy: &IdPolicy, evidence: &[Evidence]) -> PolicyOutcome {
    let mut have: BTreeSet<EvidenceKind> = BTreeSet::new();
    let mut second_factor = None;
    let mut e_id_reference = None;
    for e in evidence {
        match e {
            Evidence::Document { kind } => {
                if let Some(k) = EvidenceKind::of_document(*kind) {
                    have.insert(k);
                }
            }
            Evidence::EId { reference } => {
                let r = reference.trim();
                if !r.is_empty() {
                    have.insert(EvidenceKind::EId);
                    e_id_reference = Some(r.to_string());
                }
            }
            Evidence::LinkedBankCard { second_factor: f } => {
                have.insert(EvidenceKind::LinkedBankCard);
                if let Some(f) = f {
                    have.insert(EvidenceKind::SecondFactor);
                    second_factor = Some(*f);
                }
            }
        }
    }

    let usable = policy.rules.iter().filter(|r| can_suffice(&r.all_of));
    let cocheck = |r: &PolicyRule| r.cocheck || !r.all_of.contains(&EvidenceKind::ResidentIdCard);

    let satisfied: Vec<&PolicyRule> = usable
        .clone()
        .filter(|r| r.all_of.iter().all(|k| have.contains(k)))
        .collect();
    if let Some(r) = satisfied
        .iter()
        .find(|r| !cocheck(r))
        .or_else(|| satisfied.first())
    {
        return PolicyOutcome {
            sufficient: true,
            matched_rule: Some(r.id.clone()),
            missing: Vec::new(),
            needs_cocheck: cocheck(r),
            second_factor,
            e_id_reference,
        };
    }
    // Nearest row: fewest missing items among rows sharing something with what was shown
    // (or the first row when nothing matches at all).
    let nearest = usable
        .clone()
        .filter(|r| r.all_of.iter().any(|k| have.contains(k)))
        .min_by_key(|r| r.all_of.iter().filter(|k| !have.contains(k)).count())
        .or_else(|| usable.clone().next());
    let missing = nearest
        .map(|r| {
            r.all_of
                .iter()
                .copied()
                .filter(|k| !have.contains(k))
                .collect()
        })
        .unwrap_or_default();
    PolicyOutcome {
        sufficient: false,
        matched_rule: None,
        missing,
        // Whatever is added, anything shown besides an ID card will need the co-check.
        needs_cocheck: have.iter().any(|k| *k != EvidenceKind::ResidentIdCard),
        second_factor,
        e_id_reference,
    }
}

#[cfg(test)]
mod ui_list_tests {
    use super::*;

    /// The admin screen offers the default rows from `ui/src/lib/idpolicy.default.json`; it
    /// must be exactly `IdPolicy::default()` (same rows, same order, same settings).
    #[test]
    fn default_policy_matches_the_admin_screens_list() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ui/src/lib/idpolicy.default.json"
        );
        let text = std::fs::read_to_string(path).expect("the admin screen's list");
        let ui: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let core = serde_json::to_value(IdPolicy::default().rules).unwrap();
        assert_eq!(
            ui,
            core,
            "ui/src/lib/idpolicy.default.json differs from IdPolicy::default(); it should be:\n{}",
            serde_json::to_string_pretty(&core).unwrap()
        );
    }
}
