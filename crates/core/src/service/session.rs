//! Sign-in, authentication, session lock, password change, and the supervisor's
//! authentication at the moment of an authorization.

use super::{draft, Service};
use crate::dto::*;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::model::*;
use crate::passwords;
use crate::permissions::Action;
use crate::ports::*;

impl<S: Store> Service<S> {
    /// Sign in with staff id and password. Counts failures; locks the account after the
    /// branch's `max_failed_logins`. Errors: `auth-failed`, `account-locked`,
    /// `account-disabled`. A session of an account that must change its password is returned
    /// with `staff.must_change_password = true`; every other use case refuses it until changed.
    pub(crate) fn sign_in(
        &self,
        staff_id: &str,
        password: &str,
        terminal: &str,
    ) -> CoreResult<Session> {
        let staff = self.check_password(staff_id, password, terminal, "sign-in")?;
        Ok(Session::new(StaffView::from(&staff), terminal, self.now()))
    }

    /// Check a password for a staff id, recording failures and lockouts (audited).
    pub(crate) fn check_password(
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
        // A hash made with older parameters is made again with today's (`passwords::params`)
        // now that the password is in hand, outside the write lock like the check: at the
        // start of someone's work (sign-in, the CLI's `--as`, a session unlock), not in the
        // middle of a teller's step (a supervisor's authorization only checks) nor just
        // before the password is replaced anyway. A failure here keeps the old hash, which
        // still verifies: never a reason to refuse the sign-in.
        let starts_work = matches!(purpose, "sign-in" | "authenticate" | "unlock-session");
        let rehashed = (ok && starts_work && passwords::needs_rehash(&staff.password_hash))
            .then(|| passwords::hash(password, self.salt()).ok())
            .flatten();
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
                let mut changed = s.failed_logins != 0;
                s.failed_logins = 0;
                // Only over the hash that was checked: a password changed meanwhile stays.
                let upgraded = match &rehashed {
                    Some(h) if s.password_hash == staff.password_hash => {
                        s.password_hash = h.clone();
                        changed = true;
                        true
                    }
                    _ => false,
                };
                if changed {
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
                    if upgraded {
                        r#"{"password_rehashed":true}"#
                    } else {
                        "{}"
                    },
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
    pub(crate) fn authenticate_actor(
        &self,
        staff_id: &str,
        password: &str,
        terminal: &str,
    ) -> CoreResult<Actor> {
        let s = self.check_password(staff_id, password, terminal, "authenticate")?;
        if s.must_change_password {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change the password first (staff passwd)",
            ));
        }
        Ok(Actor::staff(s.id, s.role, terminal))
    }

    /// The session's actor for the next use case, recording the activity: a session idle
    /// longer than the branch's `idle_lock_minutes` is locked here. Errors: `session-locked`
    /// (the caller must unlock with the password), `password-change-required`.
    pub(crate) fn session_actor(&self, session: &mut Session) -> CoreResult<Actor> {
        let now = self.now();
        let idle = self.branch().map(|b| b.idle_lock_minutes).unwrap_or(5);
        if session.is_locked() || session.is_idle(now, idle) {
            session.set_locked();
            return Err(CoreError::new(
                ErrorCode::SessionLocked,
                "the session is locked; enter your password to continue",
            ));
        }
        if session.staff().must_change_password {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change your password before continuing",
            ));
        }
        session.touched(now);
        Ok(session.actor().clone())
    }

    /// Unlock a locked session with the same person's password.
    pub(crate) fn unlock_session(&self, session: &mut Session, password: &str) -> CoreResult<()> {
        let staff = self.check_password(
            session.staff().id.as_str(),
            password,
            session.terminal(),
            "unlock-session",
        )?;
        session.refresh(StaffView::from(&staff), self.now());
        Ok(())
    }

    /// [`Service::change_password`] for the person signed in to `session`.
    pub(crate) fn change_own_password(
        &self,
        session: &mut Session,
        old: &str,
        new: &str,
    ) -> CoreResult<()> {
        if session.is_locked() {
            return Err(CoreError::new(
                ErrorCode::SessionLocked,
                "the session is locked",
            ));
        }
        let id = session.staff().id.clone();
        let terminal = session.terminal().to_string();
        let staff = self.change_password(id.as_str(), old, new, &terminal)?;
        session.refresh(staff, self.now());
        Ok(())
    }

    /// The actor that loads demo data: only while the store is empty (no branch, no staff).
    pub(crate) fn first_run_actor(&self, terminal: &str) -> CoreResult<Actor> {
        if self.is_set_up()? {
            return Err(CoreError::new(
                ErrorCode::AlreadySetUp,
                "demo data needs an empty store: use a new database (--db or UNLOCKDESK_DATA_DIR)",
            ));
        }
        Ok(Actor::system(SystemActor::FirstRun, terminal))
    }

    /// Change one's own password (also the forced change at first sign-in).
    /// Errors: `auth-failed` (old password), `invalid` (`new_password` rules or reuse).
    pub(crate) fn change_password(
        &self,
        staff_id: &str,
        old: &str,
        new: &str,
        terminal: &str,
    ) -> CoreResult<StaffView> {
        let staff = self.check_password(staff_id, old, terminal, "change-password-auth")?;
        passwords::check_rules("new_password", new, staff.id.as_str())?;
        if old == new {
            return Err(CoreError::field(
                "new_password",
                "reuse",
                "the new password must differ from the old one",
            ));
        }
        let hash = passwords::hash(new, self.salt())?;
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

    /// Authenticate the supervisor at this moment with their own credentials (whoever is
    /// signed in at the terminal) and check that their role may do `action`
    /// ([`Action::Authorize`], [`Action::CocheckIdentity`]); refusals are audited.
    pub(crate) fn supervisor(
        &self,
        creds: &Credentials,
        terminal: &str,
        case_id: CaseId,
        action: Action,
    ) -> CoreResult<StaffId> {
        let s =
            self.check_password(&creds.staff_id, &creds.password, terminal, "authorize-auth")?;
        // Disabled and locked were refused by the password check (with the sign-in's words).
        if let Some(e) = super::account_refusal(&s, super::Account::Supervisor(action)) {
            if e.code == ErrorCode::Forbidden {
                self.audit_refusal(
                    &s.id,
                    Some(s.role),
                    terminal,
                    Some(case_id),
                    "authorize",
                    "not a supervisor",
                );
            }
            return Err(e);
        }
        Ok(s.id)
    }
}
