//! The use cases: every step of the counter process, written against the ports.
//!
//! Each state-changing use case is **one** store transaction that loads the case, asks the
//! pure [`workflow`](crate::workflow) for the next state, writes the case and its audit event,
//! and commits. Refusals that matter to auditors (four-eyes, forbidden, failed
//! authentication) are recorded as `refused` audit events in their own transaction.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use ts_rs::TS;

use crate::error::{CoreError, CoreResult, ErrorCode, FieldError};
use crate::masking;
use crate::model::*;
use crate::normalize;
use crate::passwords;
use crate::permissions::{self, Action};
use crate::ports::*;
use crate::print::{CopyKind, DocumentKind, PrintDocument, Renderer};
use crate::workflow::{self, Event, EventKind};

/// Credentials typed at the moment of authorization (the supervisor's own id and password).
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Credentials {
    pub staff_id: String,
    pub password: String,
}

/// A signed-in person at a terminal (desktop session).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Session {
    pub staff: StaffView,
    pub terminal: String,
    #[ts(type = "string")]
    pub signed_in_at: DateTime<Utc>,
    #[ts(type = "string")]
    pub last_activity: DateTime<Utc>,
    /// Locked on demand or after idle minutes; unlocking needs the password again.
    pub locked: bool,
}

impl Session {
    pub fn actor(&self) -> Actor {
        Actor {
            staff_id: self.staff.id.clone(),
            role: Some(self.staff.role),
            terminal: self.terminal.clone(),
        }
    }
    /// True when idle longer than `idle_minutes` at `now` (issue 6 item 2).
    pub fn is_idle(&self, now: DateTime<Utc>, idle_minutes: u32) -> bool {
        idle_minutes > 0
            && now - self.last_activity >= chrono::Duration::minutes(i64::from(idle_minutes))
    }
}

/// First-run set-up: the branch and its first administrator.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SetupInput {
    pub branch_code: String,
    pub branch_name: String,
    pub time_zone: String,
    pub admin_id: String,
    pub admin_name: String,
    pub admin_password: String,
}

/// A new staff account; it must change the password at first sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewStaff {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

/// Open a case from an appointment, or as a walk-in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OpenCaseInput {
    pub appointment_id: Option<AppointmentId>,
    /// Walk-in: customer name (required without an appointment).
    #[serde(default)]
    pub customer_name: String,
    #[serde(default)]
    pub phone: String,
    pub lock_cause: Option<LockCause>,
}

/// What the teller enters at the identity step.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct IdentityInput {
    /// A document kind of `id check` (`prc-id`, `passport-mrz`, `bank-card`, ...) or `e-id`.
    pub kind: String,
    /// The number; for `passport-mrz` the first MRZ line.
    pub number: String,
    /// Second MRZ line (passports only).
    #[serde(default)]
    pub mrz_line2: String,
    /// Name as printed on the document (Chinese), or the Latin name for passports.
    pub name_on_document: String,
    /// e-ID verification reference, or the second factor used with a bank card.
    #[serde(default)]
    pub reference: String,
}

/// An operator contact to log.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ContactInput {
    pub channel: ContactChannel,
    pub ticket: String,
    pub result: String,
}

/// The unlock as confirmed with the operator.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UnlockInput {
    pub operator_reference: String,
    pub notified_via: NotificationChannel,
}

/// A failed unlock.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UnlockFailureInput {
    pub reason: String,
    pub next: UnlockFailureNext,
    #[serde(default)]
    pub operator_ticket: String,
}

/// A case as shown to staff: personal numbers masked, the actions core allows, the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CaseView {
    pub case: Case,
    /// Events the state table allows now and the viewer's role may start.
    pub allowed: Vec<EventKind>,
    pub history: Vec<AuditEvent>,
    pub documents: Vec<DocumentRecord>,
    /// The refusal route for an authority-ordered freeze, when it applies.
    pub freeze_route: Option<String>,
    /// The materials checklist for this branch (standard three plus the branch's extras).
    pub required_materials: Vec<String>,
}

/// Personal fields that an audited reveal may show in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum RevealField {
    IdNumber,
    Phone,
    BankCard,
    WalletId,
}

/// The explanation given when a case is an authority-ordered freeze.
pub const FREEZE_ROUTE: &str = "This wallet is frozen by order of a court or the police (不收不付 / 只收不付). \
The counter cannot lift it. The customer must ask the ordering authority for a release \
document (解除冻结通知书); the release is then processed by the bank's legal department, not at the counter.";

/// The use cases over a store, a clock and an entropy source.
pub struct Service<S: Store> {
    store: S,
    clock: Arc<dyn Clock>,
    entropy: Arc<dyn Entropy>,
}

