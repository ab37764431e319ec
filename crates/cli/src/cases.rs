//! `case …` and `appointments …` subcommands: one per use case.

use clap::{Args, Subcommand};
use serde_json::json;
use unlockdesk_core::dto::{self as service, CaseView};
use unlockdesk_core::ports::CaseQuery;
use unlockdesk_core::*;

use crate::choices::{self, one_of};
use crate::columns::{self, LocalTime};
use crate::out::Out;
use crate::{Ctx, Fail, Res};
use unlockdesk_core::identity::policy::SecondFactor;

#[derive(Args, Debug)]
pub struct CaseRef {
    /// Case id (UUID) or case number.
    #[arg(long = "case", value_name = "CASE")]
    case: String,
    /// Idempotency key: the same command repeated with the same key makes one transition; a
    /// key already used for another case, step or decision is refused (`conflict`).
    #[arg(long, value_name = "KEY")]
    idempotency_key: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum CaseCmd {
    /// List cases (masked), newest first: one page (--limit, default 100; a note says when
    /// more match). Default: every day and state.
    List {
        /// Only cases in this state (repeat for several).
        #[arg(long, value_parser = one_of(CaseState::ALL, CaseState::as_str))]
        state: Vec<CaseState>,
        /// Only cases opened on this branch-local day (YYYY-MM-DD or `today`).
        #[arg(long, value_name = "YYYY-MM-DD|today")]
        day: Option<String>,
        /// First branch-local opening day (a range spans at most 366 days).
        #[arg(long, value_name = "YYYY-MM-DD")]
        from: Option<String>,
        /// Last branch-local opening day (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        to: Option<String>,
        /// Only cases left open from an earlier day (opened before today, not finished).
        #[arg(long)]
        left_open: bool,
        /// Only cases opened by this teller (staff id).
        #[arg(long, value_name = "STAFF_ID")]
        teller: Option<String>,
        /// Only cases with this wallet operator (exactly as shown).
        #[arg(long, value_name = "NAME")]
        operator: Option<String>,
        /// Rows to show (1 to 500).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
        /// Case number, name prefix, or last 4 of ID/phone.
        #[arg(long, value_name = "TEXT")]
        find: Option<String>,
    },
    /// One case with its history (masked).
    Show {
        /// Case id (UUID) or case number.
        #[arg(value_name = "CASE")]
        id: String,
    },
    /// Write a printed document of the case, as the store keeps it (decrypted, its SHA-256
    /// checked), to FILE (mode 0600): the filed copy, for an auditor or a reprint check. Needs
    /// --as (a bank copy carries full numbers: the roles that may print it).
    Document {
        /// Case id (UUID) or case number.
        #[arg(long = "case", value_name = "CASE")]
        case: String,
        /// The document's id (`case show --json` lists them).
        #[arg(long = "id", value_name = "DOCUMENT_ID")]
        id: String,
        /// Where to write the bytes.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
    },
    /// Open a case: from an appointment (--appointment REF) or as a walk-in (--name ...).
    Open {
        /// The booked appointment's reference (the customer's details come from it).
        #[arg(long, value_name = "REF")]
        appointment: Option<String>,
        /// A walk-in's name.
        #[arg(long)]
        name: Option<String>,
        /// A walk-in's mainland mobile number.
        #[arg(long)]
        phone: Option<String>,
        /// Why the wallet is locked; authority-freeze and anti-fraud-restriction are refused
        /// at once (the counter cannot lift them).
        #[arg(long, value_parser = one_of(LockCause::ALL, LockCause::as_str))]
        lock_cause: Option<LockCause>,
        /// Idempotency key: the same command repeated with the same key opens one case.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// Record the identity check.
    VerifyIdentity {
        #[command(flatten)]
        r: CaseRef,
        /// The document presented (e-id: the electronic ID, verified online with --reference).
        #[arg(long, value_parser = choices::identity_kinds())]
        kind: String,
        /// Number; for passport-mrz the first MRZ line.
        #[arg(long, allow_hyphen_values = true)]
        number: String,
        /// A passport's second MRZ line.
        #[arg(long, allow_hyphen_values = true, value_name = "LINE")]
        mrz_line2: Option<String>,
        /// The name as printed on the document (the Latin name for a passport).
        #[arg(long, value_name = "NAME")]
        name_on_document: String,
        /// The e-ID's online verification reference (a bank card's second factor goes in
        /// --second-factor and --second-factor-ref).
        #[arg(long)]
        reference: Option<String>,
        /// Validity end printed on the document: YYYY-MM-DD, or 长期 / long-term.
        #[arg(long, value_name = "YYYY-MM-DD|long-term")]
        valid_until: Option<String>,
        /// Result of the online citizen-identity check (联网核查); required for a resident
        /// ID card or residence permit when the branch says so (the default).
        #[arg(
            long,
            value_name = "RESULT",
            requires = "online_ref",
            value_parser = one_of(OnlineCheckResult::ALL, OnlineCheckResult::as_str)
        )]
        online_check: Option<OnlineCheckResult>,
        /// The online check's serial number (联网核查流水号).
        #[arg(long, value_name = "REF", requires = "online_check")]
        online_ref: Option<String>,
        /// Second factor on the no-ID-card path.
        #[arg(
            long,
            value_name = "KIND",
            requires = "second_factor_ref",
            value_parser = one_of(choices::SECOND_FACTORS, choices::second_factor_name)
        )]
        second_factor: Option<SecondFactor>,
        /// The second factor's reference (e.g. the face-verification or SMS transaction id).
        #[arg(long, value_name = "REF", requires = "second_factor")]
        second_factor_ref: Option<String>,
        /// Face-verification similarity score, 0-100.
        #[arg(long, value_name = "0-100", requires = "second_factor")]
        second_factor_score: Option<u8>,
        /// The second factor did not verify (recorded, and the identity step refused).
        #[arg(long, requires = "second_factor")]
        second_factor_failed: bool,
    },
    /// The supervisor's co-check of a non-ID-card document (--as SUPERVISOR or --supervisor).
    Cocheck {
        #[command(flatten)]
        r: CaseRef,
        /// The co-checking supervisor, when not --as (password from
        /// $UNLOCKDESK_SUPERVISOR_PASSWORD or a prompt).
        #[arg(long, value_name = "STAFF_ID")]
        supervisor: Option<String>,
    },
    /// Record or amend the application form from a JSON file (`-` for stdin).
    RecordForm {
        #[command(flatten)]
        r: CaseRef,
        /// The form as JSON (tests/fixtures/form.json shows the shape), `-` for stdin.
        #[arg(long, value_name = "FILE")]
        form: String,
    },
    /// Confirm the signed paper is in hand.
    ConfirmSigned {
        #[command(flatten)]
        r: CaseRef,
    },
    /// Submit for authorization.
    Submit {
        #[command(flatten)]
        r: CaseRef,
    },
    /// Approve (supervisor: --as SUPERVISOR, or --supervisor ID with
    /// $UNLOCKDESK_SUPERVISOR_PASSWORD).
    Approve {
        #[command(flatten)]
        r: CaseRef,
        /// The authorizing supervisor, when not --as (password from
        /// $UNLOCKDESK_SUPERVISOR_PASSWORD or a prompt).
        #[arg(long, value_name = "STAFF_ID")]
        supervisor: Option<String>,
        /// The supervisor's remark (授权意见).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Return for more information (supervisor).
    Return {
        #[command(flatten)]
        r: CaseRef,
        /// The authorizing supervisor, when not --as (password from
        /// $UNLOCKDESK_SUPERVISOR_PASSWORD or a prompt).
        #[arg(long, value_name = "STAFF_ID")]
        supervisor: Option<String>,
        /// Why, as a code.
        #[arg(long, value_parser = one_of(ReasonCode::ALL, ReasonCode::as_str))]
        reason_code: ReasonCode,
        /// Why, in words (beside the code).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Reject (supervisor).
    Reject {
        #[command(flatten)]
        r: CaseRef,
        /// The authorizing supervisor, when not --as (password from
        /// $UNLOCKDESK_SUPERVISOR_PASSWORD or a prompt).
        #[arg(long, value_name = "STAFF_ID")]
        supervisor: Option<String>,
        /// Why, as a code.
        #[arg(long, value_parser = one_of(ReasonCode::ALL, ReasonCode::as_str))]
        reason_code: ReasonCode,
        /// Why, in words (beside the code).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Log a contact with the wallet operator.
    Contact {
        #[command(flatten)]
        r: CaseRef,
        /// How the operator was reached.
        #[arg(long, value_parser = one_of(ContactChannel::ALL, ContactChannel::as_str))]
        channel: ContactChannel,
        /// The operator's ticket or reference for this contact.
        #[arg(long)]
        ticket: String,
        /// What the operator answered, e.g. "unlocked".
        #[arg(long)]
        result: String,
    },
    /// Confirm the unlock (a supervisor authorizes: --as SUPERVISOR or --supervisor ID).
    Unlock {
        #[command(flatten)]
        r: CaseRef,
        /// The authorizing supervisor, when not --as (password from
        /// $UNLOCKDESK_SUPERVISOR_PASSWORD or a prompt).
        #[arg(long, value_name = "STAFF_ID")]
        supervisor: Option<String>,
        /// The operator's reference of the unlock (a contact with a result must be logged).
        #[arg(long, value_name = "REF")]
        operator_ref: String,
        /// How the customer was told.
        #[arg(
            long,
            default_value = "in-person",
            value_parser = one_of(NotificationChannel::ALL, NotificationChannel::as_str)
        )]
        notified_via: NotificationChannel,
    },
    /// Ask for the unlock of an approved case. Without --operator-ref: through the wallet
    /// operator's connector (UNLOCKDESK_OPERATOR_URL or the branch's settings): the case is
    /// settled (unlocked, or unlock-failed with the operator's code) or left waiting for the
    /// operator, and the command says which; asked again on a waiting case, it asks the
    /// operator again under the same idempotency key. With --operator-ref (the manual path):
    /// ask a supervisor to confirm the unlock carried out with the operator; the request waits
    /// in the authorization queue until confirmed (`case unlock --as SUPERVISOR`).
    RequestUnlock {
        #[command(flatten)]
        r: CaseRef,
        /// The manual path: the operator's reference of the unlock (a contact with a result
        /// must be logged).
        #[arg(long, value_name = "REF")]
        operator_ref: Option<String>,
        /// How the customer was told.
        #[arg(
            long,
            default_value = "in-person",
            value_parser = one_of(NotificationChannel::ALL, NotificationChannel::as_str)
        )]
        notified_via: NotificationChannel,
    },
    /// Attach a scan or photo of the signed application form (PNG, JPEG or PDF, by content; at
    /// most 10 MiB) once the form is printed; the supervisor sees it with the request.
    AttachSigned {
        #[command(flatten)]
        r: CaseRef,
        /// The scan or photo.
        #[arg(long, value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Record a failed unlock: --next retry|escalate.
    UnlockFailed {
        #[command(flatten)]
        r: CaseRef,
        /// What went wrong.
        #[arg(long)]
        reason: String,
        /// What happens next.
        #[arg(long, value_parser = one_of(UnlockFailureNext::ALL, UnlockFailureNext::as_str))]
        next: UnlockFailureNext,
        /// The operator's ticket for the failure, if any.
        #[arg(long, default_value = "")]
        ticket: String,
    },
    /// Close an unlocked case: the receipt printed (`form print --form receipt`), or
    /// --receipt-waiver saying why not.
    Close {
        #[command(flatten)]
        r: CaseRef,
        /// Why no receipt was handed over, e.g. "customer declined the receipt".
        #[arg(long, value_name = "REASON")]
        receipt_waiver: Option<String>,
    },
    /// Cancel a case.
    Cancel {
        #[command(flatten)]
        r: CaseRef,
        /// Why the case is cancelled.
        #[arg(long)]
        reason: String,
    },
    /// Ask the wallet operator's connector about the case's wallet (the form's wallet id, or
    /// --wallet-id): locked or not, the operator's lock cause and since when; an authority
    /// freeze the operator flags refuses the case.
    WalletStatus {
        /// Case id (UUID) or case number.
        #[arg(long = "case", value_name = "CASE")]
        case: String,
        /// The wallet id, when the form is not recorded yet.
        #[arg(long, value_name = "ID")]
        wallet_id: Option<String>,
    },
    /// Refuse as an authority-ordered freeze.
    RefuseFreeze {
        #[command(flatten)]
        r: CaseRef,
        /// The freeze as recorded (e.g. the ordering authority's notice).
        #[arg(long, default_value = "authority-ordered freeze")]
        reason: String,
    },
    /// Show one personal value in full (audited; reason required).
    Reveal {
        #[command(flatten)]
        r: CaseRef,
        /// Which value.
        #[arg(long, value_parser = one_of(choices::REVEAL_FIELDS, choices::reveal_field_name))]
        field: service::RevealField,
        /// Why it must be seen in full (recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Put a case, open or closed, under legal hold (investigation, complaint or dispute not
    /// yet settled): it is never purged while the hold is active (admin, auditor; audited).
    Hold {
        /// Case id (UUID) or case number.
        #[arg(long = "case", value_name = "CASE")]
        case: String,
        /// Why (4-500 characters; recorded in the audit trail).
        #[arg(long)]
        reason: String,
    },
    /// Release a case's legal hold (admin, auditor; audited).
    ReleaseHold {
        /// Case id (UUID) or case number.
        #[arg(long = "case", value_name = "CASE")]
        case: String,
        /// Why it is released (4-500 characters).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppointmentsCmd {
    /// Counter lookup: reference, phone or its last 4, ID number or its last 4, name.
    Find {
        /// What the customer gives: reference, phone, ID number (or their last 4), or name.
        query: String,
    },
    /// Today's appointments by slot.
    Today,
    /// Import the call centre's export (CSV in UTF-8 or GB18030, or JSON). Prints the report
    /// {imported, updated, unchanged, rejected}; exit 0 once the file was processed, even with
    /// rejected rows; exit 1 for a file-level problem (wrong header, bad encoding). Without
    /// --as, the actor is recorded as `import`.
    Import {
        /// The file (.csv or .json).
        file: std::path::PathBuf,
    },
    /// End of day: mark every waiting appointment of the day as no-show (audited; needs --as).
    NoShows {
        /// Branch-local day YYYY-MM-DD (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        day: Option<String>,
    },
}

/// A date option (`YYYY-MM-DD`): `invalid` with field `field`, rule `date`, otherwise.
fn date_arg(field: &str, s: &str, expected: &str) -> Res<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Fail::Core(CoreError::field(field, "date", expected)))
}

