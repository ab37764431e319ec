//! The OpenAPI 3 document of every route (served at `/api/v1/openapi.json`; the fuzzing test,
//! `scripts/fuzz-server.sh`, drives the server from it).
//!
//! The schemas follow the serde shapes of the types the handlers read and write: a field is
//! required when serde requires it (not an `Option`, no `#[serde(default)]`), an `Option` is
//! nullable, every closed set lists its exact kebab-case spellings (taken from the types
//! themselves, not typed again), and a body struct with `deny_unknown_fields` is closed
//! (`additionalProperties: false`). Response-only shapes are closed too: a field added to
//! one without the document fails the fuzzing run's schema check.
//!
//! Every operation lists each status it can answer: its success, and the error body
//! `{code, message, fields?}` with 400 (any request: a client of another major version), 403
//! (any request: a browser's `Origin` header), 401 and 503 (every route behind the session
//! check), 413 (every route with a body), 404 (every route with a path parameter), and the
//! statuses of its own use case.

use serde::Serialize;
use serde_json::{json, Map, Value};
use unlockdesk_core::appointments::RejectionCode;
use unlockdesk_core::authorizations::AuthorizationKind;
use unlockdesk_core::dto::RevealField;
use unlockdesk_core::identity::policy::{EvidenceKind, SecondFactor};
use unlockdesk_core::ports::Outcome;
use unlockdesk_core::print::{CopyKind, DocumentKind};
use unlockdesk_core::workflow::EventKind;
use unlockdesk_core::*;

/// Every route of [`crate::app::router`], as (method, full path) in its order; the test below
/// reads `app.rs` and fails when the two differ.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/sessions"),
    ("GET", "/api/v1/sessions/current"),
    ("DELETE", "/api/v1/sessions/current"),
    ("POST", "/api/v1/sessions/current/password"),
    ("POST", "/api/v1/terminals/enrol"),
    ("POST", "/api/v1/terminals/codes"),
    ("GET", "/api/v1/terminals"),
    ("POST", "/api/v1/terminals/{id}/revoke"),
    ("GET", "/api/v1/branch"),
    ("PUT", "/api/v1/branch"),
    ("GET", "/api/v1/today"),
    ("GET", "/api/v1/staff"),
    ("POST", "/api/v1/staff"),
    ("POST", "/api/v1/staff/{id}/password"),
    ("POST", "/api/v1/staff/{id}/disabled"),
    ("POST", "/api/v1/staff/{id}/unlock"),
    ("POST", "/api/v1/cases"),
    ("POST", "/api/v1/cases/query"),
    ("GET", "/api/v1/cases/filters"),
    ("GET", "/api/v1/cases/search"),
    ("GET", "/api/v1/cases/{id}"),
    ("POST", "/api/v1/cases/{id}/identity"),
    ("POST", "/api/v1/cases/{id}/cocheck"),
    ("POST", "/api/v1/cases/{id}/form"),
    ("POST", "/api/v1/cases/{id}/signed"),
    ("POST", "/api/v1/cases/{id}/submit"),
    ("POST", "/api/v1/cases/{id}/authorize"),
    ("POST", "/api/v1/cases/{id}/contacts"),
    ("POST", "/api/v1/cases/{id}/unlock"),
    ("POST", "/api/v1/cases/{id}/unlock-failure"),
    ("POST", "/api/v1/cases/{id}/close"),
    ("POST", "/api/v1/cases/{id}/cancel"),
    ("POST", "/api/v1/cases/{id}/refuse-freeze"),
    ("POST", "/api/v1/cases/{id}/wallet-status"),
    ("POST", "/api/v1/cases/{id}/request-unlock"),
    ("GET", "/api/v1/notifications"),
    ("POST", "/api/v1/notifications/deliver"),
    ("POST", "/api/v1/cases/{id}/reveal"),
    ("GET", "/api/v1/cases/{id}/audit"),
    ("POST", "/api/v1/cases/{id}/prints"),
    ("POST", "/api/v1/cases/{id}/prints/{doc}/delivery"),
    ("GET", "/api/v1/cases/{id}/documents/{doc}"),
    ("POST", "/api/v1/cases/{id}/render"),
    ("GET", "/api/v1/audit/verify"),
    ("GET", "/api/v1/authorizations"),
    ("GET", "/api/v1/authorizations/events"),
    ("POST", "/api/v1/authorizations/{id}/open"),
    ("POST", "/api/v1/cases/{id}/unlock-request"),
    ("POST", "/api/v1/cases/{id}/signed-scan"),
    ("GET", "/api/v1/events"),
    ("POST", "/api/v1/appointments"),
    ("GET", "/api/v1/appointments/today"),
    ("GET", "/api/v1/appointments/search"),
    ("POST", "/api/v1/appointments/import"),
    ("POST", "/api/v1/appointments/no-shows"),
    ("POST", "/api/v1/backup"),
    ("GET", "/api/v1/retention"),
    ("GET", "/api/v1/retention/batches"),
    ("POST", "/api/v1/retention/batches"),
    ("POST", "/api/v1/retention/batches/{id}/approve"),
    ("POST", "/api/v1/retention/batches/{id}/withdraw"),
    ("GET", "/api/v1/legal-holds"),
    ("POST", "/api/v1/cases/{id}/legal-hold"),
    ("POST", "/api/v1/cases/{id}/legal-hold/release"),
    ("POST", "/api/v1/audit/search"),
    ("POST", "/api/v1/audit/reveals"),
    ("POST", "/api/v1/audit/export"),
];

/// The routes answered without a session token (`app::is_open`).
pub const OPEN_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/openapi.json"),
    ("POST", "/api/v1/sessions"),
    ("POST", "/api/v1/terminals/enrol"),
];

/// The document as JSON text.
pub fn document() -> String {
    serde_json::to_string_pretty(&document_value()).unwrap_or_else(|_| String::from("{}"))
}

/// The document.
pub fn document_value() -> Value {
    let mut ops: Vec<Op> = operations();
    let mut paths = Map::new();
    // In the router's order; a route without an operation is left out (the tests fail).
    for (method, path) in ROUTES {
        let Some(i) = ops
            .iter()
            .position(|o| o.method == *method && o.path == *path)
        else {
            continue;
        };
        let (path, method, body) = ops.swap_remove(i).build();
        let item = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        item[method] = body;
    }
    debug_assert!(ops.is_empty(), "an operation of no route");
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "UnlockDesk branch server",
            "version": crate::app::VERSION,
            "description": INFO,
        },
        "tags": tags(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "64 hex characters",
                    "description": "The session token of POST /api/v1/sessions.",
                },
            },
            "headers": {
                "Version": {
                    "description": "The server's software version (on every response).",
                    "schema": { "type": "string" },
                },
            },
            "parameters": parameters(),
            "responses": error_responses(),
            "schemas": schemas(),
        },
        "security": [{ "bearerAuth": [] }],
    })
}

const INFO: &str = "The use cases of UnlockDesk over HTTP/JSON for every counter of a branch. \
Every route but four (health, this document, sign-in, terminal enrolment) needs \
`Authorization: Bearer <session token>` and answers 401 without a valid one before it looks at \
anything else. A request from another host also sends `x-unlockdesk-terminal: <id>:<secret>` \
(an enrolled terminal; else 403 `terminal-not-enrolled`); a client on the loopback address may \
name itself with `x-unlockdesk-terminal-name`. A request with `x-unlockdesk-version` of another \
major version is refused (400 `version-mismatch`), one with an `Origin` header too (403). \
Errors are `{code, message, fields?}`; no request gets a 5xx other than 503. A method a path \
does not take answers 405.";

fn tags() -> Value {
    let t = |name: &str, description: &str| json!({ "name": name, "description": description });
    json!([
        t("server", "Health and this document"),
        t(
            "sessions",
            "Sign-in, the current session, sign-out, the own password"
        ),
        t("terminals", "Enrolment of terminals on other hosts"),
        t("branch", "The branch's profile and configuration"),
        t("staff", "Staff accounts (administrators)"),
        t("cases", "Cases: opening, every step, reads"),
        t("printing", "The application form and the receipt"),
        t("audit", "The audit trail"),
        t(
            "retention",
            "Retention: what is due, destruction batches and their register, legal holds"
        ),
        t(
            "authorizations",
            "The supervisors' queue (待授权) and its live events"
        ),
        t("appointments", "Appointments from the call centre"),
        t("backup", "A snapshot of the store"),
    ])
}

// ------------------------------------------------------------------ schema helpers

/// A reference to a schema of `components/schemas`.
fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// An `Option<T>`: the schema or `null` (3.0: a reference is wrapped to carry `nullable`).
fn nullable(s: Value) -> Value {
    if s.get("$ref").is_some() {
        json!({ "allOf": [s], "nullable": true })
    } else {
        let mut s = s;
        s["nullable"] = Value::Bool(true);
        s
    }
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn described(mut s: Value, description: &str) -> Value {
    s["description"] = Value::String(description.to_string());
    s
}

fn boolean() -> Value {
    json!({ "type": "boolean" })
}

fn u32_() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": u32::MAX })
}

fn u8_() -> Value {
    json!({ "type": "integer", "format": "int32", "minimum": 0, "maximum": u8::MAX })
}

fn u64_() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": 0 })
}

fn i64_() -> Value {
    json!({ "type": "integer", "format": "int64" })
}

fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

/// `chrono::NaiveDate`: `YYYY-MM-DD`.
fn date() -> Value {
    json!({ "type": "string", "format": "date" })
}

/// `chrono::DateTime<Utc>`: RFC 3339.
fn date_time() -> Value {
    json!({ "type": "string", "format": "date-time" })
}

