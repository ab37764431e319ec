//! `unlockdesk-cli`: the headless front end over the same use cases as the desktop app.
//!
//! Exit codes: 0 ok, 1 refused or invalid, 2 usage. With `--json`, stdout holds exactly one
//! JSON document (the result, or `{code, message, fields}` on exit 1); logs go to stderr.
//! Personal numbers are masked in every output.

mod cases;
mod choices;
mod columns;
mod desk;
mod id_check;
mod logging;
mod notify;
mod out;
mod remote;
mod restore;
mod retention;
mod store_copy;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use unlockdesk_core::dto as service;
use unlockdesk_core::ports::{OsEntropy, SystemClock};
use unlockdesk_core::service::Service;
use unlockdesk_core::*;
use unlockdesk_store::SqliteStore;
use unlockdesk_store_pg::PgStore;

use choices::one_of;
use out::Out;
use unlockdesk_core::print::{CopyKind, DocumentKind};

/// UnlockDesk: unlock a locked digital wallet at the bank counter (headless).
#[derive(Parser, Debug)]
#[command(name = "unlockdesk-cli", version, about)]
pub struct Cli {
    /// Database: a file of the embedded store, or a `postgres://` / `postgresql://` URL
    /// (default: $UNLOCKDESK_DATABASE_URL, else the file in the platform data directory or
    /// $UNLOCKDESK_DATA_DIR).
    #[arg(long, global = true, value_name = "PATH|URL")]
    db: Option<String>,
    /// Work through a branch server instead of a store (default: $UNLOCKDESK_SERVER), e.g.
    /// https://branch-server:8443; every subcommand then needs --as. Not with --db.
    #[arg(long, global = true, value_name = "URL")]
    server: Option<String>,
    /// Print exactly one JSON document on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Who acts (staff id); the password comes from $UNLOCKDESK_PASSWORD or a prompt.
    #[arg(long = "as", global = true, value_name = "STAFF_ID")]
    as_staff: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// First run on an empty store: branch and first administrator.
    Setup(SetupArgs),
    /// Staff accounts.
    #[command(subcommand)]
    Staff(StaffCmd),
    /// Fill an empty store with synthetic demo data (through the real use cases).
    Demo(DemoArgs),
    /// Cases: list, show, and one subcommand per workflow step.
    #[command(subcommand)]
    Case(cases::CaseCmd),
    /// Appointment book.
    #[command(subcommand)]
    Appointments(cases::AppointmentsCmd),
    /// The supervisors' authorization queue (待授权): list, open, watch live.
    #[command(subcommand)]
    Authorizations(desk::AuthorizationsCmd),
    /// Audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Customer notifications (SMS) through the outbox: list them, or run their delivery
    /// (tellers, supervisors, admins).
    #[command(subcommand)]
    Notifications(notify::NotificationsCmd),
    /// Retention: what is due for destruction, destruction batches (prepared by one person,
    /// approved by another), the destruction register, legal holds.
    #[command(subcommand)]
    Retention(retention::RetentionCmd),
    /// Identity documents.
    #[command(subcommand)]
    Id(IdCmd),
    /// Printed forms.
    #[command(subcommand)]
    Form(FormCmd),
    /// Online backup of the store to FILE.
    Backup(BackupArgs),
    /// Replace the store with a backup (checked first).
    Restore(RestoreArgs),
    /// The whole store: copy it to another (embedded file or PostgreSQL).
    #[command(subcommand)]
    Store(StoreCmd),
    /// Key files: the key-encryption key that protects the store's data key
    /// (UNLOCKDESK_KEY_FILE names the one in use).
    #[command(subcommand)]
    Key(KeyCmd),
    /// Change the store's keys (admin): without options, wrap the data key under the key file
    /// given by --new-key-file; with --data-key, re-encrypt the whole store (database and
    /// documents) under a fresh data key. Close every other program on the store first.
    Rekey(RekeyArgs),
    /// Enrol this host as a terminal of the branch server (--server) with a one-time code
    /// from an administrator; the server certificate's fingerprint is shown and pinned.
    Enrol(remote::EnrolArgs),
    /// Terminals of the branch server (admin, through --server).
    #[command(subcommand)]
    Terminal(remote::TerminalCmd),
}

