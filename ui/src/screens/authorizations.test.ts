// The supervisors' authorization desk (待授权) and the counter's side of it: the queue greys what
// this supervisor may not decide and says why; the request screen shows the key facts, has no
// preselected decision, names the decision on its button, sends the signed-in supervisor's id
// with the password, and leaves with one sentence when another supervisor decided first; the
// on-terminal authorization is a panel below the facts, never a modal over them; the teller's
// unlock step can ask a supervisor to confirm at their desk.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushSync } from 'svelte';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import Authorizations from './Authorizations.svelte';
import AuthorizationRequest from './AuthorizationRequest.svelte';
import Review from './counter/Review.svelte';
import Unlock from './counter/Unlock.svelte';
import { app } from '../lib/app.svelte';
import { desk } from '../lib/desk.svelte';
import { draftFor, forgetDrafts } from '../lib/counter.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { T } from '../lib/testids';
import { q, qa, render, settle, type, unmountAll } from '../lib/test-dom';
import type { AuthorizationItem } from '../lib/bindings/AuthorizationItem';
import type { Case } from '../lib/bindings/Case';
import type { CaseView } from '../lib/bindings/CaseView';
import type { SessionView } from '../lib/bindings/SessionView';

const session: SessionView = {
  staff: { id: 'sup01', name: '主管甲', role: 'supervisor', must_change_password: false, locked: false, disabled: false },
  branch: {
    code: 'BJ001', name: 'Demo', time_zone: 'Asia/Shanghai', idle_lock_minutes: 0, max_failed_logins: 5, extra_materials: [],
    bank_copy_unmasked: false, retention_years: 10, id_policy: { rules: [] }, online_check_required: true, agents_allowed: false, signed_scan_required: false,
    voucher_retention_years: 30,
  },
  locked: false,
};

function item(over: Partial<AuthorizationItem> = {}): AuthorizationItem {
  return {
    case_id: 'c1', case_number: 'BJ001-20261129-0001', kind: 'authorize', state: 'submitted', customer_name: '张*',
    lock_cause: 'wrong-password', makers: ['tel01'], requested_by: 'tel01', terminal: 'desk:counter-1',
    waiting_since: new Date(Date.now() - 7.5 * 60_000).toISOString(), opened_by: null, opened_at: null, actionable: true,
    not_actionable: null, ...over,
  };
}

const kase: Case = {
  id: 'c1', case_number: 'BJ001-20261129-0001', state: 'submitted', version: 5, appointment_id: null, customer_name: '张三',
  phone: '131****6789', lock_cause: 'wrong-password', opened_by: 'tel01', opened_at: '2026-11-29T01:00:00Z',
  updated_at: '2026-11-29T01:00:00Z', makers: ['tel01'], identity: null, form: null, form_signed_at: null, authorization: null,
  unlock: null, unlock_failures: [], contacts: [], last_reason: '', form_revision: 1, prints: [], receipt_waiver: null,
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

function choose(el: HTMLInputElement) {
  el.click();
  flushSync();
}

beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
  app.session = session;
  app.phase = 'ready';
  app.route = { name: 'authorizations' };
  desk.now = Date.now();
});
afterEach(() => {
  unmountAll();
  document.body.innerHTML = '';
  desk.stop();
  desk.clear();
  forgetDrafts();
});