/// `chrono::NaiveDateTime`: `YYYY-MM-DDTHH:MM:SS[.fraction]`, no offset (branch-local).
fn local_date_time() -> Value {
    json!({
        "type": "string",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?$",
        "example": "2026-03-02T09:30:00",
    })
}

fn array(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// A JSON object used as a map (`BTreeMap<String, T>`).
fn map_of(values: Value) -> Value {
    json!({ "type": "object", "additionalProperties": values })
}

/// A closed set: the serde spellings of `all`.
fn enum_of<T: Serialize>(all: &[T], description: &str) -> Value {
    let values: Vec<Value> = all
        .iter()
        .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
        .collect();
    json!({ "type": "string", "enum": values, "description": description })
}

/// Every variant of a type without an `ALL` list; the match makes a new variant a compile
/// error here until it is listed.
macro_rules! variants {
    ($t:ident: $($v:ident),+ $(,)?) => {{
        let _exhaustive = |x: $t| match x {
            $($t::$v)|+ => (),
        };
        [$($t::$v),+]
    }};
}

/// An object with `required` and `optional` properties; `closed` forbids any other.
fn object(required: &[(&str, Value)], optional: &[(&str, Value)], closed: bool) -> Value {
    let mut props = Map::new();
    for (k, v) in required.iter().chain(optional) {
        props.insert((*k).to_string(), v.clone());
    }
    let mut o = json!({ "type": "object", "properties": props });
    if !required.is_empty() {
        o["required"] = required.iter().map(|(k, _)| json!(k)).collect();
    }
    if closed {
        o["additionalProperties"] = Value::Bool(false);
    }
    o
}

/// A core type the server reads (serde ignores unknown fields: open).
fn input(required: &[(&str, Value)], optional: &[(&str, Value)]) -> Value {
    object(required, optional, false)
}

/// A body struct of `app.rs` with `deny_unknown_fields`.
fn strict(required: &[(&str, Value)], optional: &[(&str, Value)]) -> Value {
    object(required, optional, true)
}

/// A shape only the server writes: every field always present, nothing else.
fn record(fields: &[(&str, Value)]) -> Value {
    object(fields, &[], true)
}

// ------------------------------------------------------------------ schemas

fn schemas() -> Value {
    let mut s = Map::new();
    for (name, schema) in enums().into_iter().chain(shapes()) {
        s.insert(name.to_string(), schema);
    }
    Value::Object(s)
}

fn enums() -> Vec<(&'static str, Value)> {
    vec![
        (
            "ErrorCode",
            enum_of(
                &variants!(ErrorCode: Invalid, IllegalTransition, FourEyes, Forbidden,
                    AuthFailed, AccountLocked, AccountDisabled, PasswordChangeRequired,
                    SessionLocked, NotFound, Conflict, AuthorityFreeze, NotSetUp, AlreadySetUp,
                    Storage, Render, Unavailable, SessionExpired, TooManyRequests,
                    TerminalNotEnrolled, VersionMismatch, TooLarge, CertificateMismatch,
                    OperatorUnavailable, Internal),
                "The error's code (the UI translates it).",
            ),
        ),
        ("CaseState", enum_of(CaseState::ALL, "Where a case stands.")),
        (
            "OperatorUnlockStatus",
            enum_of(
                OperatorUnlockStatus::ALL,
                "Where the unlock asked of the operator's connector stands.",
            ),
        ),
        (
            "OutboxStatus",
            enum_of(
                unlockdesk_core::operator::OutboxStatus::ALL,
                "Where a notification stands.",
            ),
        ),
        (
            "OutboxKind",
            enum_of(
                unlockdesk_core::operator::OutboxKind::ALL,
                "An SMS, or the job settling a case waiting for the operator.",
            ),
        ),
        (
            "RecordClass",
            enum_of(
                RecordClass::ALL,
                "What a purge destroys: the case with its identity copy, or its vouchers.",
            ),
        ),
        (
            "PurgeBatchState",
            enum_of(PurgeBatchState::ALL, "Where a destruction batch stands."),
        ),
        (
            "AuthorizationKind",
            enum_of(
                AuthorizationKind::ALL,
                "What a request in the supervisors' queue asks for.",
            ),
        ),
        (
            "AppointmentStatus",
            enum_of(AppointmentStatus::ALL, "An appointment's status."),
        ),
        (
            "LockCause",
            enum_of(LockCause::ALL, "Why the wallet is locked."),
        ),
        ("Role", enum_of(Role::ALL, "A staff role.")),
        (
            "RequestedAction",
            enum_of(RequestedAction::ALL, "What the customer asks for."),
        ),
        (
            "Decision",
            enum_of(Decision::ALL, "A supervisor's decision."),
        ),
        (
            "ContactChannel",
            enum_of(
                ContactChannel::ALL,
                "Channel of a contact with the operator.",
            ),
        ),
        (
            "NotificationChannel",
            enum_of(NotificationChannel::ALL, "How the customer was told."),
        ),
        (
            "UnlockFailureNext",
            enum_of(UnlockFailureNext::ALL, "After a failed unlock."),
        ),
        ("Sex", enum_of(Sex::ALL, "Sex as printed on the form.")),
        (
            "DocumentType",
            enum_of(DocumentType::ALL, "A kind of identity evidence."),
        ),
        (
            "ReasonCode",
            enum_of(ReasonCode::ALL, "Why a supervisor returned or rejected."),
        ),
        (
            "OnlineCheckResult",
            enum_of(
                OnlineCheckResult::ALL,
                "The online identity check's result.",
            ),
        ),
        (
            "PrintChannel",
            enum_of(PrintChannel::ALL, "How a document reached paper."),
        ),
        (
            "PrintOutcome",
            enum_of(PrintOutcome::ALL, "A print's outcome."),
        ),
        (
            "EventKind",
            enum_of(EventKind::ALL, "A step of a case (the audit action)."),
        ),
        (
            "RejectionCode",
            enum_of(RejectionCode::ALL, "The rule an imported row broke."),
        ),
        (
            "CopyKind",
            enum_of(
                &variants!(CopyKind: Customer, Bank),
                "Which copy is printed.",
            ),
        ),
        (
            "DocumentKind",
            enum_of(
                &variants!(DocumentKind: Application, Receipt, SignedScan),
                "Which document is printed.",
            ),
        ),
        (
            "RevealField",
            enum_of(
                &variants!(RevealField: IdNumber, Phone, BankCard, WalletId),
                "A personal field an audited reveal shows in full.",
            ),
        ),
        (
            "SecondFactor",
            enum_of(
                &variants!(SecondFactor: CardPin, SmsToRegisteredPhone, FaceVerification,
                    SecurityQuestions, Other),
                "The second factor on the no-ID-card path.",
            ),
        ),
        (
            "EvidenceKind",
            enum_of(
                &variants!(EvidenceKind: ResidentIdCard, Passport, ResidencePermit,
                    HkMacauPermit, TaiwanPermit, ForeignPermanentId, DrivingLicence, EId,
                    LinkedBankCard, SecondFactor),
                "One kind of evidence an identity rule may require.",
            ),
        ),
        (
            "Outcome",
            enum_of(
                &variants!(Outcome: Ok, Refused),
                "An audited action's outcome.",
            ),
        ),
    ]
}

fn shapes() -> Vec<(&'static str, Value)> {
    let mut v = errors_and_session();
    v.extend(bodies());
    v.extend(branch_and_staff());
    v.extend(case_shapes());
    v.extend(case_reads());
    v.extend(appointment_shapes());
    v.extend(retention_shapes());
    v
}

fn retention_shapes() -> Vec<(&'static str, Value)> {
    let hold = record(&[
        ("id", string()),
        ("case_id", uuid()),
        ("case_number", string()),
        ("reason", string()),
        ("set_by", string()),
        ("set_at", date_time()),
        ("released_by", nullable(string())),
        ("released_at", nullable(date_time())),
        ("release_reason", nullable(string())),
    ]);
    let item = record(&[
        ("case_id", uuid()),
        ("case_number", string()),
        ("state", r("CaseState")),
        ("opened_at", date_time()),
        ("closed_on", date()),
        ("classes", array(r("RecordClass"))),
        ("purged", array(r("RecordClass"))),
        ("skipped", nullable(string())),
    ]);
    let batch = record(&[
        ("id", string()),
        ("state", r("PurgeBatchState")),
        ("as_of", date()),
        ("prepared_by", string()),
        ("prepared_at", date_time()),
        ("approved_by", nullable(string())),
        ("approved_at", nullable(date_time())),
        ("withdrawn_reason", nullable(string())),
        ("items", array(r("PurgeItem"))),
        ("appointments_before", nullable(date())),
        ("appointments", u64_()),
    ]);
    let due_case = record(&[
        ("case_id", uuid()),
        ("case_number", string()),
        ("state", r("CaseState")),
        ("opened_at", date_time()),
        ("closed_on", date()),
        ("classes", array(r("DueClass"))),
        ("hold", nullable(r("LegalHold"))),
    ]);
    let reveal = record(&[
        ("seq", i64_()),
        ("at", date_time()),
        ("staff_id", string()),
        ("staff_name", nullable(string())),
        ("role", nullable(r("Role"))),
        ("terminal", string()),
        ("case_id", nullable(uuid())),
        ("case_number", nullable(string())),
        ("field", string()),
        ("reason", string()),
    ]);
    vec![
        (
            "PurgeMark",
            record(&[
                ("class", r("RecordClass")),
                ("batch_id", string()),
                ("prepared_by", string()),
                ("approved_by", string()),
                ("at", date_time()),
            ]),
        ),
        ("LegalHold", hold),
        ("PurgeItem", item),
        ("PurgeBatch", batch),
        (
            "ClassRetention",
            record(&[
                ("class", r("RecordClass")),
                ("years", u32_()),
                ("kept_until", nullable(date())),
                ("purged", nullable(r("PurgeMark"))),
            ]),
        ),
        (
            "RetentionStatus",
            record(&[
                ("closed_on", nullable(date())),
                ("classes", array(r("ClassRetention"))),
                ("hold", nullable(r("LegalHold"))),
            ]),
        ),
        (
            "DueClass",
            record(&[
                ("class", r("RecordClass")),
                ("kept_until", date()),
                ("removes", array(string())),
            ]),
        ),
        ("DueCase", due_case),
        (
            "RetentionReport",
            record(&[
                ("as_of", date()),
                ("case_years", u32_()),
                ("voucher_years", u32_()),
                ("due", array(r("DueCase"))),
                ("held", array(r("DueCase"))),
                ("pending", nullable(r("PurgeBatch"))),
                ("appointments_due", u64_()),
                ("appointments_before", date()),
                ("truncated", boolean()),
            ]),
        ),
        (
            "AuditFilter",
            strict(
                &[],
                &[
                    ("from", nullable(date())),
                    ("to", nullable(date())),
                    ("staff_id", nullable(string())),
                    ("case", nullable(string())),
                    ("action", nullable(string())),
                    ("refused_only", boolean()),
                    ("before", nullable(i64_())),
                    ("limit", nullable(u32_())),
                ],
            ),
        ),
        (
            "AuditPage",
            record(&[
                ("events", array(r("AuditEvent"))),
                ("case_numbers", map_of(string())),
                ("staff", map_of(string())),
                ("next", nullable(i64_())),
            ]),
        ),
        ("RevealRecord", reveal),
        (
            "RevealPage",
            record(&[
                ("reveals", array(r("RevealRecord"))),
                ("next", nullable(i64_())),
            ]),
        ),
    ]
}

fn errors_and_session() -> Vec<(&'static str, Value)> {
    let staff_view = record(&[
        ("id", string()),
        ("name", string()),
        ("role", r("Role")),
        ("must_change_password", boolean()),
        ("locked", boolean()),
        ("disabled", boolean()),
    ]);
    let terminal = record(&[
        ("id", described(string(), "`term-` and 12 hex characters")),
        ("name", string()),
        ("enrolled_at", date_time()),
        ("enrolled_by", string()),
        ("revoked_at", nullable(date_time())),
    ]);
    vec![
        (
            "Error",
            object(
                &[("code", r("ErrorCode")), ("message", string())],
                &[("fields", array(r("FieldError")))],
                true,
            ),
        ),
        (
            "FieldError",
            record(&[
                ("field", string()),
                ("rule", string()),
                ("message", string()),
            ]),
        ),
        (
            "Health",
            record(&[
                ("status", json!({ "type": "string", "enum": ["ok"] })),
                (
                    "store",
                    json!({ "type": "string", "enum": ["ok", "not-set-up", "unreachable"] }),
                ),
                ("version", string()),
            ]),
        ),
        (
            "SignedIn",
            record(&[
                (
                    "token",
                    json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }),
                ),
                ("staff", r("StaffView")),
                ("idle_minutes", u32_()),
                ("terminal", string()),
            ]),
        ),
        (
            "CurrentSession",
            record(&[
                ("staff_id", string()),
                ("role", nullable(r("Role"))),
                ("terminal", string()),
            ]),
        ),
        ("StaffView", staff_view),
        ("TerminalRecord", terminal),
        (
            "Enrolled",
            record(&[
                ("terminal", r("TerminalRecord")),
                (
                    "secret",
                    json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }),
                ),
            ]),
        ),
        (
            "EnrolmentCode",
            record(&[("code", string()), ("expires_at", date_time())]),
        ),
    ]
}

