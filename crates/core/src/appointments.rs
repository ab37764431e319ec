//! The call centre's appointment export: decode, parse and validate a file,
//! row by row, into normalised [`AppointmentRow`]s. Pure: no IO, no store; the use case
//! The import use case (`Counter::import_appointments`) writes the rows in one transaction.
//!
//! Accepted files:
//! - **CSV**, RFC 4180 (quoted fields, `""` escapes, CR LF or LF, line breaks inside quotes),
//!   encoded in UTF-8 (with or without BOM) or GB18030. Detection: bytes that are valid UTF-8
//!   are UTF-8, anything else is decoded as GB18030 (a superset of GBK and GB2312); bytes that
//!   are neither are a file-level error.
//! - **JSON**: an array of objects with the same keys as the CSV header (English or Chinese).
//!   Values are strings; numbers are taken as their decimal text; `null` is empty.
//!
//! The header is exactly [`HEADER_EN`] or [`HEADER_ZH`], in that order. A wrong header, bad
//! encoding or malformed JSON is a file-level error (`invalid`, field `file` or `header`);
//! everything else is reported per row as [`RejectedRow`] (`row` 1 = first data row), with a
//! [`RejectionCode`] the screens translate and an English reason for the CLI and logs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::identity::check;
use crate::masking;
use crate::model::{Appointment, AppointmentId, AppointmentStatus, DocumentType, LockCause};
use crate::normalize;
use crate::ports::AppointmentKey;

/// The English header, in order.
pub const HEADER_EN: [&str; 10] = [
    "reference",
    "name",
    "phone",
    "id_type",
    "id_number",
    "wallet_operator",
    "lock_cause",
    "slot_start",
    "slot_end",
    "notes",
];
/// The Chinese header, in the same order.
pub const HEADER_ZH: [&str; 10] = [
    "预约号",
    "姓名",
    "手机号",
    "证件类型",
    "证件号码",
    "钱包运营机构",
    "锁定原因",
    "开始时间",
    "结束时间",
    "备注",
];

/// Longest accepted values (characters).
const MAX_REFERENCE: usize = 40;
const MAX_NAME: usize = 50;
const MAX_OPERATOR: usize = 60;
const MAX_NOTES: usize = 500;
/// Slot format: branch-local `YYYY-MM-DDTHH:MM`.
pub const SLOT_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// What an import did. `rejected` lists every failed field of every bad row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ImportReport {
    /// New references written.
    pub imported: u32,
    /// Known references whose normalised row differed (audited one by one).
    pub updated: u32,
    /// Known references whose normalised row was the same.
    pub unchanged: u32,
    pub rejected: Vec<RejectedRow>,
}

/// One failed field of one data row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct RejectedRow {
    /// 1 = the first data row after the header (JSON: the first array element).
    pub row: u32,
    /// Header key in English (`reference`, `phone`, ...), or `row` for a malformed record.
    pub field: String,
    /// The rule the field broke: what the screens translate.
    pub code: RejectionCode,
    /// The rule's one parameter, where it has one: the longest length allowed (`too-long`),
    /// the number of fields found (`field-count`), the row that first had the reference
    /// (`duplicate-reference`), the value or key not known (`unknown-value`, `unknown-key`; at
    /// most 40 characters of it). Never a personal number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub arg: Option<String>,
    /// English explanation, for the CLI and logs; never carries a full ID or phone number.
    pub reason: String,
}

impl RejectedRow {
    fn new(row: u32, field: &str, code: RejectionCode, reason: impl Into<String>) -> Self {
        RejectedRow {
            row,
            field: field.to_string(),
            code,
            arg: None,
            reason: reason.into(),
        }
    }

    fn with_arg(mut self, arg: impl std::fmt::Display) -> Self {
        self.arg = Some(arg.to_string().chars().take(40).collect());
        self
    }
}

/// Why a row of the appointment file was refused: a stable kebab-case code (the screens
/// translate it; the English [`RejectedRow::reason`] says the same for the CLI). Each variant
/// names the rule it applies and the fields it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum RejectionCode {
    /// `row`: a quote inside an unquoted field or text after a closing quote (RFC 4180 §2
    /// rules 5–7: a field with a quote is quoted whole and doubles its inner quotes).
    MisplacedQuote,
    /// `row`: a quoted field still open at the end of the file (RFC 4180 §2 rule 5).
    UnclosedQuote,
    /// `row`: a CSV record without the header's 10 fields (RFC 4180 §2 rule 4); `arg` = found.
    FieldCount,
    /// `row`: a JSON array element that is not an object (the file's JSON form).
    NotAnObject,
    /// `row`: a JSON key that is neither an English nor a Chinese header key; `arg` = the key.
    UnknownKey,
    /// Any field: a JSON value that is not a string, a number or `null`.
    NotAString,
    /// Any field but `wallet_operator` and `notes`: empty.
    MissingField,
    /// `reference` 40, `name` 50, `wallet_operator` 60, `notes` 500 characters at most (the
    /// store's columns); `arg` = the limit.
    TooLong,
    /// `reference`: letters, digits and `- _ / .` only (the call centre's reference scheme).
    BadReference,
    /// `name`: a control character (a BEL or another C0/C1 code left in the export; tabs and
    /// line breaks are taken as spaces).
    ControlCharacter,
    /// `id_type` (a [`crate::identity::DocKind`]) or `lock_cause` (a [`LockCause`]): not one of
    /// the kebab-case values; `arg` = the value.
    UnknownValue,
    /// `phone`: not a mainland mobile number: 11 digits starting 13–19, after an optional +86
    /// or 0086 ([`crate::form::normalize_phone`]; docs/domain.md §4).
    BadPhone,
    /// `id_number`: the check character does not match (GB 11643-1999 MOD 11-2 for resident
    /// IDs and residence permits; the permits' own check digits).
    BadIdCheckDigit,
    /// `id_number`: the birth date the number encodes is no date or lies after today
    /// (GB 11643-1999 positions 7–14).
    BadIdBirthDate,
    /// `id_number`: the number breaks its document's format: length, characters, province or
    /// prefix ([`crate::identity::check`]); a passport number is 5–9 letters and digits.
    BadIdNumber,
    /// `slot_start`, `slot_end`: not a branch-local time `YYYY-MM-DDTHH:MM` ([`SLOT_FORMAT`]).
    BadSlotTime,
    /// `slot_end`: at or before `slot_start` (a slot must end after it starts).
    SlotEndBeforeStart,
    /// `reference`: the reference (normalised) is on an earlier row of the same file; `arg` =
    /// that row. The earlier row is taken.
    DuplicateReference,
}

