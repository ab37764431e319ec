//! Set-up, branch settings and demo data.

use super::{draft, Service};
use crate::dto::*;
use crate::error::{CoreError, CoreResult, ErrorCode, FieldError};
use crate::model::*;
use crate::normalize;
use crate::passwords;
use crate::permissions::Action;
use crate::ports::*;

impl<S: Store> Service<S> {
    /// First run on an empty store: branch profile and first administrator, whose password is
    /// chosen here (so no forced change follows). Errors: `already-set-up`,
    /// `invalid` with fields `branch_code`, `branch_name`, `time_zone`, `staff_id`, `password`.
    pub(crate) fn setup(&self, input: &SetupInput, terminal: &str) -> CoreResult<()> {
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
        let hash = passwords::hash(&input.admin_password, self.salt())?;
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
                online_check_required: true,
                agents_allowed: false,
                signed_scan_required: false,
                voucher_retention_years: 30,
                operator_connectors: None,
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

    /// Update the branch settings (admin). The code cannot change once cases exist.
    pub(crate) fn update_branch(&self, actor: &Actor, branch: &Branch) -> CoreResult<Branch> {
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
        let aml = crate::retention::AML_MIN_YEARS;
        let most = crate::retention::MAX_YEARS;
        if !(aml..=most).contains(&branch.retention_years) {
            errs.push(FieldError::new(
                "retention_years",
                "range",
                format!(
                    "the case with its identity copy is kept {aml} to {most} years: at least {aml} \
                     by the Anti-Money Laundering Law, Art. 34"
                ),
            ));
        }
        if !(aml..=most).contains(&branch.voucher_retention_years) {
            errs.push(FieldError::new(
                "voucher_retention_years",
                "range",
                format!(
                    "signed forms and other vouchers are kept {aml} to {most} years: at least {aml} \
                     by the Anti-Money Laundering Law, Art. 34; 30 when filed as accounting vouchers"
                ),
            ));
        }
        errs.extend(crate::operator::check_connectors(
            branch.operator_connectors.as_deref().unwrap_or_default(),
        ));
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
                actor.staff_id(),
                actor.role(),
                actor.terminal(),
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

    /// Fill an empty store with the demo branch (see [`crate::demo::load`]).
    pub(crate) fn load_demo(
        &self,
        actor: &Actor,
        extra_appointments: u64,
    ) -> CoreResult<serde_json::Value> {
        self.permit(actor, Action::LoadDemo, None)?;
        crate::demo::load(&self.without_connectors(), extra_appointments)
    }
}