/// The body structs of `app.rs` (all `deny_unknown_fields`).
fn bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "SignIn",
            strict(&[("staff_id", string()), ("password", string())], &[]),
        ),
        (
            "Enrol",
            strict(
                &[
                    ("code", described(string(), "The one-time enrolment code")),
                    (
                        "name",
                        described(string(), "The terminal's name, 1-64 characters"),
                    ),
                ],
                &[],
            ),
        ),
        (
            "OwnPassword",
            strict(
                &[("old_password", string()), ("new_password", string())],
                &[],
            ),
        ),
        ("NewPassword", strict(&[("new_password", string())], &[])),
        ("Disabled", strict(&[("disabled", boolean())], &[])),
        (
            "Credentials",
            input(&[("staff_id", string()), ("password", string())], &[]),
        ),
        ("Cocheck", strict(&[("supervisor", r("Credentials"))], &[])),
        (
            "Authorize",
            strict(
                &[
                    ("supervisor", r("Credentials")),
                    ("decision", r("Decision")),
                ],
                &[
                    ("reason_code", nullable(r("ReasonCode"))),
                    ("reason", string()),
                ],
            ),
        ),
        (
            "ConfirmUnlock",
            strict(
                &[
                    ("supervisor", r("Credentials")),
                    ("unlock", r("UnlockInput")),
                ],
                &[],
            ),
        ),
        (
            "UnlockRequestBody",
            strict(&[("unlock", r("UnlockInput"))], &[]),
        ),
        (
            "Close",
            strict(&[], &[("receipt_waiver", nullable(string()))]),
        ),
        ("Reason", strict(&[("reason", string())], &[])),
        (
            "Reveal",
            strict(&[("field", r("RevealField")), ("reason", string())], &[]),
        ),
        (
            "DocChoice",
            strict(&[("kind", r("DocumentKind")), ("copy", r("CopyKind"))], &[]),
        ),
        ("Day", strict(&[("day", date())], &[])),
    ]
}

fn branch_and_staff() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Branch",
            input(
                &[
                    ("code", string()),
                    ("name", string()),
                    ("time_zone", described(string(), "IANA time zone")),
                    ("idle_lock_minutes", u32_()),
                    ("max_failed_logins", u32_()),
                    ("extra_materials", array(string())),
                    ("bank_copy_unmasked", boolean()),
                    ("retention_years", u32_()),
                ],
                &[
                    ("id_policy", r("IdPolicy")),
                    ("online_check_required", boolean()),
                    ("agents_allowed", boolean()),
                    ("signed_scan_required", boolean()),
                    ("voucher_retention_years", u32_()),
                    (
                        "operator_connectors",
                        nullable(array(r("OperatorConnector"))),
                    ),
                ],
            ),
        ),
        (
            "OperatorConnector",
            input(
                &[
                    ("wallet_operator", string()),
                    (
                        "base_url",
                        described(string(), "The operator API's base URL, no path"),
                    ),
                ],
                &[],
            ),
        ),
        ("IdPolicy", input(&[("rules", array(r("PolicyRule")))], &[])),
        (
            "PolicyRule",
            input(
                &[("id", string()), ("all_of", array(r("EvidenceKind")))],
                &[("cocheck", boolean())],
            ),
        ),
        (
            "NewStaff",
            input(
                &[
                    ("id", string()),
                    ("name", string()),
                    ("role", r("Role")),
                    ("password", string()),
                ],
                &[],
            ),
        ),
    ]
}

/// What the case steps read.
fn case_shapes() -> Vec<(&'static str, Value)> {
    let online_check = input(
        &[("result", r("OnlineCheckResult")), ("reference", string())],
        &[],
    );
    let second_factor = input(
        &[
            ("kind", r("SecondFactor")),
            ("passed", boolean()),
            ("reference", string()),
        ],
        &[("score", nullable(u8_()))],
    );
    let identity = input(
        &[
            (
                "kind",
                described(
                    string(),
                    "A document type (`prc-id`, `passport-mrz`, …) or `e-id`",
                ),
            ),
            ("number", string()),
            ("name_on_document", string()),
        ],
        &[
            ("mrz_line2", string()),
            ("reference", string()),
            ("valid_until", string()),
            ("online_check", nullable(r("OnlineCheck"))),
            ("second_factor", nullable(r("SecondFactorCheck"))),
        ],
    );
    let agent = input(
        &[
            ("name", string()),
            ("id_type", r("DocumentType")),
            ("id_number", string()),
            ("phone", string()),
            ("relationship", string()),
        ],
        &[("online_check", nullable(r("OnlineCheck")))],
    );
    let form = input(
        &[
            ("customer_name", string()),
            ("nationality", string()),
            ("occupation", string()),
            ("address", string()),
            ("phone", string()),
            ("id_type", r("DocumentType")),
            ("id_number", string()),
            ("id_valid_until", string()),
            ("wallet_operator", string()),
            ("wallet_id", string()),
            ("wallet_class", string()),
            ("reason", string()),
            ("declaration_true", boolean()),
            ("consent_query", boolean()),
            ("risk_acknowledged", boolean()),
        ],
        &[
            ("customer_name_latin", string()),
            ("sex", nullable(r("Sex"))),
            ("agent", nullable(r("Agent"))),
            ("lock_cause", nullable(r("LockCause"))),
            ("requested_action", nullable(r("RequestedAction"))),
            ("bank_card", string()),
            ("materials", array(string())),
        ],
    );
    vec![
        (
            "OpenCaseInput",
            input(
                &[],
                &[
                    ("appointment_id", nullable(uuid())),
                    ("customer_name", string()),
                    ("phone", string()),
                    ("lock_cause", nullable(r("LockCause"))),
                ],
            ),
        ),
        ("OnlineCheck", online_check),
        ("SecondFactorCheck", second_factor),
        ("IdentityInput", identity),
        ("Agent", agent),
        ("ApplicationForm", form),
        (
            "ContactInput",
            input(
                &[
                    ("channel", r("ContactChannel")),
                    ("ticket", string()),
                    ("result", string()),
                ],
                &[],
            ),
        ),
        (
            "UnlockInput",
            input(
                &[
                    ("operator_reference", string()),
                    ("notified_via", r("NotificationChannel")),
                ],
                &[],
            ),
        ),
        (
            "UnlockFailureInput",
            input(
                &[("reason", string()), ("next", r("UnlockFailureNext"))],
                &[("operator_ticket", string())],
            ),
        ),
        (
            "PrintDelivery",
            input(
                &[
                    ("channel", r("PrintChannel")),
                    ("outcome", r("PrintOutcome")),
                ],
                &[
                    ("printer", nullable(string())),
                    ("job_id", nullable(string())),
                    ("message", string()),
                ],
            ),
        ),
        (
            "CaseQuery",
            input(
                &[],
                &[
                    ("day", nullable(date())),
                    ("from", nullable(date())),
                    ("to", nullable(date())),
                    ("states", array(r("CaseState"))),
                    ("open_from_earlier_day", boolean()),
                    ("opened_by", nullable(string())),
                    ("wallet_operator", nullable(string())),
                    ("case_number", nullable(string())),
                    ("name_prefix", nullable(string())),
                    ("tail4", nullable(string())),
                    ("limit", nullable(u32_())),
                    ("after", nullable(r("CaseCursor"))),
                ],
            ),
        ),
        (
            "CaseCursor",
            input(
                &[
                    ("opened_day", date()),
                    ("opened_at", date_time()),
                    ("case_number", string()),
                ],
                &[],
            ),
        ),
    ]
}