impl RejectionCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [RejectionCode] = &[
        RejectionCode::MisplacedQuote,
        RejectionCode::UnclosedQuote,
        RejectionCode::FieldCount,
        RejectionCode::NotAnObject,
        RejectionCode::UnknownKey,
        RejectionCode::NotAString,
        RejectionCode::MissingField,
        RejectionCode::TooLong,
        RejectionCode::BadReference,
        RejectionCode::ControlCharacter,
        RejectionCode::UnknownValue,
        RejectionCode::BadPhone,
        RejectionCode::BadIdCheckDigit,
        RejectionCode::BadIdBirthDate,
        RejectionCode::BadIdNumber,
        RejectionCode::BadSlotTime,
        RejectionCode::SlotEndBeforeStart,
        RejectionCode::DuplicateReference,
    ];

    /// The kebab-case spelling, as in JSON and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionCode::MisplacedQuote => "misplaced-quote",
            RejectionCode::UnclosedQuote => "unclosed-quote",
            RejectionCode::FieldCount => "field-count",
            RejectionCode::NotAnObject => "not-an-object",
            RejectionCode::UnknownKey => "unknown-key",
            RejectionCode::NotAString => "not-a-string",
            RejectionCode::MissingField => "missing-field",
            RejectionCode::TooLong => "too-long",
            RejectionCode::BadReference => "bad-reference",
            RejectionCode::ControlCharacter => "control-character",
            RejectionCode::UnknownValue => "unknown-value",
            RejectionCode::BadPhone => "bad-phone",
            RejectionCode::BadIdCheckDigit => "bad-id-check-digit",
            RejectionCode::BadIdBirthDate => "bad-id-birth-date",
            RejectionCode::BadIdNumber => "bad-id-number",
            RejectionCode::BadSlotTime => "bad-slot-time",
            RejectionCode::SlotEndBeforeStart => "slot-end-before-start",
            RejectionCode::DuplicateReference => "duplicate-reference",
        }
    }
}

impl std::fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated, normalised row: the appointment as the call centre booked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRow {
    /// Trimmed, full-width folded, spaces removed, ASCII upper-case.
    pub reference: String,
    /// [`normalize::name_key`].
    pub name: String,
    /// 11 digits, no `+86`.
    pub phone: String,
    /// The booked document's type.
    pub id_type: DocumentType,
    /// The normalised full number (a 15-digit ID as its 18-digit form), or its last 4.
    pub id_number: String,
    pub wallet_operator: String,
    pub lock_cause: LockCause,
    pub slot_start: NaiveDateTime,
    pub slot_end: NaiveDateTime,
    pub notes: String,
}

impl AppointmentRow {
    /// The booked fields that differ from the stored appointment (field names only).
    pub fn changes(&self, a: &Appointment) -> Vec<&'static str> {
        let mut c = Vec::new();
        if self.name != a.name {
            c.push("name");
        }
        if self.phone != a.phone {
            c.push("phone");
        }
        if self.id_type != a.id_type {
            c.push("id_type");
        }
        if self.id_number != a.id_number {
            c.push("id_number");
        }
        if self.wallet_operator != a.wallet_operator {
            c.push("wallet_operator");
        }
        if self.lock_cause != a.lock_cause {
            c.push("lock_cause");
        }
        if self.slot_start != a.slot_start {
            c.push("slot_start");
        }
        if self.slot_end != a.slot_end {
            c.push("slot_end");
        }
        if self.notes != a.notes {
            c.push("notes");
        }
        c
    }

    /// A new `waiting` appointment with this row's fields.
    pub fn to_new(&self, id: AppointmentId) -> Appointment {
        Appointment {
            id,
            reference: self.reference.clone(),
            name: self.name.clone(),
            phone: self.phone.clone(),
            id_type: self.id_type,
            id_number: self.id_number.clone(),
            wallet_operator: self.wallet_operator.clone(),
            lock_cause: self.lock_cause,
            slot_start: self.slot_start,
            slot_end: self.slot_end,
            notes: self.notes.clone(),
            status: AppointmentStatus::Waiting,
            case_id: None,
        }
    }

    /// `stored` with this row's booked fields; id, status and case link are kept (an
    /// appointment already checked in stays linked to its case).
    pub fn apply_to(&self, stored: &Appointment) -> Appointment {
        let mut a = self.to_new(stored.id);
        a.status = stored.status;
        a.case_id = stored.case_id;
        a
    }
}

/// A parsed file: the valid rows with their row numbers, and the rejections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFile {
    pub rows: Vec<(u32, AppointmentRow)>,
    pub rejected: Vec<RejectedRow>,
}

fn file_error(field: &str, rule: &str, message: impl Into<String>) -> CoreError {
    CoreError::field(field, rule, message)
}