#[derive(Subcommand, Debug)]
enum StoreCmd {
    /// Copy the whole store (branch, staff, cases, appointments, documents, idempotency keys,
    /// the audit chain as it is) into an EMPTY destination, then verify counts and the chain
    /// there (admin of the source store).
    Copy {
        /// The destination: a new embedded-store file or a `postgres://` URL of an empty
        /// database.
        #[arg(long = "to", value_name = "PATH|URL")]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
enum KeyCmd {
    /// Make a new key file (64 hex digits from the OS random source, mode 0600). Never
    /// overwrites a file. Keep a copy apart from the store and its backups: without it the
    /// store cannot be opened.
    New {
        /// Where to write the key file.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["new_key_file", "data_key"]))]
struct RekeyArgs {
    /// The new key file (made by `key new`) to wrap the data key under; the current one
    /// comes from UNLOCKDESK_KEY_FILE. Backups taken before stay under the old key file.
    #[arg(long, value_name = "FILE")]
    new_key_file: Option<PathBuf>,
    /// Re-encrypt the database and every document under a fresh data key (the key file
    /// stays the same).
    #[arg(long)]
    data_key: bool,
}

#[derive(Args, Debug)]
struct SetupArgs {
    /// Short branch code printed in case numbers, e.g. BJ001.
    #[arg(long, value_name = "CODE")]
    branch_code: String,
    /// The branch's name as printed on forms.
    #[arg(long, value_name = "NAME")]
    branch_name: String,
    /// IANA time zone of the branch: "today" and every time shown are in it.
    #[arg(long, value_name = "ZONE", default_value = "Asia/Shanghai")]
    time_zone: String,
    /// Staff id of the first administrator (2-32 of a-z, 0-9, '.', '_', '-'); the password
    /// comes from $UNLOCKDESK_NEW_PASSWORD or a prompt.
    #[arg(long, value_name = "STAFF_ID")]
    admin_id: String,
    /// The administrator's full name.
    #[arg(long, value_name = "NAME")]
    admin_name: String,
}

#[derive(Subcommand, Debug)]
enum StaffCmd {
    /// Add an account (admin); it must change its password at first sign-in.
    Add {
        /// The new account's staff id (2-32 of a-z, 0-9, '.', '_', '-'); its initial password
        /// comes from $UNLOCKDESK_NEW_PASSWORD or a prompt.
        #[arg(long, value_name = "STAFF_ID")]
        id: String,
        /// Full name.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// What the account may do.
        #[arg(long, value_parser = one_of(Role::ALL, Role::as_str))]
        role: Role,
    },
    /// Change your own password (old: $UNLOCKDESK_PASSWORD, new: $UNLOCKDESK_NEW_PASSWORD),
    /// or with --id reset someone else's (admin).
    Passwd {
        /// Whose password to reset (admin); without it, your own is changed.
        #[arg(long, value_name = "STAFF_ID")]
        id: Option<String>,
    },
    /// List accounts (admin).
    List,
    /// Disable an account (admin).
    Disable {
        /// The account's staff id.
        #[arg(long, value_name = "STAFF_ID")]
        id: String,
    },
    /// Re-enable an account (admin).
    Enable {
        /// The account's staff id.
        #[arg(long, value_name = "STAFF_ID")]
        id: String,
    },
    /// Unlock an account after a lockout (admin).
    Unlock {
        /// The account's staff id.
        #[arg(long, value_name = "STAFF_ID")]
        id: String,
    },
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// Also generate N synthetic appointments spread over several years.
    #[arg(long, value_name = "N")]
    appointments: Option<u64>,
}

#[derive(Subcommand, Debug)]
enum AuditCmd {
    /// Verify the hash chain: OK and exit 0, or the first broken link and exit 1.
    Verify,
    /// Export the trail (filtered) as CSV for a spreadsheet: UTF-8 with BOM, formula-looking
    /// cells escaped (auditor, supervisor; audited).
    Export {
        /// The CSV file to write.
        #[arg(long = "out", value_name = "FILE.csv")]
        out: std::path::PathBuf,
        #[command(flatten)]
        filter: retention::FilterArgs,
    },
    /// Every reveal of a full number: who, when, which case, which field, why (auditor,
    /// supervisor). With --json: a JSON array.
    Reveals {
        #[command(flatten)]
        filter: retention::FilterArgs,
    },
}

#[derive(Subcommand, Debug)]
enum IdCmd {
    /// Check a document number to its standard (never opens a database).
    Check(id_check::IdCheckArgs),
}

#[derive(Subcommand, Debug)]
enum FormCmd {
    /// Render the application form or the receipt of a case to a PDF file (never opens a
    /// viewer). The customer copy is masked and needs no --as; the bank copy needs --as.
    Render {
        /// Case id (UUID) or case number.
        #[arg(long = "case", value_name = "CASE_ID")]
        case: String,
        /// Which document.
        #[arg(long = "form", value_name = "FORM",
            value_parser = one_of(&[DocumentKind::Application, DocumentKind::Receipt],
                DocumentKind::as_str))]
        form: DocumentKind,
        /// Which copy: the customer's (masked) or the bank's archive copy.
        #[arg(long, value_name = "COPY",
            value_parser = one_of(&[CopyKind::Customer, CopyKind::Bank], CopyKind::as_str))]
        copy: CopyKind,
        /// The PDF file to write.
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
    },
    /// Print a copy as the counter does: stored and audited on the case (a repeat is a
    /// reprint). With --printer it goes to that CUPS queue and the job id and outcome are
    /// recorded (waits up to $UNLOCKDESK_PRINT_WAIT_SECS, default 10, for the job to
    /// complete; exit 1 when CUPS refuses it); without, the copy is recorded as handed out as
    /// a file. --out also writes the PDF. Needs --as.
    Print {
        /// Case id (UUID) or case number.
        #[arg(long = "case", value_name = "CASE")]
        case: String,
        /// Which document.
        #[arg(long = "form", value_name = "FORM",
            value_parser = one_of(&[DocumentKind::Application, DocumentKind::Receipt],
                DocumentKind::as_str))]
        form: DocumentKind,
        /// Which copy: the bank's archive copy or the customer's (masked).
        #[arg(long, value_name = "COPY",
            value_parser = one_of(&[CopyKind::Bank, CopyKind::Customer], CopyKind::as_str))]
        copy: CopyKind,
        /// Also write the printed PDF here.
        #[arg(long, value_name = "FILE.pdf")]
        out: Option<PathBuf>,
        /// CUPS queue to print on (`lpstat -e` lists them).
        #[arg(long, value_name = "NAME")]
        printer: Option<String>,
    },
}

