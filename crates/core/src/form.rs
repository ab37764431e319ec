//! Rules of the application form (业务申请书, docs/domain.md §3), pure: validation of every
//! field, the form against the identity verified at the identity step, the numbers an
//! amendment keeps from the recorded form, the materials checklist, and the verified document
//! against the one booked with the appointment.

use chrono::NaiveDate;

use crate::error::{CoreError, CoreResult, FieldError};
use crate::masking;
use crate::model::*;
use crate::normalize;

/// The materials checklist: the three standard items plus the branch's extras.
pub fn required_materials(branch: &Branch) -> Vec<String> {
    let mut m = vec![
        "id-document".to_string(),
        "bank-account".to_string(),
        "wallet-details".to_string(),
    ];
    m.extend(branch.extra_materials.iter().cloned());
    m
}

/// Normalise and check a mainland mobile number (docs/domain.md §4): full-width digits,
/// spaces and hyphens folded, `+86`/`0086` removed, then exactly 11 digits `1[3-9]…`.
pub fn normalize_phone(raw: &str) -> Result<String, FieldError> {
    // The mobile rule has no date in it: any "today" will do.
    checked_number(
        "phone",
        crate::identity::DocKind::Mobile,
        raw,
        NaiveDate::MIN,
    )
}

/// Check one number of `kind` for the form field `field`: its normalised value, or a field
/// error carrying the first failed rule and every rule's message (docs/domain.md §4).
pub fn checked_number(
    field: &str,
    kind: crate::identity::DocKind,
    raw: &str,
    today: NaiveDate,
) -> Result<String, FieldError> {
    let c = crate::identity::check(Some(kind), raw, today);
    match (c.valid, c.normalized) {
        (true, Some(n)) => Ok(n),
        _ => Err(FieldError::new(
            field,
            c.errors
                .first()
                .map(|e| e.rule.as_str())
                .unwrap_or("format"),
            c.errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )),
    }
}

