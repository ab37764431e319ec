//! The branch server's sessions and terminals, kept in the store so that several servers on
//! one database agree on them (no state in a server process).
//!
//! * A **session** is an opaque random token (244 random bits, 64 hex characters) returned at
//!   sign-in; the store keeps only its SHA-256. It is bound to one terminal, expires
//!   `idle_lock_minutes` after its last request (the branch's idle rule, as the desktop's lock
//!   screen), and is revoked at sign-out, when its terminal is revoked, and when the account
//!   is disabled or its password reset.
//! * A **terminal** on another host is enrolled once with a one-time code an admin issued
//!   (valid [`ENROLMENT_CODE_MINUTES`]); it gets an id and a secret (stored as SHA-256) that
//!   it presents with every request. Clients on the server's own loopback address need no
//!   enrolment; their sessions are bound to `local:<name>`.
//!
//! Failed sign-ins and lockout are exactly the embedded store's ([`Service::check_password`]).

use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use super::{draft, Service};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::model::*;
use crate::permissions::Action;
use crate::ports::*;

/// How long an enrolment code is valid, in minutes.
pub const ENROLMENT_CODE_MINUTES: i64 = 30;
/// A session's `last_seen` is written at most this often (seconds): a busy terminal does not
/// turn every read into a write, and the idle rule stays exact to within it.
const TOUCH_EVERY_SECS: i64 = 15;

/// SHA-256 of a secret (token, code, terminal secret) as 64 lowercase hex characters.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A certificate's fingerprint as the server prints it and terminals pin it: `SHA256:` and 32
/// colon-separated upper-case hex bytes of the DER certificate's SHA-256.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    let hex: Vec<String> = Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    format!("SHA256:{}", hex.join(":"))
}

/// The part of a version that must match between a terminal and its branch server: the major
/// version, or major.minor below 1.0 (semver: 0.x releases may break compatibility).
pub fn compatible_part(version: &str) -> String {
    let mut it = version.split('.');
    let major = it.next().unwrap_or("");
    if major == "0" {
        format!("0.{}", it.next().unwrap_or(""))
    } else {
        major.to_string()
    }
}

/// What sign-in on the branch server returns.
#[derive(Debug, Clone)]
pub struct ServerSignIn {
    /// The opaque session token (64 hex characters); only its hash is stored.
    pub token: String,
    pub staff: StaffView,
    /// The branch's idle minutes: the session expires that long after its last request.
    pub idle_minutes: u32,
}

/// What enrolment returns to the new terminal (once: the secret is not stored in clear).
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub terminal: TerminalRecord,
    /// 64 hex characters; the terminal sends `<id>:<secret>` with every request.
    pub secret: String,
}

fn expired(msg: &str) -> CoreError {
    CoreError::new(ErrorCode::SessionExpired, msg)
}

impl<S: Store> Service<S> {
    fn random_hex(&self) -> String {
        let mut b = Vec::with_capacity(32);
        b.extend_from_slice(&self.salt());
        b.extend_from_slice(&self.salt());
        hex::encode(b)
    }

    /// Sign in on the branch server at `terminal` (an enrolled terminal's id or
    /// `local:<name>`). Errors: as [`crate::Counter::sign_in`] (`auth-failed`,
    /// `account-locked`, `account-disabled`), `not-set-up`.
    pub fn server_sign_in(
        &self,
        staff_id: &str,
        password: &str,
        terminal: &str,
    ) -> CoreResult<ServerSignIn> {
        let branch = self.branch()?;
        let staff = self.check_password(staff_id, password, terminal, "sign-in")?;
        let token = self.random_hex();
        let now = self.now();
        self.store.transact(|tx| {
            tx.insert_server_session(&ServerSession {
                token_hash: secret_hash(&token),
                staff_id: staff.id.clone(),
                terminal: terminal.to_string(),
                created_at: now,
                last_seen: now,
                revoked_at: None,
            })
        })?;
        Ok(ServerSignIn {
            token,
            staff: StaffView::from(&staff),
            idle_minutes: branch.idle_lock_minutes,
        })
    }

    /// The actor of a request carrying `token` from `terminal`. Errors: `session-expired`
    /// (unknown, revoked, bound to another terminal, or idle past the branch's minutes: the
    /// idle one is revoked now), `account-disabled`, `account-locked`.
    pub fn server_actor(&self, token: &str, terminal: &str) -> CoreResult<Actor> {
        self.session_actor_at(token, terminal, false, true)
    }