#[derive(Args, Debug)]
struct BackupArgs {
    /// The backup file to write (a SQLite database).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct RestoreArgs {
    /// The backup file to restore from (made by `backup --out`).
    #[arg(long = "from", value_name = "FILE")]
    from: PathBuf,
}

/// The use-case surface this invocation works through (the local service on the store).
pub type Svc = dyn Counter;

/// Why a command stopped: a core error (exit 1) or a usage problem (exit 2).
pub enum Fail {
    Core(CoreError),
    Usage(String),
}
impl From<CoreError> for Fail {
    fn from(e: CoreError) -> Self {
        Fail::Core(e)
    }
}
pub type Res<T> = Result<T, Fail>;

/// Where the store lives: an embedded-store file or a PostgreSQL database.
#[derive(Debug, Clone)]
pub enum Db {
    /// The embedded SQLite store in this file.
    File(PathBuf),
    /// A PostgreSQL database (`postgres://` or `postgresql://` URL).
    Url(String),
}

impl Db {
    /// A `--db` value: a URL when it starts with `postgres://` or `postgresql://`, else a path.
    pub fn parse(s: &str) -> Db {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Db::Url(s.to_string())
        } else {
            Db::File(PathBuf::from(s))
        }
    }

    /// `--db`, else $UNLOCKDESK_DATABASE_URL, else the default embedded-store file.
    pub fn choose(arg: Option<&str>) -> Db {
        match arg {
            Some(s) => Db::parse(s),
            None => match std::env::var("UNLOCKDESK_DATABASE_URL") {
                Ok(u) if !u.trim().is_empty() => Db::parse(u.trim()),
                _ => Db::File(unlockdesk_store::default_db_path()),
            },
        }
    }

    /// For logs: the file, or the URL without its password.
    pub fn display(&self) -> String {
        match self {
            Db::File(p) => p.display().to_string(),
            Db::Url(u) => redact(u),
        }
    }
}

/// `u` with the password of its user info replaced by `***` (never logged or printed).
pub fn redact(u: &str) -> String {
    let Some(scheme_end) = u.find("://") else {
        return u.to_string();
    };
    let rest = &u[scheme_end + 3..];
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..auth_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &u[..scheme_end + 3],
                &rest[..colon],
                &rest[at..]
            ),
            None => u.to_string(),
        },
        None => u.to_string(),
    }
}

/// Shared context of one invocation.
pub struct Ctx {
    pub db: Db,
    /// `--server` / $UNLOCKDESK_SERVER: work through this branch server.
    pub server: Option<String>,
    remote: Option<Arc<unlockdesk_client::Remote>>,
    pub as_staff: Option<String>,
    pub terminal: String,
    svc: Option<Arc<Svc>>,
}

