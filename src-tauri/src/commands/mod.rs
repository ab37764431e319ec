//! The IPC surface, one module per screen area. Every command name here is also listed in
//! `build.rs` (which generates its `allow-*` permission) and in `capabilities/main.json`.

pub mod admin;
pub mod auditor;
pub mod counter;
pub mod desk;
pub mod documents;
#[cfg(test)]
pub(crate) mod names;
pub mod session;
pub mod terminal;
pub mod today;

use tauri::ipc::Invoke;

/// Every command, for any runtime: Wry in the app, the mock runtime in the IPC tests.
pub fn handler<R: tauri::Runtime>() -> impl Fn(Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        session::setup_status,
        session::setup_branch,
        session::unlock_store,
        session::set_store_passphrase,
        session::current_session,
        session::sign_in,
        session::sign_out,
        session::lock_session,
        session::unlock_session,
        session::change_password,
        today::today,
        today::find_cases,
        today::list_cases,
        today::case_filters,
        today::find_appointments,
        today::import_appointments,
        counter::case_view,
        counter::reveal_value,
        counter::open_case,
        counter::document_status,
        counter::verify_identity,
        counter::cocheck_identity,
        counter::record_form,
        counter::confirm_signed,
        counter::submit_case,
        desk::authorization_queue,
        desk::open_authorization,
        desk::request_confirm_unlock,
        desk::follow_authorizations,
        desk::attach_signed_scan,
        desk::document_pages,
        auditor::retention_report,
        auditor::prepare_purge,
        auditor::approve_purge,
        auditor::withdraw_purge,
        auditor::purge_batches,
        auditor::set_legal_hold,
        auditor::release_legal_hold,
        auditor::legal_holds,
        auditor::search_audit,
        auditor::audit_reveals,
        auditor::verify_audit,
        auditor::export_audit_csv,
        auditor::export_document,
        counter::authorize_case,
        counter::log_contact,
        counter::confirm_unlock,
        counter::record_unlock_failure,
        counter::close_case,
        counter::cancel_case,
        counter::refuse_authority_freeze,
        counter::wallet_status,
        counter::request_unlock,
        counter::notifications,
        documents::print_document,
        documents::printer_settings_get,
        documents::printer_settings_set,
        admin::update_branch,
        admin::list_staff,
        admin::add_staff,
        admin::set_staff_disabled,
        admin::reset_staff_password,
        admin::unlock_staff,
        admin::load_demo,
        terminal::terminal_mode,
        terminal::server_status,
        terminal::enrol_terminal,
        terminal::confirm_enrolment,
        terminal::work_alone,
        terminal::issue_enrolment_code,
        terminal::list_terminals,
        terminal::revoke_terminal,
        session::ui_ready,
    ]
}

#[cfg(test)]
mod tests {
    use super::names::COMMANDS;

    fn capability() -> serde_json::Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/capabilities/main.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// The capability permits exactly our commands and only for `main`: no plugin permission
    /// (the opener is used from Rust; a webview with `opener:allow-open-path` could open the
    /// database and the unmasked bank copies).
    #[test]
    fn capability_lists_exactly_our_commands() {
        let cap = capability();
        assert_eq!(cap["windows"], serde_json::json!(["main"]));
        let mut allowed: Vec<String> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .map(str::to_owned)
            .collect();
        allowed.sort();
        let mut expected: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        expected.sort();
        assert_eq!(allowed, expected);
        assert_eq!(
            cap["permissions"].as_array().unwrap().len(),
            COMMANDS.len(),
            "nothing but our commands"
        );
    }

    /// The typed IPC client (`ui/src/lib/api.ts`) invokes exactly the shell's commands: a
    /// renamed or removed command fails here, not at a teller's click.
    #[test]
    fn ui_client_calls_exactly_the_shell_commands() {
        let src = include_str!("../../../ui/src/lib/api.ts");
        let mut called: Vec<&str> = Vec::new();
        let mut rest = src;
        while let Some(i) = rest.find("call<") {
            rest = &rest[i + 5..];
            // call<T>('name', …): the quoted word right after the type argument's `>(`.
            let Some(open) = rest.find(">(") else { break };
            let after = &rest[open + 2..];
            let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
                continue; // the definition `call<T>(command: string, …)`
            };
            let Some(end) = after[1..].find(quote) else {
                break;
            };
            called.push(&after[1..1 + end]);
            rest = &after[1 + end..];
        }
        called.sort();
        called.dedup();
        let mut listed = COMMANDS.to_vec();
        listed.sort();
        assert_eq!(called, listed);
    }

    /// Every command in `names.rs` is registered in the handler (and no other).
    #[test]
    fn handler_registers_every_listed_command() {
        let src = include_str!("mod.rs");
        let start = src.find("generate_handler![").unwrap();
        let end = start + src[start..].find(']').unwrap();
        let mut registered: Vec<&str> = src[start..end]
            .split(',')
            .filter_map(|s| s.trim().rsplit("::").next())
            .map(|s| s.trim_start_matches("generate_handler![").trim())
            .filter(|s| !s.is_empty())
            .collect();
        registered.sort();
        let mut listed = COMMANDS.to_vec();
        listed.sort();
        assert_eq!(registered, listed);
    }
}
