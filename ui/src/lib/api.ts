/**
 * The ONE module that calls `invoke`. Every command of the shell has one typed function here;
 * argument and result types are generated from Rust (./bindings, ts-rs). Errors are thrown as
 * `ApiError` with core's code and field errors. State-changing case commands take an
 * idempotency key: a retried call after a lost answer never applies twice.
 */
import { Channel, invoke, type InvokeArgs } from '@tauri-apps/api/core';
import { toApiError } from './errors';
import { reportCertificateMismatch, reportOffline, reportOnline } from './connection.svelte';
import type { PrinterSettings } from './bindings/PrinterSettings';
import type { Appointment } from './bindings/Appointment';
import type { AuthorizationEvent } from './bindings/AuthorizationEvent';
import type { AuthorizationItem } from './bindings/AuthorizationItem';
import type { ApplicationForm } from './bindings/ApplicationForm';
import type { AuditExport } from './bindings/AuditExport';
import type { AuditFilter } from './bindings/AuditFilter';
import type { AuditPage } from './bindings/AuditPage';
import type { AuditVerification } from './bindings/AuditVerification';
import type { Branch } from './bindings/Branch';
import type { CaseFilters } from './bindings/CaseFilters';
import type { CasePage } from './bindings/CasePage';
import type { CaseQuery } from './bindings/CaseQuery';
import type { CaseSummary } from './bindings/CaseSummary';
import type { CaseView } from './bindings/CaseView';
import type { ContactInput } from './bindings/ContactInput';
import type { Credentials } from './bindings/Credentials';
import type { OutboxMessage } from './bindings/OutboxMessage';
import type { Decision } from './bindings/Decision';
import type { DocKind } from './bindings/DocKind';
import type { EnrolmentCode } from './bindings/EnrolmentCode';
import type { ExportedDocument } from './bindings/ExportedDocument';
import type { IdentityInput } from './bindings/IdentityInput';
import type { ImportReport } from './bindings/ImportReport';
import type { LegalHold } from './bindings/LegalHold';
import type { LiveStatus } from './bindings/LiveStatus';
import type { NewStaff } from './bindings/NewStaff';
import type { OpenCaseInput } from './bindings/OpenCaseInput';
import type { PageImage } from './bindings/PageImage';
import type { PendingEnrolment } from './bindings/PendingEnrolment';
import type { PrintedDocument } from './bindings/PrintedDocument';
import type { PurgeBatch } from './bindings/PurgeBatch';
import type { RetentionReport } from './bindings/RetentionReport';
import type { RevealField } from './bindings/RevealField';
import type { RevealPage } from './bindings/RevealPage';
import type { ServerStatus } from './bindings/ServerStatus';
import type { SessionView } from './bindings/SessionView';
import type { SetupInput } from './bindings/SetupInput';
import type { SetupStatus } from './bindings/SetupStatus';
import type { StaffView } from './bindings/StaffView';
import type { TerminalMode } from './bindings/TerminalMode';
import type { TerminalRecord } from './bindings/TerminalRecord';
import type { TodayView } from './bindings/TodayView';
import type { UnlockFailureInput } from './bindings/UnlockFailureInput';
import type { UnlockInput } from './bindings/UnlockInput';

/**
 * Commands the shell may answer without the branch server (or from what it last read): their
 * success says nothing of the server.
 */
const LOCAL = new Set([
  'server_status',
  'terminal_mode',
  'ui_ready',
  'sign_out',
  'printer_settings_get',
  'printer_settings_set',
  'lock_session',
  'current_session',
  'follow_authorizations',
  // The embedded store's key: this terminal's own database, never the branch server.
  'unlock_store',
  'set_store_passphrase',
]);

/**
 * What a case step sent, by idempotency key, while its outcome is unknown (the call failed with
 * `unavailable`): a step sent again with that key sends exactly this again, even when the
 * screen's fields were edited meanwhile. The server applies a key once and answers a resend
 * with the first outcome, so a different body under the same key would be silently dropped.
 * Forgotten once the key has an answer (success, or a refusal: the teller corrects and sends).
 */
const unsettled = new Map<string, InvokeArgs>();

/** Sign-out: the next person's steps are their own. */
export function forgetUnsettled(): void {
  unsettled.clear();
}