impl Ctx {
    pub fn svc(&mut self) -> Res<&Svc> {
        if self.svc.is_none() {
            if let Some(url) = self.server.clone() {
                let r = Arc::new(remote::connect(&url, &self.terminal)?);
                self.remote = Some(r.clone());
                self.svc = Some(r);
                return Ok(self.svc.as_deref().expect("just set"));
            }
            self.svc = Some(match &self.db {
                Db::File(p) => {
                    let store = SqliteStore::open(p)?;
                    if !store.is_encrypted() {
                        eprintln!(
                            "warning: no key source (UNLOCKDESK_KEY_FILE is not set): the store {} is not encrypted",
                            p.display()
                        );
                    }
                    local_service(store)
                }
                Db::Url(u) => {
                    let store = PgStore::open(u)?;
                    if !store.is_encrypted() {
                        eprintln!(
                            "warning: no key source (UNLOCKDESK_KEY_FILE is not set): the branch database's personal data is not encrypted"
                        );
                    }
                    local_service(store)
                }
            });
        }
        Ok(self.svc.as_deref().expect("just set"))
    }

    /// The acting staff member, authenticated now. Needs `--as`.
    /// The branch server's client, when working through one (`--server`).
    pub fn remote(&mut self) -> Option<Arc<unlockdesk_client::Remote>> {
        self.svc().ok()?;
        self.remote.clone()
    }

    pub fn actor(&mut self) -> Res<Actor> {
        let Some(id) = self.as_staff.clone() else {
            return Err(Fail::Usage(
                "this command changes data or reveals it: pass --as STAFF_ID".into(),
            ));
        };
        let pw = password("UNLOCKDESK_PASSWORD", &format!("Password for {id}: "))?;
        let terminal = self.terminal.clone();
        Ok(self.svc()?.authenticate(&id, &pw, &terminal)?)
    }

    /// The recorded actor of read-only, masked commands run without `--as`: the system actor
    /// `cli` ([`SystemActor::CliReader`]) with the OS user as terminal.
    pub fn reader(&mut self) -> Res<Actor> {
        if self.as_staff.is_some() {
            return self.actor();
        }
        if self.server.is_some() {
            return Err(Fail::Usage(
                "through a branch server every command acts as a signed-in staff member: pass --as STAFF_ID".into(),
            ));
        }
        let terminal = self.terminal.clone();
        Ok(self.svc()?.system_actor(SystemActor::CliReader, &terminal))
    }

    /// Credentials for an authorization: `--supervisor ID` with $UNLOCKDESK_SUPERVISOR_PASSWORD
    /// (or a prompt), or else the `--as` person's own.
    pub fn supervisor(&mut self, id: Option<&str>) -> Res<service::Credentials> {
        match id {
            Some(id) => Ok(service::Credentials {
                staff_id: id.to_string(),
                password: password(
                    "UNLOCKDESK_SUPERVISOR_PASSWORD",
                    &format!("Supervisor {id}, password: "),
                )?,
            }),
            None => {
                let Some(id) = self.as_staff.clone() else {
                    return Err(Fail::Usage(
                        "pass --as SUPERVISOR (or --supervisor ID)".into(),
                    ));
                };
                Ok(service::Credentials {
                    staff_id: id.clone(),
                    password: password("UNLOCKDESK_PASSWORD", &format!("Password for {id}: "))?,
                })
            }
        }
    }
}

/// A secret from the environment or a terminal prompt; without either, a usage error (exit
/// 2) instead of waiting forever.
pub fn password(var: &str, prompt: &str) -> Res<String> {
    if let Ok(p) = std::env::var(var) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Fail::Usage(format!(
            "no terminal to ask for the password: set {var}"
        )));
    }
    rpassword::prompt_password(prompt)
        .map_err(|e| Fail::Usage(format!("cannot read the password: {e}")))
}

/// The local use-case service over `store` (embedded or PostgreSQL), printing with the PDF
/// renderer.
pub fn local_service<S: unlockdesk_core::ports::Store + 'static>(store: S) -> Arc<Svc> {
    let svc = Service::new(store, Arc::new(SystemClock), Arc::new(OsEntropy))
        .with_renderer(Arc::new(unlockdesk_forms::PdfRenderer::new()));
    Arc::new(match unlockdesk_operator::HttpConnectors::from_env() {
        Ok(c) => svc.with_connectors(Arc::new(c)),
        Err(e) => {
            eprintln!("warning: {e}; the operator's connector is off (manual path)");
            svc
        }
    })
}