/// What the case routes answer with.
fn case_reads() -> Vec<(&'static str, Value)> {
    let case = object(
        &[
            ("id", uuid()),
            ("case_number", string()),
            ("state", r("CaseState")),
            ("version", i64_()),
            ("appointment_id", nullable(uuid())),
            ("customer_name", string()),
            ("phone", string()),
            ("lock_cause", nullable(r("LockCause"))),
            ("opened_by", string()),
            ("opened_at", date_time()),
            ("updated_at", date_time()),
            ("makers", array(string())),
            ("identity", nullable(r("IdentityRecord"))),
            ("form", nullable(r("ApplicationForm"))),
            ("form_signed_at", nullable(date_time())),
            ("authorization", nullable(r("Authorization"))),
            ("unlock", nullable(r("UnlockRecord"))),
            ("unlock_failures", array(r("UnlockFailure"))),
            ("contacts", array(r("OperatorContact"))),
            ("last_reason", string()),
            ("form_revision", u32_()),
            ("prints", array(r("PrintRecord"))),
            ("receipt_waiver", nullable(string())),
            ("unlock_request", nullable(r("UnlockRequest"))),
            ("signed_scans", array(r("SignedScan"))),
            ("purges", array(r("PurgeMark"))),
        ],
        &[
            ("operator_unlock", r("OperatorUnlock")),
            ("wallet_check", r("WalletCheck")),
        ],
        true,
    );
    let identity = record(&[
        ("kind", r("DocumentType")),
        ("number", string()),
        ("name_on_document", string()),
        ("birth_date", nullable(date())),
        ("expiry", nullable(date())),
        ("name_matches", boolean()),
        ("reference", nullable(string())),
        ("needs_cocheck", boolean()),
        ("checked_by", string()),
        ("checked_at", date_time()),
        ("cochecked_by", nullable(string())),
        ("cochecked_at", nullable(date_time())),
        ("minor", boolean()),
        ("online_check", nullable(r("OnlineCheck"))),
        ("second_factor", nullable(r("SecondFactorCheck"))),
        ("sex", nullable(r("Sex"))),
        ("nationality", string()),
        ("name_latin", string()),
        ("long_term", boolean()),
    ]);
    let view = object(
        &[
            ("case", r("Case")),
            ("allowed", array(r("EventKind"))),
            ("history", array(r("AuditEvent"))),
            ("documents", array(r("DocumentRecord"))),
            ("freeze_route", nullable(string())),
            ("required_materials", array(string())),
            ("form_document", nullable(r("FormDocument"))),
            ("cocheck_needed", boolean()),
            ("amendment_draft", nullable(r("ApplicationForm"))),
            ("blocked", array(r("BlockedStep"))),
            ("prefill", nullable(r("FormPrefill"))),
            ("form_printed", boolean()),
            ("receipt_printed", boolean()),
            ("reprints", u32_()),
            ("online_check_required", boolean()),
            ("agents_allowed", boolean()),
            ("signed_scan_required", boolean()),
            ("staff", map_of(string())),
            ("pending_authorization", nullable(r("AuthorizationItem"))),
            ("retention", nullable(r("RetentionStatus"))),
        ],
        &[
            ("operator_connector", boolean()),
            ("notifications", array(r("OutboxMessage"))),
        ],
        true,
    );
    let mut v = vec![
        (
            "OperatorUnlock",
            record(&[
                (
                    "key",
                    described(string(), "The Idempotency-Key sent to the operator"),
                ),
                ("by", string()),
                ("at", date_time()),
                ("status", r("OperatorUnlockStatus")),
                ("calls", u32_()),
                ("last_answer", string()),
                ("reference", string()),
                ("settled_at", nullable(date_time())),
            ]),
        ),
        (
            "WalletCheck",
            record(&[
                (
                    "wallet",
                    described(string(), "The wallet asked about, masked"),
                ),
                ("status", r("WalletStatus")),
                ("by", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "WalletStatus",
            record(&[
                ("locked", boolean()),
                ("lock_cause", string()),
                ("locked_since", nullable(date_time())),
                ("authority_freeze", boolean()),
            ]),
        ),
        (
            "OutboxMessage",
            record(&[
                (
                    "id",
                    described(string(), "The message id (the gateway's duplicate key)"),
                ),
                ("case_id", uuid()),
                ("kind", r("OutboxKind")),
                ("lang", string()),
                ("text", string()),
                ("status", r("OutboxStatus")),
                ("attempts", u32_()),
                ("next_attempt_at", date_time()),
                ("claimed_until", nullable(date_time())),
                ("last_error", string()),
                ("created_at", date_time()),
                ("sent_at", nullable(date_time())),
            ]),
        ),
        (
            "DeliveryRound",
            record(&[
                ("claimed", u32_()),
                ("sent", u32_()),
                ("failed", u32_()),
                ("retried", u32_()),
                ("settled", u32_()),
                ("queued", u32_()),
                ("next_due", nullable(date_time())),
            ]),
        ),
        (
            "WalletQuery",
            strict(&[], &[("wallet_id", nullable(string()))]),
        ),
        (
            "UnlockRequest",
            record(&[
                ("operator_reference", string()),
                ("notified_via", r("NotificationChannel")),
                ("by", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "SignedScan",
            record(&[
                ("document_id", string()),
                ("form_revision", u32_()),
                ("media_type", string()),
                ("bytes", i64_()),
                ("sha256", string()),
                ("file_name", string()),
                ("by", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "AuthorizationItem",
            record(&[
                ("case_id", uuid()),
                ("case_number", string()),
                ("kind", r("AuthorizationKind")),
                ("state", r("CaseState")),
                (
                    "customer_name",
                    described(string(), "Masked, as on screens"),
                ),
                ("lock_cause", nullable(r("LockCause"))),
                ("makers", array(string())),
                ("requested_by", string()),
                ("terminal", string()),
                ("waiting_since", date_time()),
                ("opened_by", nullable(string())),
                ("opened_at", nullable(date_time())),
                ("actionable", boolean()),
                ("not_actionable", nullable(string())),
            ]),
        ),
        (
            "AuthorizationEvent",
            record(&[
                ("seq", i64_()),
                (
                    "event",
                    described(string(), "`requested`, `decided`, `opened` or `withdrawn`"),
                ),
                ("case_id", uuid()),
                ("kind", nullable(r("AuthorizationKind"))),
                ("action", string()),
                ("by", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "AuthorizationEvents",
            record(&[
                ("events", array(r("AuthorizationEvent"))),
                ("last_seq", i64_()),
            ]),
        ),
        ("CaseView", view),
        ("Case", case),
        ("IdentityRecord", identity),
        (
            "Authorization",
            record(&[
                ("decision", r("Decision")),
                ("supervisor", string()),
                ("reason_code", nullable(r("ReasonCode"))),
                ("reason", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "UnlockRecord",
            record(&[
                ("operator_reference", string()),
                ("notified_via", r("NotificationChannel")),
                ("notified_at", date_time()),
                ("confirmed_by", string()),
                ("authorized_by", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "UnlockFailure",
            record(&[
                ("reason", string()),
                ("next", r("UnlockFailureNext")),
                ("operator_ticket", string()),
                ("by", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "OperatorContact",
            record(&[
                ("channel", r("ContactChannel")),
                ("at", date_time()),
                ("ticket", string()),
                ("result", string()),
                ("by", string()),
            ]),
        ),
        (
            "PrintRecord",
            record(&[
                ("document_id", string()),
                ("kind", r("DocumentKind")),
                ("copy", r("CopyKind")),
                ("form_revision", u32_()),
                ("reprint", boolean()),
                ("channel", nullable(r("PrintChannel"))),
                ("printer", nullable(string())),
                ("job_id", nullable(string())),
                ("outcome", r("PrintOutcome")),
                ("message", string()),
                ("by", string()),
                ("at", date_time()),
            ]),
        ),
        (
            "BlockedStep",
            record(&[
                ("event", r("EventKind")),
                ("rule", string()),
                ("message", string()),
            ]),
        ),
        (
            "FormPrefill",
            record(&[
                ("sex", nullable(r("Sex"))),
                ("nationality", string()),
                ("id_valid_until", string()),
                ("birth_date", nullable(date())),
                ("customer_name_latin", string()),
                ("locked", array(string())),
            ]),
        ),
        (
            "FormDocument",
            record(&[("kind", r("DocumentType")), ("number", string())]),
        ),
    ];
    v.extend(audit_and_lists());
    v
}

fn audit_and_lists() -> Vec<(&'static str, Value)> {
    vec![
        (
            "AuditEvent",
            record(&[
                ("seq", i64_()),
                ("at", date_time()),
                ("staff_id", string()),
                ("role", nullable(r("Role"))),
                ("terminal", string()),
                ("case_id", nullable(uuid())),
                ("action", string()),
                ("from_state", nullable(r("CaseState"))),
                ("to_state", nullable(r("CaseState"))),
                ("reason", string()),
                ("outcome", r("Outcome")),
                ("detail", string()),
                ("prev_hash", string()),
                ("hash", string()),
            ]),
        ),
        (
            "AuditVerification",
            record(&[
                ("ok", boolean()),
                ("events", i64_()),
                ("broken_at", nullable(i64_())),
                ("expected", nullable(string())),
                ("found", nullable(string())),
                ("problem", nullable(string())),
            ]),
        ),
        (
            "DocumentRecord",
            record(&[
                ("id", string()),
                ("case_id", uuid()),
                ("kind", r("DocumentKind")),
                ("copy", r("CopyKind")),
                ("path", string()),
                ("sha256", string()),
                ("bytes", i64_()),
                ("at", date_time()),
                ("by", string()),
            ]),
        ),
        (
            "CaseSummary",
            record(&[
                ("id", uuid()),
                ("case_number", string()),
                ("state", r("CaseState")),
                ("customer_name", string()),
                ("phone_masked", string()),
                ("lock_cause", nullable(r("LockCause"))),
                ("opened_at", date_time()),
                ("opened_day", date()),
                ("updated_at", date_time()),
                ("opened_by", string()),
                ("appointment_id", nullable(uuid())),
                ("wallet_operator", string()),
                ("open_from_earlier_day", boolean()),
            ]),
        ),
        (
            "CasePage",
            record(&[
                ("cases", array(r("CaseSummary"))),
                ("more", boolean()),
                ("next", nullable(r("CaseCursor"))),
                ("today", date()),
                ("staff", map_of(string())),
            ]),
        ),
        (
            "CaseFilters",
            record(&[
                ("today", date()),
                ("tellers", array(r("CaseTeller"))),
                ("operators", array(string())),
            ]),
        ),
        (
            "CaseTeller",
            record(&[
                ("id", string()),
                ("name", string()),
                ("disabled", boolean()),
            ]),
        ),
        ("Revealed", record(&[("value", string())])),
    ]
}

fn appointment_shapes() -> Vec<(&'static str, Value)> {
    vec![
        (
            "Appointment",
            input(
                &[
                    ("id", uuid()),
                    ("reference", string()),
                    ("name", string()),
                    ("phone", string()),
                    ("id_type", r("DocumentType")),
                    ("id_number", string()),
                    ("wallet_operator", string()),
                    ("lock_cause", r("LockCause")),
                    ("slot_start", local_date_time()),
                    ("slot_end", local_date_time()),
                    ("notes", string()),
                    ("status", r("AppointmentStatus")),
                ],
                &[("case_id", nullable(uuid()))],
            ),
        ),
        (
            "ImportReport",
            record(&[
                ("imported", u32_()),
                ("updated", u32_()),
                ("unchanged", u32_()),
                ("rejected", array(r("RejectedRow"))),
            ]),
        ),
        (
            "RejectedRow",
            object(
                &[
                    ("row", u32_()),
                    ("field", string()),
                    ("code", r("RejectionCode")),
                    ("reason", string()),
                ],
                &[("arg", string())],
                true,
            ),
        ),
        ("Today", record(&[("today", date())])),
        ("NoShows", record(&[("no_shows", u32_())])),
    ]
}

// ------------------------------------------------------------------ parameters, responses

fn parameters() -> Value {
    json!({
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "Makes the step safe to retry: the same key answers the first \
                outcome again. 1-128 visible ASCII characters.",
            "schema": {
                "type": "string",
                "minLength": 1,
                "maxLength": 128,
                "pattern": "^[!-~]+$",
            },
        },
        "CaseId": path_param("id", uuid(), "The case's id (UUID)"),
        "StaffId": path_param("id", string(), "The staff member's id"),
        "TerminalId": path_param("id", string(), "The terminal's id (`term-…`)"),
        "DocumentId": path_param("doc", string(), "The stored document's id"),
        "BatchId": path_param("id", string(), "The destruction batch's id (`DR-…`)"),
        "CaseFilter": {
            "name": "case",
            "in": "query",
            "required": false,
            "description": "Only this case's notifications",
            "schema": { "type": "string", "format": "uuid" },
        },
        "ActiveOnly": {
            "name": "active_only",
            "in": "query",
            "required": false,
            "description": "Only holds not released (default true)",
            "schema": { "type": "boolean" },
        },
        "Q": query_param("q", "What to look for (the teller's text)"),
        "FileName": query_param(
            "file_name",
            "The file's name as picked (an import: `.csv` or `.json`; a scan: display only, the \
             type is read from the content)",
        ),
        "After": {
            "name": "after",
            "in": "query",
            "required": false,
            "description": "The audit seq of the last event seen; left out: from now (the \
                answer's `last_seq` is the position to read on from)",
            "schema": { "type": "integer", "format": "int64", "minimum": 0 },
        },
        "Limit": {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Audit events scanned, 1-1000 (default 1000)",
            "schema": { "type": "integer", "minimum": 1, "maximum": 1000 },
        },
        "LastEventId": {
            "name": "Last-Event-ID",
            "in": "header",
            "required": false,
            "description": "The `id` (audit seq) of the last event seen: the stream resumes \
                after it, from the store, then live (wins over `after`)",
            "schema": { "type": "string", "pattern": "^[0-9]+$" },
        },
    })
}

fn path_param(name: &str, schema: Value, description: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "required": true,
        "description": description,
        "schema": schema,
    })
}

fn query_param(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "query",
        "required": true,
        "description": description,
        "schema": string(),
    })
}

fn param(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

/// The error responses of `components/responses`, by status.
const ERRORS: &[(u16, &str, &str)] = &[
    (
        400,
        "BadRequest",
        "`invalid` (with `fields`: each failed field and rule) or `version-mismatch`",
    ),
    (
        401,
        "Unauthorized",
        "`session-expired`: no token, or one unknown, ended, idle too long, of another \
         terminal, or of a locked or disabled account (sign-in: wrong credentials, locked or \
         disabled account)",
    ),
    (
        403,
        "Forbidden",
        "`forbidden` (the role may not; a browser's `Origin`), `terminal-not-enrolled`, \
         `password-change-required`, `four-eyes`, or a supervisor's credentials refused \
         (`auth-failed`, `account-locked`, `account-disabled`)",
    ),
    (404, "NotFound", "`not-found`"),
    (
        409,
        "Conflict",
        "`illegal-transition`, `conflict`, `authority-freeze`, `not-set-up` or `already-set-up`",
    ),
    (
        413,
        "TooLarge",
        "`too-large`: the body is over the route's limit",
    ),
    (
        429,
        "TooManyRequests",
        "`too-many-requests`: too many failed password checks or enrolment codes from this address in a minute",
    ),
    (
        503,
        "Unavailable",
        "`unavailable`, `storage`, `render` or `internal`: nothing was recorded, or retry the \
         step with the same Idempotency-Key to learn its outcome",
    ),
];

fn version_header() -> Value {
    json!({ "x-unlockdesk-version": { "$ref": "#/components/headers/Version" } })
}

fn error_responses() -> Value {
    let mut m = Map::new();
    for (_, name, description) in ERRORS {
        m.insert(
            (*name).to_string(),
            json!({
                "description": description,
                "headers": version_header(),
                "content": { "application/json": { "schema": r("Error") } },
            }),
        );
    }
    Value::Object(m)
}

fn error_ref(status: u16) -> Value {
    let name = ERRORS
        .iter()
        .find(|(s, _, _)| *s == status)
        .map_or("Unavailable", |(_, n, _)| n);
    json!({ "$ref": format!("#/components/responses/{name}") })
}

/// A success with a JSON body.
fn json_ok(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "headers": version_header(),
        "content": { "application/json": { "schema": schema } },
    })
}

/// A success with bytes of `media` type.
fn bytes_ok(description: &str, media: &str) -> Value {
    json!({
        "description": description,
        "headers": version_header(),
        "content": { media: { "schema": { "type": "string", "format": "binary" } } },
    })
}

/// A success without a body.
fn empty_ok(description: &str) -> Value {
    json!({ "description": description, "headers": version_header() })
}

// ------------------------------------------------------------------ operations

/// One operation, built up by the helpers below.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    params: Vec<Value>,
    body: Option<Value>,
    success: (u16, Value),
    errors: Vec<u16>,
}

fn op(
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
) -> Op {
    Op {
        method,
        path,
        id,
        tag,
        summary,
        params: Vec::new(),
        body: None,
        success: (200, empty_ok("Done")),
        errors: Vec::new(),
    }
}

impl Op {
    fn params(mut self, names: &[&str]) -> Self {
        self.params.extend(names.iter().map(|n| param(n)));
        self
    }
    /// A case step: the case id and the optional `Idempotency-Key`.
    fn step(self) -> Self {
        self.params(&["CaseId", "IdempotencyKey"])
    }
    /// A JSON body of the named schema.
    fn json(mut self, schema: &str) -> Self {
        self.body = Some(json!({
            "required": true,
            "content": { "application/json": { "schema": r(schema) } },
        }));
        self
    }
    fn ok(mut self, status: u16, response: Value) -> Self {
        self.success = (status, response);
        self
    }
    /// The statuses of the use case itself (the ones every route shares are added).
    fn errs(mut self, statuses: &[u16]) -> Self {
        self.errors.extend_from_slice(statuses);
        self
    }

    fn is_open(&self) -> bool {
        OPEN_ROUTES.contains(&(self.method, self.path))
    }

    /// (path, lower-case method, operation object).
    fn build(self) -> (&'static str, String, Value) {
        let open = self.is_open();
        // Any request: 400 for another major version, 403 for a browser's Origin header.
        let mut statuses = vec![400, 403];
        if !open {
            statuses.extend([401, 503]);
        }
        if self.body.is_some() {
            statuses.push(413);
        }
        if self.path.contains('{') {
            statuses.push(404);
        }
        statuses.extend(&self.errors);
        statuses.sort_unstable();
        statuses.dedup();
        let mut responses = Map::new();
        responses.insert(self.success.0.to_string(), self.success.1);
        for s in statuses {
            responses.insert(s.to_string(), error_ref(s));
        }
        let mut o = json!({
            "operationId": self.id,
            "tags": [self.tag],
            "summary": self.summary,
            "responses": responses,
        });
        if !self.params.is_empty() {
            o["parameters"] = Value::Array(self.params);
        }
        if let Some(b) = self.body {
            o["requestBody"] = b;
        }
        if open {
            o["security"] = json!([]);
        }
        (self.path, self.method.to_ascii_lowercase(), o)
    }
}

fn operations() -> Vec<Op> {
    let mut v = session_ops();
    v.extend(branch_ops());
    v.extend(case_ops());
    v.extend(read_ops());
    v.extend(other_ops());
    v.extend(retention_ops());
    v
}

fn retention_ops() -> Vec<Op> {
    let batch_ok = |d: &str| json_ok(d, r("PurgeBatch"));
    let hold_ok = |d: &str| json_ok(d, r("LegalHold"));
    vec![
        op(
            "GET",
            "/api/v1/retention",
            "retentionReport",
            "retention",
            "The dry run: what is due for destruction today (admin, auditor)",
        )
        .ok(
            200,
            json_ok(
                "Due cases per record class, held cases, the batch waiting",
                r("RetentionReport"),
            ),
        ),
        op(
            "GET",
            "/api/v1/retention/batches",
            "purgeBatches",
            "retention",
            "The destruction register, newest first",
        )
        .ok(200, json_ok("Every batch", array(r("PurgeBatch")))),
        op(
            "POST",
            "/api/v1/retention/batches",
            "preparePurge",
            "retention",
            "Prepare a destruction batch of what is due (the first person)",
        )
        .ok(201, batch_ok("The prepared batch"))
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/retention/batches/{id}/approve",
            "approvePurge",
            "retention",
            "Approve and run a batch (the second person, of the other role)",
        )
        .params(&["BatchId"])
        .ok(200, batch_ok("The batch as run, with each case's outcome"))
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/retention/batches/{id}/withdraw",
            "withdrawPurge",
            "retention",
            "Withdraw a prepared batch (nothing is destroyed)",
        )
        .params(&["BatchId"])
        .json("Reason")
        .ok(200, batch_ok("The withdrawn batch"))
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/legal-holds",
            "legalHolds",
            "retention",
            "Legal holds, newest first",
        )
        .params(&["ActiveOnly"])
        .ok(200, json_ok("The holds", array(r("LegalHold")))),
        op(
            "POST",
            "/api/v1/cases/{id}/legal-hold",
            "setLegalHold",
            "retention",
            "Put a case under legal hold (not a change to the case)",
        )
        .params(&["CaseId"])
        .json("Reason")
        .ok(201, hold_ok("The hold"))
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/cases/{id}/legal-hold/release",
            "releaseLegalHold",
            "retention",
            "Release a case's legal hold",
        )
        .params(&["CaseId"])
        .json("Reason")
        .ok(200, hold_ok("The released hold")),
        op(
            "POST",
            "/api/v1/audit/search",
            "searchAudit",
            "audit",
            "One page of the audit trail, newest first, filtered (auditor, supervisor)",
        )
        .json("AuditFilter")
        .ok(200, json_ok("The page", r("AuditPage"))),
        op(
            "POST",
            "/api/v1/audit/reveals",
            "auditReveals",
            "audit",
            "Every reveal of a full number, newest first, one page",
        )
        .json("AuditFilter")
        .ok(200, json_ok("The page", r("RevealPage"))),
        op(
            "POST",
            "/api/v1/audit/export",
            "exportAudit",
            "audit",
            "The filtered trail as CSV (UTF-8 with BOM, formula-looking cells escaped)",
        )
        .json("AuditFilter")
        .ok(200, bytes_ok("The CSV", "text/csv")),
    ]
}

fn session_ops() -> Vec<Op> {
    let staff_ok = || json_ok("The staff account", r("StaffView"));
    vec![
        op(
            "GET",
            "/api/v1/health",
            "health",
            "server",
            "Whether the server and its store are up",
        )
        .ok(200, json_ok("Up (the store's state inside)", r("Health"))),
        op(
            "GET",
            "/api/v1/openapi.json",
            "openapi",
            "server",
            "This document",
        )
        .ok(
            200,
            json_ok("The OpenAPI document", json!({ "type": "object" })),
        ),
        op(
            "POST",
            "/api/v1/sessions",
            "signIn",
            "sessions",
            "Sign in (a session token)",
        )
        .json("SignIn")
        .ok(201, json_ok("Signed in", r("SignedIn")))
        .errs(&[401, 409, 429, 503]),
        op(
            "GET",
            "/api/v1/sessions/current",
            "currentSession",
            "sessions",
            "Who is signed in",
        )
        .ok(
            200,
            json_ok("The session's staff member", r("CurrentSession")),
        ),
        op(
            "DELETE",
            "/api/v1/sessions/current",
            "signOut",
            "sessions",
            "Sign out",
        )
        .ok(204, empty_ok("Signed out: the token is ended")),
        op(
            "POST",
            "/api/v1/sessions/current/password",
            "changeOwnPassword",
            "sessions",
            "Change the own password",
        )
        .json("OwnPassword")
        .ok(200, staff_ok())
        .errs(&[404, 409, 429]),
        op(
            "POST",
            "/api/v1/terminals/enrol",
            "enrol",
            "terminals",
            "Enrol a terminal",
        )
        .json("Enrol")
        .ok(201, json_ok("Enrolled: keep the secret", r("Enrolled")))
        .errs(&[409, 429, 503]),
        op(
            "POST",
            "/api/v1/terminals/codes",
            "issueCode",
            "terminals",
            "An enrolment code",
        )
        .ok(201, json_ok("A one-time code", r("EnrolmentCode")))
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/terminals",
            "listTerminals",
            "terminals",
            "The enrolled terminals",
        )
        .ok(200, json_ok("Every terminal", array(r("TerminalRecord")))),
        op(
            "POST",
            "/api/v1/terminals/{id}/revoke",
            "revokeTerminal",
            "terminals",
            "Revoke a terminal",
        )
        .params(&["TerminalId"])
        .ok(200, json_ok("The revoked terminal", r("TerminalRecord")))
        .errs(&[409]),
    ]
}

fn branch_ops() -> Vec<Op> {
    let staff_ok = || json_ok("The staff account", r("StaffView"));
    vec![
        op("GET", "/api/v1/branch", "branch", "branch", "The branch")
            .ok(200, json_ok("The branch", r("Branch")))
            .errs(&[409]),
        op(
            "PUT",
            "/api/v1/branch",
            "updateBranch",
            "branch",
            "Change the branch",
        )
        .json("Branch")
        .ok(200, json_ok("The branch as stored", r("Branch")))
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/today",
            "today",
            "branch",
            "The branch-local date",
        )
        .ok(200, json_ok("Today", r("Today")))
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/staff",
            "listStaff",
            "staff",
            "Every staff account",
        )
        .ok(200, json_ok("The accounts", array(r("StaffView")))),
        op(
            "POST",
            "/api/v1/staff",
            "addStaff",
            "staff",
            "Add a staff account",
        )
        .json("NewStaff")
        .ok(201, json_ok("The new account", r("StaffView")))
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/staff/{id}/password",
            "resetPassword",
            "staff",
            "Reset a password",
        )
        .params(&["StaffId"])
        .json("NewPassword")
        .ok(200, staff_ok())
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/staff/{id}/disabled",
            "setDisabled",
            "staff",
            "Disable or enable an account",
        )
        .params(&["StaffId"])
        .json("Disabled")
        .ok(200, staff_ok())
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/staff/{id}/unlock",
            "unlockStaff",
            "staff",
            "Unlock a locked account",
        )
        .params(&["StaffId"])
        .ok(200, staff_ok())
        .errs(&[409]),
    ]
}

fn case_ops() -> Vec<Op> {
    let view = || json_ok("The case after the step", r("CaseView"));
    let step = |path, id, summary| {
        op("POST", path, id, "cases", summary)
            .step()
            .ok(200, view())
            .errs(&[409])
    };
    vec![
        op("POST", "/api/v1/cases", "openCase", "cases", "Open a case")
            .params(&["IdempotencyKey"])
            .json("OpenCaseInput")
            .ok(201, json_ok("The new case", r("CaseView")))
            .errs(&[404, 409]),
        step(
            "/api/v1/cases/{id}/identity",
            "verifyIdentity",
            "Verify the identity",
        )
        .json("IdentityInput"),
        step(
            "/api/v1/cases/{id}/cocheck",
            "cocheck",
            "A supervisor co-checks the identity",
        )
        .json("Cocheck")
        .errs(&[429]),
        step(
            "/api/v1/cases/{id}/form",
            "recordForm",
            "Record (or amend) the form",
        )
        .json("ApplicationForm"),
        step(
            "/api/v1/cases/{id}/signed",
            "confirmSigned",
            "The signed form is in hand",
        ),
        step(
            "/api/v1/cases/{id}/submit",
            "submit",
            "Submit for authorization",
        ),
        step(
            "/api/v1/cases/{id}/authorize",
            "authorize",
            "A supervisor decides",
        )
        .json("Authorize")
        .errs(&[429]),
        step(
            "/api/v1/cases/{id}/contacts",
            "logContact",
            "Log an operator contact",
        )
        .json("ContactInput"),
        step(
            "/api/v1/cases/{id}/unlock",
            "confirmUnlock",
            "Confirm the unlock",
        )
        .json("ConfirmUnlock")
        .errs(&[429]),
        step(
            "/api/v1/cases/{id}/unlock-request",
            "requestConfirmUnlock",
            "Ask a supervisor to confirm the unlock (queued)",
        )
        .json("UnlockRequestBody"),
        op(
            "POST",
            "/api/v1/cases/{id}/signed-scan",
            "attachSignedScan",
            "cases",
            "Attach a scan or photo of the signed form",
        )
        .params(&["CaseId", "IdempotencyKey", "FileName"])
        .ok(200, view())
        .errs(&[409, 413])
        .raw_body(),
        step(
            "/api/v1/cases/{id}/unlock-failure",
            "unlockFailure",
            "Record a failed unlock",
        )
        .json("UnlockFailureInput"),
        step("/api/v1/cases/{id}/close", "closeCase", "Close the case").json("Close"),
        step("/api/v1/cases/{id}/cancel", "cancelCase", "Cancel the case").json("Reason"),
        step(
            "/api/v1/cases/{id}/refuse-freeze",
            "refuseFreeze",
            "Refuse an authority-ordered freeze",
        )
        .json("Reason"),
        op(
            "POST",
            "/api/v1/cases/{id}/wallet-status",
            "walletStatus",
            "cases",
            "Ask the wallet operator's connector about the case's wallet",
        )
        .params(&["CaseId"])
        .json("WalletQuery")
        .ok(200, view())
        .errs(&[409]),
        step(
            "/api/v1/cases/{id}/request-unlock",
            "requestUnlock",
            "Ask the operator's connector for the unlock (or ask again on a waiting case)",
        ),
        op(
            "GET",
            "/api/v1/notifications",
            "notifications",
            "notifications",
            "Customer notifications (SMS), newest first",
        )
        .params(&["CaseFilter"])
        .ok(200, json_ok("The notifications", array(r("OutboxMessage")))),
        op(
            "POST",
            "/api/v1/notifications/deliver",
            "deliverNotifications",
            "notifications",
            "Run one round of the outbox worker now",
        )
        .ok(200, json_ok("What the round did", r("DeliveryRound"))),
    ]
}

fn read_ops() -> Vec<Op> {
    let pdf = || bytes_ok("The document (PDF)", "application/pdf");
    vec![
        op(
            "POST",
            "/api/v1/cases/query",
            "listCases",
            "cases",
            "A page of cases",
        )
        .json("CaseQuery")
        .ok(200, json_ok("The page, newest first", r("CasePage"))),
        op(
            "GET",
            "/api/v1/cases/filters",
            "caseFilters",
            "cases",
            "A case query's choices",
        )
        .ok(200, json_ok("Tellers and operators", r("CaseFilters"))),
        op(
            "GET",
            "/api/v1/cases/search",
            "findCases",
            "cases",
            "Find cases by text",
        )
        .params(&["Q"])
        .ok(200, json_ok("The matching cases", array(r("CaseSummary")))),
        op("GET", "/api/v1/cases/{id}", "caseView", "cases", "A case")
            .params(&["CaseId"])
            .ok(
                200,
                json_ok("The case as the caller may see it", r("CaseView")),
            ),
        op(
            "POST",
            "/api/v1/cases/{id}/reveal",
            "reveal",
            "cases",
            "Reveal a personal field",
        )
        .params(&["CaseId"])
        .json("Reveal")
        .ok(200, json_ok("The full value (audited)", r("Revealed")))
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/cases/{id}/audit",
            "caseAudit",
            "audit",
            "A case's audit events",
        )
        .params(&["CaseId"])
        .ok(
            200,
            json_ok("The events, oldest first", array(r("AuditEvent"))),
        ),
        op(
            "POST",
            "/api/v1/cases/{id}/prints",
            "printDocument",
            "printing",
            "Print a document",
        )
        .params(&["CaseId"])
        .json("DocChoice")
        .ok(201, json_ok("The stored document", r("DocumentRecord")))
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/cases/{id}/prints/{doc}/delivery",
            "recordDelivery",
            "printing",
            "How a print reached paper",
        )
        .params(&["CaseId", "DocumentId"])
        .json("PrintDelivery")
        .ok(200, json_ok("The case with the delivery", r("CaseView")))
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/cases/{id}/documents/{doc}",
            "documentBytes",
            "printing",
            "A stored document's bytes",
        )
        .params(&["CaseId", "DocumentId"])
        .ok(
            200,
            json!({
                "description": "The document: a printed PDF, or an attached scan as its content is",
                "headers": version_header(),
                "content": {
                    "application/pdf": { "schema": { "type": "string", "format": "binary" } },
                    "image/png": { "schema": { "type": "string", "format": "binary" } },
                    "image/jpeg": { "schema": { "type": "string", "format": "binary" } },
                },
            }),
        ),
        op(
            "POST",
            "/api/v1/cases/{id}/render",
            "renderDocument",
            "printing",
            "A preview",
        )
        .params(&["CaseId"])
        .json("DocChoice")
        .ok(200, pdf())
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/audit/verify",
            "verifyAudit",
            "audit",
            "Walk the audit chain",
        )
        .ok(200, json_ok("The chain's state", r("AuditVerification"))),
        op(
            "GET",
            "/api/v1/authorizations",
            "authorizationQueue",
            "authorizations",
            "The supervisors' queue (待授权), oldest first",
        )
        .ok(
            200,
            json_ok(
                "Every request waiting for a supervisor, masked; `actionable` for the caller",
                array(r("AuthorizationItem")),
            ),
        ),
        op(
            "GET",
            "/api/v1/authorizations/events",
            "authorizationEvents",
            "authorizations",
            "The queue's events after a position (polling)",
        )
        .params(&["After", "Limit"])
        .ok(
            200,
            json_ok(
                "The events and the position read up to",
                r("AuthorizationEvents"),
            ),
        ),
        op(
            "POST",
            "/api/v1/authorizations/{id}/open",
            "openAuthorization",
            "authorizations",
            "A supervisor opens the request waiting on a case (audited)",
        )
        .params(&["CaseId"])
        .ok(
            200,
            json_ok("The request, opened by the caller", r("AuthorizationItem")),
        )
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/events",
            "events",
            "authorizations",
            "The queue's live events (Server-Sent Events)",
        )
        .params(&["After", "LastEventId"])
        .ok(
            200,
            json!({
                "description": "`text/event-stream`, one event at a time (this schema is the \
                    event's): `id` = audit seq, `event: authorization` with `data` one \
                    AuthorizationEvent as JSON; `: ping` every 15 s; `event: session-ended` when \
                    the session ends; `event: resync` when the asked position is more than \
                    20,000 audit events behind (read the queue again; the stream goes on from now)",
                "headers": version_header(),
                "content": {
                    "text/event-stream": {
                        "schema": {
                            "type": "object",
                            "required": ["data"],
                            "properties": {
                                "data": {
                                    "type": "string",
                                    "description": "authorization: an AuthorizationEvent as JSON",
                                },
                                "event": {
                                    "type": "string",
                                    "enum": ["authorization", "session-ended", "resync"],
                                },
                                "id": { "type": "string", "pattern": "^[0-9]+$" },
                                "retry": { "type": "integer" },
                            },
                        },
                    },
                },
            }),
        ),
    ]
}