/// Resolve a case id or case number.
pub fn resolve(ctx: &mut Ctx, actor: &Actor, s: &str) -> Res<CaseId> {
    if let Ok(id) = CaseId::parse(s) {
        return Ok(id);
    }
    let q = CaseQuery {
        case_number: Some(s.trim().to_string()),
        limit: Some(1),
        ..Default::default()
    };
    ctx.svc()?
        .list_cases(actor, &q)?
        .cases
        .first()
        .map(|c| c.id)
        .ok_or_else(|| Fail::Core(CoreError::not_found(format!("case '{s}'"))))
}

/// A file the person named that cannot be read: an invalid input (exit 1) in one sentence
/// naming it (`what` is e.g. "the file x.csv"), field `field`, rule `unreadable`.
fn unreadable(field: &str, what: &str, e: &std::io::Error) -> Fail {
    use std::io::ErrorKind;
    let why = match e.kind() {
        ErrorKind::NotFound => "does not exist".to_string(),
        ErrorKind::PermissionDenied => "is not readable (permission denied)".to_string(),
        ErrorKind::IsADirectory => "is a directory, not a file".to_string(),
        _ => format!("cannot be read ({e})"),
    };
    let message = format!("{what} {why}");
    Fail::Core(CoreError {
        code: ErrorCode::Invalid,
        message: message.clone(),
        fields: vec![FieldError::new(field, "unreadable", message)],
    })
}