describe('the queue (待授权)', () => {
  it('lists every request oldest first, greys what this supervisor may not decide, and says why', async () => {
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'authorization_queue') {
        return [
          item({ opened_by: 'sup02' }),
          item({ case_id: 'c2', case_number: 'BJ001-20261129-0002', kind: 'co-check', makers: ['tel01', 'sup01'], actionable: false,
            not_actionable: 'four-eyes: sup01 did a teller step on this case and may not authorize it' }),
        ];
      }
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render(Authorizations, {});
    const rows = qa(root, T.authRow);
    expect(rows.map((r) => r.getAttribute('data-case-number'))).toEqual(['BJ001-20261129-0001', 'BJ001-20261129-0002']);
    expect(q(rows[0]!, T.authWaiting)!.textContent).toContain('7 分钟');
    expect(q(rows[0]!, T.authOpenedBy)!.textContent).toContain('sup02');
    expect(q(rows[0]!, T.authOpen)).not.toBeNull();
    expect(rows[1]!.classList.contains('off')).toBe(true);
    expect(q(rows[1]!, T.authOpen)).toBeNull();
    expect(rows[1]!.textContent).toContain('经办与授权分离');
    expect(desk.actionable).toBe(1);

    // The kind filter.
    q<HTMLButtonElement>(root, T.authFilter, '[data-filter="co-check"]')!.click();
    flushSync();
    expect(qa(root, T.authRow).map((r) => r.getAttribute('data-kind'))).toEqual(['co-check']);
    q<HTMLButtonElement>(root, T.authFilter, '[data-filter="confirm-unlock"]')!.click();
    flushSync();
    expect(qa(root, T.authRow)).toHaveLength(0);
    expect(q(root, T.authEmpty)).not.toBeNull();
  });

  it('says so when nothing waits', async () => {
    invoke.mockImplementation(async (cmd: string) => (cmd === 'authorization_queue' ? [] : null));
    const root = await render(Authorizations, {});
    expect(q(root, T.authEmpty)!.textContent).toBe('当前没有待授权的业务。');
  });
});

describe('the request screen', () => {
  function backend(v: CaseView, calls: [string, Record<string, unknown>][]) {
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      calls.push([cmd, args]);
      if (cmd === 'open_authorization') return { ...item(), opened_by: 'sup01' };
      if (cmd === 'case_view') return v;
      if (cmd === 'authorization_queue') return [];
      if (cmd === 'authorize_case') return view({ case: { state: 'approved' }, pending_authorization: null });
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
  }

  it('opens the request, shows its key facts, and decides only once a decision is chosen', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    backend(view(), calls);
    const root = await render(AuthorizationRequest, { caseId: 'c1' });
    expect(calls[0]).toEqual(['open_authorization', { caseId: 'c1' }]);
    expect(q(root, T.caseFacts)).not.toBeNull();
    expect(q(root, T.history)).not.toBeNull();

    const confirm = q<HTMLButtonElement>(root, T.authConfirm)!;
    const radios = [T.authDecisionApprove, T.authDecisionReturn, T.authDecisionReject].map((id) => q<HTMLInputElement>(root, id)!);
    expect(radios.every((r) => !r.checked)).toBe(true);
    expect(confirm.disabled).toBe(true);
    expect(confirm.textContent?.trim()).toBe('请先选择授权意见');

    // Reject needs a reason code (and words for "other").
    choose(radios[2]!);
    type(q<HTMLInputElement>(root, T.authPassword)!, 'pw');
    expect(confirm.textContent?.trim()).toBe('拒绝授权');
    expect(confirm.disabled).toBe(true);
    type(q<HTMLSelectElement>(root, T.authReasonCode)!, 'other');
    expect(confirm.disabled).toBe(true);
    type(q<HTMLInputElement>(root, T.authReason)!, '客户离开');
    expect(confirm.disabled).toBe(false);

    // Approve: no reason fields, the button says so; the signed-in supervisor's id is sent.
    choose(radios[0]!);
    expect(q(root, T.authReasonCode)).toBeNull();
    expect(confirm.textContent?.trim()).toBe('同意');
    confirm.click();
    await settle();
    const sent = calls.find(([c]) => c === 'authorize_case')![1];
    expect(sent).toMatchObject({ caseId: 'c1', supervisor: { staff_id: 'sup01', password: 'pw' }, decision: 'approve', reasonCode: null });
    expect(app.route).toEqual({ name: 'authorizations' });
    expect(desk.notice?.tone).toBe('ok');
  });

  it('tells the supervisor and returns to the queue when another supervisor decided first', async () => {
    backend(view(), []);
    await render(AuthorizationRequest, { caseId: 'c1' });
    app.route = { name: 'authorization', caseId: 'c1' };
    desk.receive({ kind: 'event', event: { seq: 9, event: 'decided', case_id: 'c1', kind: 'authorize', action: 'reject', by: 'sup02', at: '' } });
    flushSync();
    expect(app.route).toEqual({ name: 'authorizations' });
    expect(desk.notice?.tone).toBe('warn');
    expect(desk.notice?.text()).toBe('业务 BJ001-20261129-0001 已由 sup02 处理（拒绝授权），不再等待授权。');
  });

  it('a request this supervisor may not decide has no decision', async () => {
    backend(view({ pending_authorization: item({ actionable: false, makers: ['sup01'] }) }), []);
    invoke.mockImplementationOnce(async () => {
      throw { code: 'four-eyes', message: 'four-eyes' };
    });
    const root = await render(AuthorizationRequest, { caseId: 'c1' });
    expect(q(root, T.formError)!.getAttribute('data-code')).toBe('four-eyes');
    expect(q(root, T.authConfirm)).toBeNull();
  });

  it('confirms the unlock with the values the teller sent', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    const v = view({
      case: { state: 'approved', unlock_request: { operator_reference: 'WO-1', notified_via: 'sms', by: 'tel01', at: '2026-11-29T02:00:00Z' } },
      pending_authorization: item({ kind: 'confirm-unlock', state: 'approved' }),
    });
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      calls.push([cmd, args]);
      if (cmd === 'open_authorization') return item({ kind: 'confirm-unlock' });
      if (cmd === 'case_view') return v;
      if (cmd === 'confirm_unlock') return view({ case: { state: 'unlocked' }, pending_authorization: null });
      return [];
    });
    const root = await render(AuthorizationRequest, { caseId: 'c1' });
    expect(q(root, T.authUnlockRequest)!.textContent).toContain('WO-1');
    const confirm = q<HTMLButtonElement>(root, T.authConfirm)!;
    expect(confirm.disabled).toBe(true);
    type(q<HTMLInputElement>(root, T.authPassword)!, 'pw');
    confirm.click();
    await settle();
    expect(calls.find(([c]) => c === 'confirm_unlock')![1]).toMatchObject({
      supervisor: { staff_id: 'sup01', password: 'pw' },
      input: { operator_reference: 'WO-1', notified_via: 'sms' },
    });
  });
});