async function call<T>(command: string, args?: InvokeArgs): Promise<T> {
  const idem = args && typeof (args as Record<string, unknown>)['idem'] === 'string' ? ((args as Record<string, unknown>)['idem'] as string) : null;
  const sent = (idem && unsettled.get(`${command} ${idem}`)) || args;
  try {
    const r = await invoke<T>(command, sent);
    if (idem) unsettled.delete(`${command} ${idem}`);
    if (!LOCAL.has(command)) reportOnline();
    return r;
  } catch (e) {
    const err = toApiError(e);
    if (idem) {
      if (err.code === 'unavailable') unsettled.set(`${command} ${idem}`, sent as InvokeArgs);
      else unsettled.delete(`${command} ${idem}`);
    }
    if (err.code === 'unavailable') reportOffline();
    else if (err.code === 'certificate-mismatch') reportCertificateMismatch(err.message);
    throw err;
  }
}

// ---- set-up and session ------------------------------------------------------------------

export const setupStatus = () => call<SetupStatus>('setup_status');
export const setupBranch = (input: SetupInput) => call<null>('setup_branch', { input });
/**
 * Open the encrypted embedded store with the branch passphrase (argon2: about a second).
 * A wrong one: `storage` "… does not open this store" (see `opensNotThisStore`).
 */
export const unlockStore = (passphrase: string) => call<null>('unlock_store', { passphrase });
/** The branch passphrase chosen (twice); an administrator's id and password for a store in use. */
export type StorePassphraseInput = {
  passphrase: string;
  passphrase2: string;
  admin_id: string | null;
  admin_password: string | null;
};
/**
 * Choose the branch passphrase: a new store is created encrypted under it, a store in use is
 * encrypted under it (then an administrator's credentials, else `invalid` on `admin_id`).
 * Tauri names the command's arguments in camelCase (`admin_id` → `adminId`).
 */
export const setStorePassphrase = (input: StorePassphraseInput) =>
  call<null>('set_store_passphrase', {
    passphrase: input.passphrase,
    passphrase2: input.passphrase2,
    adminId: input.admin_id,
    adminPassword: input.admin_password,
  });
export const currentSession = () => call<SessionView | null>('current_session');
export const signIn = (staffId: string, password: string) => call<SessionView>('sign_in', { staffId, password });
export const signOut = () => call<null>('sign_out');
export const lockSession = () => call<SessionView | null>('lock_session');
export const unlockSession = (password: string) => call<SessionView>('unlock_session', { password });
export const changePassword = (current: string, next: string) =>
  call<SessionView>('change_password', { current, next });

// ---- today and search --------------------------------------------------------------------

export const today = () => call<TodayView>('today');
export const findCases = (query: string) => call<CaseSummary[]>('find_cases', { query });
/** One page of cases (past-case browser): core checks the query and flags cases left open. */
export const listCases = (query: CaseQuery) => call<CasePage>('list_cases', { query });
/** The past-case browser's teller and operator choices, and today's date. */
export const caseFilters = () => call<CaseFilters>('case_filters');
export const findAppointments = (query: string) => call<Appointment[]>('find_appointments', { query });
/** Import the call centre's export (CSV or JSON) from a file path on this machine. */
export const importAppointments = (path: string) => call<ImportReport>('import_appointments', { path });

// ---- the counter flow --------------------------------------------------------------------

export const caseView = (caseId: string) => call<CaseView>('case_view', { caseId });
/** One masked value in full: permitted roles, a typed reason (≥ 4 characters), audited by core. */
export const revealValue = (caseId: string, field: RevealField, reason: string) =>
  call<string>('reveal_value', { caseId, field, reason });
export const openCase = (input: OpenCaseInput, idem: string) => call<CaseView>('open_case', { input, idem });
export const documentStatus = (kind: DocKind, text: string) => call<LiveStatus>('document_status', { kind, text });
export const verifyIdentity = (caseId: string, input: IdentityInput, idem: string) =>
  call<CaseView>('verify_identity', { caseId, input, idem });
export const cocheckIdentity = (caseId: string, supervisor: Credentials, idem: string) =>
  call<CaseView>('cocheck_identity', { caseId, supervisor, idem });
export const recordForm = (caseId: string, form: ApplicationForm, idem: string) =>
  call<CaseView>('record_form', { caseId, form, idem });
