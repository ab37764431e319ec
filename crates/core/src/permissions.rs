//! The role × action permission matrix (docs/domain.md §2).
//!
//! Tellers work cases; supervisors do everything a teller does plus authorize; administrators
//! run the branch profile and staff accounts and never work cases; auditors read cases and the
//! audit trail and change nothing.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{CoreError, CoreResult};
use crate::model::{Actor, Role, SystemActor};
use crate::workflow::EventKind;

/// Everything a person can ask the system to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum Action {
    OpenCase,
    VerifyIdentity,
    CocheckIdentity,
    RecordForm,
    ConfirmSigned,
    Submit,
    Authorize,
    LogContact,
    ConfirmUnlock,
    RecordUnlockFailure,
    CloseCase,
    CancelCase,
    RefuseAuthorityFreeze,
    ViewCases,
    RevealPersonalData,
    PrintCustomerCopy,
    PrintBankCopy,
    ViewAudit,
    VerifyAudit,
    ImportAppointments,
    /// Look up the appointment book (today's list, the counter's search box); masked.
    LookupAppointments,
    MarkNoShows,
    ManageStaff,
    ManageBranch,
    LoadDemo,
    Backup,
    Restore,
    /// The retention report (what is due for destruction) and the destruction register.
    ViewRetention,
    /// Set and release legal holds.
    ManageLegalHolds,
    /// Prepare (or withdraw) a destruction batch.
    PreparePurge,
    /// Approve a destruction batch another person prepared.
    ApprovePurge,
    /// Ask the wallet operator's connector for a wallet's status.
    QueryWallet,
    /// Ask the wallet operator's connector for the unlock of an approved case (the
    /// supervisor's approval was the four-eyes control), and settle its answer.
    RequestUnlock,
    /// List the customer notifications and run their delivery (the outbox).
    Notifications,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::OpenCase,
        Action::VerifyIdentity,
        Action::CocheckIdentity,
        Action::RecordForm,
        Action::ConfirmSigned,
        Action::Submit,
        Action::Authorize,
        Action::LogContact,
        Action::ConfirmUnlock,
        Action::RecordUnlockFailure,
        Action::CloseCase,
        Action::CancelCase,
        Action::RefuseAuthorityFreeze,
        Action::ViewCases,
        Action::RevealPersonalData,
        Action::PrintCustomerCopy,
        Action::PrintBankCopy,
        Action::ViewAudit,
        Action::VerifyAudit,
        Action::ImportAppointments,
        Action::LookupAppointments,
        Action::MarkNoShows,
        Action::ManageStaff,
        Action::ManageBranch,
        Action::LoadDemo,
        Action::Backup,
        Action::Restore,
        Action::ViewRetention,
        Action::ManageLegalHolds,
        Action::PreparePurge,
        Action::ApprovePurge,
        Action::QueryWallet,
        Action::RequestUnlock,
        Action::Notifications,
    ];

    /// The permission a workflow event needs from the person at the terminal. Authorizing
    /// events are checked against the authenticating supervisor instead (see service).
    pub fn for_event(kind: EventKind) -> Action {
        match kind {
            EventKind::VerifyIdentity => Action::VerifyIdentity,
            EventKind::CocheckIdentity => Action::CocheckIdentity,
            EventKind::RecordForm => Action::RecordForm,
            EventKind::ConfirmSigned => Action::ConfirmSigned,
            EventKind::Submit => Action::Submit,
            EventKind::Approve | EventKind::ReturnForInfo | EventKind::Reject => Action::Authorize,
            EventKind::LogContact => Action::LogContact,
            // Asking for the confirmation is the teller's part of confirming the unlock.
            EventKind::RequestConfirmUnlock | EventKind::ConfirmUnlock => Action::ConfirmUnlock,
            EventKind::RecordUnlockFailure => Action::RecordUnlockFailure,
            EventKind::Close => Action::CloseCase,
            EventKind::Cancel => Action::CancelCase,
            EventKind::RefuseAuthorityFreeze => Action::RefuseAuthorityFreeze,
            EventKind::WalletStatus => Action::QueryWallet,
            EventKind::RequestUnlock
            | EventKind::OperatorUnlocked
            | EventKind::OperatorRejected
            | EventKind::OperatorNoAnswer => Action::RequestUnlock,
        }
    }
}