fn other_ops() -> Vec<Op> {
    let list = || json_ok("The appointments", array(r("Appointment")));
    vec![
        op(
            "POST",
            "/api/v1/appointments",
            "addAppointment",
            "appointments",
            "Book one",
        )
        .json("Appointment")
        .ok(201, empty_ok("Booked"))
        .errs(&[409]),
        op(
            "GET",
            "/api/v1/appointments/today",
            "appointmentsToday",
            "appointments",
            "Today's appointments",
        )
        .ok(200, list()),
        op(
            "GET",
            "/api/v1/appointments/search",
            "findAppointments",
            "appointments",
            "Find appointments by text",
        )
        .params(&["Q"])
        .ok(200, list()),
        op(
            "POST",
            "/api/v1/appointments/import",
            "importAppointments",
            "appointments",
            "Import the call centre's file (16 MiB at most)",
        )
        .params(&["FileName"])
        .ok(200, json_ok("What the import did", r("ImportReport")))
        .errs(&[409, 413])
        .raw_body(),
        op(
            "POST",
            "/api/v1/appointments/no-shows",
            "markNoShows",
            "appointments",
            "Mark a day's no-shows",
        )
        .json("Day")
        .ok(200, json_ok("How many were marked", r("NoShows")))
        .errs(&[409]),
        op(
            "POST",
            "/api/v1/backup",
            "backup",
            "backup",
            "A snapshot of the store",
        )
        .ok(200, bytes_ok("The backup file", "application/octet-stream")),
    ]
}

