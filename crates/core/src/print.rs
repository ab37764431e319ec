//! Print view models: what the application form (业务申请书) and the unlock receipt show.
//!
//! Core builds these plain structs from a [`Case`] and its [`Branch`]; the `forms` crate lays
//! them out as PDF through the [`Renderer`] port. Every value is already a display string
//! (masked, translated, in the branch's local time); the printed labels live in `forms`.
//!
//! Masking (docs/domain.md §5): the customer copy always masks ID, phone, card and wallet
//! numbers with [`crate::masking`]; the bank copy masks them too unless
//! [`Branch::bank_copy_unmasked`] is set (the archive rule).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::masking;
use crate::model::{
    Branch, Case, DocumentType, LockCause, NotificationChannel, RequestedAction, Sex, StaffId,
    UnlockFailureNext,
};

/// Version printed on every application form; bump it when the printed wording changes.
pub const APPLICATION_FORM_VERSION: &str = "UD-APP-2026.3";
/// Version printed on every unlock receipt.
pub const RECEIPT_FORM_VERSION: &str = "UD-RCT-2026.3";

/// Which copy of a document is printed: the customer's (always masked) or the bank's archive copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum CopyKind {
    Customer,
    Bank,
}

impl CopyKind {
    /// The kebab-case spelling (`customer`, `bank`).
    pub fn as_str(self) -> &'static str {
        match self {
            CopyKind::Customer => "customer",
            CopyKind::Bank => "bank",
        }
    }
}
impl fmt::Display for CopyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl std::str::FromStr for CopyKind {
    type Err = CoreError;
    fn from_str(s: &str) -> CoreResult<Self> {
        match s.trim() {
            "customer" => Ok(CopyKind::Customer),
            "bank" => Ok(CopyKind::Bank),
            other => Err(CoreError::field(
                "copy",
                "one-of",
                format!("'{other}' is not one of: customer, bank"),
            )),
        }
    }
}

/// Which document is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum DocumentKind {
    Application,
    Receipt,
    /// A scan or photo of the signed application form, attached by the teller (never
    /// rendered or printed by UnlockDesk).
    SignedScan,
}

impl DocumentKind {
    /// The kebab-case spelling (`application`, `receipt`, `signed-scan`).
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Application => "application",
            DocumentKind::Receipt => "receipt",
            DocumentKind::SignedScan => "signed-scan",
        }
    }
}
impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl std::str::FromStr for DocumentKind {
    type Err = CoreError;
    fn from_str(s: &str) -> CoreResult<Self> {
        match s.trim() {
            "application" => Ok(DocumentKind::Application),
            "receipt" => Ok(DocumentKind::Receipt),
            "signed-scan" => Ok(DocumentKind::SignedScan),
            other => Err(CoreError::field(
                "form",
                "one-of",
                format!("'{other}' is not one of: application, receipt"),
            )),
        }
    }
}

/// What every printed page carries: who, where, which copy, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct DocumentHeader {
    pub copy: CopyKind,
    /// Whether C2 numbers on this copy are masked (always true on the customer copy).
    pub masked: bool,
    /// `BRANCH-YYYYMMDD-NNNN`, printed as text and encoded in the QR code.
    pub case_number: String,
    /// The case's UUID (printed small, for the archive).
    pub case_id: String,
    /// Text encoded in the QR code: the case number, so a scanner types it into search.
    pub qr_payload: String,
    pub branch_code: String,
    pub branch_name: String,
    /// Branch-local print time, `YYYY-MM-DD HH:MM` plus the zone name.
    pub printed_at: String,
    /// Branch-local date of printing, `YYYY-MM-DD` (for the PDF metadata and date lines).
    pub printed_date: String,
    /// UTC instant of printing, RFC 3339 (the PDF creation date).
    pub printed_at_utc: String,
    /// Template version, e.g. [`APPLICATION_FORM_VERSION`].
    pub form_version: String,
}

/// The agent (代理人) section, values ready to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct AgentView {
    pub name: String,
    pub relationship: String,
    pub id_type: String,
    pub id_number: String,
    pub phone: String,
}