describe('the counter side', () => {
  it('authorizes on this terminal in a panel below the facts, with no preselected decision', async () => {
    const v = view({ allowed: ['approve', 'return-for-info', 'reject'] });
    const root = await render(Review, { view: v, draft: draftFor('c1', v), onchange: () => {} });
    const banner = q(root, T.waitingAuthorization)!;
    expect(banner.getAttribute('data-kind')).toBe('authorize');
    expect(banner.textContent).toContain('7 分钟');

    q<HTMLButtonElement>(root, T.authorizeButton)!.click();
    flushSync();
    const panel = q(root, T.authDialog)!;
    expect(panel.closest('[aria-modal="true"]')).toBeNull();
    expect(q(root, T.caseFacts)).not.toBeNull();
    const submit = q<HTMLButtonElement>(root, T.authSubmit)!;
    expect(submit.disabled).toBe(true);
    expect(q<HTMLInputElement>(panel, T.authDecision, ' input:checked')).toBeNull();
    choose(q<HTMLInputElement>(root, T.authDecisionReturn)!);
    expect(submit.textContent?.trim()).toBe('退回补正');
    expect(submit.disabled).toBe(true);
    type(q<HTMLSelectElement>(root, T.authReasonCode)!, 'form-incomplete');
    expect(submit.disabled).toBe(false);
  });

  it('asks a supervisor to confirm the unlock at their desk, beside confirming here', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      calls.push([cmd, args]);
      return view({ case: { state: 'approved' } });
    });
    const v = view({ case: { state: 'approved' }, allowed: ['confirm-unlock', 'request-confirm-unlock'], pending_authorization: null });
    const root = await render(Unlock, { view: v, draft: draftFor('c1', v), onchange: () => {}, onprint: async () => {} });
    expect(q(root, T.unlockConfirm)).not.toBeNull();
    const ask = q<HTMLButtonElement>(root, T.unlockRequest)!;
    ask.click();
    flushSync();
    expect(calls).toEqual([]);
    type(q<HTMLInputElement>(root, T.unlockReference)!, 'WO-7');
    type(q<HTMLSelectElement>(root, T.unlockChannel)!, 'phone');
    ask.click();
    await settle();
    expect(calls[0]![0]).toBe('request_confirm_unlock');
    expect(calls[0]![1]).toMatchObject({ caseId: 'c1', input: { operator_reference: 'WO-7', notified_via: 'phone' } });
  });
});
