// The signed paper's scan: the teller attaches it by path (field errors at the path; the branch's
// rule said before submit); the supervisor's request screen shows the printed bank copy and the
// current scan as page images, loaded on their own (a machine that cannot render PDFs says so
// and the decision still works), superseded scans marked as such; the admin's policy checkbox.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import AuthorizationRequest from './AuthorizationRequest.svelte';
import Review from './counter/Review.svelte';
import Form from './counter/Form.svelte';
import Admin from './Admin.svelte';
import { app } from '../lib/app.svelte';
import { desk } from '../lib/desk.svelte';
import { draftFor, forgetDrafts } from '../lib/counter.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { T } from '../lib/testids';
import { q, qa, render, settle, type, unmountAll } from '../lib/test-dom';
import type { ApplicationForm } from '../lib/bindings/ApplicationForm';
import type { AuthorizationItem } from '../lib/bindings/AuthorizationItem';
import type { Branch } from '../lib/bindings/Branch';
import type { Case } from '../lib/bindings/Case';
import type { CaseView } from '../lib/bindings/CaseView';
import type { PrintRecord } from '../lib/bindings/PrintRecord';
import type { SessionView } from '../lib/bindings/SessionView';
import type { SignedScan } from '../lib/bindings/SignedScan';

const branch: Branch = {
  code: 'BJ001', name: 'Demo', time_zone: 'Asia/Shanghai', idle_lock_minutes: 0, max_failed_logins: 5, extra_materials: [],
  bank_copy_unmasked: false, retention_years: 10, id_policy: { rules: [] }, online_check_required: true, agents_allowed: false,
  signed_scan_required: false, voucher_retention_years: 30,
};
const sessionOf = (role: 'teller' | 'supervisor' | 'admin', required = false): SessionView => ({
  staff: { id: role === 'teller' ? 'tel01' : 'sup01', name: 'X', role, must_change_password: false, locked: false, disabled: false },
  branch: { ...branch, signed_scan_required: required },
  locked: false,
});

const form: ApplicationForm = {
  customer_name: '张三', customer_name_latin: '', sex: 'male', nationality: 'CHN', occupation: '', address: '北京',
  phone: '131****6789', id_type: 'prc-id', id_number: '', id_valid_until: 'long-term', agent: null,
  wallet_operator: '运营机构A', wallet_id: '****', wallet_class: '2', lock_cause: 'wrong-password', requested_action: 'unlock', reason: '',
  bank_card: '', declaration_true: true, consent_query: true, risk_acknowledged: true, materials: [],
};
const bankPrint = (over: Partial<PrintRecord> = {}): PrintRecord => ({
  document_id: 'bank-2', kind: 'application', copy: 'bank', form_revision: 2, reprint: false, channel: 'cups', printer: 'Q',
  job_id: 'Q-1', outcome: 'completed', message: '', by: 'tel01', at: '2026-11-29T01:10:00Z', ...over,
});
const scan = (document_id: string, form_revision: number, file_name = `${document_id}.pdf`): SignedScan => ({
  document_id, form_revision, media_type: 'application/pdf', bytes: 1_258_291, sha256: 'ab', file_name, by: 'tel01',
  at: '2026-11-29T01:20:00Z',
});

function item(over: Partial<AuthorizationItem> = {}): AuthorizationItem {
  return {
    case_id: 'c1', case_number: 'BJ001-20261129-0001', kind: 'authorize', state: 'submitted', customer_name: '张*',
    lock_cause: 'wrong-password', makers: ['tel01'], requested_by: 'tel01', terminal: 'desk:counter-1',
    waiting_since: new Date().toISOString(), opened_by: null, opened_at: null, actionable: true, not_actionable: null, ...over,
  };
}
const kase: Case = {
  id: 'c1', case_number: 'BJ001-20261129-0001', state: 'submitted', version: 5, appointment_id: null, customer_name: '张三',
  phone: '131****6789', lock_cause: 'wrong-password', opened_by: 'tel01', opened_at: '2026-11-29T01:00:00Z',
  updated_at: '2026-11-29T01:00:00Z', makers: ['tel01'], identity: null, form, form_signed_at: null, authorization: null,
  unlock: null, unlock_failures: [], contacts: [], last_reason: '', form_revision: 2, prints: [bankPrint()], receipt_waiver: null,
  unlock_request: null, signed_scans: [], purges: [],
};
function view(over: Partial<Omit<CaseView, 'case'>> & { case?: Partial<Case> } = {}): CaseView {
  const { case: c, ...rest } = over;
  return {
    allowed: [], history: [], documents: [], freeze_route: null, required_materials: [], form_document: null,
    cocheck_needed: false, amendment_draft: null, blocked: [], prefill: null, form_printed: true, receipt_printed: false,
    reprints: 0, online_check_required: true, agents_allowed: false, signed_scan_required: false, staff: { tel01: '柜员甲', sup01: '主管甲' },
    pending_authorization: item(), retention: null, ...rest, case: { ...kase, ...c },
  };
}

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
  app.phase = 'ready';
  desk.now = Date.now();
});
afterEach(() => {
  unmountAll();
  document.body.innerHTML = '';
  desk.stop();
  desk.clear();
  forgetDrafts();
});