impl Op {
    /// The import's body: the file's bytes (CSV or JSON), whatever the content type.
    fn raw_body(mut self) -> Self {
        self.body = Some(json!({
            "required": true,
            "content": {
                "application/octet-stream": {
                    "schema": { "type": "string", "format": "binary" },
                },
            },
        }));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn doc() -> Value {
        serde_json::from_str(&document()).expect("the document is JSON")
    }

    /// (METHOD, full path) of every `.route(...)` in `app::router`, read from its source.
    fn routes_in_app_rs() -> Vec<(String, String)> {
        let src = include_str!("app.rs");
        let start = src.find("pub fn router(").expect("app.rs has router()");
        let body = &src[start..];
        let body = &body[..body.find("\n}\n").expect("router() ends")];
        let mut out = Vec::new();
        for chunk in body.split(".route(").skip(1) {
            // The call's arguments: up to the parenthesis that closes `.route(`.
            let mut depth = 1;
            let end = chunk
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("the route call closes");
            let args = &chunk[..end];
            let path = args.split('"').nth(1).expect("a path literal");
            let handlers = &args[args.find(',').expect("a handler")..];
            for m in ["get", "post", "put", "delete", "patch"] {
                let called = handlers.match_indices(&format!("{m}(")).any(|(i, _)| {
                    let before = if i == 0 {
                        b' '
                    } else {
                        handlers.as_bytes()[i - 1]
                    };
                    !(before.is_ascii_alphanumeric() || before == b'_')
                });
                if called {
                    out.push((m.to_ascii_uppercase(), format!("/api/v1{path}")));
                }
            }
        }
        out
    }

    #[test]
    fn routes_mirror_the_router_in_app_rs() {
        let app: BTreeSet<(String, String)> = routes_in_app_rs().into_iter().collect();
        let ours: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| (m.to_string(), p.to_string()))
            .collect();
        assert_eq!(ours.len(), ROUTES.len(), "ROUTES lists a route twice");
        assert_eq!(app, ours, "ROUTES differs from app::router()");
        let src = include_str!("app.rs");
        let open = &src[src.find("fn is_open(").expect("is_open")..];
        let open = &open[..open.find("\n}\n").expect("is_open ends")];
        for (m, p) in ROUTES {
            let listed = open.contains(&format!("(\"{m}\", \"{p}\")"));
            assert_eq!(
                listed,
                OPEN_ROUTES.contains(&(*m, *p)),
                "{m} {p}: app::is_open and OPEN_ROUTES disagree"
            );
        }
    }