/// The application form (业务申请书, docs/domain.md §3), every value a display string.
/// Empty strings print as empty cells for handwriting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ApplicationFormView {
    pub header: DocumentHeader,
    pub customer_name: String,
    pub customer_name_latin: String,
    /// `男 Male` / `女 Female` / empty.
    pub sex: String,
    pub nationality: String,
    pub occupation: String,
    pub address: String,
    /// Masked per copy.
    pub phone: String,
    /// Bilingual document kind, e.g. `居民身份证 Resident ID card`.
    pub id_type: String,
    /// Masked per copy.
    pub id_number: String,
    /// `YYYY-MM-DD` or `长期 Long-term`.
    pub id_valid_until: String,
    /// Linked bank card, masked per copy; empty when none.
    pub bank_card: String,
    pub agent: Option<AgentView>,
    pub wallet_operator: String,
    /// Masked per copy.
    pub wallet_id: String,
    pub wallet_class: String,
    /// Bilingual lock cause.
    pub lock_cause: String,
    /// Bilingual requested action.
    pub requested_action: String,
    pub reason: String,
    /// Materials ticked as presented.
    pub materials: Vec<String>,
    pub declaration_true: bool,
    pub consent_query: bool,
    pub risk_acknowledged: bool,
    /// Identity check summary (document, checker, co-checker), empty before the check.
    pub identity_check: String,
    /// Bank section: the supervisor's decision and reason once decided, else empty.
    pub acceptance_opinion: String,
    /// `Name (staff-id)` of the teller who opened the case.
    pub teller: String,
    /// `Name (staff-id)` of the identity co-checker, empty when none.
    pub reviewer: String,
    /// `Name (staff-id)` of the authorizing supervisor, empty before approval.
    pub authorizer: String,
    /// Branch-local `YYYY-MM-DD` of the authorization, empty before.
    pub authorized_date: String,
}

/// How the unlock ended, for the receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum ReceiptOutcome {
    Unlocked,
    Failed,
}

/// The unlock receipt the customer takes home.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReceiptView {
    pub header: DocumentHeader,
    pub outcome: ReceiptOutcome,
    /// Bilingual outcome, e.g. `已解锁 Unlocked`.
    pub outcome_text: String,
    pub customer_name: String,
    /// Masked per copy.
    pub phone: String,
    pub wallet_operator: String,
    /// Masked per copy.
    pub wallet_id: String,
    pub requested_action: String,
    /// Operator ticket/reference of the unlock (or of the failed attempt).
    pub operator_reference: String,
    /// Branch-local time of the unlock (or the failed attempt).
    pub completed_at: String,
    /// How and when the customer was told, e.g. `当面告知 In person · 2026-03-02 10:15`.
    pub notified: String,
    /// Failure reason and next step (`failed` only), else empty.
    pub failure_detail: String,
    pub teller: String,
    pub authorizer: String,
}

/// A document ready to render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[ts(export)]
// One document per render call; boxing the view would only add noise.
#[allow(clippy::large_enum_variant)]
pub enum PrintDocument {
    Application(ApplicationFormView),
    Receipt(ReceiptView),
}

impl PrintDocument {
    pub fn kind(&self) -> DocumentKind {
        match self {
            PrintDocument::Application(_) => DocumentKind::Application,
            PrintDocument::Receipt(_) => DocumentKind::Receipt,
        }
    }
    pub fn header(&self) -> &DocumentHeader {
        match self {
            PrintDocument::Application(v) => &v.header,
            PrintDocument::Receipt(v) => &v.header,
        }
    }
}

/// The PDF renderer port (implemented by `unlockdesk_forms::PdfRenderer`).
pub trait Renderer: Send + Sync {
    /// Render one document to PDF bytes. Errors: code `render` (e.g. a character no font
    /// can draw, naming the character and the field).
    fn render(&self, doc: &PrintDocument) -> CoreResult<Vec<u8>>;
}

fn header(
    case: &Case,
    branch: &Branch,
    copy: CopyKind,
    printed_at: DateTime<Utc>,
    version: &str,
) -> DocumentHeader {
    let local = printed_at.with_timezone(&branch.tz());
    DocumentHeader {
        copy,
        masked: masked(branch, copy),
        case_number: case.case_number.clone(),
        case_id: case.id.to_string(),
        qr_payload: case.case_number.clone(),
        branch_code: branch.code.clone(),
        branch_name: branch.name.clone(),
        printed_at: format!(
            "{} ({})",
            local.format("%Y-%m-%d %H:%M"),
            branch.tz().name()
        ),
        printed_date: local.format("%Y-%m-%d").to_string(),
        printed_at_utc: printed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        form_version: version.to_string(),
    }
}

fn masked(branch: &Branch, copy: CopyKind) -> bool {
    copy == CopyKind::Customer || !branch.bank_copy_unmasked
}