/// Whether `role` may perform `action`. The whole matrix is tested as a table.
pub fn allows(role: Role, action: Action) -> bool {
    use Action as A;
    match role {
        Role::Teller => matches!(
            action,
            A::OpenCase
                | A::VerifyIdentity
                | A::RecordForm
                | A::ConfirmSigned
                | A::Submit
                | A::LogContact
                | A::ConfirmUnlock
                | A::RecordUnlockFailure
                | A::CloseCase
                | A::CancelCase
                | A::RefuseAuthorityFreeze
                | A::ViewCases
                | A::RevealPersonalData
                | A::PrintCustomerCopy
                | A::PrintBankCopy
                | A::ImportAppointments
                | A::LookupAppointments
                | A::MarkNoShows
                | A::QueryWallet
                | A::RequestUnlock
                | A::Notifications
        ),
        Role::Supervisor => matches!(
            action,
            A::OpenCase
                | A::VerifyIdentity
                | A::CocheckIdentity
                | A::RecordForm
                | A::ConfirmSigned
                | A::Submit
                | A::Authorize
                | A::LogContact
                | A::ConfirmUnlock
                | A::RecordUnlockFailure
                | A::CloseCase
                | A::CancelCase
                | A::RefuseAuthorityFreeze
                | A::ViewCases
                | A::RevealPersonalData
                | A::PrintCustomerCopy
                | A::PrintBankCopy
                | A::ViewAudit
                | A::VerifyAudit
                | A::ImportAppointments
                | A::LookupAppointments
                | A::MarkNoShows
                | A::QueryWallet
                | A::RequestUnlock
                | A::Notifications
        ),
        Role::Admin => matches!(
            action,
            A::Notifications
                | A::ManageStaff
                | A::ManageBranch
                | A::LoadDemo
                | A::Backup
                | A::Restore
                | A::ImportAppointments
                | A::LookupAppointments
                | A::VerifyAudit
                | A::ViewRetention
                | A::ManageLegalHolds
                | A::PreparePurge
                | A::ApprovePurge
        ),
        // Auditors change no case data; a legal hold is not a change to the case, and
        // co-signing a destruction is their supervision (docs/domain.md §2, §9).
        Role::Auditor => matches!(
            action,
            A::ViewCases
                | A::ViewAudit
                | A::VerifyAudit
                | A::LookupAppointments
                | A::ViewRetention
                | A::ManageLegalHolds
                | A::PreparePurge
                | A::ApprovePurge
        ),
    }
}

/// Whether the system actor `kind` may perform `action`: each does one narrow job.
pub fn allows_system(kind: SystemActor, action: Action) -> bool {
    use Action as A;
    match kind {
        SystemActor::Import => matches!(action, A::ImportAppointments),
        SystemActor::CliReader => matches!(
            action,
            A::ViewCases | A::VerifyAudit | A::LookupAppointments | A::PrintCustomerCopy
        ),
        SystemActor::FirstRun => matches!(action, A::LoadDemo),
        SystemActor::OutboxWorker => {
            matches!(action, A::ViewCases | A::RequestUnlock | A::Notifications)
        }
    }
}

/// Whether `actor` (a staff member by role, or a system actor) may perform `action`.
pub fn allows_actor(actor: &Actor, action: Action) -> bool {
    match (actor.role(), actor.system_kind()) {
        (Some(role), _) => allows(role, action),
        (None, Some(kind)) => allows_system(kind, action),
        (None, None) => false,
    }
}

/// `Ok` when `actor` may perform `action`, else `forbidden` naming who and what.
pub fn require_actor(actor: &Actor, action: Action) -> CoreResult<()> {
    if actor.remote_token().is_some() {
        return Err(CoreError::forbidden(
            "this actor belongs to a branch server session; only that server can act on it",
        ));
    }
    match (actor.role(), actor.system_kind()) {
        (Some(role), _) => require(role, action),
        (None, Some(kind)) if allows_system(kind, action) => Ok(()),
        _ => Err(CoreError::forbidden(format!(
            "'{}' may not {}",
            actor.staff_id(),
            action_name(action)
        ))),
    }
}