export const confirmSigned = (caseId: string, idem: string) => call<CaseView>('confirm_signed', { caseId, idem });
export const submitCase = (caseId: string, idem: string) => call<CaseView>('submit_case', { caseId, idem });
export const authorizeCase = (
  caseId: string,
  supervisor: Credentials,
  decision: Decision,
  reasonCode: string | null,
  reason: string,
  idem: string,
) => call<CaseView>('authorize_case', { caseId, supervisor, decision, reasonCode, reason, idem });
export const logContact = (caseId: string, input: ContactInput, idem: string) =>
  call<CaseView>('log_contact', { caseId, input, idem });
export const confirmUnlock = (caseId: string, supervisor: Credentials, input: UnlockInput, idem: string) =>
  call<CaseView>('confirm_unlock', { caseId, supervisor, input, idem });

// ---- the wallet operator's connector and the customer's notifications ---------------------

/** Ask the operator's connector about the case's wallet (the typed id, else the form's). */
export const walletStatus = (caseId: string, walletId: string | null) =>
  call<CaseView>('wallet_status', { caseId, walletId });
/** Ask the operator's connector for the unlock (or ask again on a case waiting for it). */
export const requestUnlock = (caseId: string, idem: string) =>
  call<CaseView>('request_unlock', { caseId, idem });
/** The customer notifications (SMS) of one case, newest first. */
export const notifications = (caseId: string | null) =>
  call<OutboxMessage[]>('notifications', { caseId });

// ---- the authorization desk (待授权) -------------------------------------------------------

/** Every request waiting for a supervisor, oldest first, masked; `actionable` for this person. */
export const authorizationQueue = () => call<AuthorizationItem[]>('authorization_queue');
/** A supervisor opens a request (audited; the other supervisors see who has it). */
export const openAuthorization = (caseId: string) => call<AuthorizationItem>('open_authorization', { caseId });
/** The teller asks a supervisor to confirm the unlock at their own desk. */
export const requestConfirmUnlock = (caseId: string, input: UnlockInput, idem: string) =>
  call<CaseView>('request_confirm_unlock', { caseId, input, idem });
/** Attach a scan or photo of the signed form from a file on this terminal (PNG, JPEG or PDF). */
export const attachSignedScan = (caseId: string, path: string, idem: string) =>
  call<CaseView>('attach_signed_scan', { caseId, path, idem });
/** A stored document's pages as images (a scan as it is; a PDF's first pages rendered). */
export const documentPages = (caseId: string, documentId: string) =>
  call<PageImage[]>('document_pages', { caseId, documentId });
/** A message of the live updates: one event of the queue, or `resync` (re-read what is shown). */
export type LiveMessage = { kind: 'event'; event: AuthorizationEvent } | { kind: 'resync' };
/**
 * Follow the queue's live events: `onMessage` gets `resync` at once and whenever the shell
 * (re)connects, then every event. One call per page load.
 */
export function followAuthorizations(onMessage: (m: LiveMessage) => void): Promise<null> {
  const onEvent = new Channel<LiveMessage>();
  onEvent.onmessage = onMessage;
  return call<null>('follow_authorizations', { onEvent });
}

export const recordUnlockFailure = (caseId: string, input: UnlockFailureInput, idem: string) =>
  call<CaseView>('record_unlock_failure', { caseId, input, idem });
export const closeCase = (caseId: string, receiptWaiver: string | null, idem: string) =>
  call<CaseView>('close_case', { caseId, receiptWaiver, idem });
export const cancelCase = (caseId: string, reason: string, idem: string) =>
  call<CaseView>('cancel_case', { caseId, reason, idem });
export const refuseFreeze = (caseId: string, reason: string, idem: string) =>
  call<CaseView>('refuse_authority_freeze', { caseId, reason, idem });

// ---- printing ----------------------------------------------------------------------------

/** Render a PDF (`application` or `receipt`; `customer` or `bank` copy) and return where it is. */
export const printDocument = (caseId: string, kind: 'application' | 'receipt', copy: 'customer' | 'bank') =>
  call<PrintedDocument>('print_document', { caseId, kind, copy });
/**
 * A copy of a document of a case in a final state (read-only while its retention runs):
 * rendered, sent to this terminal's printer (or the viewer) and audited as `export`; nothing
 * is recorded on the case.
 */
export const exportDocument = (caseId: string, kind: 'application' | 'receipt', copy: 'customer' | 'bank') =>
  call<ExportedDocument>('export_document', { caseId, kind, copy });