/// The branch's clock for readable output; `None` with `--json` (JSON keeps RFC 3339 UTC).
fn local_time(ctx: &mut Ctx, out: &Out) -> Res<Option<LocalTime>> {
    if out.json {
        return Ok(None);
    }
    Ok(Some(LocalTime::new(ctx.svc()?.branch()?)))
}

fn print_case(out: &Out, v: &CaseView, clock: Option<&LocalTime>) {
    let c = &v.case;
    let (opened, zone) = match clock {
        Some(t) => (t.minutes(c.opened_at), t.zone().to_string()),
        None => (
            c.opened_at.format("%Y-%m-%d %H:%M").to_string(),
            "UTC".into(),
        ),
    };
    let mut text = format!(
        "{}  opened {} ({})  state: {}\n  id: {}\n  customer: {}  phone: {}  lock cause: {}\n  allowed next: {}",
        c.case_number,
        opened,
        zone,
        c.state,
        c.id,
        c.customer_name,
        c.phone,
        c.lock_cause.map(|l| l.as_str()).unwrap_or("-"),
        v.allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
    );
    if let Some(r) = &v.freeze_route {
        text.push_str(&format!("\n  REFUSED: {r}"));
    }
    text.push_str("\n  history:");
    for e in &v.history {
        let at = match clock {
            Some(t) => t.seconds(e.at),
            None => e.at.format("%Y-%m-%d %H:%M:%S").to_string(),
        };
        text.push_str(&format!(
            "\n    #{:<5} {}  {:<10} {:<24} {} -> {}  {}{}",
            e.seq,
            at,
            e.staff_id,
            e.action,
            e.from_state.map(|s| s.as_str()).unwrap_or("-"),
            e.to_state.map(|s| s.as_str()).unwrap_or("-"),
            if e.outcome == unlockdesk_core::ports::Outcome::Refused {
                "REFUSED "
            } else {
                ""
            },
            e.reason
        ));
    }
    out.value(&serde_json::to_value(v).unwrap_or_default(), &text);
}