fn local_time(branch: &Branch, at: DateTime<Utc>) -> String {
    at.with_timezone(&branch.tz())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// `Name (staff-id)`, or just the id when the name is unknown/empty.
fn staff_label(id: &StaffId, staff_names: &dyn Fn(&StaffId) -> String) -> String {
    let name = staff_names(id);
    let name = name.trim();
    if name.is_empty() || name == id.as_str() {
        id.to_string()
    } else {
        format!("{name} ({id})")
    }
}

/// Bilingual label of an identity-document kind, as printed on the form and the receipt.
/// Exhaustive: a new document type does not compile until it has its printed name.
pub fn id_kind_label(kind: &DocumentType) -> String {
    match kind {
        DocumentType::PrcId => "居民身份证 Resident ID card",
        DocumentType::PrcId15 => "居民身份证(15位) Resident ID card (15-digit)",
        DocumentType::ResidencePermit => "港澳台居民居住证 Residence permit (HK/Macau/Taiwan)",
        DocumentType::HkMacauPermit => "港澳居民来往内地通行证 Mainland travel permit (HK/Macau)",
        DocumentType::TaiwanPermit => "台湾居民来往大陆通行证 Mainland travel permit (Taiwan)",
        DocumentType::ForeignPermanentId => "外国人永久居留身份证 Foreign permanent resident ID",
        DocumentType::PassportMrz => "护照 Passport",
        DocumentType::DrivingLicence => "机动车驾驶证 Driving licence",
        DocumentType::BankCard => "银行卡 Bank card",
        DocumentType::EId => "电子身份证 Electronic ID (e-ID)",
        DocumentType::Mobile => "手机号码 Mobile number",
    }
    .to_string()
}

fn sex_label(s: Option<Sex>) -> String {
    match s {
        Some(Sex::Male) => "男 Male",
        Some(Sex::Female) => "女 Female",
        Some(Sex::Unspecified) => "未说明 Unspecified",
        None => "",
    }
    .to_string()
}

/// `联网核查 一致 Online check: match (LWHC-…)`.
pub fn online_check_label(oc: &crate::model::OnlineCheck) -> String {
    use crate::model::OnlineCheckResult as R;
    let result = match oc.result {
        R::Match => "一致 match",
        R::Mismatch => "不一致 mismatch",
        R::NotFound => "库中无此号 not found",
    };
    format!("联网核查 online check: {result} ({})", oc.reference)
}

/// Bilingual e-CNY wallet class: `1`..`4` print as 一类钱包 Class 1 … 四类钱包 Class 4 (the
/// classes by how strongly identity was verified); anything else prints as entered.
pub fn wallet_class_label(class: &str) -> String {
    let t = class.trim();
    let zh = match t {
        "1" => "一类钱包",
        "2" => "二类钱包",
        "3" => "三类钱包",
        "4" => "四类钱包",
        _ => return t.to_string(),
    };
    format!("{zh} Class {t}")
}

/// Bilingual lock cause (seed text, 数字钱包锁定的原因).
pub fn lock_cause_label(c: Option<LockCause>) -> String {
    match c {
        Some(LockCause::WrongPassword) => "多次输错密码 Repeated wrong passwords",
        Some(LockCause::AbnormalActivity) => "异常活动 Abnormal activity",
        Some(LockCause::PaymentFailures) => "多次支付失败 Repeated failed payments",
        Some(LockCause::SelfLocked) => "本人自行锁定 Locked by the customer",
        Some(LockCause::IdDataExpired) => "身份信息缺失或过期 Missing or expired ID data",
        Some(LockCause::AuthorityFreeze) => "有权机关冻结 Authority freeze",
        Some(LockCause::AntiFraudRestriction) => {
            "涉诈管控（电信网络诈骗联合惩戒）Anti-fraud restriction"
        }
        None => "",
    }
    .to_string()
}

/// Bilingual requested action.
pub fn requested_action_label(a: Option<RequestedAction>) -> String {
    match a {
        Some(RequestedAction::Unlock) => "解锁 Unlock",
        Some(RequestedAction::ResetPassword) => "重置密码 Reset password",
        Some(RequestedAction::UpdateIdData) => "更新身份信息 Update ID data",
        None => "",
    }
    .to_string()
}

fn notification_label(c: NotificationChannel) -> &'static str {
    match c {
        NotificationChannel::InPerson => "当面告知 In person",
        NotificationChannel::Sms => "短信 SMS",
        NotificationChannel::Phone => "电话 Phone",
    }
}