/// `form print`: store and audit the print, then deliver it (CUPS, or a file handed out) and
/// record how.
fn print_form(
    ctx: &mut Ctx,
    out: &Out,
    case: &str,
    kind: DocumentKind,
    copy: CopyKind,
    file: Option<PathBuf>,
    printer: Option<String>,
) -> Res<u8> {
    use unlockdesk_core::dto::PrintDelivery;
    let actor = ctx.actor()?;
    let id = cases::resolve(ctx, &actor, case)?;
    let svc = ctx.svc()?;
    let doc = svc.print_document(&actor, id, kind, copy)?;
    let bytes = svc.document_bytes(&actor, id, &doc.id)?;
    if let Some(f) = &file {
        std::fs::write(f, &bytes).map_err(|e| {
            Fail::Core(CoreError::storage(format!(
                "cannot write {}: {e}",
                f.display()
            )))
        })?;
    }
    let number = svc.case_view(&actor, id)?.case.case_number;
    let delivery = match printer.as_deref().map(str::trim) {
        None => PrintDelivery {
            channel: PrintChannel::File,
            printer: None,
            job_id: None,
            outcome: PrintOutcome::Completed,
            message: String::new(),
        },
        Some(p) => {
            let title = format!("{number}-{kind}-{copy}");
            match unlockdesk_cups::submit(p, &title, &bytes) {
                Ok(job) => {
                    let secs = std::env::var("UNLOCKDESK_PRINT_WAIT_SECS")
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(10u64);
                    let state = unlockdesk_cups::wait(&job, std::time::Duration::from_secs(secs));
                    PrintDelivery {
                        channel: PrintChannel::Cups,
                        printer: Some(job.printer.clone()),
                        job_id: Some(job.id.clone()),
                        outcome: match state {
                            unlockdesk_cups::JobState::Completed => PrintOutcome::Completed,
                            unlockdesk_cups::JobState::Queued => PrintOutcome::Sent,
                        },
                        message: String::new(),
                    }
                }
                Err(e) => PrintDelivery {
                    channel: PrintChannel::Cups,
                    printer: Some(p.to_string()),
                    job_id: None,
                    outcome: PrintOutcome::Failed,
                    message: e.to_string(),
                },
            }
        }
    };
    let v = svc.record_delivery(&actor, id, &doc.id, &delivery)?;
    let rec = v.case.prints.iter().find(|p| p.document_id == doc.id);
    let value = serde_json::json!({
        "case": number,
        "document_id": doc.id,
        "form": kind.as_str(),
        "copy": copy.as_str(),
        "form_revision": rec.map(|r| r.form_revision),
        "reprint": rec.is_some_and(|r| r.reprint),
        "channel": delivery.channel,
        "printer": delivery.printer,
        "job_id": delivery.job_id,
        "outcome": delivery.outcome,
        "message": delivery.message,
        "out": file.as_ref().map(|f| f.display().to_string()),
        "sha256": doc.sha256,
    });
    let what = format!(
        "{}{} {} ({} copy{})",
        number,
        if rec.is_some_and(|r| r.reprint) {
            ": reprinted"
        } else {
            ": printed"
        },
        kind,
        copy,
        rec.filter(|_| kind == DocumentKind::Application)
            .map(|r| format!(", form revision {}", r.form_revision))
            .unwrap_or_default()
    );
    let text = match (&delivery.channel, &delivery.outcome) {
        (PrintChannel::Cups, PrintOutcome::Failed) => {
            format!("{what}: not printed: {}", delivery.message)
        }
        (PrintChannel::Cups, o) => format!(
            "{what} on {}: job {} {}",
            delivery.printer.as_deref().unwrap_or(""),
            delivery.job_id.as_deref().unwrap_or(""),
            if *o == PrintOutcome::Completed {
                "completed"
            } else {
                "sent, not yet completed"
            }
        ),
        _ => match &file {
            Some(f) => format!("{what}: handed out as the file {}", f.display()),
            None => format!(
                "{what}: recorded as handed out as a file (stored copy {})",
                doc.id
            ),
        },
    };
    if delivery.outcome == PrintOutcome::Failed {
        if out.json {
            out.value(&value, &text);
        } else {
            eprintln!("{text}");
        }
        return Ok(1);
    }
    out.value(&value, &text);
    Ok(0)
}