fn action_name(action: Action) -> String {
    serde_json::to_value(action)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `Ok` when allowed, else a `forbidden` error naming role and action.
pub fn require(role: Role, action: Action) -> CoreResult<()> {
    if allows(role, action) {
        Ok(())
    } else {
        Err(CoreError::forbidden(format!(
            "role '{}' may not {}",
            role,
            action_name(action)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full matrix, spelled out: T teller, S supervisor, A admin, U auditor.
    const MATRIX: &[(Action, &str)] = &[
        (Action::OpenCase, "TS"),
        (Action::VerifyIdentity, "TS"),
        (Action::CocheckIdentity, "S"),
        (Action::RecordForm, "TS"),
        (Action::ConfirmSigned, "TS"),
        (Action::Submit, "TS"),
        (Action::Authorize, "S"),
        (Action::LogContact, "TS"),
        (Action::ConfirmUnlock, "TS"),
        (Action::RecordUnlockFailure, "TS"),
        (Action::CloseCase, "TS"),
        (Action::CancelCase, "TS"),
        (Action::RefuseAuthorityFreeze, "TS"),
        (Action::ViewCases, "TSU"),
        (Action::RevealPersonalData, "TS"),
        (Action::PrintCustomerCopy, "TS"),
        (Action::PrintBankCopy, "TS"),
        (Action::ViewAudit, "SU"),
        (Action::VerifyAudit, "SAU"),
        (Action::ImportAppointments, "TSA"),
        (Action::LookupAppointments, "TSAU"),
        (Action::MarkNoShows, "TS"),
        (Action::ManageStaff, "A"),
        (Action::ManageBranch, "A"),
        (Action::LoadDemo, "A"),
        (Action::Backup, "A"),
        (Action::Restore, "A"),
        (Action::ViewRetention, "AU"),
        (Action::ManageLegalHolds, "AU"),
        (Action::PreparePurge, "AU"),
        (Action::ApprovePurge, "AU"),
        (Action::QueryWallet, "TS"),
        (Action::RequestUnlock, "TS"),
        (Action::Notifications, "TSA"),
    ];

    #[test]
    fn full_matrix() {
        assert_eq!(MATRIX.len(), Action::ALL.len());
        for (action, who) in MATRIX {
            for (role, letter) in [
                (Role::Teller, 'T'),
                (Role::Supervisor, 'S'),
                (Role::Admin, 'A'),
                (Role::Auditor, 'U'),
            ] {
                assert_eq!(
                    allows(role, *action),
                    who.contains(letter),
                    "{role} × {action:?}"
                );
            }
        }
    }

    /// The system actors' rows: I import, C the CLI's read-only actor, F first run (demo), W
    /// the outbox worker.
    const SYSTEM_MATRIX: &[(Action, &str)] = &[
        (Action::OpenCase, ""),
        (Action::VerifyIdentity, ""),
        (Action::CocheckIdentity, ""),
        (Action::RecordForm, ""),
        (Action::ConfirmSigned, ""),
        (Action::Submit, ""),
        (Action::Authorize, ""),
        (Action::LogContact, ""),
        (Action::ConfirmUnlock, ""),
        (Action::RecordUnlockFailure, ""),
        (Action::CloseCase, ""),
        (Action::CancelCase, ""),
        (Action::RefuseAuthorityFreeze, ""),
        (Action::ViewCases, "CW"),
        (Action::RevealPersonalData, ""),
        (Action::PrintCustomerCopy, "C"),
        (Action::PrintBankCopy, ""),
        (Action::ViewAudit, ""),
        (Action::VerifyAudit, "C"),
        (Action::ImportAppointments, "I"),
        (Action::LookupAppointments, "C"),
        (Action::MarkNoShows, ""),
        (Action::ManageStaff, ""),
        (Action::ManageBranch, ""),
        (Action::LoadDemo, "F"),
        (Action::Backup, ""),
        (Action::Restore, ""),
        (Action::ViewRetention, ""),
        (Action::ManageLegalHolds, ""),
        (Action::PreparePurge, ""),
        (Action::ApprovePurge, ""),
        (Action::QueryWallet, ""),
        (Action::RequestUnlock, "W"),
        (Action::Notifications, "W"),
    ];

    #[test]
    fn full_system_actor_matrix() {
        assert_eq!(SYSTEM_MATRIX.len(), Action::ALL.len());
        for (action, who) in SYSTEM_MATRIX {
            for (kind, letter) in [
                (SystemActor::Import, 'I'),
                (SystemActor::CliReader, 'C'),
                (SystemActor::FirstRun, 'F'),
                (SystemActor::OutboxWorker, 'W'),
            ] {
                assert_eq!(
                    allows_system(kind, *action),
                    who.contains(letter),
                    "{kind} × {action:?}"
                );
                let actor = Actor::system(kind, "test");
                assert_eq!(allows_actor(&actor, *action), who.contains(letter));
                assert_eq!(require_actor(&actor, *action).is_ok(), who.contains(letter));
            }
        }
    }

    #[test]
    fn require_names_role_and_action() {
        let e = require(Role::Auditor, Action::Submit).unwrap_err();
        assert_eq!(e.code, crate::ErrorCode::Forbidden);
        assert!(e.message.contains("auditor") && e.message.contains("submit"));
    }
}