pub fn run(cmd: CaseCmd, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    match cmd {
        CaseCmd::List {
            state,
            day,
            from,
            to,
            left_open,
            teller,
            operator,
            limit,
            find,
        } => {
            let actor = ctx.reader()?;
            let mut more = false;
            let list = if let Some(f) = find {
                ctx.svc()?.find_cases(&actor, &f)?
            } else {
                let day = match day.as_deref() {
                    None => None,
                    Some("today") => Some(ctx.svc()?.today()?),
                    Some(d) => Some(date_arg("day", d, "YYYY-MM-DD or today")?),
                };
                let page = ctx.svc()?.list_cases(
                    &actor,
                    &CaseQuery {
                        day,
                        from: from
                            .map(|d| date_arg("from", &d, "YYYY-MM-DD"))
                            .transpose()?,
                        to: to.map(|d| date_arg("to", &d, "YYYY-MM-DD")).transpose()?,
                        states: state,
                        open_from_earlier_day: left_open,
                        opened_by: teller,
                        wallet_operator: operator,
                        limit,
                        ..Default::default()
                    },
                )?;
                more = page.more;
                page.cases
            };
            let clock = local_time(ctx, out)?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|c| {
                    vec![
                        c.case_number.clone(),
                        clock
                            .as_ref()
                            .map(|t| t.minutes(c.opened_at))
                            .unwrap_or_default(),
                        c.state.as_str().to_string(),
                        c.customer_name.clone(),
                        c.phone_masked.clone(),
                        c.id.to_string(),
                    ]
                })
                .collect();
            let mut text = columns::table(&rows);
            if more {
                text.push_str(&format!(
                    "\nmore cases match than these {}: narrow the range or filters",
                    list.len()
                ));
            }
            out.value(
                &serde_json::to_value(&list).unwrap_or_default(),
                if list.is_empty() { "no cases" } else { &text },
            );
            Ok(0)
        }
        CaseCmd::Document {
            case,
            id,
            out: file,
        } => {
            let actor = ctx.actor()?;
            let case_id = resolve(ctx, &actor, &case)?;
            let bytes = ctx.svc()?.document_bytes(&actor, case_id, &id)?;
            unlockdesk_store::keys::write_atomic(&file, &bytes)?;
            out.value(
                &serde_json::json!({"out": file.display().to_string(), "bytes": bytes.len()}),
                &format!("wrote {} ({} bytes)", file.display(), bytes.len()),
            );
            Ok(0)
        }
        CaseCmd::Show { id } => {
            let actor = ctx.reader()?;
            let id = resolve(ctx, &actor, &id)?;
            let v = ctx.svc()?.case_view(&actor, id)?;
            let clock = local_time(ctx, out)?;
            print_case(out, &v, clock.as_ref());
            Ok(0)
        }
        CaseCmd::Open {
            appointment,
            name,
            phone,
            lock_cause,
            idempotency_key,
        } => {
            let actor = ctx.actor()?;
            let appointment_id = match appointment {
                Some(r) => {
                    let found = ctx.svc()?.find_appointments(&actor, &r)?;
                    let a = found
                        .into_iter()
                        .find(|a| a.reference.eq_ignore_ascii_case(r.trim()))
                        .ok_or_else(|| {
                            Fail::Core(CoreError::not_found(format!("appointment '{r}'")))
                        })?;
                    Some(a.id)
                }
                None => None,
            };
            let input = service::OpenCaseInput {
                appointment_id,
                customer_name: name.unwrap_or_default(),
                phone: phone.unwrap_or_default(),
                lock_cause,
            };
            let v = ctx
                .svc()?
                .open_case(&actor, &input, idempotency_key.as_deref())?;
            let clock = local_time(ctx, out)?;
            print_case(out, &v, clock.as_ref());
            Ok(0)
        }
        CaseCmd::VerifyIdentity {
            r,
            kind,
            number,
            mrz_line2,
            name_on_document,
            reference,
            valid_until,
            online_check,
            online_ref,
            second_factor,
            second_factor_ref,
            second_factor_score,
            second_factor_failed,
        } => {
            let online_check = online_check.map(|result| OnlineCheck {
                result,
                reference: online_ref.unwrap_or_default(),
            });
            let second_factor = second_factor.map(|kind| SecondFactorCheck {
                kind,
                passed: !second_factor_failed,
                score: second_factor_score,
                reference: second_factor_ref.unwrap_or_default(),
            });
            step(ctx, out, &r, |svc, a, id, k| {
                svc.verify_identity(
                    a,
                    id,
                    &service::IdentityInput {
                        kind,
                        number,
                        mrz_line2: mrz_line2.unwrap_or_default(),
                        name_on_document,
                        reference: reference.unwrap_or_default(),
                        valid_until: valid_until.unwrap_or_default(),
                        online_check,
                        second_factor,
                    },
                    k,
                )
            })
        }
        CaseCmd::Cocheck { r, supervisor } => {
            let creds = ctx.supervisor(supervisor.as_deref())?;
            step(ctx, out, &r, |svc, a, id, k| {
                svc.cocheck_identity(a, id, &creds, k)
            })
        }
        CaseCmd::RecordForm { r, form } => {
            let text = if form == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| unreadable("form", "the form on stdin", &e))?
            } else {
                let path = std::path::Path::new(&form);
                let bytes = std::fs::read(path)
                    .map_err(|e| unreadable("form", &format!("the form file {form}"), &e))?;
                String::from_utf8(bytes).map_err(|_| {
                    Fail::Core(CoreError::field(
                        "form",
                        "encoding",
                        format!("the form file {form} is not UTF-8 text"),
                    ))
                })?
            };
            let f: ApplicationForm = serde_json::from_str(&text).map_err(|e| {
                Fail::Core(CoreError::field(
                    "form",
                    "json",
                    format!("the form file is not valid form JSON: {e}"),
                ))
            })?;
            step(ctx, out, &r, |svc, a, id, k| svc.record_form(a, id, &f, k))
        }
        CaseCmd::ConfirmSigned { r } => {
            step(ctx, out, &r, |svc, a, id, k| svc.confirm_signed(a, id, k))
        }
        CaseCmd::Submit { r } => step(ctx, out, &r, |svc, a, id, k| svc.submit(a, id, k)),
        CaseCmd::Approve {
            r,
            supervisor,
            reason,
        } => {
            let creds = ctx.supervisor(supervisor.as_deref())?;
            step(ctx, out, &r, |svc, a, id, k| {
                svc.authorize(a, id, &creds, Decision::Approve, None, &reason, k)
            })
        }
        CaseCmd::Return {
            r,
            supervisor,
            reason_code,
            reason,
        } => {
            let creds = ctx.supervisor(supervisor.as_deref())?;
            step(ctx, out, &r, |svc, a, id, k| {
                svc.authorize(
                    a,
                    id,
                    &creds,
                    Decision::ReturnForInfo,
                    Some(reason_code),
                    &reason,
                    k,
                )
            })
        }
        CaseCmd::Reject {
            r,
            supervisor,
            reason_code,
            reason,
        } => {
            let creds = ctx.supervisor(supervisor.as_deref())?;
            step(ctx, out, &r, |svc, a, id, k| {
                svc.authorize(
                    a,
                    id,
                    &creds,
                    Decision::Reject,
                    Some(reason_code),
                    &reason,
                    k,
                )
            })
        }
        CaseCmd::Contact {
            r,
            channel,
            ticket,
            result,
        } => step(ctx, out, &r, |svc, a, id, k| {
            svc.log_contact(
                a,
                id,
                &service::ContactInput {
                    channel,
                    ticket,
                    result,
                },
                k,
            )
        }),
        CaseCmd::Unlock {
            r,
            supervisor,
            operator_ref,
            notified_via,
        } => {
            let creds = ctx.supervisor(supervisor.as_deref())?;
            step(ctx, out, &r, |svc, a, id, k| {
                svc.confirm_unlock(
                    a,
                    id,
                    &creds,
                    &service::UnlockInput {
                        operator_reference: operator_ref,
                        notified_via,
                    },
                    k,
                )
            })
        }
        CaseCmd::AttachSigned { r, file } => {
            let limit = unlockdesk_core::service::MAX_SCAN_BYTES;
            // Refused before a huge file is read into memory.
            if std::fs::metadata(&file).is_ok_and(|m| m.len() > limit as u64) {
                return Err(Fail::Core(CoreError::field(
                    "file",
                    "max-size",
                    format!(
                        "{} is over {} MiB: scan at a lower resolution",
                        file.display(),
                        limit / 1_048_576
                    ),
                )));
            }
            // At most one byte past the limit: a file that grew meanwhile is refused by core.
            let mut bytes = Vec::new();
            std::fs::File::open(&file)
                .and_then(|f| {
                    std::io::Read::read_to_end(
                        &mut std::io::Read::take(f, limit as u64 + 1),
                        &mut bytes,
                    )
                })
                .map_err(|e| {
                    Fail::Core(CoreError::field(
                        "file",
                        "readable",
                        format!("cannot read {}: {e}", file.display()),
                    ))
                })?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            step(ctx, out, &r, |svc, a, id, k| {
                svc.attach_signed_scan(a, id, &name, &bytes, k)
            })
        }
        CaseCmd::RequestUnlock {
            r,
            operator_ref: Some(operator_ref),
            notified_via,
        } => step(ctx, out, &r, |svc, a, id, k| {
            svc.request_confirm_unlock(
                a,
                id,
                &service::UnlockInput {
                    operator_reference: operator_ref,
                    notified_via,
                },
                k,
            )
        }),
        CaseCmd::RequestUnlock {
            r,
            operator_ref: None,
            ..
        } => {
            let actor = ctx.actor()?;
            let id = resolve(ctx, &actor, &r.case)?;
            let v = ctx
                .svc()?
                .request_unlock(&actor, id, r.idempotency_key.as_deref())?;
            print_operator_answer(out, &v);
            Ok(0)
        }
        CaseCmd::WalletStatus { case, wallet_id } => {
            let actor = ctx.actor()?;
            let id = resolve(ctx, &actor, &case)?;
            let v = ctx.svc()?.wallet_status(&actor, id, wallet_id.as_deref())?;
            let text = match v.case.wallet_check.as_ref().map(|w| &w.status) {
                Some(s) if s.authority_freeze => format!(
                    "{}: the operator flags an AUTHORITY FREEZE: the case is refused ({})",
                    v.case.case_number, v.case.state
                ),
                Some(s) if s.locked => format!(
                    "{}: the wallet is locked ({}{})",
                    v.case.case_number,
                    if s.lock_cause.is_empty() {
                        "no cause given"
                    } else {
                        &s.lock_cause
                    },
                    s.locked_since
                        .map(|t| format!(", since {}", t.format("%Y-%m-%d %H:%M UTC")))
                        .unwrap_or_default()
                ),
                Some(_) => format!(
                    "{}: the operator says the wallet is NOT locked",
                    v.case.case_number
                ),
                None => format!("{}: no status recorded", v.case.case_number),
            };
            out.value(&serde_json::to_value(&v).unwrap_or_default(), &text);
            Ok(0)
        }
        CaseCmd::UnlockFailed {
            r,
            reason,
            next,
            ticket,
        } => step(ctx, out, &r, |svc, a, id, k| {
            svc.record_unlock_failure(
                a,
                id,
                &service::UnlockFailureInput {
                    reason,
                    next,
                    operator_ticket: ticket,
                },
                k,
            )
        }),
        CaseCmd::Close { r, receipt_waiver } => step(ctx, out, &r, |svc, a, id, k| {
            svc.close_case(a, id, receipt_waiver.as_deref(), k)
        }),
        CaseCmd::Cancel { r, reason } => step(ctx, out, &r, |svc, a, id, k| {
            svc.cancel_case(a, id, &reason, k)
        }),
        CaseCmd::RefuseFreeze { r, reason } => step(ctx, out, &r, |svc, a, id, k| {
            svc.refuse_authority_freeze(a, id, &reason, k)
        }),
        CaseCmd::Reveal { r, field, reason } => {
            let actor = ctx.actor()?;
            let id = resolve(ctx, &actor, &r.case)?;
            let v = ctx.svc()?.reveal(&actor, id, field, &reason)?;
            out.value(&json!({"value": v}), &v);
            Ok(0)
        }
        CaseCmd::Hold { case, reason } => {
            let actor = ctx.actor()?;
            let id = resolve(ctx, &actor, &case)?;
            let h = ctx.svc()?.set_legal_hold(&actor, id, &reason)?;
            out.value(
                &serde_json::to_value(&h).unwrap_or_default(),
                &format!("{}: under legal hold ({})", h.case_number, h.reason),
            );
            Ok(0)
        }
        CaseCmd::ReleaseHold { case, reason } => {
            let actor = ctx.actor()?;
            let id = resolve(ctx, &actor, &case)?;
            let h = ctx.svc()?.release_legal_hold(&actor, id, &reason)?;
            out.value(
                &serde_json::to_value(&h).unwrap_or_default(),
                &format!("{}: legal hold released", h.case_number),
            );
            Ok(0)
        }
    }
}