fn terminal_id() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(if code == 0 { 0 } else { 2 });
        }
    };
    let out = Out { json: cli.json };
    if let Cmd::Id(IdCmd::Check(args)) = &cli.cmd {
        // Never touches the data directory.
        logging::init(None);
        return ExitCode::from(id_check::run(args, cli.json) as u8);
    }
    if let Cmd::Key(KeyCmd::New { out: file }) = &cli.cmd {
        // Needs no store and no server.
        logging::init(None);
        return match unlockdesk_store::keys::new_key_file(file) {
            Ok(()) => {
                out.value(
                    &serde_json::json!({"key_file": file.display().to_string()}),
                    &format!(
                        "wrote a new key file {} (mode 0600); keep a copy apart from the store and its backups",
                        file.display()
                    ),
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                out.error(&e);
                ExitCode::from(1)
            }
        };
    }
    let server = cli
        .server
        .clone()
        .or_else(|| std::env::var("UNLOCKDESK_SERVER").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    if server.is_some() {
        let env_db = std::env::var("UNLOCKDESK_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty());
        if cli.db.is_some() || env_db {
            eprintln!(
                "error: --server works through the branch server, --db (or UNLOCKDESK_DATABASE_URL) on a store: use one of them"
            );
            return ExitCode::from(2);
        }
        if let Some(why) = remote::local_only(&cli.cmd) {
            eprintln!("error: {why}");
            return ExitCode::from(2);
        }
    } else if matches!(cli.cmd, Cmd::Enrol(_) | Cmd::Terminal(_)) {
        eprintln!("error: this command works through a branch server: pass --server URL");
        return ExitCode::from(2);
    }
    let db = Db::choose(cli.db.as_deref());
    // A desktop terminal's store is encrypted under the branch passphrase: ask for it once,
    // before anything opens the store (still one thread: the environment is safe to set).
    // Kept in this process only: a print job or viewer this command starts never inherits it.
    if let Some(pass) = std::env::var(unlockdesk_store::keys::PASSPHRASE_ENV)
        .ok()
        .filter(|p| !p.is_empty())
    {
        std::env::remove_var(unlockdesk_store::keys::PASSPHRASE_ENV);
        unlockdesk_store::KeySource::set_process_passphrase(pass);
    } else if let Db::File(p) = &db {
        let unset = |v: &str| std::env::var_os(v).is_none_or(|x| x.is_empty());
        if unset(unlockdesk_store::keys::KEY_FILE_ENV)
            && SqliteStore::key_state(p).ok() == Some(unlockdesk_store::KeyState::Passphrase)
            && std::io::stdin().is_terminal()
        {
            if let Ok(pass) = rpassword::prompt_password("Branch passphrase (网点口令): ") {
                unlockdesk_store::KeySource::set_process_passphrase(pass);
            }
        }
    }
    // Logs beside the database file; on PostgreSQL in the data directory of this machine.
    let data_dir = match &db {
        Db::File(p) => p
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf(),
        Db::Url(_) => unlockdesk_store::data_dir(),
    };
    logging::init(Some(&data_dir));
    // The subcommand's names only (letters and hyphens): other arguments may hold personal numbers.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let word = |a: &String| {
        !a.is_empty()
            && !a.starts_with('-')
            && a.chars().all(|c| c.is_ascii_lowercase() || c == '-')
    };
    let command = match args.iter().position(|a| {
        matches!(
            a.as_str(),
            "setup"
                | "staff"
                | "demo"
                | "case"
                | "appointments"
                | "audit"
                | "backup"
                | "restore"
                | "store"
                | "rekey"
                | "enrol"
                | "terminal"
        )
    }) {
        Some(i) => args[i..]
            .iter()
            .take(2)
            .take_while(|a| word(a))
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        None => String::new(),
    };
    match &server {
        Some(url) => {
            tracing::info!(version = env!("CARGO_PKG_VERSION"), command, server = %url, "unlockdesk-cli")
        }
        None => {
            tracing::info!(version = env!("CARGO_PKG_VERSION"), command, db = %db.display(), "unlockdesk-cli")
        }
    }
    let mut ctx = Ctx {
        db,
        server,
        remote: None,
        as_staff: cli.as_staff.clone(),
        terminal: terminal_id(),
        svc: None,
    };
    match run(cli.cmd, &mut ctx, &out) {
        Ok(code) => ExitCode::from(code),
        Err(Fail::Core(e)) => {
            tracing::info!(code = ?e.code, "refused");
            out.error(&e);
            ExitCode::from(1)
        }
        Err(Fail::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(cmd: Cmd, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    match cmd {
        Cmd::Setup(a) => {
            let pw = password(
                "UNLOCKDESK_NEW_PASSWORD",
                &format!("New password for {}: ", a.admin_id),
            )?;
            let input = service::SetupInput {
                branch_code: a.branch_code,
                branch_name: a.branch_name,
                time_zone: a.time_zone,
                admin_id: a.admin_id,
                admin_name: a.admin_name,
                admin_password: pw,
            };
            let terminal = ctx.terminal.clone();
            ctx.svc()?.setup(&input, &terminal)?;
            let b = ctx.svc()?.branch()?;
            out.value(
                &serde_json::to_value(&b).unwrap_or_default(),
                &format!("branch {} ({}) set up", b.code, b.name),
            );
            Ok(0)
        }
        Cmd::Staff(s) => staff(s, ctx, out),
        Cmd::Demo(a) => {
            let terminal = ctx.terminal.clone();
            let svc = ctx.svc()?;
            let actor = svc.first_run_actor(&terminal)?;
            let report = svc.load_demo(&actor, a.appointments.unwrap_or(0))?;
            out.value(&report, "demo data loaded");
            Ok(0)
        }
        Cmd::Case(c) => cases::run(c, ctx, out),
        Cmd::Appointments(c) => cases::appointments(c, ctx, out),
        Cmd::Audit(AuditCmd::Verify) => {
            let actor = ctx.reader()?;
            let v = ctx.svc()?.verify_audit(&actor)?;
            let text = if v.ok {
                format!("OK: {} events, chain intact", v.events)
            } else {
                format!(
                    "BROKEN at event {}: {} (expected {}, found {})",
                    v.broken_at.unwrap_or(0),
                    v.problem.clone().unwrap_or_default(),
                    v.expected.clone().unwrap_or_default(),
                    v.found.clone().unwrap_or_default()
                )
            };
            out.value(&serde_json::to_value(&v).unwrap_or_default(), &text);
            Ok(if v.ok { 0 } else { 1 })
        }
        Cmd::Audit(AuditCmd::Export { out: file, filter }) => {
            retention::export(ctx, out, &file, &filter)
        }
        Cmd::Audit(AuditCmd::Reveals { filter }) => retention::reveals(ctx, out, &filter),
        Cmd::Retention(c) => retention::run(c, ctx, out),
        Cmd::Notifications(c) => notify::run(c, ctx, out),
        Cmd::Id(IdCmd::Check(args)) => Ok(id_check::run(&args, out.json) as u8),
        Cmd::Form(FormCmd::Render {
            case,
            form,
            copy,
            out: file,
        }) => {
            let kind = form;
            let actor = if copy == CopyKind::Bank {
                ctx.actor()?
            } else {
                ctx.reader()?
            };
            let id = cases::resolve(ctx, &actor, &case)?;
            let bytes = ctx.svc()?.render_document(&actor, id, kind, copy)?;
            std::fs::write(&file, &bytes).map_err(|e| {
                Fail::Core(CoreError::storage(format!(
                    "cannot write {}: {e}",
                    file.display()
                )))
            })?;
            out.value(&serde_json::json!({"out": file.display().to_string(), "bytes": bytes.len(), "form": kind.as_str(), "copy": copy.as_str()}), &format!("wrote {} ({} bytes)", file.display(), bytes.len()));
            Ok(0)
        }
        Cmd::Form(FormCmd::Print {
            case,
            form,
            copy,
            out: file,
            printer,
        }) => print_form(ctx, out, &case, form, copy, file, printer),
        Cmd::Backup(a) => {
            let actor = ctx.actor()?;
            ctx.svc()?.backup(&actor, &a.out)?;
            out.value(
                &serde_json::json!({"backup": a.out.display().to_string()}),
                &format!("backed up to {}", a.out.display()),
            );
            Ok(0)
        }
        Cmd::Restore(a) => match ctx.db.clone() {
            Db::File(p) => restore::run(&a.from, &p, ctx, out),
            Db::Url(_) => Err(Fail::Usage(
                "restore is for an embedded store; use `store copy` into an empty database".into(),
            )),
        },
        Cmd::Store(StoreCmd::Copy { to }) => store_copy::run(ctx, &Db::parse(&to), out),
        Cmd::Key(KeyCmd::New { .. }) => unreachable!("handled before the store is opened"),
        Cmd::Rekey(a) => rekey(ctx, out, a),
        Cmd::Enrol(a) => remote::enrol(ctx, &a, out),
        Cmd::Terminal(t) => remote::terminal(ctx, t, out),
        Cmd::Authorizations(c) => desk::run(c, ctx, out),
    }
}

/// `rekey`: authenticate an administrator on the store, change the key, audit it.
fn rekey(ctx: &mut Ctx, out: &Out, a: RekeyArgs) -> Res<u8> {
    let Db::File(p) = ctx.db.clone() else {
        return Err(Fail::Usage(
            "rekey is for an embedded store; a PostgreSQL store's field key is changed with `rekey` on its server's key file (not yet supported)".into(),
        ));
    };
    let Some(id) = ctx.as_staff.clone() else {
        return Err(Fail::Usage(
            "this command changes data: pass --as STAFF_ID".into(),
        ));
    };
    let store = SqliteStore::open(&p)?;
    if !store.is_encrypted() {
        return Err(Fail::Core(CoreError::storage(format!(
            "the store {} is not encrypted: set UNLOCKDESK_KEY_FILE to a key file (made by `unlockdesk-cli key new`) and run any command once to encrypt it",
            p.display()
        ))));
    }
    let svc = Service::new(&store, Arc::new(SystemClock), Arc::new(OsEntropy));
    let pw = password("UNLOCKDESK_PASSWORD", &format!("Password for {id}: "))?;
    let actor = svc.authenticate(&id, &pw, &ctx.terminal)?;
    let detail = match a.new_key_file {
        Some(kf) => svc.maintain(&actor, "store-rekeyed", || {
            // Refuses an unreadable, malformed or too-open key file before anything changes.
            unlockdesk_store::keys::read_key_file(&kf)?;
            store.rekey_kek(unlockdesk_store::KeySource::KeyFile(kf.clone()))?;
            Ok(serde_json::json!({"key": "key-encryption-key"}))
        })?,
        None => svc.maintain(&actor, "store-rekeyed", || {
            let id = store.rekey_data_key()?;
            Ok(serde_json::json!({"key": "data-key", "key_id": id}))
        })?,
    };
    let text = match detail["key"].as_str() {
        Some("data-key") => format!(
            "re-encrypted the store and its documents under a new data key ({})",
            detail["key_id"].as_str().unwrap_or("")
        ),
        _ => "the data key is now protected by the new key file: use it from now on (UNLOCKDESK_KEY_FILE)".to_string(),
    };
    out.value(&detail, &text);
    Ok(0)
}

fn staff(cmd: StaffCmd, ctx: &mut Ctx, out: &Out) -> Res<u8> {
    match cmd {
        StaffCmd::Add { id, name, role } => {
            let actor = ctx.actor()?;
            let pw = password(
                "UNLOCKDESK_NEW_PASSWORD",
                &format!("Initial password for {id}: "),
            )?;
            let v = ctx.svc()?.add_staff(
                &actor,
                &service::NewStaff {
                    id,
                    name,
                    role,
                    password: pw,
                },
            )?;
            out.value(
                &serde_json::to_value(&v).unwrap_or_default(),
                &format!("added {} ({})", v.id, v.role),
            );
        }
        StaffCmd::Passwd { id } => {
            let Some(me) = ctx.as_staff.clone() else {
                return Err(Fail::Usage("pass --as STAFF_ID".into()));
            };
            match id {
                Some(other) if StaffId::parse(&other).ok() != StaffId::parse(&me).ok() => {
                    let actor = ctx.actor()?;
                    let pw = password(
                        "UNLOCKDESK_NEW_PASSWORD",
                        &format!("New password for {other}: "),
                    )?;
                    let v = ctx.svc()?.reset_password(&actor, &other, &pw)?;
                    out.value(
                        &serde_json::to_value(&v).unwrap_or_default(),
                        &format!(
                            "password of {} reset; it must be changed at next sign-in",
                            v.id
                        ),
                    );
                }
                _ => {
                    let old = password(
                        "UNLOCKDESK_PASSWORD",
                        &format!("Current password for {me}: "),
                    )?;
                    let new = password("UNLOCKDESK_NEW_PASSWORD", "New password: ")?;
                    let terminal = ctx.terminal.clone();
                    let v = ctx.svc()?.change_password(&me, &old, &new, &terminal)?;
                    out.value(
                        &serde_json::to_value(&v).unwrap_or_default(),
                        &format!("password of {} changed", v.id),
                    );
                }
            }
        }
        StaffCmd::List => {
            let actor = ctx.actor()?;
            let v = ctx.svc()?.list_staff(&actor)?;
            let text = v
                .iter()
                .map(|s| {
                    format!(
                        "{:<12} {:<10} {}{}{}",
                        s.id,
                        s.role,
                        s.name,
                        if s.locked { " [locked]" } else { "" },
                        if s.disabled { " [disabled]" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.value(&serde_json::to_value(&v).unwrap_or_default(), &text);
        }
        StaffCmd::Disable { id } => {
            let actor = ctx.actor()?;
            let v = ctx.svc()?.set_staff_disabled(&actor, &id, true)?;
            out.value(
                &serde_json::to_value(&v).unwrap_or_default(),
                &format!("{} disabled", v.id),
            );
        }
        StaffCmd::Enable { id } => {
            let actor = ctx.actor()?;
            let v = ctx.svc()?.set_staff_disabled(&actor, &id, false)?;
            out.value(
                &serde_json::to_value(&v).unwrap_or_default(),
                &format!("{} enabled", v.id),
            );
        }
        StaffCmd::Unlock { id } => {
            let actor = ctx.actor()?;
            let v = ctx.svc()?.unlock_staff(&actor, &id)?;
            out.value(
                &serde_json::to_value(&v).unwrap_or_default(),
                &format!("{} unlocked", v.id),
            );
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every subcommand, option and positional value of the whole tree says what it is for;
    /// enumerated ones list their values (a future option without help fails here).
    #[test]
    fn every_command_and_option_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            if cmd.get_about().is_none() && !path.is_empty() {
                missing.push(format!("{path}: the subcommand has no help"));
            }
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} --{}: no help", a.get_long().unwrap_or(id)));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &format!("{path} {}", sub.get_name()), missing);
                }
            }
        }
        let cmd = super::Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        walk(&cmd, "", &mut missing);
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