    /// [`Service::server_actor`] without counting as activity: a long-lived event stream
    /// checks that its session still holds (not ended, not idle past the branch's minutes, the
    /// account usable) without keeping it alive. Errors: as `server_actor`.
    pub fn server_session_alive(&self, token: &str, terminal: &str) -> CoreResult<()> {
        self.session_actor_at(token, terminal, true, false)
            .map(|_| ())
    }

    /// [`Service::server_actor`] for the routes an account that must change its password may
    /// use (its own session, sign-out, the password change itself); every other route refuses
    /// such an account with `password-change-required`, reads included, as sign-in on a single
    /// terminal does.
    pub fn server_actor_before_password_change(
        &self,
        token: &str,
        terminal: &str,
    ) -> CoreResult<Actor> {
        self.session_actor_at(token, terminal, true, true)
    }

    fn session_actor_at(
        &self,
        token: &str,
        terminal: &str,
        pending_change_ok: bool,
        touch: bool,
    ) -> CoreResult<Actor> {
        let hash = secret_hash(token);
        let now = self.now();
        let SessionCheck {
            session,
            staff,
            idle_lock_minutes: idle,
        } = self.store.session_check(&hash)?;
        let Some(session) = session else {
            return Err(expired("no such session: sign in again"));
        };
        if session.revoked_at.is_some() {
            return Err(expired("this session has ended: sign in again"));
        }
        if session.terminal != terminal {
            return Err(expired(
                "this session belongs to another terminal: sign in here",
            ));
        }
        let Some(staff) = staff else {
            return Err(expired("the account no longer exists"));
        };
        let idle_out = idle > 0 && now - session.last_seen >= Duration::minutes(i64::from(idle));
        if idle_out || staff.disabled || staff.locked {
            self.store.transact(|tx| match tx.server_session(&hash)? {
                Some(mut s) if s.revoked_at.is_none() => {
                    s.revoked_at = Some(now);
                    tx.update_server_session(&s)
                }
                _ => Ok(()),
            })?;
            if staff.disabled {
                return Err(CoreError::new(
                    ErrorCode::AccountDisabled,
                    "this account is disabled",
                ));
            }
            if staff.locked {
                return Err(CoreError::new(
                    ErrorCode::AccountLocked,
                    "this account is locked",
                ));
            }
            return Err(expired(&format!(
                "the session ended after {idle} idle minutes: sign in again"
            )));
        }
        if touch && now - session.last_seen >= Duration::seconds(TOUCH_EVERY_SECS) {
            // Re-read inside the write: a sign-out or revocation that landed since the read
            // above must not be undone by writing the older row back.
            let still_open = self.store.transact(|tx| match tx.server_session(&hash)? {
                Some(mut s) if s.revoked_at.is_none() => {
                    s.last_seen = now;
                    tx.update_server_session(&s)?;
                    Ok(true)
                }
                _ => Ok(false),
            })?;
            if !still_open {
                return Err(expired("this session has ended: sign in again"));
            }
        }
        if staff.must_change_password && !pending_change_ok {
            return Err(CoreError::new(
                ErrorCode::PasswordChangeRequired,
                "change the password first",
            ));
        }
        Ok(Actor::staff(staff.id.clone(), staff.role, terminal))
    }

    /// End the session of `token` (sign-out); an unknown or ended one is already out.
    pub fn server_sign_out(&self, token: &str) -> CoreResult<()> {
        let hash = secret_hash(token);
        let now = self.now();
        self.store.transact(|tx| {
            if let Some(mut s) = tx.server_session(&hash)? {
                if s.revoked_at.is_none() {
                    s.revoked_at = Some(now);
                    tx.update_server_session(&s)?;
                    tx.append_audit(&draft(
                        now,
                        &s.staff_id,
                        None,
                        &s.terminal,
                        None,
                        "sign-out",
                        None,
                        None,
                        "",
                        Outcome::Ok,
                        "{}",
                    ))?;
                }
            }
            Ok(())
        })
    }