impl<S: Store> Service<S> {
    pub fn new(store: S, clock: Arc<dyn Clock>, entropy: Arc<dyn Entropy>) -> Self {
        Service {
            store,
            clock,
            entropy,
        }
    }
    pub fn store(&self) -> &S {
        &self.store
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    // ---------------------------------------------------------------- branch & staff

    /// True once a branch exists.
    pub fn is_set_up(&self) -> CoreResult<bool> {
        self.store.read(|tx| Ok(tx.branch()?.is_some()))
    }

    /// The branch profile. Errors: `not-set-up`.
    pub fn branch(&self) -> CoreResult<Branch> {
        self.store.read(|tx| {
            tx.branch()?
                .ok_or_else(|| CoreError::new(ErrorCode::NotSetUp, "the branch is not set up yet"))
        })
    }

    /// The branch's local date now ("today").
    pub fn today(&self) -> CoreResult<NaiveDate> {
        Ok(self.branch()?.local_date(self.now()))
    }

    /// First run on an empty store: branch profile and first administrator, whose password is
    /// chosen here (so no forced change follows). Errors: `already-set-up`,
    /// `invalid` with fields `branch_code`, `branch_name`, `time_zone`, `staff_id`, `password`.
    pub fn setup(&self, input: &SetupInput, terminal: &str) -> CoreResult<()> {
        let mut errs = Vec::new();
        let code = normalize::fold_width(input.branch_code.trim()).to_ascii_uppercase();
        if code.is_empty() || code.len() > 12 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            errs.push(FieldError::new(
                "branch_code",
                "format",
                "1-12 letters or digits",
            ));
        }
        if input.branch_name.trim().is_empty() {
            errs.push(FieldError::new(
                "branch_name",
                "required",
                "branch name is required",
            ));
        }
        let tz = if input.time_zone.trim().is_empty() {
            "Asia/Shanghai".to_string()
        } else {
            input.time_zone.trim().to_string()
        };
        if tz.parse::<chrono_tz::Tz>().is_err() {
            errs.push(FieldError::new(
                "time_zone",
                "one-of",
                format!("'{tz}' is not an IANA time zone"),
            ));
        }
        let admin = match StaffId::parse(&input.admin_id) {
            Ok(id) => Some(id),
            Err(e) => {
                errs.extend(e.fields);
                None
            }
        };
        if input.admin_name.trim().is_empty() {
            errs.push(FieldError::new(
                "admin_name",
                "required",
                "name is required",
            ));
        }
        if let Err(e) = passwords::check_rules("password", &input.admin_password, &input.admin_id) {
            errs.extend(e.fields);
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let admin = admin.expect("checked above");
        let hash = passwords::hash(&input.admin_password, self.entropy.salt())?;
        let now = self.now();
        self.store.transact(|tx| {
            if tx.branch()?.is_some() || !tx.list_staff()?.is_empty() {
                return Err(CoreError::new(
                    ErrorCode::AlreadySetUp,
                    "the store is already set up",
                ));
            }
            let branch = Branch {
                code: code.clone(),
                name: input.branch_name.trim().to_string(),
                time_zone: tz.clone(),
                idle_lock_minutes: 5,
                max_failed_logins: 5,
                extra_materials: vec![],
                bank_copy_unmasked: true,
                retention_years: 10,
                id_policy: Default::default(),
            };
            tx.save_branch(&branch)?;
            tx.insert_staff(&Staff {
                id: admin.clone(),
                name: input.admin_name.trim().to_string(),
                role: Role::Admin,
                password_hash: hash.clone(),
                must_change_password: false,
                failed_logins: 0,
                locked: false,
                disabled: false,
                created_at: now,
            })?;
            tx.append_audit(&draft(
                now,
                &admin,
                Some(Role::Admin),
                terminal,
                None,
                "setup",
                None,
                None,
                "",
                Outcome::Ok,
                &format!("{{\"branch\":\"{code}\"}}"),
            ))?;
            Ok(())
        })
    }

    /// Sign in with staff id and password. Counts failures; locks the account after the
    /// branch's `max_failed_logins`. Errors: `auth-failed`, `account-locked`,
    /// `account-disabled`. A session of an account that must change its password is returned
    /// with `staff.must_change_password = true`; every other use case refuses it until changed.
    pub fn sign_in(&self, staff_id: &str, password: &str, terminal: &str) -> CoreResult<Session> {
        let staff = self.authenticate(staff_id, password, terminal, "sign-in")?;
        let now = self.now();
        Ok(Session {
            staff: StaffView::from(&staff),
            terminal: terminal.to_string(),
            signed_in_at: now,
            last_activity: now,
            locked: false,
        })
    }

    /// Check a password for a staff id, recording failures and lockouts (audited).
    fn authenticate(
        &self,
        staff_id: &str,
        password: &str,
        terminal: &str,
        purpose: &str,
    ) -> CoreResult<Staff> {
        let id = StaffId::parse(staff_id)
            .map_err(|_| CoreError::new(ErrorCode::AuthFailed, "wrong staff id or password"))?;
        let now = self.now();
        // Verify outside the write lock: argon2 takes tens of milliseconds.
        let staff = self.store.read(|tx| tx.staff(&id))?;
        let Some(staff) = staff else {
            // Verify against a real hash anyway, so timing does not reveal which ids exist.
            static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let dummy = DUMMY
                .get_or_init(|| passwords::hash("unlockdesk-dummy", [0; 16]).unwrap_or_default());
            let _ = passwords::verify(password, dummy);
            self.audit_refusal(&id, None, terminal, None, purpose, "unknown staff id");
            return Err(CoreError::new(
                ErrorCode::AuthFailed,
                "wrong staff id or password",
            ));
        };
        if staff.disabled {
            self.audit_refusal(
                &id,
                Some(staff.role),
                terminal,
                None,
                purpose,
                "account disabled",
            );
            return Err(CoreError::new(
                ErrorCode::AccountDisabled,
                "this account is disabled",
            ));
        }
        if staff.locked {
            self.audit_refusal(
                &id,
                Some(staff.role),
                terminal,
                None,
                purpose,
                "account locked",
            );
            return Err(CoreError::new(
                ErrorCode::AccountLocked,
                "this account is locked after failed sign-ins; an administrator must unlock it",
            ));
        }
        let ok = passwords::verify(password, &staff.password_hash);
        self.store.transact(|tx| {
            let branch = tx.branch()?;
            let max = branch.map(|b| b.max_failed_logins).unwrap_or(5).max(1);
            let Some(mut s) = tx.staff(&id)? else {
                return Err(CoreError::new(
                    ErrorCode::AuthFailed,
                    "wrong staff id or password",
                ));
            };
            if ok {
                if s.failed_logins != 0 {
                    s.failed_logins = 0;
                    tx.update_staff(&s)?;
                }
                tx.append_audit(&draft(
                    now,
                    &id,
                    Some(s.role),
                    terminal,
                    None,
                    purpose,
                    None,
                    None,
                    "",
                    Outcome::Ok,
                    "{}",
                ))?;
                Ok(())
            } else {
                s.failed_logins += 1;
                let lock = s.failed_logins >= max;
                if lock {
                    s.locked = true;
                }
                tx.update_staff(&s)?;
                let reason = if lock {
                    "wrong password; account locked"
                } else {
                    "wrong password"
                };
                tx.append_audit(&draft(
                    now,
                    &id,
                    Some(s.role),
                    terminal,
                    None,
                    purpose,
                    None,
                    None,
                    reason,
                    Outcome::Refused,
                    &format!("{{\"failed_logins\":{}}}", s.failed_logins),
                ))?;
                Ok(())
            }
        })?;
        if ok {
            Ok(staff)
        } else {
            Err(CoreError::new(
                ErrorCode::AuthFailed,
                "wrong staff id or password",
            ))
        }
    }

    /// Authenticate an actor for one command (the CLI's `--as`), refusing accounts that must
    /// change their password first.
    pub fn actor_for(&self, staff_id: &str, password: &str, terminal: &str) -> CoreResult<Actor> {
        let s = self.authenticate(staff_id, password, terminal, "authenticate")?;
        if s.must_change_password {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change the password first (staff passwd)",
            ));
        }
        Ok(Actor {
            staff_id: s.id,
            role: Some(s.role),
            terminal: terminal.to_string(),
        })
    }

    /// Record activity on a session, locking it when it was idle too long. Errors:
    /// `session-locked` (the caller must unlock with the password).
    pub fn touch(&self, session: &mut Session) -> CoreResult<()> {
        let now = self.now();
        let idle = self.branch().map(|b| b.idle_lock_minutes).unwrap_or(5);
        if session.locked || session.is_idle(now, idle) {
            session.locked = true;
            return Err(CoreError::new(
                ErrorCode::SessionLocked,
                "the session is locked; enter your password to continue",
            ));
        }
        if session.staff.must_change_password {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change your password before continuing",
            ));
        }
        session.last_activity = now;
        Ok(())
    }

    /// Unlock a locked session with the same person's password.
    pub fn unlock_session(&self, session: &mut Session, password: &str) -> CoreResult<()> {
        let staff = self.authenticate(
            session.staff.id.as_str(),
            password,
            &session.terminal,
            "unlock-session",
        )?;
        session.staff = StaffView::from(&staff);
        session.locked = false;
        session.last_activity = self.now();
        Ok(())
    }

    /// Change one's own password (also the forced change at first sign-in).
    /// Errors: `auth-failed` (old password), `invalid` (`new_password` rules or reuse).
    pub fn change_password(
        &self,
        staff_id: &str,
        old: &str,
        new: &str,
        terminal: &str,
    ) -> CoreResult<StaffView> {
        let staff = self.authenticate(staff_id, old, terminal, "change-password-auth")?;
        passwords::check_rules("new_password", new, staff.id.as_str())?;
        if old == new {
            return Err(CoreError::field(
                "new_password",
                "reuse",
                "the new password must differ from the old one",
            ));
        }
        let hash = passwords::hash(new, self.entropy.salt())?;
        let now = self.now();
        self.store.transact(|tx| {
            let mut s = tx
                .staff(&staff.id)?
                .ok_or_else(|| CoreError::not_found("staff"))?;
            s.password_hash = hash.clone();
            s.must_change_password = false;
            tx.update_staff(&s)?;
            tx.append_audit(&draft(
                now,
                &s.id,
                Some(s.role),
                terminal,
                None,
                "change-password",
                None,
                None,
                "",
                Outcome::Ok,
                "{}",
            ))?;
            Ok(StaffView::from(&s))
        })
    }

    /// Add a staff account (admin). Errors: `forbidden`, `conflict` (id exists), `invalid`.
    pub fn add_staff(&self, actor: &Actor, input: &NewStaff) -> CoreResult<StaffView> {
        self.permit(actor, Action::ManageStaff, None)?;
        let id = StaffId::parse(&input.id)?;
        let mut errs = Vec::new();
        if input.name.trim().is_empty() {
            errs.push(FieldError::new("name", "required", "name is required"));
        }
        if let Err(e) = passwords::check_rules("password", &input.password, id.as_str()) {
            errs.extend(e.fields);
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let hash = passwords::hash(&input.password, self.entropy.salt())?;
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            if tx.staff(&id)?.is_some() {
                return Err(CoreError::conflict(format!(
                    "staff id '{id}' already exists (no shared accounts)"
                )));
            }
            let s = Staff {
                id: id.clone(),
                name: input.name.trim().to_string(),
                role: input.role,
                password_hash: hash.clone(),
                must_change_password: true,
                failed_logins: 0,
                locked: false,
                disabled: false,
                created_at: now,
            };
            tx.insert_staff(&s)?;
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                None,
                "staff-add",
                None,
                None,
                "",
                Outcome::Ok,
                &format!("{{\"staff\":\"{id}\",\"role\":\"{}\"}}", input.role),
            ))?;
            Ok(StaffView::from(&s))
        })
    }

    /// Reset a staff password (admin): the account must change it at next sign-in.
    pub fn reset_password(
        &self,
        actor: &Actor,
        staff_id: &str,
        new_password: &str,
    ) -> CoreResult<StaffView> {
        self.permit(actor, Action::ManageStaff, None)?;
        let id = StaffId::parse(staff_id)?;
        passwords::check_rules("password", new_password, id.as_str())?;
        let hash = passwords::hash(new_password, self.entropy.salt())?;
        self.update_staff_with(actor, &id, "staff-reset-password", |s| {
            s.password_hash = hash.clone();
            s.must_change_password = true;
            s.failed_logins = 0;
            s.locked = false;
        })
    }

    /// Disable or re-enable an account (admin). An admin cannot disable themself.
    pub fn set_staff_disabled(
        &self,
        actor: &Actor,
        staff_id: &str,
        disabled: bool,
    ) -> CoreResult<StaffView> {
        self.permit(actor, Action::ManageStaff, None)?;
        let id = StaffId::parse(staff_id)?;
        if disabled && id == actor.staff_id {
            return Err(CoreError::field(
                "staff_id",
                "self",
                "you cannot disable your own account",
            ));
        }
        self.update_staff_with(
            actor,
            &id,
            if disabled {
                "staff-disable"
            } else {
                "staff-enable"
            },
            |s| s.disabled = disabled,
        )
    }

    /// Unlock an account after a lockout (admin).
    pub fn unlock_staff(&self, actor: &Actor, staff_id: &str) -> CoreResult<StaffView> {
        self.permit(actor, Action::ManageStaff, None)?;
        let id = StaffId::parse(staff_id)?;
        self.update_staff_with(actor, &id, "staff-unlock", |s| {
            s.locked = false;
            s.failed_logins = 0;
        })
    }

    fn update_staff_with(
        &self,
        actor: &Actor,
        id: &StaffId,
        action: &str,
        f: impl FnOnce(&mut Staff),
    ) -> CoreResult<StaffView> {
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let mut s = tx
                .staff(id)?
                .ok_or_else(|| CoreError::not_found(format!("staff '{id}'")))?;
            f(&mut s);
            tx.update_staff(&s)?;
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                None,
                action,
                None,
                None,
                "",
                Outcome::Ok,
                &format!("{{\"staff\":\"{id}\"}}"),
            ))?;
            Ok(StaffView::from(&s))
        })
    }

    /// All staff accounts (admin).
    pub fn list_staff(&self, actor: &Actor) -> CoreResult<Vec<StaffView>> {
        self.permit(actor, Action::ManageStaff, None)?;
        self.store
            .read(|tx| Ok(tx.list_staff()?.iter().map(StaffView::from).collect()))
    }

    /// Update the branch settings (admin). The code cannot change once cases exist.
    pub fn update_branch(&self, actor: &Actor, branch: &Branch) -> CoreResult<Branch> {
        self.permit(actor, Action::ManageBranch, None)?;
        let mut errs = Vec::new();
        if branch.name.trim().is_empty() {
            errs.push(FieldError::new(
                "branch_name",
                "required",
                "branch name is required",
            ));
        }
        if branch.time_zone.parse::<chrono_tz::Tz>().is_err() {
            errs.push(FieldError::new(
                "time_zone",
                "one-of",
                format!("'{}' is not an IANA time zone", branch.time_zone),
            ));
        }
        if !(1..=120).contains(&branch.idle_lock_minutes) {
            errs.push(FieldError::new(
                "idle_lock_minutes",
                "range",
                "1 to 120 minutes",
            ));
        }
        if !(1..=20).contains(&branch.max_failed_logins) {
            errs.push(FieldError::new("max_failed_logins", "range", "1 to 20"));
        }
        if branch.retention_years < 10 {
            errs.push(FieldError::new(
                "retention_years",
                "range",
                "signed forms are kept at least 10 years",
            ));
        }
        let mut problems = branch.id_policy.validate().err().unwrap_or_default();
        if branch.id_policy.rules.is_empty() {
            problems.push("no rule is enabled: no customer could prove identity".into());
        }
        if !problems.is_empty() {
            errs.push(FieldError::new("id_policy", "invalid", problems.join("; ")));
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let old = tx
                .branch()?
                .ok_or_else(|| CoreError::new(ErrorCode::NotSetUp, "not set up"))?;
            let mut b = branch.clone();
            b.name = b.name.trim().to_string();
            if b.code != old.code && tx.count_cases()? > 0 {
                return Err(CoreError::field(
                    "branch_code",
                    "immutable",
                    "the branch code is printed on existing cases and cannot change",
                ));
            }
            b.extra_materials = b
                .extra_materials
                .iter()
                .map(|m| m.trim().to_string())
                .filter(|m| !m.is_empty())
                .collect();
            tx.save_branch(&b)?;
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                None,
                "branch-update",
                None,
                None,
                "",
                Outcome::Ok,
                "{}",
            ))?;
            Ok(b)
        })
    }

    // ---------------------------------------------------------------- permissions

    /// Role check, auditing the refusal.
    fn permit(&self, actor: &Actor, action: Action, case: Option<CaseId>) -> CoreResult<()> {
        let Some(role) = actor.role else {
            return Err(CoreError::forbidden("a signed-in staff member is required"));
        };
        permissions::require(role, action).inspect_err(|e| {
            self.audit_refusal(
                &actor.staff_id,
                Some(role),
                &actor.terminal,
                case,
                "permission",
                &e.message,
            );
        })
    }

    /// Inside a transaction: the actor's account still exists, is enabled, unlocked, and has
    /// the role the session claims.
    fn check_actor(&self, tx: &mut dyn StoreTx, actor: &Actor) -> CoreResult<()> {
        let s = tx
            .staff(&actor.staff_id)?
            .ok_or_else(|| CoreError::new(ErrorCode::AuthFailed, "unknown staff"))?;
        if s.disabled {
            return Err(CoreError::new(
                ErrorCode::AccountDisabled,
                "this account is disabled",
            ));
        }
        if s.locked {
            return Err(CoreError::new(
                ErrorCode::AccountLocked,
                "this account is locked",
            ));
        }
        if Some(s.role) != actor.role {
            return Err(CoreError::forbidden(
                "the account's role has changed; sign in again",
            ));
        }
        if s.must_change_password {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change the password first",
            ));
        }
        Ok(())
    }

    fn audit_refusal(
        &self,
        who: &StaffId,
        role: Option<Role>,
        terminal: &str,
        case: Option<CaseId>,
        action: &str,
        reason: &str,
    ) {
        let now = self.now();
        let d = draft(
            now,
            who,
            role,
            terminal,
            case,
            action,
            None,
            None,
            reason,
            Outcome::Refused,
            "{}",
        );
        // A refusal that cannot be recorded must not hide the original error.
        let _ = self.store.transact(|tx| tx.append_audit(&d).map(|_| ()));
    }

    // ---------------------------------------------------------------- cases

    /// Open a case at check-in (from an appointment) or as a walk-in. A case whose lock cause
    /// is an authority-ordered freeze is refused at once (`refused-authority-freeze`).
    /// `idem`: an idempotency key; a repeated call returns the first call's case.
    pub fn open_case(
        &self,
        actor: &Actor,
        input: &OpenCaseInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::OpenCase, None)?;
        let now = self.now();
        let mut errs = Vec::new();
        let phone = if input.phone.trim().is_empty() {
            String::new()
        } else {
            match normalize_phone(&input.phone) {
                Ok(p) => p,
                Err(e) => {
                    errs.push(e);
                    String::new()
                }
            }
        };
        if input.appointment_id.is_none() && input.customer_name.trim().is_empty() {
            errs.push(FieldError::new(
                "customer_name",
                "required",
                "a walk-in needs the customer's name",
            ));
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let id = CaseId(self.entropy.uuid());
        let case_id = self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            if let Some(key) = idem {
                if let Some(first) = tx.idempotent(key)? {
                    // Strict: a key of any other step (or one stored before use cases were
                    // recorded) never replays as an opened case.
                    if first.use_case != "open-case" {
                        first.replays(key, CaseId(uuid::Uuid::nil()), "open-case")?;
                    }
                    return Ok(first.case_id);
                }
            }
            let branch = tx
                .branch()?
                .ok_or_else(|| CoreError::new(ErrorCode::NotSetUp, "not set up"))?;
            let day = branch.local_date(now);
            let seq = tx.next_case_seq(day)?;
            let mut case = Case {
                id,
                case_number: format!("{}-{}-{:04}", branch.code, day.format("%Y%m%d"), seq),
                state: CaseState::CheckedIn,
                version: 1,
                appointment_id: input.appointment_id,
                customer_name: input.customer_name.trim().to_string(),
                phone: phone.clone(),
                lock_cause: input.lock_cause,
                opened_by: actor.staff_id.clone(),
                opened_at: now,
                updated_at: now,
                makers: vec![actor.staff_id.clone()],
                identity: None,
                form: None,
                form_signed_at: None,
                authorization: None,
                unlock: None,
                unlock_failures: vec![],
                contacts: vec![],
                last_reason: String::new(),
            };
            if let Some(aid) = input.appointment_id {
                let mut a = tx
                    .appointment(aid)?
                    .ok_or_else(|| CoreError::not_found("appointment"))?;
                if a.case_id.is_some()
                    || !matches!(
                        a.status,
                        AppointmentStatus::Waiting | AppointmentStatus::NoShow
                    )
                {
                    return Err(CoreError::conflict(format!(
                        "appointment {} is already {}",
                        a.reference, a.status
                    )));
                }
                case.customer_name = a.name.clone();
                case.phone = a.phone.clone();
                case.lock_cause = input.lock_cause.or(Some(a.lock_cause));
                a.status = AppointmentStatus::InProgress;
                a.case_id = Some(id);
                tx.update_appointment(&a)?;
            }
            tx.insert_case(&case)?;
            let detail = format!(
                "{{\"case_number\":\"{}\",\"appointment\":{}}}",
                case.case_number,
                input.appointment_id.is_some()
            );
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                Some(id),
                "open-case",
                None,
                Some(CaseState::CheckedIn),
                "",
                Outcome::Ok,
                &detail,
            ))?;
            if case.lock_cause == Some(LockCause::AuthorityFreeze) {
                let ev = Event::RefuseAuthorityFreeze {
                    reason: "authority-freeze recorded at check-in".into(),
                };
                let next = workflow::step(&case, &actor.staff_id, &ev, now)?;
                tx.update_case(&next, case.version)?;
                tx.append_audit(&draft(
                    now,
                    &actor.staff_id,
                    actor.role,
                    &actor.terminal,
                    Some(id),
                    EventKind::RefuseAuthorityFreeze.as_str(),
                    Some(case.state),
                    Some(next.state),
                    &next.last_reason,
                    Outcome::Ok,
                    "{}",
                ))?;
            }
            if let Some(key) = idem {
                tx.remember_idempotent(key, id, "open-case", now)?;
            }
            Ok(id)
        })?;
        let view = self.case_view(actor, case_id)?;
        // C1 facts only (domain notes §5): ids, case number, action, state, actor; never C2 values.
        tracing::info!(case_id = %case_id, case_number = %view.case.case_number, action = view.history.last().map_or("", |e| e.action.as_str()), state = %view.case.state, actor = %actor.staff_id, terminal = %actor.terminal, "case step");
        Ok(view)
    }

    /// Run one workflow event on a case in one transaction: load, check the actor, apply the
    /// pure state machine, write the case (version-checked) and its audit event.
    fn transition(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
        use_case: &'static str,
        make: impl FnOnce(&Case, &Branch) -> CoreResult<Event>,
        audit_detail: impl FnOnce(&Case) -> String,
    ) -> CoreResult<CaseView> {
        let now = self.now();
        let res = self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            if let Some(key) = idem {
                if let Some(first) = tx.idempotent(key)? {
                    // A retry of the same attempt replays; the key of another request is a
                    // client error, never a silent success.
                    return first.replays(key, case_id, use_case);
                }
            }
            let case = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let branch = tx
                .branch()?
                .ok_or_else(|| CoreError::new(ErrorCode::NotSetUp, "not set up"))?;
            let event = make(&case, &branch)?;
            let kind = event.kind();
            let next = workflow::step(&case, &actor.staff_id, &event, now)?;
            tx.update_case(&next, case.version)?;
            let reason = match &event {
                Event::Authorize {
                    reason_code,
                    reason,
                    ..
                } => [reason_code.clone().unwrap_or_default(), reason.clone()]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(": "),
                Event::Cancel { reason } | Event::RefuseAuthorityFreeze { reason } => {
                    reason.clone()
                }
                Event::RecordUnlockFailure(f) => f.reason.clone(),
                _ => String::new(),
            };
            let action = if kind == EventKind::RecordForm && case.form.is_some() {
                "amend-form"
            } else {
                kind.as_str()
            };
            // An authorized step is the supervisor's act: the event names them (with the
            // supervisor role) and keeps the person at the terminal in the detail.
            let (who, role, detail) = match event.authorizer() {
                Some(sup) => {
                    let mut d: serde_json::Value = serde_json::from_str(&audit_detail(&next))
                        .unwrap_or_else(|_| serde_json::json!({}));
                    if let Some(o) = d.as_object_mut() {
                        o.insert(
                            "operator".into(),
                            serde_json::json!(actor.staff_id.as_str()),
                        );
                        o.insert("supervisor".into(), serde_json::json!(sup.as_str()));
                    }
                    (sup.clone(), Some(Role::Supervisor), d.to_string())
                }
                None => (actor.staff_id.clone(), actor.role, audit_detail(&next)),
            };
            tx.append_audit(&draft(
                now,
                &who,
                role,
                &actor.terminal,
                Some(case_id),
                action,
                Some(case.state),
                Some(next.state),
                &masking::scrub_digits(&reason),
                Outcome::Ok,
                &detail,
            ))?;
            if let Some(aid) = next.appointment_id {
                if next.state.is_terminal() {
                    if let Some(mut a) = tx.appointment(aid)? {
                        a.status = AppointmentStatus::Done;
                        tx.update_appointment(&a)?;
                    }
                }
            }
            if let Some(key) = idem {
                tx.remember_idempotent(key, case_id, use_case, now)?;
            }
            Ok(())
        });
        if let Err(e) = &res {
            if matches!(e.code, ErrorCode::FourEyes | ErrorCode::AuthorityFreeze) {
                self.audit_refusal(
                    &actor.staff_id,
                    actor.role,
                    &actor.terminal,
                    Some(case_id),
                    "refused-step",
                    &e.message,
                );
            }
        }
        res?;
        let view = self.case_view(actor, case_id)?;
        // C1 facts only (domain notes §5): ids, case number, action, state, actor; never C2 values.
        tracing::info!(case_id = %case_id, case_number = %view.case.case_number, action = view.history.last().map_or("", |e| e.action.as_str()), state = %view.case.state, actor = %actor.staff_id, terminal = %actor.terminal, "case step");
        Ok(view)
    }

    /// Authenticate the supervisor at this moment and check the role (issue 6 item 1).
    fn supervisor(
        &self,
        creds: &Credentials,
        terminal: &str,
        case_id: CaseId,
    ) -> CoreResult<StaffId> {
        let s = self.authenticate(&creds.staff_id, &creds.password, terminal, "authorize-auth")?;
        if !permissions::allows(s.role, Action::Authorize) {
            self.audit_refusal(
                &s.id,
                Some(s.role),
                terminal,
                Some(case_id),
                "authorize",
                "not a supervisor",
            );
            return Err(CoreError::forbidden(format!(
                "{} is not a supervisor",
                s.id
            )));
        }
        if s.must_change_password {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "the supervisor must change their password first",
            ));
        }
        Ok(s.id)
    }

    /// Identity step: check the document to its standard, compare names, refuse expired
    /// documents (with the expiry date), flag non-ID-card documents for the supervisor's
    /// co-check and minors for the guardian/agent path.
    /// Errors: `invalid` with fields `kind`, `number`, `mrz_line2`, `name_on_document`, `reference`.
    pub fn verify_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &IdentityInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::VerifyIdentity, Some(case_id))?;
        let now = self.now();
        let branch = self.branch()?;
        let today = branch.local_date(now);
        let record = crate::identity::verify_for_case_with(input, today, &branch.id_policy)?;
        // A case opened from an appointment: the document must be the one booked (when the
        // same kind of document was booked), so a check-in cannot move to another person.
        let booked =
            self.store.read(
                |tx| match tx.case(case_id)?.and_then(|c| c.appointment_id) {
                    Some(aid) => tx.appointment(aid),
                    None => Ok(None),
                },
            )?;
        if let Some(e) = booked.and_then(|a| appointment_mismatch(&a, &record)) {
            return Err(CoreError::invalid(vec![e]));
        }
        let by = actor.staff_id.clone();
        self.transition(
            actor,
            case_id,
            idem,
            "verify-identity",
            move |case, _| {
                let mut record = record;
                let expected = normalize::name_key(&case.customer_name);
                if record.kind != "passport-mrz"
                    && !expected.is_empty()
                    && normalize::name_key(&record.name_on_document) != expected
                {
                    record.name_matches = false;
                }
                if !record.name_matches {
                    return Err(CoreError::field(
                        "name_on_document",
                        "name-mismatch",
                        format!(
                            "the name on the document does not match the customer ({})",
                            masking::name(&case.customer_name)
                        ),
                    ));
                }
                Ok(Event::VerifyIdentity(IdentityRecord {
                    checked_by: by,
                    checked_at: now,
                    ..record
                }))
            },
            |c| {
                let i = c.identity.as_ref();
                format!(
                    "{{\"kind\":\"{}\",\"number\":\"{}\",\"cocheck\":{}}}",
                    i.map(|i| i.kind.as_str()).unwrap_or(""),
                    i.map(|i| masking::id_number(&i.number)).unwrap_or_default(),
                    i.is_some_and(|i| i.needs_cocheck)
                )
            },
        )
    }

    /// The supervisor's co-check of a document other than the resident ID card (双人审核).
    pub fn cocheck_identity(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::ViewCases, Some(case_id))?;
        let sup = self.supervisor(supervisor, &actor.terminal, case_id)?;
        let sup2 = sup.clone();
        self.transition(
            actor,
            case_id,
            idem,
            "cocheck-identity",
            move |_, _| Ok(Event::CoCheckIdentity { supervisor: sup }),
            move |_| format!("{{\"supervisor\":\"{sup2}\"}}"),
        )
    }

    /// Record (or amend) the application form. Validates every field; numbers are
    /// normalised and checked (phone, card, ID). Errors: `invalid` with dotted field names.
    pub fn record_form(
        &self,
        actor: &Actor,
        case_id: CaseId,
        form: &ApplicationForm,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::RecordForm, Some(case_id))?;
        let today = self.today()?;
        let input = form.clone();
        self.transition(
            actor,
            case_id,
            idem,
            "record-form",
            move |case, branch| {
                // Merged with the case read in this transaction, so an amendment made at
                // another terminal meanwhile is never overwritten with older numbers.
                let mut form = input;
                // The UI only ever sees masked numbers: a document number left blank (or its
                // mask sent back) means "the document verified at the identity step".
                if let Some(i) = &case.identity {
                    if i.kind != "e-id"
                        && i.kind != "bank-card"
                        && blank_or_unchanged(&form.id_number, &masking::id_number(&i.number))
                    {
                        form.id_type = i.kind.clone();
                        form.id_number = i.number.clone();
                    }
                }
                if let Some(recorded) = &case.form {
                    keep_recorded_numbers(&mut form, recorded);
                }
                let form = validate_form(&form, today)?;
                if let Some(i) = &case.identity {
                    let errs = identity_mismatches(&form, i, today);
                    if !errs.is_empty() {
                        return Err(CoreError::invalid(errs));
                    }
                }
                // Materials: the three standard ones plus the branch's extras must be ticked.
                let mut missing = Vec::new();
                for m in required_materials(branch) {
                    if !form.materials.iter().any(|x| x == &m) {
                        missing.push(m);
                    }
                }
                if !missing.is_empty() && form.lock_cause != Some(LockCause::AuthorityFreeze) {
                    return Err(CoreError::field(
                        "materials",
                        "required",
                        format!("materials not presented: {}", missing.join(", ")),
                    ));
                }
                if let Some(id) = &case.identity {
                    if id.minor && form.agent.is_none() {
                        return Err(CoreError::field(
                            "agent",
                            "required",
                            "the customer is a minor: a guardian must act as agent",
                        ));
                    }
                }
                Ok(Event::RecordForm(form))
            },
            |c| {
                format!(
                    "{{\"lock_cause\":\"{}\"}}",
                    c.lock_cause.map(|l| l.as_str()).unwrap_or("")
                )
            },
        )
    }

    /// The teller confirms the signed paper is in hand.
    pub fn confirm_signed(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.plain_step(
            actor,
            case_id,
            idem,
            Action::ConfirmSigned,
            "confirm-signed",
            Event::ConfirmSigned,
        )
    }

    /// A step with no input of its own (confirm signed, submit, close): the permission, then
    /// one transition with an empty audit detail.
    fn plain_step(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
        action: Action,
        use_case: &'static str,
        event: Event,
    ) -> CoreResult<CaseView> {
        self.permit(actor, action, Some(case_id))?;
        self.transition(
            actor,
            case_id,
            idem,
            use_case,
            move |_, _| Ok(event),
            |_| "{}".into(),
        )
    }

    /// Submit for the supervisor's authorization.
    pub fn submit(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.plain_step(
            actor,
            case_id,
            idem,
            Action::Submit,
            "submit",
            Event::Submit,
        )
    }

    /// The supervisor's decision, authenticated at this moment with the supervisor's own
    /// credentials (whoever is signed in). Four-eyes is checked by the workflow. Errors:
    /// `auth-failed`, `forbidden` (not a supervisor), `four-eyes`, `illegal-transition`
    /// ("already decided" when another approval won), `invalid` (reason required).
    #[allow(clippy::too_many_arguments)]
    pub fn authorize(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        decision: Decision,
        reason_code: Option<&str>,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::ViewCases, Some(case_id))?;
        if let Some(code) = reason_code {
            if !REASON_CODES.contains(&code) {
                return Err(CoreError::field(
                    "reason_code",
                    "one-of",
                    format!("'{code}' is not one of: {}", REASON_CODES.join(", ")),
                ));
            }
        }
        let sup = self.supervisor(supervisor, &actor.terminal, case_id)?;
        let sup2 = sup.clone();
        let reason = reason.trim().to_string();
        let code = reason_code.map(str::to_owned);
        self.transition(
            actor,
            case_id,
            idem,
            // One use case per decision: a key sent again with another decision is refused.
            match decision {
                Decision::Approve => "approve",
                Decision::ReturnForInfo => "return-for-info",
                Decision::Reject => "reject",
            },
            move |case, _| {
                if case.state != CaseState::Submitted && case.authorization.is_some() {
                    return Err(CoreError::conflict(format!(
                        "already decided: the case is {}",
                        case.state
                    )));
                }
                Ok(Event::Authorize {
                    decision,
                    supervisor: sup,
                    reason_code: code,
                    reason,
                })
            },
            move |_| format!("{{\"supervisor\":\"{sup2}\",\"decision\":\"{decision}\"}}"),
        )
    }

    /// Log a contact with the wallet operator (channel, ticket, result; time is now).
    pub fn log_contact(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &ContactInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::LogContact, Some(case_id))?;
        let mut errs = Vec::new();
        if input.ticket.trim().is_empty() {
            errs.push(FieldError::new(
                "ticket",
                "required",
                "the operator's ticket number is required",
            ));
        }
        if input.result.trim().is_empty() {
            errs.push(FieldError::new(
                "result",
                "required",
                "the result of the contact is required",
            ));
        }
        if !errs.is_empty() {
            return Err(CoreError::invalid(errs));
        }
        let c = OperatorContact {
            channel: input.channel,
            at: self.now(),
            ticket: input.ticket.trim().into(),
            result: input.result.trim().into(),
            by: actor.staff_id.clone(),
        };
        self.transition(
            actor,
            case_id,
            idem,
            "log-contact",
            move |_, _| Ok(Event::LogContact(c)),
            |c| {
                let last = c.contacts.last();
                format!(
                    "{{\"channel\":\"{}\",\"ticket\":{}}}",
                    last.map(|l| l.channel.as_str()).unwrap_or(""),
                    serde_json::to_string(&last.map(|l| l.ticket.clone()).unwrap_or_default())
                        .unwrap_or_default()
                )
            },
        )
    }

    /// Confirm the unlock carried out with the operator; a supervisor authorizes at this
    /// moment. Never possible for an authority-ordered freeze.
    pub fn confirm_unlock(
        &self,
        actor: &Actor,
        case_id: CaseId,
        supervisor: &Credentials,
        input: &UnlockInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::ConfirmUnlock, Some(case_id))?;
        if input.operator_reference.trim().is_empty() {
            return Err(CoreError::field(
                "operator_reference",
                "required",
                "the operator's reference is required",
            ));
        }
        let sup = self.supervisor(supervisor, &actor.terminal, case_id)?;
        let now = self.now();
        let rec = UnlockRecord {
            operator_reference: input.operator_reference.trim().to_string(),
            notified_via: input.notified_via,
            notified_at: now,
            confirmed_by: actor.staff_id.clone(),
            authorized_by: sup,
            at: now,
        };
        self.transition(
            actor,
            case_id,
            idem,
            "confirm-unlock",
            move |_, _| Ok(Event::ConfirmUnlock(rec)),
            |c| {
                format!(
                    "{{\"authorized_by\":\"{}\"}}",
                    c.unlock
                        .as_ref()
                        .map(|u| u.authorized_by.as_str())
                        .unwrap_or("")
                )
            },
        )
    }

    /// Record a failed unlock: retry later, or escalate to the operator.
    pub fn record_unlock_failure(
        &self,
        actor: &Actor,
        case_id: CaseId,
        input: &UnlockFailureInput,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::RecordUnlockFailure, Some(case_id))?;
        let f = UnlockFailure {
            reason: input.reason.trim().into(),
            next: input.next,
            operator_ticket: input.operator_ticket.trim().into(),
            by: actor.staff_id.clone(),
            at: self.now(),
        };
        self.transition(
            actor,
            case_id,
            idem,
            "record-unlock-failure",
            move |_, _| Ok(Event::RecordUnlockFailure(f)),
            |c| {
                format!(
                    "{{\"next\":\"{}\"}}",
                    c.unlock_failures
                        .last()
                        .map(|f| f.next.as_str())
                        .unwrap_or("")
                )
            },
        )
    }

    /// Close an unlocked case (receipt handed over).
    pub fn close_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.plain_step(
            actor,
            case_id,
            idem,
            Action::CloseCase,
            "close-case",
            Event::Close,
        )
    }

    /// Cancel a case (reason required).
    pub fn cancel_case(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::CancelCase, Some(case_id))?;
        let reason = reason.trim().to_string();
        self.transition(
            actor,
            case_id,
            idem,
            "cancel-case",
            move |_, _| Ok(Event::Cancel { reason }),
            |_| "{}".into(),
        )
    }

    /// Refuse a case as an authority-ordered freeze (recognised during the interview).
    pub fn refuse_authority_freeze(
        &self,
        actor: &Actor,
        case_id: CaseId,
        reason: &str,
        idem: Option<&str>,
    ) -> CoreResult<CaseView> {
        self.permit(actor, Action::RefuseAuthorityFreeze, Some(case_id))?;
        let reason = reason.trim().to_string();
        self.transition(
            actor,
            case_id,
            idem,
            "refuse-authority-freeze",
            move |_, _| Ok(Event::RefuseAuthorityFreeze { reason }),
            |_| "{}".into(),
        )
    }

    // ---------------------------------------------------------------- reads

    /// One case, masked, with allowed actions for the viewer's role and its history.
    pub fn case_view(&self, actor: &Actor, case_id: CaseId) -> CoreResult<CaseView> {
        self.permit(actor, Action::ViewCases, Some(case_id))?;
        let (case, history, documents, branch) = self.store.read(|tx| {
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            Ok((
                c,
                tx.case_history(case_id)?,
                tx.documents(case_id)?,
                tx.branch()?,
            ))
        })?;
        let role = actor.role;
        let allowed = workflow::allowed_events(&case)
            .into_iter()
            .filter(|k| {
                role.is_some_and(|r| {
                    if k.needs_supervisor() && *k != EventKind::ConfirmUnlock {
                        // Authorization happens in a dialog with the supervisor's own credentials:
                        // offered to anyone who may work the case.
                        permissions::allows(r, Action::ViewCases)
                            && permissions::allows(r, Action::Submit)
                    } else {
                        permissions::allows(r, Action::for_event(*k))
                    }
                })
            })
            .collect();
        let freeze_route = (case.state == CaseState::RefusedAuthorityFreeze
            || case.lock_cause == Some(LockCause::AuthorityFreeze))
        .then(|| FREEZE_ROUTE.to_string());
        let required_materials = branch.as_ref().map(required_materials).unwrap_or_default();
        Ok(CaseView {
            case: mask_case(&case),
            allowed,
            history,
            documents,
            freeze_route,
            required_materials,
        })
    }

    /// The full, unmasked case for in-process consumers that need it (printing the bank copy).
    /// Not exposed to the UI.
    pub fn case_unmasked(&self, actor: &Actor, case_id: CaseId) -> CoreResult<Case> {
        self.permit(actor, Action::ViewCases, Some(case_id))?;
        self.store.read(|tx| {
            tx.case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))
        })
    }

    /// Cases matching a query (masked summaries).
    pub fn list_cases(&self, actor: &Actor, q: &CaseQuery) -> CoreResult<Vec<CaseSummary>> {
        self.permit(actor, Action::ViewCases, None)?;
        let tz = self.branch()?.time_zone;
        self.store.read(|tx| tx.list_cases(q, &tz))
    }

    /// Find cases from one search box: a case number, a name, or 4 trailing characters of the
    /// ID number or phone.
    pub fn find_cases(&self, actor: &Actor, text: &str) -> CoreResult<Vec<CaseSummary>> {
        let t = normalize::fold_width(text.trim());
        if t.is_empty() {
            return Err(CoreError::field(
                "query",
                "required",
                "type a case number, a name, or the last 4 of the ID or phone",
            ));
        }
        let upper = t.to_ascii_uppercase();
        let q = if upper.matches('-').count() == 2 && upper.chars().any(|c| c.is_ascii_digit()) {
            CaseQuery {
                case_number: Some(upper),
                limit: Some(50),
                ..Default::default()
            }
        } else if upper.len() == 4 && upper.chars().all(|c| c.is_ascii_digit() || c == 'X') {
            CaseQuery {
                tail4: Some(upper),
                limit: Some(50),
                ..Default::default()
            }
        } else {
            CaseQuery {
                name_prefix: Some(t.to_string()),
                limit: Some(50),
                ..Default::default()
            }
        };
        self.list_cases(actor, &q)
    }

    /// Show one personal value in full: permitted roles only, with a typed reason, audited.
    pub fn reveal(
        &self,
        actor: &Actor,
        case_id: CaseId,
        field: RevealField,
        reason: &str,
    ) -> CoreResult<String> {
        self.permit(actor, Action::RevealPersonalData, Some(case_id))?;
        if reason.trim().chars().count() < 4 {
            return Err(CoreError::field(
                "reason",
                "required",
                "type why the full value is needed",
            ));
        }
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found("case"))?;
            let form = c.form.as_ref();
            let value = match field {
                RevealField::IdNumber => c
                    .identity
                    .as_ref()
                    .map(|i| i.number.clone())
                    .or_else(|| form.map(|f| f.id_number.clone())),
                RevealField::Phone => Some(c.phone.clone()).filter(|p| !p.is_empty()),
                RevealField::BankCard => {
                    form.map(|f| f.bank_card.clone()).filter(|v| !v.is_empty())
                }
                RevealField::WalletId => {
                    form.map(|f| f.wallet_id.clone()).filter(|v| !v.is_empty())
                }
            }
            .ok_or_else(|| CoreError::not_found("that value is not on the case"))?;
            let f = serde_json::to_value(field)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                Some(case_id),
                "reveal",
                Some(c.state),
                Some(c.state),
                &masking::scrub_digits(reason.trim()),
                Outcome::Ok,
                &format!("{{\"field\":\"{f}\"}}"),
            ))?;
            Ok(value)
        })
    }

    /// Verify the audit chain (auditor, supervisor, admin; the CLI's read-only actor too).
    pub fn verify_audit(&self) -> CoreResult<AuditVerification> {
        self.store.verify_audit()
    }

    /// Record an audited sensitive read or export that happens outside the use cases above
    /// (e.g. the CLI's `form render`), in its own transaction.
    pub fn audit_read(
        &self,
        actor: &Actor,
        case_id: Option<CaseId>,
        action: &str,
        detail: &str,
    ) -> CoreResult<()> {
        let now = self.now();
        self.store.transact(|tx| {
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                case_id,
                action,
                None,
                None,
                "",
                Outcome::Ok,
                detail,
            ))
            .map(|_| ())
        })
    }

    // ---------------------------------------------------------------- printing

    /// Build the print view of a case for one copy. Customer copies always mask; the bank
    /// copy follows the branch's archive setting.
    fn print_view(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
    ) -> CoreResult<(Case, PrintDocument)> {
        self.permit(
            actor,
            if copy == CopyKind::Bank {
                Action::PrintBankCopy
            } else {
                Action::PrintCustomerCopy
            },
            Some(case_id),
        )?;
        let now = self.now();
        let (case, branch, staff) = self.store.read(|tx| {
            let c = tx
                .case(case_id)?
                .ok_or_else(|| CoreError::not_found(format!("case {case_id}")))?;
            let b = tx
                .branch()?
                .ok_or_else(|| CoreError::new(ErrorCode::NotSetUp, "not set up"))?;
            Ok((c, b, tx.list_staff()?))
        })?;
        let names = |id: &StaffId| {
            staff
                .iter()
                .find(|s| &s.id == id)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let doc = match kind {
            DocumentKind::Application => PrintDocument::Application(
                crate::print::application_view(&case, &branch, copy, now, &names)?,
            ),
            DocumentKind::Receipt => PrintDocument::Receipt(crate::print::receipt_view(
                &case, &branch, copy, now, &names,
            )?),
        };
        Ok((case, doc))
    }

    /// Print: render the document, store it beside the database (`documents/`, SHA-256 in the
    /// store) and record the print — or reprint — on the case (audited, domain notes §6).
    /// Errors: `forbidden`, `illegal-transition` (nothing to print yet), `render`, `storage`.
    pub fn print_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
        renderer: &dyn Renderer,
    ) -> CoreResult<DocumentRecord> {
        let (case, doc) = self.print_view(actor, case_id, kind, copy)?;
        // Render outside the write lock: it takes milliseconds, the lock should not.
        let bytes = renderer.render(&doc)?;
        let now = self.now();
        let rec = DocumentRecord {
            id: self.entropy.uuid().to_string(),
            case_id,
            kind: kind.as_str().to_string(),
            copy: copy.as_str().to_string(),
            path: String::new(),
            sha256: String::new(),
            bytes: 0,
            at: now,
            by: actor.staff_id.clone(),
        };
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let reprint = tx.documents(case_id)?.iter().any(|d| d.kind == rec.kind && d.copy == rec.copy);
            let saved = tx.save_document(&rec, &bytes)?;
            let detail = serde_json::json!({"kind": saved.kind, "copy": saved.copy, "sha256": saved.sha256, "path": saved.path}).to_string();
            tx.append_audit(&draft(now, &actor.staff_id, actor.role, &actor.terminal, Some(case_id), if reprint { "reprint" } else { "print" }, Some(case.state), Some(case.state), "", Outcome::Ok, &detail))?;
            Ok(saved)
        })
    }

    /// Render without storing (the CLI's `form render --out`): the export is audited.
    pub fn render_document(
        &self,
        actor: &Actor,
        case_id: CaseId,
        kind: DocumentKind,
        copy: CopyKind,
        renderer: &dyn Renderer,
    ) -> CoreResult<Vec<u8>> {
        let (case, doc) = self.print_view(actor, case_id, kind, copy)?;
        let bytes = renderer.render(&doc)?;
        let now = self.now();
        let detail =
            serde_json::json!({"kind": kind.as_str(), "copy": copy.as_str(), "bytes": bytes.len()})
                .to_string();
        self.store.transact(|tx| {
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                Some(case_id),
                "export",
                Some(case.state),
                Some(case.state),
                "",
                Outcome::Ok,
                &detail,
            ))
            .map(|_| ())
        })?;
        Ok(bytes)
    }

    /// A fresh random id (for callers that build records, e.g. demo data).
    pub fn new_uuid(&self) -> uuid::Uuid {
        self.entropy.uuid()
    }

    // ---------------------------------------------------------------- appointments

    /// Today's appointments (branch-local), by slot.
    pub fn appointments_today(&self) -> CoreResult<Vec<Appointment>> {
        let today = self.today()?;
        self.store
            .read(|tx| tx.appointments_on(today))
            .map(|v| v.into_iter().map(|a| mask_appointment(&a)).collect())
    }

    /// Counter lookup from one search box (reference, phone or its last 4, ID number or its
    /// last 4, name prefix). Today's first, at most 20, masked.
    pub fn find_appointments(&self, text: &str) -> CoreResult<Vec<Appointment>> {
        let key = appointment_key(text)?;
        let today = self.today()?;
        self.store
            .read(|tx| tx.find_appointments(&key, today, 20))
            .map(|v| v.into_iter().map(|a| mask_appointment(&a)).collect())
    }

    /// Insert a booked appointment (used by the importer and the demo).
    pub fn add_appointment(&self, actor: &Actor, a: &Appointment) -> CoreResult<()> {
        let now = self.now();
        self.store.transact(|tx| {
            if tx.appointment_by_reference(&a.reference)?.is_some() {
                return Err(CoreError::conflict(format!(
                    "appointment {} exists",
                    a.reference
                )));
            }
            tx.insert_appointment(a)?;
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                None,
                "appointment-add",
                None,
                None,
                "",
                Outcome::Ok,
                &format!(
                    "{{\"reference\":{}}}",
                    serde_json::to_string(&a.reference).unwrap_or_default()
                ),
            ))?;
            Ok(())
        })
    }
}