/// Validate an application form; returns it normalised. Every failed field is reported.
pub fn validate_form(form: &ApplicationForm, today: NaiveDate) -> CoreResult<ApplicationForm> {
    use crate::identity::DocKind;
    let mut f = form.clone();
    let mut errs = Vec::new();
    let req = |errs: &mut Vec<FieldError>, name: &str, v: &str, max: usize| {
        if v.trim().is_empty() {
            errs.push(FieldError::new(
                name,
                "required",
                format!("{name} is required"),
            ));
        } else if v.trim().chars().count() > max {
            errs.push(FieldError::new(
                name,
                "length",
                format!("at most {max} characters"),
            ));
        }
    };
    f.customer_name = normalize::name_key(&f.customer_name);
    req(&mut errs, "customer_name", &f.customer_name, 50);
    req(&mut errs, "address", &f.address, 200);
    req(&mut errs, "wallet_operator", &f.wallet_operator, 60);
    req(&mut errs, "wallet_id", &f.wallet_id, 64);
    if f.nationality.trim().chars().count() > 40 {
        errs.push(FieldError::new(
            "nationality",
            "length",
            "at most 40 characters",
        ));
    }
    if f.occupation.trim().chars().count() > 40 {
        errs.push(FieldError::new(
            "occupation",
            "length",
            "at most 40 characters",
        ));
    }
    if f.reason.trim().chars().count() > 500 {
        errs.push(FieldError::new(
            "reason",
            "length",
            "at most 500 characters",
        ));
    }
    f.wallet_id = normalize::compact(&f.wallet_id);
    if !f.wallet_id.is_empty() && !f.wallet_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        errs.push(FieldError::new(
            "wallet_id",
            "character",
            "letters and digits only",
        ));
    }
    match normalize_phone(&f.phone) {
        Ok(p) => f.phone = p,
        Err(e) => errs.push(e),
    }
    if let Some(kind) = f.id_type.doc_kind() {
        if kind != DocKind::PassportMrz {
            match checked_number("id_number", kind, &f.id_number, today) {
                Ok(v) => f.id_number = v,
                Err(e) => errs.push(e),
            }
        } else {
            f.id_number = normalize::compact(&f.id_number).to_ascii_uppercase();
            if !(5..=9).contains(&f.id_number.len())
                || !f.id_number.chars().all(|c| c.is_ascii_alphanumeric())
            {
                errs.push(FieldError::new(
                    "id_number",
                    "format",
                    "a passport number has 5-9 letters and digits",
                ));
            }
        }
    }
    // 长期 / long-term (any case, full-width) is the long-term validity; anything else a date.
    let validity = validity_key(&f.id_valid_until);
    if !validity.is_empty() && validity != "long-term" {
        match NaiveDate::parse_from_str(&validity, "%Y-%m-%d") {
            Ok(d) if d < today => errs.push(FieldError::new(
                "id_valid_until",
                "expired",
                format!("the document expired on {d}"),
            )),
            Ok(_) => {}
            Err(_) => errs.push(FieldError::new(
                "id_valid_until",
                "date",
                "a date YYYY-MM-DD, or long-term",
            )),
        }
    }
    if !f.bank_card.trim().is_empty() {
        match checked_number("bank_card", DocKind::BankCard, &f.bank_card, today) {
            Ok(v) => f.bank_card = v,
            Err(e) => errs.push(e),
        }
    }
    if f.wallet_class.trim().is_empty() {
        errs.push(FieldError::new(
            "wallet_class",
            "required",
            "wallet class is required",
        ));
    }
    if f.lock_cause.is_none() {
        errs.push(FieldError::new(
            "lock_cause",
            "required",
            "lock cause is required",
        ));
    }
    if f.requested_action.is_none() {
        errs.push(FieldError::new(
            "requested_action",
            "required",
            "requested action is required",
        ));
    }
    if !f.declaration_true {
        errs.push(FieldError::new(
            "declaration_true",
            "required",
            "the customer must declare the information true",
        ));
    }
    if !f.consent_query {
        errs.push(FieldError::new(
            "consent_query",
            "required",
            "consent to query the wallet and contact the operator is required",
        ));
    }
    if !f.risk_acknowledged {
        errs.push(FieldError::new(
            "risk_acknowledged",
            "required",
            "the risk notice must be acknowledged",
        ));
    }
    if let Some(agent) = &mut f.agent {
        agent.name = normalize::name_key(&agent.name);
        req(&mut errs, "agent.name", &agent.name, 50);
        req(&mut errs, "agent.relationship", &agent.relationship, 20);
        match agent.id_type.doc_kind() {
            Some(kind) => match checked_number("agent.id_number", kind, &agent.id_number, today) {
                Ok(v) => agent.id_number = v,
                Err(e) => errs.push(e),
            },
            None => errs.push(FieldError::new(
                "agent.id_type",
                "one-of",
                "choose the agent's document kind",
            )),
        }
        match normalize_phone(&agent.phone) {
            Ok(p) => agent.phone = p,
            Err(mut e) => {
                e.field = "agent.phone".into();
                errs.push(e)
            }
        }
    }
    f.address = f.address.trim().to_string();
    f.reason = f.reason.trim().to_string();
    // The past-case browser matches the operator filter, trimmed, against this exact value.
    f.wallet_operator = f.wallet_operator.trim().to_string();
    if errs.is_empty() {
        Ok(f)
    } else {
        Err(CoreError::invalid(errs))
    }
}

/// The verified document against the one booked with the appointment, when the booking named
/// the same kind of document: its full number must be equal, or its last 4 (the call centre
/// may take only those) must end the verified number. Field `number` (`mrz_line2` for a
/// passport), rule `appointment-mismatch`. Another kind of document than booked is allowed:
/// the customer may bring another one (the name is still compared with the case's).
pub fn appointment_mismatch(a: &Appointment, record: &IdentityRecord) -> Option<FieldError> {
    let booked = a.id_number.trim().to_ascii_uppercase();
    if booked.is_empty() || a.id_type != record.kind {
        return None;
    }
    let verified = record.number.to_ascii_uppercase();
    let same = if booked.chars().count() <= 4 {
        verified.ends_with(&booked)
    } else {
        verified == booked
    };
    if same {
        return None;
    }
    Some(FieldError::new(
        if record.kind == DocumentType::PassportMrz {
            "mrz_line2"
        } else {
            "number"
        },
        "appointment-mismatch",
        format!(
            "is not the document booked with appointment {} ({}): open a walk-in case for another person",
            a.reference,
            if booked.chars().count() <= 4 {
                format!("…{booked}")
            } else {
                masking::id_number(&booked)
            }
        ),
    ))
}

