//! The wallet operator's connector and the customer's notifications (ports, records, rules).
//!
//! No public API exists for e-CNY wallet operators (钱包服务商), so UnlockDesk defines a small
//! HTTP/JSON contract (`docs/operator-api.md`, with its OpenAPI document) and talks to it
//! through two ports implemented outside core (`unlockdesk-operator`):
//!
//! * [`WalletOperator`]: a wallet's status, and the unlock request carrying an idempotency
//!   key. The key is stored on the case **before** the request leaves the terminal, so a retry
//!   after a lost answer is the same request and the operator unlocks a wallet at most once;
//! * [`SmsGateway`]: one customer SMS, with a message id the gateway uses to drop duplicates.
//!
//! Notifications go through an **outbox**: the message is written in the same store
//! transaction as the step that causes it (the case reaching `unlocked`), then delivered by a
//! worker with retries and backoff ([`next_attempt_delay`]), at least once. A case waiting for
//! the operator's answer is settled by the same worker, by status queries with the case's key
//! ([`OutboxKind::OperatorSettle`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::model::*;

/// What the operator says about one wallet (`GET /v1/wallets/{wallet_id}` of the contract).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WalletStatus {
    /// The wallet is locked now.
    pub locked: bool,
    /// The operator's lock-cause code (`wrong-password`, `unusual-activity`, …); empty when
    /// not locked.
    pub lock_cause: String,
    /// Since when the wallet is locked (UTC), when the operator says.
    pub locked_since: Option<DateTime<Utc>>,
    /// The operator itself flags an authority-ordered freeze (司法/监察冻结): never unlocked at
    /// the counter.
    pub authority_freeze: bool,
}

/// The unlock request sent to the operator (no personal data beyond the wallet id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlockCall {
    pub wallet_id: String,
    pub case_number: String,
    pub branch_code: String,
}

/// The operator's answer to an unlock request, or the lack of one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum UnlockOutcome {
    /// Unlocked; `reference` is the operator's reference of the unlock.
    Confirmed { reference: String },
    /// The operator refuses (`code`, `message` as it sent them).
    Rejected { code: String, message: String },
    /// Received; the operator will decide later (ask its status with the same key).
    Pending,
    /// Sent, but no answer (timeout, dropped connection, 5xx, circuit open): it may or may not
    /// have been applied. Never retried blindly: its status is asked first.
    Unknown { reason: String },
}

/// Why a call to the operator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// A transport fault, a timeout, a 5xx or an answer outside the contract: the operator may
    /// be down, or the call may have been lost on the way.
    Unavailable,
    /// The circuit breaker is open (or its one trial call is in progress): nothing was sent,
    /// the operator is known to be down.
    CircuitOpen,
    /// The operator answered that it does not know the wallet id (HTTP 404): an answer about
    /// the input, not the operator being down.
    UnknownWallet,
}

/// A failed status call: its [`FaultKind`] and the words for the screen and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorFault {
    pub kind: FaultKind,
    /// English, for the screen and the log (no personal data).
    pub message: String,
}