/// Build an audit draft.
#[allow(clippy::too_many_arguments)]
pub fn draft(
    at: DateTime<Utc>,
    who: &StaffId,
    role: Option<Role>,
    terminal: &str,
    case_id: Option<CaseId>,
    action: &str,
    from: Option<CaseState>,
    to: Option<CaseState>,
    reason: &str,
    outcome: Outcome,
    detail: &str,
) -> AuditDraft {
    AuditDraft {
        at,
        staff_id: who.to_string(),
        role,
        terminal: terminal.to_string(),
        case_id,
        action: action.to_string(),
        from_state: from,
        to_state: to,
        reason: reason.to_string(),
        outcome,
        detail: detail.to_string(),
    }
}

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

/// Normalise and check a mainland mobile number (domain notes §4): full-width digits,
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
/// error carrying the first failed rule and every rule's message (domain notes §4).
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
    if f.id_type.trim().is_empty() {
        errs.push(FieldError::new(
            "id_type",
            "required",
            "document type is required",
        ));
    } else if let Ok(kind) = f.id_type.parse::<DocKind>() {
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
    } else if f.id_type != "e-id" {
        errs.push(FieldError::new(
            "id_type",
            "one-of",
            format!("'{}' is not a document kind", f.id_type),
        ));
    }
    if !f.id_valid_until.trim().is_empty() && f.id_valid_until.trim() != "long-term" {
        match NaiveDate::parse_from_str(f.id_valid_until.trim(), "%Y-%m-%d") {
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
        match agent.id_type.parse::<DocKind>() {
            Ok(kind) => match checked_number("agent.id_number", kind, &agent.id_number, today) {
                Ok(v) => agent.id_number = v,
                Err(e) => errs.push(e),
            },
            Err(_) => errs.push(FieldError::new(
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
    if errs.is_empty() {
        Ok(f)
    } else {
        Err(CoreError::invalid(errs))
    }
}

/// Parse the counter's search box into a lookup key (issue 7 item 2).
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
    if let Ok(p) = normalize_phone(&compact) {
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

/// Mask every C2 value on a case for display (domain notes §5).
pub fn mask_case(c: &Case) -> Case {
    let mut m = c.clone();
    m.phone = masking::phone(&m.phone);
    if let Some(i) = &mut m.identity {
        i.number = masking::id_number(&i.number);
        if let Some(r) = &i.reference {
            i.reference = Some(masking::scrub_digits(r));
        }
    }
    if let Some(f) = &mut m.form {
        f.id_number = masking::id_number(&f.id_number);
        f.phone = masking::phone(&f.phone);
        f.bank_card = masking::card(&f.bank_card);
        f.wallet_id = masking::wallet(&f.wallet_id);
        if let Some(a) = &mut f.agent {
            a.id_number = masking::id_number(&a.id_number);
            a.phone = masking::phone(&a.phone);
        }
    }
    m
}

/// Mask an appointment's C2 values for display.
pub fn mask_appointment(a: &Appointment) -> Appointment {
    let mut m = a.clone();
    m.phone = masking::phone(&m.phone);
    m.id_number = if m.id_number.chars().count() <= 4 {
        m.id_number.clone()
    } else {
        masking::id_number(&m.id_number)
    };
    m
}

// ---------------------------------------------------------------- appointment book (issue 7)

impl<S: Store> Service<S> {
    /// Import the call centre's export (CSV or JSON bytes; see [`crate::appointments`] for the
    /// format rules). `file_name` is recorded in the audit trail (digit runs masked).
    ///
    /// One store transaction for the whole file: a crash imports nothing half-way. Rows are
    /// matched by reference after normalisation: a new reference is inserted `waiting`
    /// (`imported`); a known one whose booked fields are equal is `unchanged`; a changed one is
    /// `updated`, keeping its status and case link, with one `appointment-update` audit event
    /// naming the changed fields (never their values). One `appointment-import` event records
    /// the counts. The actor is a signed-in staff member whose role may import, or the system
    /// actor `import` (role `None`; the call-centre feed).
    ///
    /// Errors: `forbidden`; `not-set-up`; `invalid` for a file-level problem (fields `file`
    /// with rules `encoding` / `json` / `empty`, or `header`); `storage`. Row problems are
    /// not errors: they are listed in [`ImportReport::rejected`].
    pub fn import_appointments(
        &self,
        actor: &Actor,
        bytes: &[u8],
        file_name: &str,
    ) -> CoreResult<ImportReport> {
        let system_import = actor.role.is_none() && actor.staff_id.as_str() == "import";
        if !system_import {
            self.permit(actor, Action::ImportAppointments, None)?;
        }
        let now = self.now();
        let today = self.today()?;
        let parsed = crate::appointments::parse_file(bytes, today)?;
        let file = masking::scrub_digits(
            std::path::Path::new(file_name)
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or(file_name),
        );
        let file_json = serde_json::to_string(&file).unwrap_or_else(|_| "\"\"".into());
        let references: Vec<String> = parsed
            .rows
            .iter()
            .map(|(_, r)| r.reference.clone())
            .collect();
        let mut report = ImportReport {
            rejected: parsed.rejected,
            ..Default::default()
        };
        self.store.transact(|tx| {
            if !system_import {
                self.check_actor(tx, actor)?;
            }
            let known: std::collections::HashMap<String, Appointment> =
                tx.appointments_by_references(&references)?.into_iter().map(|a| (a.reference.clone(), a)).collect();
            let mut new = Vec::new();
            for (_, row) in &parsed.rows {
                match known.get(&row.reference) {
                    None => {
                        let seq = new.len() as u32;
                        new.push(row.to_new(time_ordered_id(now, seq, self.entropy.uuid())))
                    }
                    Some(stored) => {
                        let changed = row.changes(stored);
                        if changed.is_empty() {
                            report.unchanged += 1;
                            continue;
                        }
                        tx.update_appointment(&row.apply_to(stored))?;
                        let detail = serde_json::json!({"reference": row.reference, "changed": changed, "file": file}).to_string();
                        tx.append_audit(&draft(now, &actor.staff_id, actor.role, &actor.terminal, stored.case_id, "appointment-update", None, None, "changed by import", Outcome::Ok, &detail))?;
                        report.updated += 1;
                    }
                }
            }
            tx.insert_appointments(&new)?;
            report.imported = new.len() as u32;
            let detail = format!(
                "{{\"file\":{file_json},\"imported\":{},\"updated\":{},\"unchanged\":{},\"rejected_rows\":{}}}",
                report.imported,
                report.updated,
                report.unchanged,
                report.rejected.iter().map(|r| r.row).collect::<std::collections::BTreeSet<_>>().len()
            );
            tx.append_audit(&draft(now, &actor.staff_id, actor.role, &actor.terminal, None, "appointment-import", None, None, "", Outcome::Ok, &detail))?;
            Ok(())
        })?;
        Ok(report)
    }

    /// End of day: every `waiting` appointment whose slot starts on `day` (branch-local)
    /// becomes `no-show`, with one `appointment-no-shows` audit event carrying the day and the
    /// count. Returns the count. Errors: `forbidden`, `invalid` (field `day`, rule
    /// `future-date`: a day after today), `not-set-up`, `storage`.
    pub fn mark_no_shows(&self, actor: &Actor, day: NaiveDate) -> CoreResult<u32> {
        self.permit(actor, Action::MarkNoShows, None)?;
        let today = self.today()?;
        if day > today {
            return Err(CoreError::field(
                "day",
                "future-date",
                format!("{day} has not ended yet"),
            ));
        }
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let n = tx.mark_no_shows(day)?;
            tx.append_audit(&draft(
                now,
                &actor.staff_id,
                actor.role,
                &actor.terminal,
                None,
                "appointment-no-shows",
                None,
                None,
                "",
                Outcome::Ok,
                &format!("{{\"day\":\"{day}\",\"count\":{n}}}"),
            ))?;
            Ok(n)
        })
    }
}

pub use crate::appointments::{ImportReport, RejectedRow};

/// The verified document against the one booked with the appointment, when the booking named
/// the same kind of document: its full number must be equal, or its last 4 (the call centre
/// may take only those) must end the verified number. Field `number` (`mrz_line2` for a
/// passport), rule `appointment-mismatch`. Another kind of document than booked is allowed:
/// the customer may bring another one (the name is still compared with the case's).
fn appointment_mismatch(a: &Appointment, record: &IdentityRecord) -> Option<FieldError> {
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
        if record.kind == "passport-mrz" {
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

/// Where a validated form is not the person verified at the identity step (domain notes §1:
/// the identity check proves the person is the account holder; the form is theirs). Field
/// errors, rule `identity-mismatch` unless noted:
/// * `customer_name`: not the name on the verified document (for a passport, whose name is in
///   Latin letters, `customer_name_latin` is compared when filled in, with the MRZ name rules);
/// * `id_type` / `id_number`: not the verified document (an e-ID or a bank card has no
///   document number to compare);
/// * `sex`, rule `id-sex`: male or female on the form against the sex the number encodes
///   (GB 11643-1999 §5.3: the sequence code is odd for men, even for women).
fn identity_mismatches(
    f: &ApplicationForm,
    i: &IdentityRecord,
    today: NaiveDate,
) -> Vec<FieldError> {
    use crate::identity::DocKind;
    let mut errs = Vec::new();
    if i.kind == "passport-mrz" {
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
    if i.kind != "e-id" && i.kind != "bank-card" {
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
        (f.sex, f.id_type.parse::<DocKind>())
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

/// Whether `sent` means "the value on record": left blank, or the record's own mask sent back
/// unchanged (the window never holds the full value of a recorded form).
fn blank_or_unchanged(sent: &str, masked_record: &str) -> bool {
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
fn keep_recorded_numbers(form: &mut ApplicationForm, recorded: &ApplicationForm) {
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