/// Where a validated form is not the person verified at the identity step (docs/domain.md §1:
/// the identity check proves the person is the account holder; the form is theirs). Field
/// errors, rule `identity-mismatch` unless noted:
/// * `customer_name`: not the name on the verified document (for a passport, whose name is in
///   Latin letters, `customer_name_latin` is compared when filled in, with the MRZ name rules);
/// * `id_type` / `id_number`: not the verified document (an e-ID or a bank card has no
///   document number to compare);
/// * `sex`, rule `id-sex`: male or female on the form against the sex the number encodes
///   (GB 11643-1999 §5.3: the sequence code is odd for men, even for women).
pub fn identity_mismatches(
    f: &ApplicationForm,
    i: &IdentityRecord,
    today: NaiveDate,
) -> Vec<FieldError> {
    use crate::identity::DocKind;
    let mut errs = Vec::new();
    if i.kind == DocumentType::PassportMrz {
        if !f.customer_name_latin.trim().is_empty()
            && !crate::identity::names_match(
                DocKind::PassportMrz,
                &i.name_on_document,
                &f.customer_name_latin,
            )
        {
            errs.push(FieldError::new(
                "customer_name_latin",
                "identity-mismatch",
                format!(
                    "is not the name on the passport verified at the identity step ({})",
                    masking::name(&i.name_on_document)
                ),
            ));
        }
    } else if normalize::name_key(&f.customer_name) != normalize::name_key(&i.name_on_document) {
        errs.push(FieldError::new(
            "customer_name",
            "identity-mismatch",
            format!(
                "is not the name on the document verified at the identity step ({})",
                masking::name(&i.name_on_document)
            ),
        ));
    }
    if i.kind.has_document_number() {
        if f.id_type != i.kind {
            errs.push(FieldError::new(
                "id_type",
                "identity-mismatch",
                format!(
                    "the document verified at the identity step is a {}; the form names that document",
                    i.kind
                ),
            ));
        } else if f.id_number != i.number {
            errs.push(FieldError::new(
                "id_number",
                "identity-mismatch",
                format!(
                    "is not the document verified at the identity step ({})",
                    masking::id_number(&i.number)
                ),
            ));
        }
    }
    if let (Some(on_form @ (Sex::Male | Sex::Female)), Ok(kind)) =
        (f.sex, f.id_type.doc_kind().ok_or(()))
    {
        if kind != DocKind::PassportMrz {
            let encoded = crate::identity::check(Some(kind), &f.id_number, today)
                .fields
                .sex;
            if let Some(in_number @ (Sex::Male | Sex::Female)) = encoded {
                if in_number != on_form {
                    errs.push(FieldError::new(
                        "sex",
                        "id-sex",
                        format!(
                            "the document number is a {}'s (its sequence code is {})",
                            if in_number == Sex::Male {
                                "man"
                            } else {
                                "woman"
                            },
                            if in_number == Sex::Male {
                                "odd"
                            } else {
                                "even"
                            }
                        ),
                    ));
                }
            }
        }
    }
    errs
}

/// A recorded form, masked as the window sees it, as the draft of an amendment: what
/// [`keep_recorded_numbers`] keeps when left blank is blank (phone, wallet id, document number,
/// the agent's phone and document number); the optional bank card keeps its mask.
pub fn amendment_draft(masked: &ApplicationForm) -> ApplicationForm {
    let mut d = masked.clone();
    d.phone.clear();
    d.wallet_id.clear();
    d.id_number.clear();
    if let Some(a) = &mut d.agent {
        a.phone.clear();
        a.id_number.clear();
    }
    d
}

/// Whether `sent` means "the value on record": left blank, or the record's own mask sent back
/// unchanged (the window never holds the full value of a recorded form).
pub fn blank_or_unchanged(sent: &str, masked_record: &str) -> bool {
    let sent = sent.trim();
    sent.is_empty() || sent == masked_record
}

/// On an amendment, the teller does not retype the personal numbers of the form recorded
/// earlier (after a restart, or when the case came back for more information):
/// * the required phone and wallet id, left blank or sent back as their mask, keep the record;
/// * the optional bank card keeps the record only when its mask is sent back: a blank clears it;
/// * the agent's phone and document number are kept only for the same agent (same name and
///   document kind): a new agent's numbers are always typed;
/// * any other value, including a different one with `*` in it, is the teller's new number and
///   is checked as such (so a mistyped mask is refused, never silently replaced).
pub fn keep_recorded_numbers(form: &mut ApplicationForm, recorded: &ApplicationForm) {
    if blank_or_unchanged(&form.phone, &masking::phone(&recorded.phone)) {
        form.phone = recorded.phone.clone();
    }
    if blank_or_unchanged(&form.wallet_id, &masking::wallet(&recorded.wallet_id)) {
        form.wallet_id = recorded.wallet_id.clone();
    }
    if !recorded.bank_card.is_empty() && form.bank_card.trim() == masking::card(&recorded.bank_card)
    {
        form.bank_card = recorded.bank_card.clone();
    }
    if let (Some(agent), Some(old)) = (form.agent.as_mut(), recorded.agent.as_ref()) {
        if agent.name.trim() == old.name.trim() && agent.id_type == old.id_type {
            if blank_or_unchanged(&agent.phone, &masking::phone(&old.phone)) {
                agent.phone = old.phone.clone();
            }
            if blank_or_unchanged(&agent.id_number, &masking::id_number(&old.id_number)) {
                agent.id_number = old.id_number.clone();
            }
        }
    }
    if form.id_type == recorded.id_type
        && blank_or_unchanged(&form.id_number, &masking::id_number(&recorded.id_number))
    {
        form.id_number = recorded.id_number.clone();
    }
}