describe("the supervisor's request screen", () => {
  beforeEach(() => {
    app.session = sessionOf('supervisor');
    app.route = { name: 'authorization', caseId: 'c1' };
  });
  function backend(v: CaseView, pages: (documentId: string) => unknown, calls: [string, Record<string, unknown>][] = []) {
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      calls.push([cmd, args]);
      if (cmd === 'open_authorization') return { ...item(), opened_by: 'sup01' };
      if (cmd === 'case_view') return v;
      if (cmd === 'document_pages') return pages(args['documentId'] as string);
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
  }

  it('shows the printed bank copy of the current revision and the current scan as pages; older scans superseded', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const v = view({
      case: {
        prints: [bankPrint({ document_id: 'bank-1', form_revision: 1 }), bankPrint(), bankPrint({ document_id: 'bank-2-sent', outcome: 'sent' })],
        signed_scans: [scan('scan-1', 1, 'old.jpg'), scan('scan-2', 2, '签字表.pdf')],
      },
    });
    backend(v, (id) => (id === 'bank-2' ? [{ page: 1, data_url: PNG }, { page: 2, data_url: PNG }] : [{ page: 1, data_url: PNG }]), calls);
    const root = await render(AuthorizationRequest, { caseId: 'c1' });
    const asked = calls.filter(([c]) => c === 'document_pages').map(([, a]) => a);
    expect(asked).toEqual(expect.arrayContaining([{ caseId: 'c1', documentId: 'bank-2' }, { caseId: 'c1', documentId: 'scan-2' }]));
    expect(asked).toHaveLength(2);
    expect(qa(root, T.authBankCopyPage)).toHaveLength(2);
    expect(qa(root, T.authScanPage)).toHaveLength(1);
    expect(q(root, T.authScanPage)!.getAttribute('src')).toBe(PNG);
    expect(q(root, T.authScanCurrent)!.textContent).toContain('签字表.pdf');
    expect(q(root, T.authScanCurrent)!.textContent).toContain('PDF · 1.2 MB');
    expect(q(root, T.authScanNone)).toBeNull();
    const stale = qa(root, T.authScanSuperseded);
    expect(stale.map((s) => s.getAttribute('data-document-id'))).toEqual(['scan-1']);
    expect(stale[0]!.textContent).toContain('第 1 版');
    expect(q(root, T.authConfirm)).not.toBeNull();
  });

  it('says when no scan is attached and no bank copy printed; a machine that cannot render keeps the decision', async () => {
    const v = view({ case: { signed_scans: [scan('scan-1', 1)], prints: [bankPrint()] } });
    backend(v, () => {
      throw { code: 'render', message: 'pdftoppm not found' };
    });
    const root = await render(AuthorizationRequest, { caseId: 'c1' });
    expect(q(root, T.authScanNone)).not.toBeNull();
    expect(qa(root, T.authScanSuperseded)).toHaveLength(1);
    expect(q(root, T.pagesError)!.getAttribute('data-code')).toBe('render');
    expect(q(root, T.pagesError)!.textContent).toContain('本机无法将 PDF 转为图片显示');
    expect(q(root, T.authBankCopyPage)).toBeNull();
    expect(q(root, T.authConfirm)).not.toBeNull();
    expect(q(root, T.formError)).toBeNull();

    const none = view({ case: { prints: [bankPrint({ outcome: 'failed' })] } });
    backend(none, () => []);
    const other = await render(AuthorizationRequest, { caseId: 'c1' });
    expect(q(other, T.authBankCopyNone)!.textContent).toContain('第 2 版');
  });

  it('does not hold the decision panel back while the pages load', async () => {
    let release: (p: unknown) => void = () => {};
    backend(view({ case: { signed_scans: [scan('scan-2', 2)] } }), () => new Promise((r) => (release = r)));
    const root = await render(AuthorizationRequest, { caseId: 'c1' });
    expect(q(root, T.authConfirm)).not.toBeNull();
    expect(q(root, T.authScanPage)).toBeNull();
    release([{ page: 1, data_url: PNG }]);
    await settle();
    expect(q(root, T.authScanPage)).not.toBeNull();
  });
});