    /// Issue a one-time enrolment code (admin): 12 characters of `0-9A-Z` without the look-
    /// alikes `0 O 1 I`, valid [`ENROLMENT_CODE_MINUTES`]. Returns the code and its expiry.
    /// Errors: `forbidden`.
    pub fn issue_enrolment_code(&self, actor: &Actor) -> CoreResult<(String, DateTime<Utc>)> {
        self.permit(actor, Action::ManageBranch, None)?;
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        let raw = self.salt();
        let code: String = raw[..12]
            .iter()
            .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
            .collect();
        let now = self.now();
        let expires = now + Duration::minutes(ENROLMENT_CODE_MINUTES);
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            tx.insert_enrolment_code(&EnrolmentCode {
                code_hash: secret_hash(&code),
                issued_by: actor.staff_id().clone(),
                issued_at: now,
                expires_at: expires,
                used_at: None,
                terminal_id: None,
            })?;
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
                None,
                "terminal-code",
                None,
                None,
                "",
                Outcome::Ok,
                &format!("{{\"expires_at\":\"{}\"}}", expires.to_rfc3339()),
            ))?;
            Ok(())
        })?;
        Ok((code, expires))
    }

    /// Enrol a terminal with a one-time code. `name` is 1-64 printable characters. Errors:
    /// `invalid` (`code` unknown, used or expired; `name`), `not-set-up`.
    pub fn enrol_terminal(&self, code: &str, name: &str) -> CoreResult<Enrolled> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(CoreError::field(
                "name",
                "length",
                "the terminal's name is 1-64 printable characters",
            ));
        }
        let code = code.trim().to_ascii_uppercase().replace(['-', ' '], "");
        let hash = secret_hash(&code);
        let now = self.now();
        let id = format!("term-{}", &self.uuid().simple().to_string()[..12]);
        let secret = self.random_hex();
        self.store.transact(|tx| {
            let bad = || {
                CoreError::field(
                    "code",
                    "enrolment-code",
                    "this enrolment code is unknown, already used or expired: ask an administrator for a new one",
                )
            };
            let mut c = tx.enrolment_code(&hash)?.ok_or_else(bad)?;
            if c.used_at.is_some() || c.expires_at <= now {
                return Err(bad());
            }
            c.used_at = Some(now);
            c.terminal_id = Some(id.clone());
            tx.update_enrolment_code(&c)?;
            let t = TerminalRecord {
                id: id.clone(),
                name: name.to_string(),
                secret_hash: secret_hash(&secret),
                enrolled_at: now,
                enrolled_by: c.issued_by.clone(),
                revoked_at: None,
            };
            tx.insert_terminal(&t)?;
            tx.append_audit(&draft(
                now,
                &c.issued_by,
                None,
                &id,
                None,
                "terminal-enrol",
                None,
                None,
                "",
                Outcome::Ok,
                &serde_json::json!({"terminal": id, "name": name}).to_string(),
            ))?;
            Ok(Enrolled {
                terminal: t,
                secret: secret.clone(),
            })
        })
    }

    /// The enrolled terminal presenting `id` and `secret`. Errors: `terminal-not-enrolled`
    /// (unknown id, wrong secret, revoked).
    pub fn enrolled_terminal(&self, id: &str, secret: &str) -> CoreResult<TerminalRecord> {
        let t = self.store.read(|tx| tx.terminal(id))?;
        match t {
            Some(t) if t.revoked_at.is_none() && t.secret_hash == secret_hash(secret) => Ok(t),
            Some(t) if t.revoked_at.is_some() => Err(CoreError::new(
                ErrorCode::TerminalNotEnrolled,
                format!("terminal {id} was revoked by an administrator"),
            )),
            _ => Err(CoreError::new(
                ErrorCode::TerminalNotEnrolled,
                "this terminal is not enrolled on the branch server: enrol it with a code from an administrator",
            )),
        }
    }

    /// Every enrolled terminal (admin). Errors: `forbidden`.
    pub fn list_terminals(&self, actor: &Actor) -> CoreResult<Vec<TerminalRecord>> {
        self.permit(actor, Action::ManageBranch, None)?;
        self.store.read(|tx| {
            self.check_actor(tx, actor)?;
            tx.list_terminals()
        })
    }

    /// Revoke a terminal (admin): its sessions end at once. Errors: `forbidden`, `not-found`.
    pub fn revoke_terminal(&self, actor: &Actor, id: &str) -> CoreResult<TerminalRecord> {
        self.permit(actor, Action::ManageBranch, None)?;
        let now = self.now();
        self.store.transact(|tx| {
            self.check_actor(tx, actor)?;
            let mut t = tx
                .terminal(id)?
                .ok_or_else(|| CoreError::not_found(format!("terminal {id}")))?;
            if t.revoked_at.is_none() {
                t.revoked_at = Some(now);
                tx.update_terminal(&t)?;
                let n = tx.revoke_terminal_sessions(id, now)?;
                tx.append_audit(&draft(
                    now,
                    actor.staff_id(),
                    actor.role(),
                    actor.terminal(),
                    None,
                    "terminal-revoke",
                    None,
                    None,
                    "",
                    Outcome::Ok,
                    &format!("{{\"terminal\":\"{id}\",\"sessions_ended\":{n}}}"),
                ))?;
            }
            Ok(t)
        })
    }
}