/// The printed label of a materials-checklist item: the three standard items (docs/domain.md §1,
/// seed 准备材料) bilingually, a branch's own extras as configured.
pub fn material_label(key: &str) -> String {
    match key {
        "id-document" => "身份证件 ID document".into(),
        "bank-account" => "银行账户信息 Bank account details".into(),
        "wallet-details" => "数字钱包资料 Wallet details".into(),
        other => other.to_string(),
    }
}

/// Build the application form for one copy.
///
/// Errors: `illegal-transition` when the case has no recorded form yet.
pub fn application_view(
    case: &Case,
    branch: &Branch,
    copy: CopyKind,
    printed_at: DateTime<Utc>,
    staff_names: &dyn Fn(&StaffId) -> String,
) -> CoreResult<ApplicationFormView> {
    let form = case.form.as_ref().ok_or_else(|| {
        CoreError::new(
            ErrorCode::IllegalTransition,
            format!(
                "case {} has no application form recorded yet",
                case.case_number
            ),
        )
    })?;
    let m = masked(branch, copy);
    let id_no = |v: &str| {
        if m {
            masking::id_number(v)
        } else {
            v.to_string()
        }
    };
    let phone = |v: &str| if m { masking::phone(v) } else { v.to_string() };
    let card = |v: &str| if m { masking::card(v) } else { v.to_string() };
    let wallet = |v: &str| if m { masking::wallet(v) } else { v.to_string() };

    let agent = form
        .agent
        .as_ref()
        .filter(|a| !a.name.trim().is_empty())
        .map(|a| AgentView {
            name: a.name.clone(),
            relationship: a.relationship.clone(),
            id_type: id_kind_label(&a.id_type),
            id_number: id_no(&a.id_number),
            phone: phone(&a.phone),
        });

    let identity_check = case
        .identity
        .as_ref()
        .map(|i| {
            let mut s = format!(
                "{} {} · {} {}",
                id_kind_label(&i.kind),
                id_no(&i.number),
                staff_label(&i.checked_by, staff_names),
                local_time(branch, i.checked_at)
            );
            if let Some(co) = &i.cochecked_by {
                s.push_str(&format!(
                    " · 双人审核 co-checked: {}",
                    staff_label(co, staff_names)
                ));
            }
            if let Some(oc) = &i.online_check {
                s.push_str(&format!(" · {}", online_check_label(oc)));
            }
            if let Some(f) = &i.second_factor {
                s.push_str(&format!(
                    " · 辅助验证 second factor: {}{} {} ({})",
                    serde_json::to_value(f.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    f.score.map(|s| format!(" {s}/100")).unwrap_or_default(),
                    if f.passed {
                        "通过 passed"
                    } else {
                        "未通过 failed"
                    },
                    f.reference
                ));
            }
            if let Some(oc) = case
                .form
                .as_ref()
                .and_then(|f| f.agent.as_ref())
                .and_then(|a| a.online_check.as_ref())
            {
                s.push_str(&format!(" · 代理人 agent: {}", online_check_label(oc)));
            }
            s
        })
        .unwrap_or_default();

    let (acceptance_opinion, authorizer, authorized_date) = match &case.authorization {
        Some(a) => {
            let decision = match a.decision {
                crate::model::Decision::Approve => "同意受理 Approved",
                crate::model::Decision::ReturnForInfo => "退回补充 Returned for information",
                crate::model::Decision::Reject => "不予受理 Rejected",
            };
            let mut op = decision.to_string();
            if !a.reason.trim().is_empty() {
                op.push_str(" · ");
                op.push_str(a.reason.trim());
            }
            let who = if a.decision == crate::model::Decision::Approve {
                staff_label(&a.supervisor, staff_names)
            } else {
                String::new()
            };
            (
                op,
                who,
                branch.local_date(a.at).format("%Y-%m-%d").to_string(),
            )
        }
        None => (String::new(), String::new(), String::new()),
    };

    Ok(ApplicationFormView {
        header: header(case, branch, copy, printed_at, APPLICATION_FORM_VERSION),
        customer_name: form.customer_name.clone(),
        customer_name_latin: form.customer_name_latin.clone(),
        sex: sex_label(form.sex),
        nationality: form.nationality.clone(),
        occupation: form.occupation.clone(),
        address: form.address.clone(),
        phone: phone(&form.phone),
        id_type: id_kind_label(&form.id_type),
        id_number: id_no(&form.id_number),
        // Printed as entered: 长期 in both languages, a date as it is, and a validity nobody
        // entered stays blank (the form states only what was recorded).
        id_valid_until: if crate::form::is_long_term(&form.id_valid_until) {
            "长期 Long-term".to_string()
        } else {
            form.id_valid_until.trim().to_string()
        },
        bank_card: card(&form.bank_card),
        agent,
        wallet_operator: form.wallet_operator.clone(),
        wallet_id: wallet(&form.wallet_id),
        wallet_class: wallet_class_label(&form.wallet_class),
        lock_cause: lock_cause_label(form.lock_cause.or(case.lock_cause)),
        requested_action: requested_action_label(form.requested_action),
        reason: form.reason.clone(),
        materials: form.materials.iter().map(|m| material_label(m)).collect(),
        declaration_true: form.declaration_true,
        consent_query: form.consent_query,
        risk_acknowledged: form.risk_acknowledged,
        identity_check,
        acceptance_opinion,
        teller: staff_label(&case.opened_by, staff_names),
        reviewer: case
            .identity
            .as_ref()
            .and_then(|i| i.cochecked_by.as_ref())
            .map(|s| staff_label(s, staff_names))
            .unwrap_or_default(),
        authorizer,
        authorized_date,
    })
}

/// Build the unlock receipt for one copy.
///
/// Errors: `illegal-transition` when the case has neither an unlock record nor a failed attempt.
pub fn receipt_view(
    case: &Case,
    branch: &Branch,
    copy: CopyKind,
    printed_at: DateTime<Utc>,
    staff_names: &dyn Fn(&StaffId) -> String,
) -> CoreResult<ReceiptView> {
    let m = masked(branch, copy);
    let form = case.form.clone().unwrap_or_default();
    let phone_raw = if form.phone.is_empty() {
        case.phone.clone()
    } else {
        form.phone.clone()
    };
    let name = if form.customer_name.is_empty() {
        case.customer_name.clone()
    } else {
        form.customer_name.clone()
    };
    let authorizer = case
        .authorization
        .as_ref()
        .filter(|a| a.decision == crate::model::Decision::Approve)
        .map(|a| staff_label(&a.supervisor, staff_names))
        .unwrap_or_default();

    let (outcome, operator_reference, completed_at, notified, failure_detail, teller, authorizer) =
        if let Some(u) = &case.unlock {
            (
                ReceiptOutcome::Unlocked,
                u.operator_reference.clone(),
                local_time(branch, u.at),
                format!(
                    "{} · {}",
                    notification_label(u.notified_via),
                    local_time(branch, u.notified_at)
                ),
                String::new(),
                staff_label(&u.confirmed_by, staff_names),
                staff_label(&u.authorized_by, staff_names),
            )
        } else if let Some(f) = case.unlock_failures.last() {
            let next = match f.next {
                UnlockFailureNext::Retry => "再次办理 Retry with the operator",
                UnlockFailureNext::Escalate => {
                    "升级至钱包服务商处理 Escalated to the wallet operator"
                }
            };
            (
                ReceiptOutcome::Failed,
                f.operator_ticket.clone(),
                local_time(branch, f.at),
                String::new(),
                format!("{} · {}", f.reason.trim(), next),
                staff_label(&f.by, staff_names),
                authorizer,
            )
        } else {
            return Err(CoreError::new(
                ErrorCode::IllegalTransition,
                format!(
                    "case {} has no unlock result to print a receipt for",
                    case.case_number
                ),
            ));
        };

    Ok(ReceiptView {
        header: header(case, branch, copy, printed_at, RECEIPT_FORM_VERSION),
        outcome,
        outcome_text: match outcome {
            ReceiptOutcome::Unlocked => "已解锁 Unlocked",
            ReceiptOutcome::Failed => "解锁未成功 Unlock failed",
        }
        .to_string(),
        customer_name: name,
        phone: if m {
            masking::phone(&phone_raw)
        } else {
            phone_raw
        },
        wallet_operator: form.wallet_operator.clone(),
        wallet_id: if m {
            masking::wallet(&form.wallet_id)
        } else {
            form.wallet_id.clone()
        },
        requested_action: requested_action_label(form.requested_action),
        operator_reference,
        completed_at,
        notified,
        failure_detail,
        teller,
        authorizer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    #[test]
    fn wallet_class_prints_in_words() {
        assert_eq!(wallet_class_label("2"), "二类钱包 Class 2");
        assert_eq!(wallet_class_label(" 4 "), "四类钱包 Class 4");
        assert_eq!(wallet_class_label("5"), "5");
    }

    fn branch(unmasked: bool) -> Branch {
        Branch {
            code: "BJ001".into(),
            name: "示例银行北京分行 Example Bank Beijing".into(),
            time_zone: "Asia/Shanghai".into(),
            idle_lock_minutes: 5,
            max_failed_logins: 5,
            extra_materials: vec![],
            bank_copy_unmasked: unmasked,
            retention_years: 10,
            id_policy: Default::default(),
            online_check_required: true,
            agents_allowed: false,
            signed_scan_required: false,
            voucher_retention_years: 30,
            operator_connectors: None,
        }
    }

    fn case() -> Case {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap();
        let teller = StaffId::parse("teller01").unwrap();
        Case {
            id: CaseId(Uuid::nil()),
            case_number: "BJ001-20260302-0001".into(),
            state: CaseState::Unlocked,
            version: 3,
            appointment_id: None,
            customer_name: "张三".into(),
            phone: "13123456789".into(),
            lock_cause: Some(LockCause::WrongPassword),
            opened_by: teller.clone(),
            opened_at: t,
            updated_at: t,
            makers: vec![teller.clone()],
            identity: None,
            form: Some(ApplicationForm {
                customer_name: "张三".into(),
                phone: "13123456789".into(),
                id_type: DocumentType::PrcId,
                id_number: "110105194912310021".into(),
                wallet_id: "0021000012345678".into(),
                bank_card: "6200000000000005".into(),
                requested_action: Some(RequestedAction::Unlock),
                ..Default::default()
            }),
            form_signed_at: None,
            authorization: None,
            unlock: Some(UnlockRecord {
                operator_reference: "OP-1".into(),
                notified_via: NotificationChannel::InPerson,
                notified_at: t,
                confirmed_by: teller.clone(),
                authorized_by: StaffId::parse("sup01").unwrap(),
                at: t,
            }),
            unlock_failures: vec![],
            contacts: vec![],
            last_reason: String::new(),
            form_revision: 1,
            prints: vec![],
            receipt_waiver: None,
            unlock_request: None,
            signed_scans: Vec::new(),
            purges: Vec::new(),
            operator_unlock: None,
            wallet_check: None,
        }
    }

    fn names(id: &StaffId) -> String {
        match id.as_str() {
            "teller01" => "王柜员".into(),
            _ => String::new(),
        }
    }

    #[test]
    fn customer_copy_masks_and_bank_copy_follows_branch() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let v = application_view(&case(), &branch(true), CopyKind::Customer, t, &names).unwrap();
        assert_eq!(v.id_number, "110***********0021");
        assert_eq!(v.phone, "131****6789");
        assert_eq!(v.bank_card, "620000******0005");
        assert_eq!(v.wallet_id, "0021********5678");
        assert_eq!(v.teller, "王柜员 (teller01)");
        assert_eq!(v.header.printed_at, "2026-03-02 10:00 (Asia/Shanghai)");
        let b = application_view(&case(), &branch(true), CopyKind::Bank, t, &names).unwrap();
        assert_eq!(b.id_number, "110105194912310021");
        let b = application_view(&case(), &branch(false), CopyKind::Bank, t, &names).unwrap();
        assert_eq!(b.id_number, "110***********0021");
    }

    #[test]
    fn receipt_needs_a_result() {
        let t = Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap();
        let r = receipt_view(&case(), &branch(false), CopyKind::Customer, t, &names).unwrap();
        assert_eq!(r.outcome, ReceiptOutcome::Unlocked);
        assert_eq!(r.phone, "131****6789");
        assert_eq!(r.authorizer, "sup01");
        let mut c = case();
        c.unlock = None;
        let e = receipt_view(&c, &branch(false), CopyKind::Customer, t, &names).unwrap_err();
        assert_eq!(e.code, ErrorCode::IllegalTransition);
    }

    #[test]
    fn kinds_parse() {
        assert_eq!("bank".parse::<CopyKind>().unwrap(), CopyKind::Bank);
        assert_eq!(
            "receipt".parse::<DocumentKind>().unwrap(),
            DocumentKind::Receipt
        );
        assert!("x".parse::<CopyKind>().is_err());
    }
}