/// What the verified document says that the form also asks: sex (GB 11643-1999 §5.3 sequence
/// code, or the MRZ), nationality (`CHN` for a resident ID card), validity (the MRZ expiry, or
/// what the teller read off the card at the identity step), birth date and the MRZ's Latin
/// name. `locked` names the form fields that are filled from it and read-only.
pub fn prefill(i: &IdentityRecord) -> crate::dto::FormPrefill {
    let mut p = crate::dto::FormPrefill {
        sex: i.sex.filter(|s| *s != Sex::Unspecified),
        nationality: i.nationality.clone(),
        id_valid_until: match (i.expiry, i.long_term) {
            (Some(d), _) => d.format("%Y-%m-%d").to_string(),
            (None, true) => "long-term".into(),
            (None, false) => String::new(),
        },
        birth_date: i.birth_date,
        customer_name_latin: i.name_latin.clone(),
        locked: vec![],
    };
    for (field, set) in [
        ("sex", p.sex.is_some()),
        ("nationality", !p.nationality.is_empty()),
        ("id_valid_until", !p.id_valid_until.is_empty()),
        ("customer_name_latin", !p.customer_name_latin.is_empty()),
    ] {
        if set {
            p.locked.push(field.to_string());
        }
    }
    p
}

/// Spellings of the PRC's nationality a teller may type for `CHN` (ISO 3166-1 alpha-3).
fn nationality_key(s: &str) -> String {
    let t = normalize::fold_width(s.trim()).to_ascii_uppercase();
    match t.as_str() {
        "中国" | "中华人民共和国" | "CHINA" | "CN" | "中国 CHN" | "CHN" => "CHN".into(),
        _ => t,
    }
}

/// Whether a validity as entered means long-term (`长期`, `long-term` in any case or width).
pub fn is_long_term(s: &str) -> bool {
    validity_key(s) == "long-term"
}

fn validity_key(s: &str) -> String {
    let t = normalize::fold_width(s.trim());
    if t == "长期" || t.eq_ignore_ascii_case("long-term") {
        "long-term".into()
    } else {
        t
    }
}

/// Fill the form from the verified document ([`prefill`]): a blank locked field takes the
/// document's value; a value that says something else is refused, field by field, rule
/// `differs-from-document` (the teller never re-keys what the document says).
pub fn apply_prefill(
    form: &mut ApplicationForm,
    p: &crate::dto::FormPrefill,
) -> Result<(), Vec<FieldError>> {
    let mut errs = Vec::new();
    let differs = |field: &str, doc: &str| {
        FieldError::new(
            field,
            "differs-from-document",
            format!("the verified document says {doc}; this field is filled from it"),
        )
    };
    if let Some(sex) = p.sex {
        match form.sex {
            None | Some(Sex::Unspecified) => form.sex = Some(sex),
            Some(s) if s == sex => {}
            Some(_) => errs.push(differs("sex", sex.as_str())),
        }
    }
    if !p.nationality.is_empty() {
        if form.nationality.trim().is_empty() {
            form.nationality = p.nationality.clone();
        } else if nationality_key(&form.nationality) != nationality_key(&p.nationality) {
            errs.push(differs("nationality", &p.nationality));
        } else {
            form.nationality = p.nationality.clone();
        }
    }
    if !p.id_valid_until.is_empty() {
        if form.id_valid_until.trim().is_empty() {
            form.id_valid_until = p.id_valid_until.clone();
        } else if validity_key(&form.id_valid_until) != p.id_valid_until {
            errs.push(differs("id_valid_until", &p.id_valid_until));
        } else {
            form.id_valid_until = p.id_valid_until.clone();
        }
    }
    if !p.customer_name_latin.is_empty() && form.customer_name_latin.trim().is_empty() {
        // The MRZ name; a typed one is compared by `identity_mismatches` (MRZ name rules).
        form.customer_name_latin = p.customer_name_latin.clone();
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}