/// Decode the bytes to text: UTF-8 (a leading BOM is removed), else GB18030.
/// Errors: `invalid`, field `file`, rule `encoding`.
pub fn decode(bytes: &[u8]) -> CoreResult<String> {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(b) {
        return Ok(s.to_string());
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(b)
        .map(|s| s.into_owned())
        .ok_or_else(|| {
            file_error(
                "file",
                "encoding",
                "the file is neither UTF-8 nor GB18030 text",
            )
        })
}

/// One CSV record: its fields, or why it is malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRecord {
    pub fields: Vec<String>,
    /// Set when a quote was misplaced (text after a closing quote, a quote inside an
    /// unquoted field) or a quoted field never closed.
    pub malformed: Option<Malformed>,
}

/// How a CSV record breaks RFC 4180's quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Text after a closing quote, or a quote inside an unquoted field.
    MisplacedQuote,
    /// A quoted field not closed before the end of the file.
    UnclosedQuote,
}

impl Malformed {
    pub fn code(self) -> RejectionCode {
        match self {
            Malformed::MisplacedQuote => RejectionCode::MisplacedQuote,
            Malformed::UnclosedQuote => RejectionCode::UnclosedQuote,
        }
    }
    /// In English, for the CLI and logs.
    pub fn reason(self) -> &'static str {
        match self {
            Malformed::MisplacedQuote => {
                "a quote inside a field: quote the whole field and double inner quotes"
            }
            Malformed::UnclosedQuote => "a quoted field is not closed before the end of the file",
        }
    }
}

/// Split text into RFC 4180 records. Fields may be quoted (`"a, ""b"""`), quoted fields may
/// span lines; records end at LF or CR LF (a lone CR too). Empty lines are skipped.
pub fn parse_csv(text: &str) -> Vec<CsvRecord> {
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut malformed: Option<Malformed> = None;
    // in_quotes: inside a quoted field; after_quote: a quoted field just closed.
    let mut in_quotes = false;
    let mut after_quote = false;
    let mut quoted_field = false;
    let mut chars = text.chars().peekable();
    let mut end_record = |fields: &mut Vec<String>,
                          field: &mut String,
                          malformed: &mut Option<Malformed>,
                          quoted: bool| {
        let blank = fields.is_empty() && field.is_empty() && !quoted;
        fields.push(std::mem::take(field));
        if !blank {
            out.push(CsvRecord {
                fields: std::mem::take(fields),
                malformed: malformed.take(),
            });
        } else {
            fields.clear();
            *malformed = None;
        }
    };
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                    after_quote = true;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            ',' => {
                fields.push(std::mem::take(&mut field));
                after_quote = false;
                quoted_field = false;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                end_record(&mut fields, &mut field, &mut malformed, quoted_field);
                after_quote = false;
                quoted_field = false;
            }
            '"' if field.is_empty() && !after_quote && !quoted_field => {
                in_quotes = true;
                quoted_field = true;
            }
            _ => {
                if after_quote || c == '"' {
                    malformed.get_or_insert(Malformed::MisplacedQuote);
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        malformed = Some(Malformed::UnclosedQuote);
    }
    if !fields.is_empty() || !field.is_empty() || quoted_field || malformed.is_some() {
        end_record(&mut fields, &mut field, &mut malformed, true);
    }
    out
}

fn header_matches(cells: &[String], header: &[&str; 10]) -> bool {
    cells.len() == 10 && cells.iter().zip(header.iter()).all(|(c, h)| c.trim() == *h)
}

fn header_error(found: &str) -> CoreError {
    file_error(
        "header",
        "header",
        format!(
            "the header must be exactly `{}` or `{}`; found `{}`",
            HEADER_EN.join(","),
            HEADER_ZH.join(","),
            found.chars().take(200).collect::<String>()
        ),
    )
}

/// Parse and validate a whole file (CSV or JSON, detected by content: JSON starts with `[`).
/// `today` is the branch's local date (an ID birth date may not lie after it).
/// Errors (file-level, `invalid`): `file`/`encoding`, `file`/`json`, `header`/`header`,
/// `file`/`empty`. Row problems go to [`ParsedFile::rejected`]; a reference repeated within
/// the file is rejected on its later rows.
pub fn parse_file(bytes: &[u8], today: NaiveDate) -> CoreResult<ParsedFile> {
    let text = decode(bytes)?;
    let trimmed = text.trim_start_matches(['\u{FEFF}', ' ', '\t', '\r', '\n']);
    let records: Vec<(u32, Result<[String; 10], RejectedRow>)> = if trimmed.starts_with('[') {
        json_records(trimmed)?
    } else {
        csv_records(&text)?
    };
    let mut parsed = ParsedFile::default();
    let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for (row, rec) in records {
        let cells = match rec {
            Ok(c) => c,
            Err(r) => {
                parsed.rejected.push(r);
                continue;
            }
        };
        match validate_row(row, &cells, today) {
            Ok(r) => {
                if let Some(first) = seen.get(&r.reference) {
                    parsed.rejected.push(
                        RejectedRow::new(
                            row,
                            "reference",
                            RejectionCode::DuplicateReference,
                            format!(
                                "reference {} appears again (first on row {first})",
                                r.reference
                            ),
                        )
                        .with_arg(first),
                    );
                } else {
                    seen.insert(r.reference.clone(), row);
                    parsed.rows.push((row, r));
                }
            }
            Err(errs) => parsed.rejected.extend(errs),
        }
    }
    Ok(parsed)
}

type Records = Vec<(u32, Result<[String; 10], RejectedRow>)>;

fn csv_records(text: &str) -> CoreResult<Records> {
    let mut recs = parse_csv(text).into_iter();
    let Some(head) = recs.next() else {
        return Err(file_error(
            "file",
            "empty",
            "the file is empty: expected a header line",
        ));
    };
    if head.malformed.is_some()
        || !(header_matches(&head.fields, &HEADER_EN) || header_matches(&head.fields, &HEADER_ZH))
    {
        return Err(header_error(&head.fields.join(",")));
    }
    Ok(recs
        .enumerate()
        .map(|(i, r)| {
            let row = (i + 1) as u32;
            if let Some(m) = r.malformed {
                return (row, Err(RejectedRow::new(row, "row", m.code(), m.reason())));
            }
            match <[String; 10]>::try_from(r.fields) {
                Ok(cells) => (row, Ok(cells)),
                Err(f) => (
                    row,
                    Err(RejectedRow::new(
                        row,
                        "row",
                        RejectionCode::FieldCount,
                        format!("expected 10 fields, found {}", f.len()),
                    )
                    .with_arg(f.len())),
                ),
            }
        })
        .collect())
}

fn json_records(text: &str) -> CoreResult<Records> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| file_error("file", "json", format!("the file is not valid JSON: {e}")))?;
    let Some(items) = v.as_array() else {
        return Err(file_error(
            "file",
            "json",
            "expected a JSON array of objects",
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let row = (i + 1) as u32;
        let Some(obj) = item.as_object() else {
            out.push((
                row,
                Err(RejectedRow::new(
                    row,
                    "row",
                    RejectionCode::NotAnObject,
                    "expected an object",
                )),
            ));
            continue;
        };
        let mut cells: [String; 10] = Default::default();
        let mut bad: Option<RejectedRow> = None;
        for (k, val) in obj {
            let Some(idx) = HEADER_EN
                .iter()
                .position(|h| h == k)
                .or_else(|| HEADER_ZH.iter().position(|h| h == k))
            else {
                bad.get_or_insert(
                    RejectedRow::new(
                        row,
                        "row",
                        RejectionCode::UnknownKey,
                        format!("unknown key '{}'", k.chars().take(40).collect::<String>()),
                    )
                    .with_arg(k),
                );
                continue;
            };
            cells[idx] = match val {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Null => String::new(),
                _ => {
                    bad.get_or_insert(RejectedRow::new(
                        row,
                        HEADER_EN[idx],
                        RejectionCode::NotAString,
                        "expected a string",
                    ));
                    String::new()
                }
            };
        }
        out.push((row, bad.map(Err).unwrap_or(Ok(cells))));
    }
    Ok(out)
}

/// `\d{3}[\dX]`: the last 4 characters of an ID number.
fn is_tail4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 4 && b[..3].iter().all(u8::is_ascii_digit) && (b[3].is_ascii_digit() || b[3] == b'X')
}

