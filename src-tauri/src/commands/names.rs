// The webview's whole command surface, shared by `build.rs` (which generates one
// `allow-<command>` permission each) and the test that checks `capabilities/main.json`.
// Keep in step with `commands::handler`.
#[allow(dead_code)] // read by build.rs through include!, and by the tests
pub const COMMANDS: &[&str] = &[
    // session
    "setup_status",
    "setup_branch",
    "current_session",
    "sign_in",
    "sign_out",
    "lock_session",
    "unlock_session",
    "change_password",
    // today
    "today",
    "find_cases",
    "list_cases",
    "case_filters",
    "find_appointments",
    "import_appointments",
    // counter
    "case_view",
    "reveal_value",
    "open_case",
    "document_status",
    "verify_identity",
    "cocheck_identity",
    "record_form",
    "confirm_signed",
    "submit_case",
    // the authorization desk
    "authorization_queue",
    "open_authorization",
    "request_confirm_unlock",
    "follow_authorizations",
    "attach_signed_scan",
    "document_pages",
    "authorize_case",
    "log_contact",
    "confirm_unlock",
    "record_unlock_failure",
    "close_case",
    "cancel_case",
    "refuse_authority_freeze",
    // documents
    "print_document",
    "printer_settings_get",
    "printer_settings_set",
    // admin
    "update_branch",
    "list_staff",
    "add_staff",
    "set_staff_disabled",
    "reset_staff_password",
    "unlock_staff",
    "load_demo",
    // terminal mode and enrolment
    "terminal_mode",
    "server_status",
    "enrol_terminal",
    "confirm_enrolment",
    "work_alone",
    "issue_enrolment_code",
    "list_terminals",
    "revoke_terminal",
    // start-up measurement
    "ui_ready",
];