    #[test]
    fn the_document_is_openapi_3_with_every_route() {
        let d = doc();
        assert!(d["openapi"].as_str().unwrap().starts_with("3."));
        assert!(d["info"]["title"].is_string() && d["info"]["version"].is_string());
        let paths = d["paths"].as_object().unwrap();
        let mut n = 0;
        for (path, item) in paths {
            n += item.as_object().unwrap().len();
            assert!(
                ROUTES.iter().any(|(_, p)| p == path),
                "{path} is documented but not routed"
            );
        }
        assert_eq!(n, ROUTES.len(), "one operation per route");
        let mut ids = BTreeSet::new();
        for (m, p) in ROUTES {
            let o = &paths[*p][m.to_ascii_lowercase()];
            assert!(o.is_object(), "{m} {p} is not documented");
            assert!(ids.insert(o["operationId"].as_str().unwrap().to_string()));
            let responses = o["responses"].as_object().unwrap();
            let success: Vec<&String> = responses.keys().filter(|k| k.starts_with('2')).collect();
            assert_eq!(success.len(), 1, "{m} {p}: one success status");
            for s in ["400", "403"] {
                assert!(responses.contains_key(s), "{m} {p}: no {s}");
            }
            let open = OPEN_ROUTES.contains(&(*m, *p));
            assert_eq!(o["security"] == json!([]), open, "{m} {p}: security");
            if !open {
                for s in ["401", "503"] {
                    assert!(responses.contains_key(s), "{m} {p}: no {s}");
                }
            }
            if o.get("requestBody").is_some() {
                assert!(responses.contains_key("413"), "{m} {p}: a body and no 413");
            }
            // Path parameters: one per `{name}`, required.
            let templated: BTreeSet<&str> = p
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: BTreeSet<String> = o["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|x| resolve(&d, x))
                        .filter(|x| x["in"] == "path")
                        .map(|x| x["name"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            let templated: BTreeSet<String> = templated.into_iter().map(String::from).collect();
            assert_eq!(templated, declared, "{m} {p}: path parameters");
        }
        assert!(paths["/api/v1/sessions"]["post"]["responses"]
            .as_object()
            .unwrap()
            .contains_key("429"));
        let step = &paths["/api/v1/cases/{id}/submit"]["post"];
        assert!(step["parameters"].to_string().contains("IdempotencyKey"));
        let render = &paths["/api/v1/cases/{id}/render"]["post"]["responses"]["200"];
        assert!(render["content"]["application/pdf"].is_object());
        let backup = &paths["/api/v1/backup"]["post"]["responses"]["200"];
        assert!(backup["content"]["application/octet-stream"].is_object());
    }

    fn resolve<'a>(d: &'a Value, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => d
                .pointer(r.trim_start_matches('#'))
                .expect("the reference resolves"),
            None => v,
        }
    }

    #[test]
    fn every_reference_resolves() {
        let d = doc();
        fn walk(d: &Value, v: &Value) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        assert!(
                            d.pointer(r.trim_start_matches('#')).is_some(),
                            "{r} does not resolve"
                        );
                    }
                    m.values().for_each(|x| walk(d, x));
                }
                Value::Array(a) => a.iter().for_each(|x| walk(d, x)),
                _ => {}
            }
        }
        walk(&d, &d);
    }

    #[test]
    fn enums_are_the_serde_spellings() {
        let d = doc();
        let s = &d["components"]["schemas"];
        assert_eq!(s["DocumentType"]["enum"][1], "prc-id-15");
        assert_eq!(s["RevealField"]["enum"][0], "id-number");
        assert_eq!(s["ErrorCode"]["enum"][0], "invalid");
        assert_eq!(s["SecondFactor"]["enum"][1], "sms-to-registered-phone");
        assert_eq!(
            s["Role"]["enum"],
            json!(["teller", "supervisor", "admin", "auditor"])
        );
        assert_eq!(s["SignIn"]["additionalProperties"], false);
        assert_eq!(s["SignIn"]["required"], json!(["staff_id", "password"]));
    }

    /// A sample of every body shape the handlers read parses with serde as the document says:
    /// required fields are the ones serde needs.
    #[test]
    fn required_fields_are_what_serde_needs() {
        use unlockdesk_core::dto::*;
        fn minimal(d: &Value, name: &str) -> Value {
            let s = &d["components"]["schemas"][name];
            let mut o = Map::new();
            for k in s["required"].as_array().into_iter().flatten() {
                let k = k.as_str().unwrap();
                o.insert(k.to_string(), sample(d, &s["properties"][k]));
            }
            Value::Object(o)
        }
        fn sample(d: &Value, s: &Value) -> Value {
            let s = resolve(d, s);
            if let Some(e) = s["enum"].as_array() {
                return e[0].clone();
            }
            if let Some(a) = s["allOf"].as_array() {
                return sample(d, &a[0]);
            }
            match (s["type"].as_str(), s["format"].as_str()) {
                (Some("string"), Some("uuid")) => json!("7c1e6f0e-5d4a-4b8e-9a43-1f2d3c4b5a69"),
                (Some("string"), Some("date")) => json!("2026-03-02"),
                (Some("string"), Some("date-time")) => json!("2026-03-02T09:30:00Z"),
                (Some("string"), _) if s.get("pattern").is_some() => s["example"].clone(),
                (Some("string"), _) => json!("x"),
                (Some("integer"), _) => json!(1),
                (Some("boolean"), _) => json!(true),
                (Some("array"), _) => json!([]),
                _ => {
                    let mut o = Map::new();
                    for k in s["required"].as_array().into_iter().flatten() {
                        let k = k.as_str().unwrap();
                        o.insert(k.to_string(), sample(d, &s["properties"][k]));
                    }
                    Value::Object(o)
                }
            }
        }
        fn parses<T: serde::de::DeserializeOwned>(d: &Value, name: &str) {
            let v = minimal(d, name);
            if let Err(e) = serde_json::from_value::<T>(v.clone()) {
                panic!("{name}: {v} does not parse: {e}");
            }
            // Each required field is needed.
            for k in v.as_object().unwrap().keys() {
                let mut less = v.clone();
                less.as_object_mut().unwrap().remove(k);
                assert!(
                    serde_json::from_value::<T>(less).is_err(),
                    "{name}.{k} is documented required but serde does without it"
                );
            }
        }
        let d = doc();
        parses::<Branch>(&d, "Branch");
        parses::<NewStaff>(&d, "NewStaff");
        parses::<OpenCaseInput>(&d, "OpenCaseInput");
        parses::<IdentityInput>(&d, "IdentityInput");
        parses::<ApplicationForm>(&d, "ApplicationForm");
        parses::<Agent>(&d, "Agent");
        parses::<ContactInput>(&d, "ContactInput");
        parses::<UnlockInput>(&d, "UnlockInput");
        parses::<UnlockFailureInput>(&d, "UnlockFailureInput");
        parses::<PrintDelivery>(&d, "PrintDelivery");
        parses::<unlockdesk_core::ports::CaseQuery>(&d, "CaseQuery");
        parses::<unlockdesk_core::ports::CaseCursor>(&d, "CaseCursor");
        parses::<Appointment>(&d, "Appointment");
        parses::<Credentials>(&d, "Credentials");
        parses::<OnlineCheck>(&d, "OnlineCheck");
        parses::<SecondFactorCheck>(&d, "SecondFactorCheck");
    }
}