fn parse_slot(
    row: u32,
    field: &str,
    raw: &str,
    errs: &mut Vec<RejectedRow>,
) -> Option<NaiveDateTime> {
    let t = normalize::fold_width(raw.trim());
    if t.is_empty() {
        errs.push(RejectedRow::new(
            row,
            field,
            RejectionCode::MissingField,
            format!("{field} is required (YYYY-MM-DDTHH:MM)"),
        ));
        return None;
    }
    let t = t.replacen(' ', "T", 1);
    match NaiveDateTime::parse_from_str(&t, SLOT_FORMAT) {
        Ok(d) if t.len() == 16 => Some(d),
        _ => {
            errs.push(RejectedRow::new(
                row,
                field,
                RejectionCode::BadSlotTime,
                "a local time YYYY-MM-DDTHH:MM",
            ));
            None
        }
    }
}

/// The code of an identity number's first failed rule ([`crate::identity::RuleError::rule`]).
fn id_number_code(rule: &str) -> RejectionCode {
    match rule {
        "check-digit" => RejectionCode::BadIdCheckDigit,
        "date" | "future-date" => RejectionCode::BadIdBirthDate,
        _ => RejectionCode::BadIdNumber,
    }
}

/// Validate data row `row`'s 10 cells (header order) and normalise them. Every failed field
/// is reported, each with its [`RejectionCode`] and an English reason that never echoes a full
/// ID or phone number.
pub fn validate_row(
    row: u32,
    cells: &[String; 10],
    today: NaiveDate,
) -> Result<AppointmentRow, Vec<RejectedRow>> {
    let mut errs: Vec<RejectedRow> = Vec::new();
    let reject = |field: &str, code: RejectionCode, reason: String| {
        RejectedRow::new(row, field, code, reason)
    };
    let missing = |field: &str, reason: &str| {
        RejectedRow::new(row, field, RejectionCode::MissingField, reason)
    };
    let len_check = |errs: &mut Vec<RejectedRow>, field: &str, v: &str, max: usize| {
        if v.chars().count() > max {
            errs.push(
                reject(
                    field,
                    RejectionCode::TooLong,
                    format!("at most {max} characters"),
                )
                .with_arg(max),
            );
        }
    };
    let unknown = |field: &str, t: &str, all: &[&str]| {
        // Shifted columns can put an ID or phone number here: mask digit runs before the
        // value is echoed, and before cutting it so a cut cannot leave a clear stretch.
        let t: String = masking::scrub_digits(t).chars().take(30).collect();
        reject(
            field,
            RejectionCode::UnknownValue,
            format!("'{t}' is not one of: {}", all.join(", ")),
        )
        .with_arg(t)
    };
    let reference = normalize::compact(&cells[0]).to_ascii_uppercase();
    if reference.is_empty() {
        errs.push(missing("reference", "reference is required"));
    } else if !reference
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'))
    {
        errs.push(reject(
            "reference",
            RejectionCode::BadReference,
            "letters, digits and - _ / . only".into(),
        ));
    }
    len_check(&mut errs, "reference", &reference, MAX_REFERENCE);

    let name = normalize::name_key(&cells[1]);
    if name.is_empty() {
        errs.push(missing("name", "name is required"));
    } else if name.chars().any(char::is_control) {
        errs.push(reject(
            "name",
            RejectionCode::ControlCharacter,
            "control characters are not allowed".into(),
        ));
    }
    len_check(&mut errs, "name", &name, MAX_NAME);

    let phone = if cells[2].trim().is_empty() {
        errs.push(missing("phone", "phone is required"));
        String::new()
    } else {
        match crate::form::normalize_phone(&cells[2]) {
            Ok(p) => p,
            Err(e) => {
                errs.push(reject(
                    "phone",
                    RejectionCode::BadPhone,
                    masking::scrub_digits(&e.message),
                ));
                String::new()
            }
        }
    };

    let kind = match cells[3].trim() {
        "" => {
            errs.push(missing("id_type", "id_type is required"));
            None
        }
        // The kinds the identity rules check (an e-ID booking has no number to take).
        t => match t.parse::<crate::identity::DocKind>() {
            Ok(k) => Some(DocumentType::of_kind(k)),
            Err(_) => {
                let all: Vec<&str> = crate::identity::DocKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect();
                errs.push(unknown("id_type", t, &all));
                None
            }
        },
    };

    let raw_id = normalize::compact(&cells[4]).to_ascii_uppercase();
    let id_number = if raw_id.is_empty() {
        errs.push(missing(
            "id_number",
            "id_number is required (the full number or its last 4)",
        ));
        String::new()
    } else if is_tail4(&raw_id) {
        raw_id
    } else {
        match kind {
            None => String::new(),
            Some(DocumentType::PassportMrz) => {
                if (5..=9).contains(&raw_id.len())
                    && raw_id.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    raw_id
                } else {
                    errs.push(reject(
                        "id_number",
                        RejectionCode::BadIdNumber,
                        "a passport number has 5-9 letters and digits (or give its last 4)".into(),
                    ));
                    String::new()
                }
            }
            Some(k) => {
                let c = check(k.doc_kind(), &raw_id, today);
                match (c.valid, c.normalized) {
                    (true, Some(n)) => n,
                    _ => {
                        let code = c
                            .errors
                            .first()
                            .map_or(RejectionCode::BadIdNumber, |e| id_number_code(&e.rule));
                        let msg = c
                            .errors
                            .iter()
                            .map(|e| e.message.clone())
                            .collect::<Vec<_>>()
                            .join("; ");
                        errs.push(reject(
                            "id_number",
                            code,
                            format!(
                                "not a valid {} number: {}",
                                k.as_str(),
                                masking::scrub_digits(&msg)
                            ),
                        ));
                        String::new()
                    }
                }
            }
        }
    };

    let wallet_operator = cells[5].trim().to_string();
    len_check(&mut errs, "wallet_operator", &wallet_operator, MAX_OPERATOR);

    let lock_cause = match cells[6].trim() {
        "" => {
            errs.push(missing("lock_cause", "lock_cause is required"));
            None
        }
        t => match t.parse::<LockCause>() {
            Ok(l) => Some(l),
            Err(_) => {
                let all: Vec<&str> = LockCause::ALL.iter().map(|l| l.as_str()).collect();
                errs.push(unknown("lock_cause", t, &all));
                None
            }
        },
    };

    let start = parse_slot(row, "slot_start", &cells[7], &mut errs);
    let end = parse_slot(row, "slot_end", &cells[8], &mut errs);
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            errs.push(reject(
                "slot_end",
                RejectionCode::SlotEndBeforeStart,
                "the slot must end after it starts".into(),
            ));
        }
    }

    let notes = cells[9].trim().to_string();
    len_check(&mut errs, "notes", &notes, MAX_NOTES);

    match (errs.is_empty(), kind, lock_cause, start, end) {
        (true, Some(kind), Some(lock_cause), Some(slot_start), Some(slot_end)) => {
            Ok(AppointmentRow {
                reference,
                name,
                phone,
                id_type: kind,
                id_number,
                wallet_operator,
                lock_cause,
                slot_start,
                slot_end,
                notes,
            })
        }
        _ => Err(errs),
    }
}