/// Authenticate `--as`, resolve the case, run one use case, print the case.
/// `case request-unlock` through the connector: which way the case went.
fn print_operator_answer(out: &Out, v: &CaseView) {
    let c = &v.case;
    let u = c.operator_unlock.as_ref();
    let text = match (c.state, u.map(|u| u.status)) {
        (CaseState::Unlocked, _) => format!(
            "{}: unlocked by the operator (reference {})",
            c.case_number,
            u.map(|u| u.reference.as_str()).unwrap_or("-")
        ),
        (_, Some(unlockdesk_core::OperatorUnlockStatus::Waiting)) => format!(
            "{}: waiting for the operator ({}); ask again with `case request-unlock`, or let the outbox worker settle it (`notifications deliver`)",
            c.case_number,
            u.map(|u| u.last_answer.as_str()).unwrap_or("")
        ),
        (CaseState::UnlockFailed, _) => format!(
            "{}: the operator refused the unlock: {}",
            c.case_number, c.last_reason
        ),
        (state, _) => format!("{}: {}", c.case_number, state),
    };
    out.value(&serde_json::to_value(v).unwrap_or_default(), &text);
}

fn step(
    ctx: &mut Ctx,
    out: &Out,
    r: &CaseRef,
    f: impl FnOnce(&crate::Svc, &Actor, CaseId, Option<&str>) -> CoreResult<CaseView>,
) -> Res<u8> {
    let actor = ctx.actor()?;
    let id = resolve(ctx, &actor, &r.case)?;
    let v = f(ctx.svc()?, &actor, id, r.idempotency_key.as_deref())?;
    let clock = local_time(ctx, out)?;
    print_case(out, &v, clock.as_ref());
    Ok(0)
}