export const printerSettings = () => call<PrinterSettings>('printer_settings_get');
export const setPrinter = (printer: string | null) => call<PrinterSettings>('printer_settings_set', { printer });

/** Report that the first screen is usable (start-up benchmark). */
export const uiReady = () => call<void>('ui_ready');

// ---- admin -------------------------------------------------------------------------------

export const updateBranch = (branch: Branch) => call<SessionView>('update_branch', { branch });
export const listStaff = () => call<StaffView[]>('list_staff');
export const addStaff = (input: NewStaff) => call<StaffView>('add_staff', { input });
export const setStaffDisabled = (staffId: string, disabled: boolean) =>
  call<StaffView>('set_staff_disabled', { staffId, disabled });
export const resetStaffPassword = (staffId: string, password: string) =>
  call<StaffView>('reset_staff_password', { staffId, password });
export const unlockStaff = (staffId: string) => call<StaffView>('unlock_staff', { staffId });
export const loadDemo = () => call<null>('load_demo');

// ---- the auditor's console (审计台) and retention ----------------------------------------

/** The dry run: what is due for destruction today, what a legal hold keeps, the batch waiting. */
export const retentionReport = () => call<RetentionReport>('retention_report');
/** Prepare a destruction batch of what is due (the first person: administrator or auditor). */
export const preparePurge = () => call<PurgeBatch>('prepare_purge');
/** Approve a batch and destroy it (the second person, of the other role; else `four-eyes`). */
export const approvePurge = (batchId: string) => call<PurgeBatch>('approve_purge', { batchId });
/** Withdraw a prepared batch with a reason; nothing is destroyed. */
export const withdrawPurge = (batchId: string, reason: string) => call<PurgeBatch>('withdraw_purge', { batchId, reason });
/** The destruction register (销毁清册): every batch, newest first. */
export const purgeBatches = () => call<PurgeBatch[]>('purge_batches');
/** Put a case under legal hold (reason 4 to 500 characters; `conflict` when already held). */
export const setLegalHold = (caseId: string, reason: string) => call<LegalHold>('set_legal_hold', { caseId, reason });
/** Release a case's active legal hold, with a reason. */
export const releaseLegalHold = (caseId: string, reason: string) =>
  call<LegalHold>('release_legal_hold', { caseId, reason });
/** Legal holds, newest first: the active ones, or every one ever set. */
export const legalHolds = (activeOnly: boolean) => call<LegalHold[]>('legal_holds', { activeOnly });
/** One page of the audit trail, newest first (auditor, supervisor). */
export const searchAudit = (filter: AuditFilter) => call<AuditPage>('search_audit', { filter });
/** One page of the reveals of full numbers (who, when, which case, field, reason), newest first. */
export const auditReveals = (filter: AuditFilter) => call<RevealPage>('audit_reveals', { filter });
/** Walk the audit chain: intact, or its first broken link. */
export const verifyAudit = () => call<AuditVerification>('verify_audit');
/** Write the filtered audit trail as a CSV file on this terminal; returns where it is. */
export const exportAuditCsv = (filter: AuditFilter) => call<AuditExport>('export_audit_csv', { filter });

// ---- terminal mode and enrolment ---------------------------------------------------------

/** Alone or branch terminal, with the server and this terminal's id (the header shows them). */
export const terminalMode = () => call<TerminalMode>('terminal_mode');
/** Whether the branch server answers now (the offline banner polls it). */
export const serverStatus = () => call<ServerStatus>('server_status');
/** Enrol with an administrator's one-time code; the fingerprint is confirmed next. */
export const enrolTerminal = (server: string, code: string) => call<PendingEnrolment>('enrol_terminal', { server, code });
/** Pin the fingerprint and work through the server (`accept`), or drop the enrolment. */
export const confirmEnrolment = (accept: boolean) => call<TerminalMode>('confirm_enrolment', { accept });
/** Back to working alone on the embedded store (administrator). */
export const workAlone = () => call<TerminalMode>('work_alone');
export const issueEnrolmentCode = () => call<EnrolmentCode>('issue_enrolment_code');
export const listTerminals = () => call<TerminalRecord[]>('list_terminals');
export const revokeTerminal = (terminalId: string) => call<TerminalRecord>('revoke_terminal', { terminalId });