/// Parse the counter's search box into a lookup key.
pub fn appointment_key(text: &str) -> CoreResult<AppointmentKey> {
    let t = normalize::fold_width(text.trim());
    if t.is_empty() {
        return Err(CoreError::field(
            "query",
            "required",
            "type a reference, phone, ID number, last 4 digits or a name",
        ));
    }
    let compact = normalize::compact_grouped(&t).to_ascii_uppercase();
    let digits_x = |s: &str| s.chars().all(|c| c.is_ascii_digit() || c == 'X');
    if compact.len() == 4 && digits_x(&compact) {
        // Ambiguous tail: the store matches ID and phone tails together (PhoneTail covers both).
        return Ok(AppointmentKey::PhoneTail(compact));
    }
    if let Ok(p) = crate::form::normalize_phone(&compact) {
        return Ok(AppointmentKey::Phone(p));
    }
    if (15..=18).contains(&compact.len()) && digits_x(&compact) {
        // Stored numbers are normalised (a legacy 15-digit ID as its 18-digit form).
        let c = crate::identity::check(None, &compact, NaiveDate::MAX);
        return Ok(AppointmentKey::IdNumber(
            c.normalized.filter(|_| c.valid).unwrap_or(compact),
        ));
    }
    if t.chars().any(|c| c.is_alphabetic() && !c.is_ascii()) {
        return Ok(AppointmentKey::NamePrefix(normalize::name_key(&t)));
    }
    // References keep their hyphens (the importer stores them so); the store also tries the
    // text as a document number (passports, permits).
    Ok(AppointmentKey::Reference(
        normalize::compact(&t).to_ascii_uppercase(),
    ))
}