pub fn appointments(cmd: AppointmentsCmd, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    let list = match cmd {
        AppointmentsCmd::Find { query } => {
            let actor = ctx.reader()?;
            ctx.svc()?.find_appointments(&actor, &query)?
        }
        AppointmentsCmd::Today => {
            let actor = ctx.reader()?;
            ctx.svc()?.appointments_today(&actor)?
        }
        AppointmentsCmd::Import { file } => return import_appointments(ctx, out, &file),
        AppointmentsCmd::NoShows { day } => {
            let actor = ctx.actor()?;
            let day = match day.as_deref() {
                None | Some("today") => ctx.svc()?.today()?,
                Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    Fail::Core(CoreError::field("day", "date", "YYYY-MM-DD or today"))
                })?,
            };
            let n = ctx.svc()?.mark_no_shows(&actor, day)?;
            out.value(
                &json!({"day": day.to_string(), "no_shows": n}),
                &format!("{n} appointment(s) of {day} marked no-show"),
            );
            return Ok(0);
        }
    };
    // Slots are booked in the branch's local time already (naive, as the call centre gives them).
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|a| {
            vec![
                a.reference.clone(),
                format!(
                    "{}-{}",
                    a.slot_start.format("%Y-%m-%d %H:%M"),
                    a.slot_end.format("%H:%M")
                ),
                a.status.as_str().to_string(),
                a.name.clone(),
                a.phone.clone(),
                a.id_number.clone(),
                a.lock_cause.as_str().to_string(),
            ]
        })
        .collect();
    let text = columns::table(&rows);
    out.value(
        &serde_json::to_value(&list).unwrap_or_default(),
        if list.is_empty() {
            "no appointments"
        } else {
            &text
        },
    );
    Ok(0)
}