impl OperatorFault {
    pub fn new(kind: FaultKind, message: impl Into<String>) -> Self {
        OperatorFault {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for OperatorFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<OperatorFault> for CoreError {
    fn from(f: OperatorFault) -> Self {
        if f.kind == FaultKind::UnknownWallet {
            CoreError::field("wallet_id", "unknown-wallet", f.message)
        } else {
            CoreError::new(crate::ErrorCode::OperatorUnavailable, f.message)
        }
    }
}

/// One wallet operator's connector (contract `docs/operator-api.md`).
pub trait WalletOperator: Send + Sync {
    /// The wallet's status now. Errors: a transport fault or the circuit open.
    fn status(&self, wallet_id: &str) -> Result<WalletStatus, OperatorFault>;
    /// Ask for the unlock under `key` (the `Idempotency-Key`): the same key always names the
    /// same request, so sending it again never unlocks twice.
    fn request_unlock(&self, call: &UnlockCall, key: &str) -> UnlockOutcome;
    /// What became of the request sent under `key`: `Ok(None)` when the operator never
    /// received it (sending it again is then safe), `Ok(Some(Pending))` while undecided.
    fn unlock_status(
        &self,
        wallet_id: &str,
        key: &str,
    ) -> Result<Option<UnlockOutcome>, OperatorFault>;
    /// `Some(why)` while the connector's circuit breaker is open (the operator failed
    /// repeatedly and is left alone for its cool-down): nothing would be sent now.
    fn circuit_open(&self) -> Option<String> {
        None
    }
}

/// One SMS to a customer's registered phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsMessage {
    /// The outbox message id: the gateway drops a second message with the same id.
    pub message_id: String,
    /// Full normalised phone (C2): sent, never logged.
    pub to: String,
    pub lang: String,
    pub text: String,
}

/// A failed delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFault {
    /// False when sending the same message again cannot succeed (the gateway refused it):
    /// the message fails for good at once.
    pub retryable: bool,
    pub message: String,
}

/// The SMS gateway (contract `docs/operator-api.md`, `POST /v1/sms`).
pub trait SmsGateway: Send + Sync {
    /// Hand one message to the gateway; `Ok` once it accepted it (or already had it).
    fn send(&self, msg: &SmsMessage) -> Result<(), DeliveryFault>;
    /// `Some(why)` while the gateway's circuit breaker is open: nothing would be sent now, and
    /// the message waits without an attempt counted.
    fn circuit_open(&self) -> Option<String> {
        None
    }
}

/// Which connector serves a wallet operator, and the SMS gateway, for a branch: the branch's
/// settings ([`Branch::operator_connectors`]), or one URL for every operator
/// (`UNLOCKDESK_OPERATOR_URL`). `None`: the manual path (the teller contacts the operator and a
/// supervisor confirms; no SMS is queued).
pub trait Connectors: Send + Sync {
    fn operator(&self, branch: &Branch, wallet_operator: &str) -> Option<Arc<dyn WalletOperator>>;
    fn sms(&self, branch: &Branch) -> Option<Arc<dyn SmsGateway>>;
}

kebab_enum!(
    /// Where an outbox message stands.
    OutboxStatus {
        /// Waiting for (another) delivery attempt.
        Queued = "queued",
        /// The gateway accepted it (or, for a settle job, the case was settled).
        Sent = "sent",
        /// Given up: refused by the gateway, or [`MAX_ATTEMPTS`] attempts failed.
        Failed = "failed",
    }
);

kebab_enum!(
    /// What an outbox row asks the worker to do.
    OutboxKind {
        /// Send the customer's SMS.
        Sms = "sms",
        /// Settle a case waiting for the operator's answer by status queries with its key.
        OperatorSettle = "operator-settle",
    }
);

/// One outbox row: a customer notification, or a case waiting for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutboxMessage {
    /// The message id (a UUID): the gateway's duplicate key.
    pub id: String,
    pub case_id: CaseId,
    pub kind: OutboxKind,
    /// `zh-CN` or `en`.
    pub lang: String,
    /// The text sent (never a code, a password or a full personal number); empty for a
    /// settle job.
    pub text: String,
    pub status: OutboxStatus,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// Not tried again before this instant.
    pub next_attempt_at: DateTime<Utc>,
    /// A worker holds the message until this instant (its lease); another worker may take it
    /// after, so a worker killed mid-send delays the message, never loses it.
    pub claimed_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed (English, no personal data); empty otherwise.
    pub last_error: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Attempts before a notification fails for good (the contract's "at least 8").
pub const MAX_ATTEMPTS: u32 = 10;

/// How long a worker holds a claimed message before another may take it: longer than one
/// delivery with its retries can last at the connector's default timeouts (3 × 10 s plus
/// backoffs), so two live workers never send one message at once.
pub const LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// The wait after failed attempt `attempts` (1-based): 1 s doubling, capped at 5 min, with
/// ±25 % jitter from `jitter` in [0, 1) so that many messages failed together do not come
/// back together (exponential backoff with jitter).
pub fn next_attempt_delay(attempts: u32, jitter: f64) -> chrono::Duration {
    let base_ms = 1000u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
    let capped = base_ms.min(300_000) as f64;
    let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
    chrono::Duration::milliseconds((capped * factor) as i64)
}

/// The SMS language: English for a customer whose form gives a nationality other than China,
/// Chinese otherwise.
pub fn sms_lang(case: &Case) -> &'static str {
    let nationality = case
        .form
        .as_ref()
        .map(|f| f.nationality.trim().to_ascii_uppercase())
        .unwrap_or_default();
    match nationality.as_str() {
        "" | "CHN" | "CN" | "中国" | "中华人民共和国" | "CHINA" => "zh-CN",
        _ => "en",
    }
}

/// The unlock notification's text: the case number and branch, the advice to set one's own new
/// password, and the anti-fraud warning. Never a code or a password (the bank does not know
/// them) and no personal number.
pub fn unlock_sms_text(lang: &str, branch_name: &str, case_number: &str) -> String {
    if lang == "en" {
        format!(
            "{branch_name}: your digital wallet was unlocked (case {case_number}). Sign in and set \
             a new password of your own now. The bank never asks for your password or a \
             verification code: do not tell anyone."
        )
    } else {
        format!(
            "【{branch_name}】您的数字钱包已解锁（业务编号 {case_number}）。请尽快登录钱包自行设置新密码。\
             银行工作人员不会向您索要密码或验证码，谨防诈骗。"
        )
    }
}

/// The branch's connector settings checked: at most 20, each a named operator (1-60
/// characters, named once) with a base URL `http(s)://host[:port]` (no path, query or
/// fragment; at most 200 characters). Field names `operator_connectors[i].wallet_operator` and
/// `operator_connectors[i].base_url`.
pub fn check_connectors(list: &[OperatorConnector]) -> Vec<crate::FieldError> {
    use crate::FieldError;
    let mut errs = Vec::new();
    if list.len() > 20 {
        errs.push(FieldError::new(
            "operator_connectors",
            "max-items",
            "at most 20 operator connectors",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in list.iter().enumerate() {
        let name = c.wallet_operator.trim();
        let field = format!("operator_connectors[{i}].wallet_operator");
        if name.is_empty() || name.chars().count() > 60 {
            errs.push(FieldError::new(
                &field,
                "length",
                "the operator's name, 1-60 characters",
            ));
        } else if !seen.insert(name.to_lowercase()) {
            errs.push(FieldError::new(
                &field,
                "unique",
                format!("'{name}' is listed twice"),
            ));
        }
        let url = c.base_url.trim().trim_end_matches('/');
        let lower = url.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        let ok = url.len() <= 200
            && rest.is_some_and(|r| {
                !r.is_empty() && !r.contains(['/', '?', '#', '@', ' ']) && !r.starts_with(':')
            });
        if !ok {
            errs.push(FieldError::new(
                format!("operator_connectors[{i}].base_url"),
                "format",
                "the operator API's base URL: http(s)://host[:port], no path",
            ));
        }
    }
    errs
}

/// The case's operator request, when it is waiting for the operator's answer.
pub fn waiting(case: &Case) -> Option<&OperatorUnlock> {
    case.operator_unlock
        .as_ref()
        .filter(|u| u.status == OperatorUnlockStatus::Waiting)
}

/// The wallet id to ask about: the one typed at the counter, else the form's. Errors:
/// `invalid` field `wallet_id` (`required`, `format`: letters and digits, at most 64).
pub fn wallet_id_for(case: &Case, typed: Option<&str>) -> CoreResult<String> {
    let typed = typed.map(crate::normalize::compact).unwrap_or_default();
    let id = if typed.is_empty() {
        case.form
            .as_ref()
            .map(|f| f.wallet_id.clone())
            .unwrap_or_default()
    } else {
        typed
    };
    if id.is_empty() {
        return Err(CoreError::field(
            "wallet_id",
            "required",
            "the wallet id is required (from the form, or typed at the counter)",
        ));
    }
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(CoreError::field(
            "wallet_id",
            "format",
            "a wallet id is letters and digits, at most 64",
        ));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let d = |n, j| next_attempt_delay(n, j).num_milliseconds();
        assert_eq!(d(1, 0.5), 1000);
        assert_eq!(d(2, 0.5), 2000);
        assert_eq!(d(4, 0.5), 8000);
        assert_eq!(d(30, 0.5), 300_000);
        assert_eq!(d(1, 0.0), 750);
        assert_eq!(d(1, 1.0), 1250);
        // Eight attempts take well under an hour even at the top of the jitter.
        let total: i64 = (1..=8).map(|n| d(n, 1.0)).sum();
        assert!(total < 3_600_000, "{total}");
    }

    #[test]
    fn connector_settings_name_the_item_and_the_rule() {
        let c = |name: &str, url: &str| OperatorConnector {
            wallet_operator: name.into(),
            base_url: url.into(),
        };
        assert!(check_connectors(&[c("运营机构A", "https://op.example:8443/")]).is_empty());
        let errs = check_connectors(&[
            c("A", "http://127.0.0.1:9"),
            c("a", "ftp://x"),
            c("", "https://x/v1"),
        ]);
        let got: Vec<(&str, &str)> = errs
            .iter()
            .map(|e| (e.field.as_str(), e.rule.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("operator_connectors[1].wallet_operator", "unique"),
                ("operator_connectors[1].base_url", "format"),
                ("operator_connectors[2].wallet_operator", "length"),
                ("operator_connectors[2].base_url", "format"),
            ]
        );
    }

    #[test]
    fn texts_carry_advice_and_never_a_code() {
        for lang in ["zh-CN", "en"] {
            let t = unlock_sms_text(lang, "Demo branch", "DEMO-20261207-0001");
            assert!(t.contains("DEMO-20261207-0001"));
            assert!(t.contains("密码") || t.contains("password"));
            assert!(t.contains("诈骗") || t.contains("do not tell"));
        }
    }
}