/// A new appointment's id: a UUID version 7 (RFC 9562 §5.7): `now` in milliseconds, then
/// `seq` (the row's place in its import, 24 bits, in the bits the version and variant leave
/// free) and 50 random bits from `random`. Ids made together sort together, so a large import
/// appends to the end of the primary-key index instead of writing a random page of it per row.
pub fn time_ordered_id(now: DateTime<Utc>, seq: u32, random: uuid::Uuid) -> AppointmentId {
    let s = seq.min(0x00FF_FFFF);
    let r = random.as_bytes();
    // rand_a is 12 bits (byte 0's high nibble becomes the version); byte 2's top 2 bits
    // become the variant.
    let tail = [
        ((s >> 20) & 0x0F) as u8,
        ((s >> 12) & 0xFF) as u8,
        ((s >> 6) & 0x3F) as u8,
        (((s & 0x3F) << 2) as u8) | (r[0] & 0x03),
        // Bytes 10..16 of a version-4 UUID are all random (6 holds its version, 8 its variant).
        r[10],
        r[11],
        r[12],
        r[13],
        r[14],
        r[15],
    ];
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    AppointmentId(uuid::Builder::from_unix_timestamp_millis(millis, &tail).into_uuid())
}

#[cfg(test)]
mod time_ordered_id_tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn ids_of_one_import_sort_in_row_order_and_are_version_7() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 29, 2, 0, 0).unwrap();
        let mut prev: Option<uuid::Uuid> = None;
        for seq in (0..200_000u32)
            .step_by(997)
            .chain([0x00FF_FFFE, 0x00FF_FFFF])
        {
            let id = time_ordered_id(now, seq, uuid::Uuid::new_v4()).0;
            assert_eq!(id.get_version(), Some(uuid::Version::SortRand));
            assert_eq!(id.get_variant(), uuid::Variant::RFC4122);
            if let Some(p) = prev {
                assert!(p < id, "{p} !< {id} at {seq}");
            }
            prev = Some(id);
        }
        let later = time_ordered_id(
            now + chrono::Duration::milliseconds(1),
            0,
            uuid::Uuid::nil(),
        );
        assert!(prev.unwrap() < later.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::mod11_2_check_char;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
    }

    /// A synthetic, check-valid resident ID number.
    fn id(body: &str) -> String {
        format!("{body}{}", mod11_2_check_char(body).unwrap())
    }

    fn header() -> String {
        HEADER_EN.join(",")
    }

    fn good(reference: &str) -> String {
        format!("{reference},张三,13123456789,prc-id,{},钱包服务商B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,", id("11010519800101001"))
    }

    fn parse(s: &str) -> ParsedFile {
        parse_file(s.as_bytes(), today()).unwrap()
    }

    fn rejected(p: &ParsedFile) -> Vec<(u32, &str)> {
        p.rejected
            .iter()
            .map(|r| (r.row, r.field.as_str()))
            .collect()
    }

    fn codes(p: &ParsedFile) -> Vec<(u32, RejectionCode, Option<&str>)> {
        p.rejected
            .iter()
            .map(|r| (r.row, r.code, r.arg.as_deref()))
            .collect()
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let text = format!("{}\n{}\n", header(), good("A1"));
        let plain = parse(&text);
        assert_eq!(plain.rows.len(), 1, "{:?}", plain.rejected);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(parse_file(&bom, today()).unwrap(), plain);
        let r = &plain.rows[0].1;
        assert_eq!(r.reference, "A1");
        assert_eq!(r.name, "张三");
        assert_eq!(r.phone, "13123456789");
        assert_eq!(r.id_type, DocumentType::PrcId);
        assert_eq!(r.wallet_operator, "钱包服务商B");
        assert_eq!(r.lock_cause, LockCause::WrongPassword);
    }

    #[test]
    fn gb18030_chinese_header() {
        let text = format!("{}\r\n{}\r\n", HEADER_ZH.join(","), good("B1"));
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "the test bytes must not be UTF-8"
        );
        let p = parse_file(&bytes, today()).unwrap();
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        assert_eq!(p.rows[0].1.name, "张三");
        assert_eq!(p.rows[0].1.wallet_operator, "钱包服务商B");
    }

    #[test]
    fn neither_utf8_nor_gb18030_is_a_file_error() {
        // 0xFF is neither a UTF-8 byte nor a GB18030 lead byte.
        let e = parse_file(b"ab\xFF\xFFcd", today()).unwrap_err();
        assert_eq!(e.fields[0].field, "file");
        assert_eq!(e.fields[0].rule, "encoding");
    }

    #[test]
    fn rfc4180_quoting() {
        let recs = parse_csv("a,\"b,c\",\"d \"\"e\"\"\"\r\n\"multi\nline\",,x\n\n");
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].fields, vec!["a", "b,c", "d \"e\""]);
        assert_eq!(recs[1].fields, vec!["multi\nline", "", "x"]);
        assert!(recs.iter().all(|r| r.malformed.is_none()));
        // A trailing record without a newline, and an empty quoted field.
        let recs = parse_csv("x,\"\"");
        assert_eq!(recs[0].fields, vec!["x", ""]);
        // Misplaced and unclosed quotes are reported, not guessed.
        assert!(parse_csv("a\"b,c\n")[0].malformed.is_some());
        assert!(parse_csv("\"ab\"c,d\n")[0].malformed.is_some());
        assert!(parse_csv("x,\"open\n")[0].malformed.is_some());
        // Quoted notes with a comma and a line break survive a full parse.
        let line =
            good("Q1").trim_end_matches(',').to_string() + ",\"late, call first\nsecond line\"";
        let p = parse(&format!("{}\n{line}\n", header()));
        assert_eq!(p.rows[0].1.notes, "late, call first\nsecond line");
    }

    #[test]
    fn wrong_header_is_a_file_error() {
        for h in ["reference,name,phone", "name,reference,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes", ""] {
            let e = parse_file(format!("{h}\n{}\n", good("A")).as_bytes(), today()).unwrap_err();
            assert_eq!((e.fields[0].field.as_str(), e.fields[0].rule.as_str()), ("header", "header"), "{h}");
        }
        let e = parse_file(b"", today()).unwrap_err();
        assert_eq!(e.fields[0].rule, "empty");
    }

    #[test]
    fn every_rejection_rule() {
        let idn = id("11010519800101001");
        let bad_check = {
            let mut s = idn.clone();
            let last = s.pop().unwrap();
            s.push(if last == '0' { '1' } else { '0' });
            s
        };
        let rows = [
            // 1 reference required
            format!(",张三,13123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            // 2 name required
            format!("R2,,13123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            // 3 phone: bad prefix
            format!("R3,张三,12123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            // 4 id_type unknown
            format!("R4,张三,13123456789,id-card,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            // 5 id_number check digit
            format!("R5,张三,13123456789,prc-id,{bad_check},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            // 6 lock cause unknown
            format!("R6,张三,13123456789,prc-id,{idn},B,forgot,2026-11-29T09:00,2026-11-29T09:30,"),
            // 7 slot format
            format!("R7,张三,13123456789,prc-id,{idn},B,wrong-password,29/11/2026 09:00,2026-11-29T09:30,"),
            // 8 end not after start
            format!("R8,张三,13123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:30,2026-11-29T09:30,"),
            // 9 passport number format
            "R9,JOHN DOE,13123456789,passport-mrz,AB-12,B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,".to_string(),
            // 10 too few fields
            "R10,张三".to_string(),
            // 11 id_number required, phone required
            "R11,张三,,prc-id,,B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,".to_string(),
            // 12 a tail with a letter other than X
            "R12,张三,13123456789,prc-id,123A,B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,".to_string(),
        ];
        let p = parse(&format!("{}\n{}\n", header(), rows.join("\n")));
        assert!(p.rows.is_empty(), "{:?}", p.rows);
        assert_eq!(
            rejected(&p),
            vec![
                (1, "reference"),
                (2, "name"),
                (3, "phone"),
                (4, "id_type"),
                (5, "id_number"),
                (6, "lock_cause"),
                (7, "slot_start"),
                (8, "slot_end"),
                (9, "id_number"),
                (10, "row"),
                (11, "phone"),
                (11, "id_number"),
                (12, "id_number"),
            ]
        );
        // No reason echoes a full ID number or phone number.
        for r in &p.rejected {
            assert!(
                !r.reason.contains(&idn[..10]) && !r.reason.contains("2123456789"),
                "{}",
                r.reason
            );
        }
        assert_eq!(p.rejected[4].field, "id_number");
        assert_eq!(p.rejected[7].reason, "the slot must end after it starts");
        use RejectionCode::*;
        assert_eq!(
            codes(&p),
            vec![
                (1, MissingField, None),
                (2, MissingField, None),
                (3, BadPhone, None),
                (4, UnknownValue, Some("id-card")),
                (5, BadIdCheckDigit, None),
                (6, UnknownValue, Some("forgot")),
                (7, BadSlotTime, None),
                (8, SlotEndBeforeStart, None),
                (9, BadIdNumber, None),
                (10, FieldCount, Some("2")),
                (11, MissingField, None),
                (11, MissingField, None),
                (12, BadIdNumber, None),
            ]
        );
    }

    #[test]
    fn unknown_value_never_echoes_a_number_from_a_shifted_column() {
        let idn = id("11010519900307123");
        let row = format!(
            "S1,张三,13123456789,{idn},{idn},B,13123456789,2026-11-29T09:00,2026-11-29T09:30,"
        );
        let p = parse(&format!("{}\n{row}\n", header()));
        assert!(p.rows.is_empty(), "{:?}", p.rows);
        let unknown: Vec<&RejectedRow> = p
            .rejected
            .iter()
            .filter(|r| r.code == RejectionCode::UnknownValue)
            .collect();
        let fields: Vec<&str> = unknown.iter().map(|r| r.field.as_str()).collect();
        assert_eq!(fields, ["id_type", "lock_cause"]);
        for r in unknown {
            let arg = r.arg.as_deref().unwrap();
            for text in [arg, r.reason.as_str()] {
                assert!(!text.contains(&idn), "{text}");
                assert!(!text.contains("13123456789"), "{text}");
            }
            assert!(arg.ends_with(&idn[14..]) || arg.ends_with("6789"), "{arg}");
        }
    }

    #[test]
    fn rejection_codes_are_spelled_as_in_json() {
        for c in RejectionCode::ALL {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
    }

    #[test]
    fn the_remaining_rejection_codes() {
        let idn = id("11010519800101001");
        // A birth date after today (2026-11-29), check character recomputed.
        let unborn = id("11010520261231001");
        let long_ref = "R".repeat(41);
        let rows = [
            format!("{long_ref},张三,13123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            format!("R#2,张三,13123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            format!("R3,张\u{7}三,13123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            format!("R4,张三,13123456789,prc-id,{unborn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,"),
            format!("R5,张三,13123456789,prc-id,{idn},B,wrong-password,,2026-11-29T09:30,"),
            "R6,a\"b,c,d,e,f,g,h,i,j".to_string(),
            format!("R7,张三,13123456789,prc-id,{idn},B,wrong-password,2026-11-29T09:00,2026-11-29T09:30,\"open"),
        ];
        let p = parse(&format!("{}\n{}\n", header(), rows.join("\n")));
        use RejectionCode::*;
        assert_eq!(
            codes(&p),
            vec![
                (1, TooLong, Some("40")),
                (2, BadReference, None),
                (3, ControlCharacter, None),
                (4, BadIdBirthDate, None),
                (5, MissingField, None),
                (6, MisplacedQuote, None),
                (7, UnclosedQuote, None),
            ]
        );
        assert_eq!(
            serde_json::to_value(&p.rejected[0]).unwrap(),
            serde_json::json!({"row": 1, "field": "reference", "code": "too-long", "arg": "40",
                "reason": "at most 40 characters"})
        );
        // No `arg` in the JSON of a rule without one.
        assert!(serde_json::to_value(&p.rejected[1])
            .unwrap()
            .get("arg")
            .is_none());
    }

    #[test]
    fn accepted_forms_are_normalised() {
        let idn = id("11010519800101001");
        let legacy15 = format!("{}{}", &idn[..6], &idn[8..17]);
        let rows = [
            // full-width digits, +86, lower-case reference, 15-digit ID → 18-digit form
            format!("r-1,张　三,+86 131 2345 6789,prc-id-15,{legacy15},B,self-locked,2020-01-02T09:00,2020-01-02T09:30,note"),
            // last 4 with X, passport number, space separated slot
            "R-2,ZHANG SAN,１３１２３４５６７８９,passport-mrz,002x,,authority-freeze,2026-12-01 10:00,2026-12-01 10:15,".to_string(),
            "R-3,ZHANG SAN,13123456789,passport-mrz,E12345678,,payment-failures,2026-12-01T10:00,2026-12-01T10:15,".to_string(),
        ];
        let p = parse(&format!("{}\n{}\n", header(), rows.join("\n")));
        assert!(p.rejected.is_empty(), "{:?}", p.rejected);
        let r = &p.rows[0].1;
        assert_eq!(
            (r.reference.as_str(), r.name.as_str(), r.phone.as_str()),
            ("R-1", "张 三", "13123456789")
        );
        assert_eq!(r.id_number, idn);
        assert_eq!(p.rows[1].1.id_number, "002X");
        assert_eq!(p.rows[1].1.slot_start.to_string(), "2026-12-01 10:00:00");
        assert_eq!(p.rows[2].1.id_number, "E12345678");
        assert_eq!(
            p.rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
    }

    #[test]
    fn duplicate_reference_in_one_file_is_rejected() {
        let p = parse(&format!("{}\n{}\n{}\n", header(), good("D1"), good("d1")));
        assert_eq!(p.rows.len(), 1);
        assert_eq!(rejected(&p), vec![(2, "reference")]);
        assert_eq!(
            codes(&p),
            vec![(2, RejectionCode::DuplicateReference, Some("1"))]
        );
    }

    #[test]
    fn json_array_same_keys() {
        let idn = id("11010519800101001");
        let text = format!(
            r#"[{{"reference":"J1","name":"李四","phone":13123456789,"id_type":"prc-id","id_number":"{idn}","wallet_operator":"A","lock_cause":"wrong-password","slot_start":"2026-11-29T09:00","slot_end":"2026-11-29T09:30","notes":null}},
               {{"预约号":"J2","姓名":"王五","手机号":"13123456789","证件类型":"prc-id","证件号码":"1234","钱包运营机构":"A","锁定原因":"self-locked","开始时间":"2026-11-29T10:00","结束时间":"2026-11-29T10:30","备注":""}},
               {{"reference":"J3","nmae":"x"}}, 5]"#
        );
        let p = parse(&text);
        assert_eq!(p.rows.len(), 2, "{:?}", p.rejected);
        assert_eq!(p.rows[0].1.phone, "13123456789");
        assert_eq!(p.rows[1].1.name, "王五");
        assert_eq!(rejected(&p), vec![(3, "row"), (4, "row")]);
        assert_eq!(
            codes(&p),
            vec![
                (3, RejectionCode::UnknownKey, Some("nmae")),
                (4, RejectionCode::NotAnObject, None)
            ]
        );
        let p = parse(r#"[{"reference":"J1","notes":["x"]}]"#);
        assert_eq!(
            (p.rejected[0].field.as_str(), p.rejected[0].code),
            ("notes", RejectionCode::NotAString)
        );
        assert_eq!(
            parse_file(b"[1,", today()).unwrap_err().fields[0].rule,
            "json"
        );
    }

    #[test]
    fn same_row_unchanged_changed_row_lists_fields() {
        let p = parse(&format!("{}\n{}\n", header(), good("C1")));
        let row = &p.rows[0].1;
        let stored = row.to_new(AppointmentId(uuid::Uuid::nil()));
        // Re-import of the same row, written differently, normalises to the same thing.
        let again = parse(&format!(
            "{}\n{}\n",
            header(),
            good(" c1 ").replace("13123456789", "131-2345-6789")
        ));
        assert!(again.rows[0].1.changes(&stored).is_empty());
        let changed = parse(&format!(
            "{}\n{}\n",
            header(),
            good("C1").replace("09:30", "10:00").replace("张三", "张四")
        ));
        assert_eq!(changed.rows[0].1.changes(&stored), vec!["name", "slot_end"]);
        // Applying keeps id, status and case link.
        let mut checked_in = stored.clone();
        checked_in.status = AppointmentStatus::CheckedIn;
        checked_in.case_id = Some(crate::model::CaseId(uuid::Uuid::from_u128(7)));
        let a = changed.rows[0].1.apply_to(&checked_in);
        assert_eq!(
            (a.status, a.case_id, a.id),
            (AppointmentStatus::CheckedIn, checked_in.case_id, stored.id)
        );
        assert_eq!(a.name, "张四");
    }

    #[test]
    fn junk_never_panics() {
        for s in [
            "\"",
            ",,,,",
            "\r\r\n\"\"\"",
            "[",
            "[{}]",
            "[null]",
            "\u{FEFF}",
            "[\"a\"]",
        ] {
            let _ = parse_file(s.as_bytes(), today());
            let _ = parse_file(format!("{}\n{s}", header()).as_bytes(), today());
        }
    }
}