/// `appointments import FILE`: read the bytes, run the use case, print the report.
fn import_appointments(ctx: &mut Ctx, out: &Out, file: &std::path::Path) -> Res<u8> {
    let bytes = std::fs::read(file)
        .map_err(|e| unreadable("file", &format!("the file {}", file.display()), &e))?;
    let actor = if ctx.as_staff.is_some() {
        ctx.actor()?
    } else {
        let terminal = ctx.terminal.clone();
        ctx.svc()?.system_actor(SystemActor::Import, &terminal)
    };
    let r = ctx
        .svc()?
        .import_appointments(&actor, &bytes, &file.display().to_string())?;
    // A row can fail several rules: count rows, and list every problem below.
    let rows: std::collections::BTreeSet<u32> = r.rejected.iter().map(|x| x.row).collect();
    let mut text = format!(
        "imported {}, updated {}, unchanged {}, rejected {} row(s) ({} problem(s))",
        r.imported,
        r.updated,
        r.unchanged,
        rows.len(),
        r.rejected.len()
    );
    for x in &r.rejected {
        // The code beside the English reason: what a script or the screens match on.
        text.push_str(&format!(
            "\n  row {}: {}: [{}] {}",
            x.row, x.field, x.code, x.reason
        ));
    }
    out.value(&serde_json::to_value(&r).unwrap_or_default(), &text);
    Ok(0)
}