describe("the teller's scan", () => {
  beforeEach(() => {
    app.route = { name: 'counter', caseId: 'c1' };
  });

  it('attaches by path with an idempotency key, shows the current scan, and field errors at the path', async () => {
    app.session = sessionOf('teller');
    const calls: [string, Record<string, unknown>][] = [];
    const attached = view({ case: { state: 'form-signed', signed_scans: [scan('scan-2', 2, 'scan.pdf')] }, pending_authorization: null });
    let refuse: unknown = { code: 'invalid', message: 'x', fields: [{ field: 'file', rule: 'type', message: 'not a PNG' }] };
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      calls.push([cmd, args]);
      if (refuse) throw refuse;
      return attached;
    });
    const v = view({ case: { state: 'form-signed' }, allowed: ['submit'], pending_authorization: null });
    const changed: CaseView[] = [];
    const root = await render(Review, { view: v, draft: draftFor('c1', v), onchange: (x: CaseView) => changed.push(x) });
    expect(q(root, T.scanCurrent)).toBeNull();
    expect(q(root, T.scanRequired)).toBeNull();
    const attach = q<HTMLButtonElement>(root, T.scanAttach)!;
    expect(attach.disabled).toBe(true);
    type(q<HTMLInputElement>(root, T.scanPath)!, ' /home/teller/scan.gif ');
    attach.click();
    await settle();
    expect(calls[0]![0]).toBe('attach_signed_scan');
    expect(calls[0]![1]).toMatchObject({ caseId: 'c1', path: '/home/teller/scan.gif' });
    const key = calls[0]![1]['idem'];
    expect(typeof key).toBe('string');
    expect(root.querySelector('#scan-path-err')!.textContent).toContain('不是 PNG、JPEG 或 PDF 文件');
    expect(q<HTMLInputElement>(root, T.scanPath)!.value).toBe(' /home/teller/scan.gif ');

    refuse = null;
    type(q<HTMLInputElement>(root, T.scanPath)!, '/home/teller/scan.pdf');
    attach.click();
    await settle();
    expect(calls[1]![1]).toMatchObject({ path: '/home/teller/scan.pdf', idem: key });
    expect(changed).toEqual([attached]);
    expect(draftFor('c1').scanPath).toBe('');
  });

  it('says a scan is needed before submitting when the branch requires one, and shows submit\'s refusal at the path', async () => {
    app.session = sessionOf('teller', true);
    invoke.mockImplementation(async () => {
      throw { code: 'invalid', message: 'x', fields: [{ field: 'signed_scan', rule: 'required', message: 'attach it first' }] };
    });
    const v = view({ case: { state: 'form-signed' }, allowed: ['submit'], pending_authorization: null, signed_scan_required: true });
    const root = await render(Review, { view: v, draft: draftFor('c1', v), onchange: () => {} });
    expect(q(root, T.scanRequired)!.textContent).toContain('第 2 版');
    q<HTMLButtonElement>(root, T.submitCase)!.click();
    await settle();
    expect(root.querySelector('#scan-path-err')!.textContent).toContain('提交前附上第 2 版签字申请表的影像');

    // With the current revision's scan attached, nothing is asked.
    const done = view({ case: { state: 'form-signed', signed_scans: [scan('scan-2', 2)] }, allowed: ['submit'], pending_authorization: null, signed_scan_required: true });
    const other = await render(Review, { view: done, draft: draftFor('c2', done), onchange: () => {} });
    expect(q(other, T.scanRequired)).toBeNull();
    expect(q(other, T.scanCurrent)!.getAttribute('data-document-id')).toBe('scan-2');
  });

  it('is offered on the form step only once the bank copy is printed', async () => {
    app.session = sessionOf('teller', true);
    const printed = view({ case: { state: 'form-recorded' }, allowed: ['confirm-signed', 'record-form'], pending_authorization: null, signed_scan_required: true });
    const root = await render(Form, { view: printed, draft: draftFor('c1', printed), onchange: () => {}, onprint: async () => {} });
    expect(q(root, T.scanPath)).not.toBeNull();
    expect(q(root, T.scanRequired)).not.toBeNull();
    const notYet = view({ case: { state: 'form-recorded', prints: [] }, form_printed: false, allowed: ['record-form'], pending_authorization: null, signed_scan_required: true });
    const other = await render(Form, { view: notYet, draft: draftFor('c3', notYet), onchange: () => {}, onprint: async () => {} });
    expect(q(other, T.scanPath)).toBeNull();
  });
});

describe('branch policies', () => {
  it('has the signed-scan rule, off by default, sent with the branch', async () => {
    app.session = sessionOf('admin');
    const calls: [string, Record<string, unknown>][] = [];
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      calls.push([cmd, args]);
      if (cmd === 'list_staff' || cmd === 'list_terminals') return [];
      if (cmd === 'update_branch') return sessionOf('admin', true);
      return null;
    });
    const root = await render(Admin, {});
    const box = q<HTMLInputElement>(root, T.policySignedScanRequired)!;
    expect(box.checked).toBe(false);
    box.click();
    flushSync();
    q<HTMLButtonElement>(root, T.branchSave)!.click();
    await settle();
    expect(calls.find(([c]) => c === 'update_branch')![1]).toMatchObject({ branch: { signed_scan_required: true } });
  });
});
