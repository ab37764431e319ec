//! Staff accounts (administrators only).

use super::{draft, Service};
use crate::dto::*;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::model::*;
use crate::passwords;
use crate::permissions::Action;
use crate::ports::*;

impl<S: Store> Service<S> {
    /// Add a staff account (admin). Errors: `forbidden`, `conflict` (id exists), `invalid`.
    pub(crate) fn add_staff(&self, actor: &Actor, input: &NewStaff) -> CoreResult<StaffView> {
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
        let hash = passwords::hash(&input.password, self.salt())?;
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
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
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
    pub(crate) fn reset_password(
        &self,
        actor: &Actor,
        staff_id: &str,
        new_password: &str,
    ) -> CoreResult<StaffView> {
        self.permit(actor, Action::ManageStaff, None)?;
        let id = StaffId::parse(staff_id)?;
        passwords::check_rules("password", new_password, id.as_str())?;
        let hash = passwords::hash(new_password, self.salt())?;
        self.update_staff_with(actor, &id, "staff-reset-password", |s| {
            s.password_hash = hash.clone();
            s.must_change_password = true;
            s.failed_logins = 0;
            s.locked = false;
        })
    }

    /// Disable or re-enable an account (admin). An admin cannot disable themself.
    pub(crate) fn set_staff_disabled(
        &self,
        actor: &Actor,
        staff_id: &str,
        disabled: bool,
    ) -> CoreResult<StaffView> {
        self.permit(actor, Action::ManageStaff, None)?;
        let id = StaffId::parse(staff_id)?;
        if disabled && &id == actor.staff_id() {
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
    pub(crate) fn unlock_staff(&self, actor: &Actor, staff_id: &str) -> CoreResult<StaffView> {
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
            if s.disabled || s.must_change_password {
                // A branch server's sessions of a disabled account, or of one whose password
                // was reset, end now (on every server: they live in the store).
                tx.revoke_staff_sessions(&s.id, now)?;
            }
            tx.append_audit(&draft(
                now,
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
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
    pub(crate) fn list_staff(&self, actor: &Actor) -> CoreResult<Vec<StaffView>> {
        self.permit(actor, Action::ManageStaff, None)?;
        self.store
            .read(|tx| Ok(tx.list_staff()?.iter().map(StaffView::from).collect()))
    }
}
