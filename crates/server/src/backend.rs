//! What the server needs of the local service: the use-case trait and the branch server's
//! sessions and terminals (kept in the store, see `unlockdesk_core::service::branch_server`).

use chrono::{DateTime, Utc};
use unlockdesk_core::ports::{AuditWake, Store, TerminalRecord};
use unlockdesk_core::service::branch_server::{Enrolled, ServerSignIn};
use unlockdesk_core::service::Service;
use unlockdesk_core::{Actor, CoreResult, Counter};

/// The local service over either store, as the server holds it (`Arc<dyn Backend>`).
pub trait Backend: Counter {
    fn server_sign_in(
        &self,
        staff: &str,
        password: &str,
        terminal: &str,
    ) -> CoreResult<ServerSignIn>;
    fn server_actor(&self, token: &str, terminal: &str) -> CoreResult<Actor>;
    fn server_actor_before_password_change(&self, token: &str, terminal: &str)
        -> CoreResult<Actor>;
    fn server_session_alive(&self, token: &str, terminal: &str) -> CoreResult<()>;
    fn server_sign_out(&self, token: &str) -> CoreResult<()>;
    fn issue_enrolment_code(&self, actor: &Actor) -> CoreResult<(String, DateTime<Utc>)>;
    fn enrol_terminal(&self, code: &str, name: &str) -> CoreResult<Enrolled>;
    fn enrolled_terminal(&self, id: &str, secret: &str) -> CoreResult<TerminalRecord>;
    fn list_terminals(&self, actor: &Actor) -> CoreResult<Vec<TerminalRecord>>;
    fn revoke_terminal(&self, actor: &Actor, id: &str) -> CoreResult<TerminalRecord>;
    /// The store's wake-up for followers of the audit trail (PostgreSQL LISTEN), if it has one.
    fn audit_wake(&self) -> CoreResult<Option<Box<dyn AuditWake>>>;
    /// The same service as the use-case trait alone (for the outbox worker).
    fn as_counter(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn Counter>;
}

impl<S: Store + 'static> Backend for Service<S> {
    fn as_counter(self: std::sync::Arc<Self>) -> std::sync::Arc<dyn Counter> {
        self
    }
    fn server_sign_in(
        &self,
        staff: &str,
        password: &str,
        terminal: &str,
    ) -> CoreResult<ServerSignIn> {
        Service::server_sign_in(self, staff, password, terminal)
    }
    fn server_actor(&self, token: &str, terminal: &str) -> CoreResult<Actor> {
        Service::server_actor(self, token, terminal)
    }
    fn server_actor_before_password_change(
        &self,
        token: &str,
        terminal: &str,
    ) -> CoreResult<Actor> {
        Service::server_actor_before_password_change(self, token, terminal)
    }
    fn server_session_alive(&self, token: &str, terminal: &str) -> CoreResult<()> {
        Service::server_session_alive(self, token, terminal)
    }
    fn server_sign_out(&self, token: &str) -> CoreResult<()> {
        Service::server_sign_out(self, token)
    }
    fn issue_enrolment_code(&self, actor: &Actor) -> CoreResult<(String, DateTime<Utc>)> {
        Service::issue_enrolment_code(self, actor)
    }
    fn enrol_terminal(&self, code: &str, name: &str) -> CoreResult<Enrolled> {
        Service::enrol_terminal(self, code, name)
    }
    fn enrolled_terminal(&self, id: &str, secret: &str) -> CoreResult<TerminalRecord> {
        Service::enrolled_terminal(self, id, secret)
    }
    fn list_terminals(&self, actor: &Actor) -> CoreResult<Vec<TerminalRecord>> {
        Service::list_terminals(self, actor)
    }
    fn revoke_terminal(&self, actor: &Actor, id: &str) -> CoreResult<TerminalRecord> {
        Service::revoke_terminal(self, actor, id)
    }
    fn audit_wake(&self) -> CoreResult<Option<Box<dyn AuditWake>>> {
        Service::audit_wake(self)
    }
}
