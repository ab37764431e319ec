// The wallet operator's connector on the counter: the unlock asked of the operator (waiting for
// its answer, asked again, refused, the connector down with the manual path still there), the
// wallet status with an operator-flagged freeze (and a typed wallet id never shown back), the
// customer's SMS. The screens get the case view as props and hand the new one back through
// `onchange`: the props here are state, as the counter screen's are.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import Unlock from './Unlock.svelte';
import Review from './Review.svelte';
import CaseDetail from '../CaseDetail.svelte';
import WalletStatus from '../../components/WalletStatus.svelte';
import Notifications from '../../components/Notifications.svelte';
import { draftFor, forgetDrafts } from '../../lib/counter.svelte';
import { setLocale } from '../../lib/i18n/index.svelte';
import { T } from '../../lib/testids';
import { q, qa, render, settle, type, unmountAll } from '../../lib/test-dom';
import type { ApplicationForm } from '../../lib/bindings/ApplicationForm';
import type { Case } from '../../lib/bindings/Case';
import type { CaseView } from '../../lib/bindings/CaseView';
import type { OperatorUnlock } from '../../lib/bindings/OperatorUnlock';
import type { OutboxMessage } from '../../lib/bindings/OutboxMessage';

const form: ApplicationForm = {
  customer_name: '张三', customer_name_latin: '', sex: 'male', nationality: 'CHN', occupation: '', address: '北京',
  phone: '131****6789', id_type: 'prc-id', id_number: '', id_valid_until: 'long-term', agent: null,
  wallet_operator: '运营机构A', wallet_id: '0012****5678', wallet_class: '2', lock_cause: 'wrong-password', requested_action: 'unlock',
  reason: '', bank_card: '', declaration_true: true, consent_query: true, risk_acknowledged: true, materials: [],
};
const kase: Case = {
  id: 'c1', case_number: 'BJ001-20261129-0001', state: 'approved', version: 8, appointment_id: null, customer_name: '张三',
  phone: '131****6789', lock_cause: 'wrong-password', opened_by: 'tel01', opened_at: '2026-11-29T01:00:00Z',
  updated_at: '2026-11-29T02:00:00Z', makers: ['tel01'], identity: null, form, form_signed_at: '2026-11-29T01:40:00Z',
  authorization: { decision: 'approve', supervisor: 'sup01', reason_code: null, reason: '', at: '2026-11-29T02:00:00Z' },
  unlock: null, unlock_failures: [], contacts: [], last_reason: '', form_revision: 1, prints: [], receipt_waiver: null,
  unlock_request: null, signed_scans: [], purges: [],
};
function view(over: Partial<Omit<CaseView, 'case'>> & { case?: Partial<Case> } = {}): CaseView {
  const { case: c, ...rest } = over;
  return {
    allowed: [], history: [], documents: [], freeze_route: null, required_materials: [], form_document: null,
    cocheck_needed: false, amendment_draft: null, blocked: [], prefill: null, form_printed: true, receipt_printed: false,
    reprints: 0, online_check_required: true, agents_allowed: false, signed_scan_required: false, staff: { tel01: '柜员甲', sup01: '主管甲' },
    pending_authorization: null, retention: null, operator_connector: true, notifications: [], ...rest, case: { ...kase, ...c },
  };
}
const asked = (over: Partial<OperatorUnlock> = {}): OperatorUnlock => ({
  key: 'op-key-1', by: 'tel01', at: '2026-11-29T02:20:00Z', status: 'waiting', calls: 1, last_answer: 'no answer: timed out',
  reference: '', settled_at: null, ...over,
});
const sms = (over: Partial<OutboxMessage> = {}): OutboxMessage => ({
  id: 'm1', case_id: 'c1', kind: 'sms', lang: 'zh-CN', text: '【Demo】您的数字钱包已解锁。业务编号 BJ001-20261129-0001。', status: 'sent', attempts: 1,
  next_attempt_at: '2026-11-29T02:30:00Z', claimed_until: null, last_error: '', created_at: '2026-11-29T02:30:00Z',
  sent_at: '2026-11-29T02:30:05Z', ...over,
});

/** Approved, a connector serves the operator, no contact logged yet (the manual confirm is blocked). */
const approved = () =>
  view({
    allowed: ['log-contact', 'record-unlock-failure', 'cancel', 'wallet-status', 'request-unlock'],
    blocked: [{ event: 'confirm-unlock', rule: 'no-operator-contact', message: 'x' }],
  });
/** The same case waiting for the operator's answer: core refuses every manual step meanwhile. */
const waiting = (calls = 1, last_answer = 'no answer: timed out') =>
  view({
    case: { version: 10, operator_unlock: asked({ calls, last_answer }) },
    allowed: ['log-contact', 'wallet-status'],
    blocked: [
      { event: 'request-unlock', rule: 'waiting-for-operator', message: 'x' },
      { event: 'confirm-unlock', rule: 'waiting-for-operator', message: 'x' },
      { event: 'request-confirm-unlock', rule: 'waiting-for-operator', message: 'x' },
      { event: 'record-unlock-failure', rule: 'waiting-for-operator', message: 'x' },
      { event: 'cancel', rule: 'waiting-for-operator', message: 'x' },
    ],
  });
const unlocked = () =>
  view({
    case: {
      state: 'unlocked', version: 12,
      operator_unlock: asked({ status: 'confirmed', calls: 2, last_answer: 'confirmed', reference: 'OP-REF-77', settled_at: '2026-11-29T02:30:00Z' }),
      unlock: {
        operator_reference: 'OP-REF-77', notified_via: 'sms', notified_at: '2026-11-29T02:30:00Z', confirmed_by: 'tel01',
        authorized_by: 'sup01', at: '2026-11-29T02:30:00Z',
      },
    },
    allowed: ['close'],
    notifications: [sms({ status: 'queued', sent_at: null })],
  });

/** The unlock step on `v`, its props state: `onchange` shows the new case, as the counter does. */
async function unlockStep(v: CaseView) {
  const props = $state({
    view: v,
    draft: draftFor(v.case.id, v),
    onchange: (next: CaseView) => {
      props.view = next;
    },
    onprint: async () => {},
  });
  const root = await render(Unlock, props);
  return { root, props };
}
type Call = [string, Record<string, unknown>];
function backend(answer: (cmd: string, args: Record<string, unknown>) => unknown): Call[] {
  const calls: Call[] = [];
  invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    calls.push([cmd, args]);
    return answer(cmd, args);
  });
  return calls;
}

beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
});
afterEach(() => {
  unmountAll();
  document.body.innerHTML = '';
  forgetDrafts();
  vi.useRealTimers();
});

describe('the unlock asked of the operator', () => {
  it('gives F10 and the first focus to the connector, never to the manual form below', async () => {
    const v = approved();
    v.allowed = [...v.allowed, 'confirm-unlock'];
    v.blocked = [];
    v.case.contacts = [{ channel: 'phone', at: '2026-11-29T02:10:00Z', ticket: 'T-1', result: 'ok', by: 'tel01' }];
    const { root } = await unlockStep(v);
    expect(q<HTMLButtonElement>(root, T.unlockConfirm)!.disabled).toBe(false);
    const primaries = [...root.querySelectorAll<HTMLElement>('[data-key~="primary"]')].map((e) => e.dataset.testid);
    expect(primaries).toEqual([T.operatorUnlockRequest]);
    expect(q<HTMLInputElement>(root, T.unlockReference)?.autofocus ?? false).toBe(false);
  });

  it('sends request_unlock with an idempotency key and shows the waiting banner; the manual path stays below, blocked', async () => {
    const calls = backend((cmd) => {
      if (cmd === 'request_unlock') return waiting();
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const { root } = await unlockStep(approved());
    expect(q(root, T.operatorUnlockPanel)).not.toBeNull();
    expect(q(root, T.manualPath)!.textContent).toContain('人工方式');
    // The connector's button is the step's main action (F10), ahead of the manual path's.
    const request = q<HTMLButtonElement>(root, T.operatorUnlockRequest)!;
    expect(request.textContent).toBe('向钱包运营机构申请解锁');
    expect(request.disabled).toBe(false);
    expect(root.querySelector('[data-key~="primary"]')).toBe(request);
    expect(q(root, T.operatorWaiting)).toBeNull();

    request.click();
    await settle();
    expect(calls.map(([c]) => c)).toEqual(['request_unlock']);
    expect(calls[0]![1]).toMatchObject({ caseId: 'c1' });
    expect(typeof calls[0]![1]['idem']).toBe('string');

    const banner = q(root, T.operatorWaiting)!;
    expect(banner.getAttribute('data-calls')).toBe('1');
    expect(banner.textContent).toContain('正在等待钱包运营机构答复');
    expect(banner.textContent).toContain('柜员甲（tel01）');
    expect(banner.textContent).toContain('已向钱包运营机构查询 1 次');
    expect(banner.textContent).toContain('no answer: timed out');
    // Waiting: no new request, "ask again" instead; the manual confirm is visible but refused.
    expect(q(root, T.operatorUnlockRequest)).toBeNull();
    expect(q(root, T.operatorUnlockAgain)).not.toBeNull();
    expect(q(root, T.contactLog)).not.toBeNull();
    expect(q<HTMLButtonElement>(root, T.unlockConfirm)!.disabled).toBe(true);
    const hint = q(root, T.blockedReason, '[data-event="confirm-unlock"]')!;
    expect(hint.getAttribute('data-rule')).toBe('waiting-for-operator');
    expect(hint.textContent).toContain('正在等待答复');
    // The request's own hint would repeat the banner: not shown.
    expect(q(root, T.blockedReason, '[data-event="request-unlock"]')).toBeNull();
  });

  it('asks again with a new call (core reuses the operator key) and shows the unlock with its reference and the SMS', async () => {
    let answers = [waiting(2, 'pending: the operator has not decided yet'), unlocked()];
    const calls = backend((cmd) => {
      if (cmd === 'request_unlock') return answers.shift();
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const { root } = await unlockStep(waiting());
    expect(q(root, T.operatorUnlockRequest)).toBeNull();

    q<HTMLButtonElement>(root, T.operatorUnlockAgain)!.click();
    await settle();
    expect(q(root, T.operatorWaiting)!.getAttribute('data-calls')).toBe('2');
    expect(q(root, T.operatorWaiting)!.textContent).toContain('pending: the operator has not decided yet');

    q<HTMLButtonElement>(root, T.operatorUnlockAgain)!.click();
    await settle();
    expect(calls.map(([c]) => c)).toEqual(['request_unlock', 'request_unlock']);
    // Each answered call settles its own idempotency key: asking again is a new call.
    expect(calls[1]![1]['idem']).not.toBe(calls[0]![1]['idem']);
    expect(q(root, T.operatorUnlockPanel)).toBeNull();
    expect(q(root, T.operatorUnlockAgain)).toBeNull();
    const record = q(root, T.unlockRecord)!;
    expect(record.textContent).toContain('OP-REF-77');
    expect(q(record, T.operatorUnlocked)!.textContent).toBe('经钱包运营机构接口解锁');
    const rows = qa(root, T.notificationRow);
    expect(rows.map((r) => r.dataset['status'])).toEqual(['queued']);
    expect(rows[0]!.textContent).toContain('待发送');
    answers = [];
  });

  it('an unavailable connector reads as such and leaves the manual path usable; the same key is sent again', async () => {
    const calls = backend((cmd) => {
      if (cmd === 'request_unlock') throw { code: 'operator-unavailable', message: 'the operator is paused after 5 failures: retry after 14:35', fields: [] };
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const v = view({
      case: { contacts: [{ channel: 'phone', at: '2026-11-29T02:10:00Z', ticket: 'T-1', result: 'unlocked by phone', by: 'tel01' }] },
      allowed: ['log-contact', 'confirm-unlock', 'request-confirm-unlock', 'record-unlock-failure', 'cancel', 'wallet-status', 'request-unlock'],
    });
    const { root } = await unlockStep(v);
    q<HTMLButtonElement>(root, T.operatorUnlockRequest)!.click();
    await settle();
    const banner = q(q(root, T.operatorUnlockPanel)!, T.formError)!;
    expect(banner.getAttribute('data-code')).toBe('operator-unavailable');
    expect(banner.textContent).toContain('钱包运营机构接口暂时无法使用');
    const manual = q(root, T.operatorUnavailable)!;
    expect(manual.textContent).toContain('retry after 14:35');
    expect(manual.textContent).toContain('下方人工方式仍可办理');
    // The manual confirmation is right there, enabled.
    expect(q<HTMLButtonElement>(root, T.unlockConfirm)!.disabled).toBe(false);
    expect(q(root, T.manualPath)).not.toBeNull();
    // Pressed again, it is the same attempt: the same idempotency key.
    q<HTMLButtonElement>(root, T.operatorUnlockRequest)!.click();
    await settle();
    expect(calls).toHaveLength(2);
    expect(calls[1]![1]['idem']).toBe(calls[0]![1]['idem']);
  });

  it("says an operator without a connector is served the manual way (core's field rule, in words)", async () => {
    backend(() => {
      throw { code: 'invalid', message: 'no connector', fields: [{ field: 'wallet_operator', rule: 'no-connector', message: 'no connector' }] };
    });
    const { root } = await unlockStep(approved());
    q<HTMLButtonElement>(root, T.operatorUnlockRequest)!.click();
    await settle();
    const panel = q(root, T.operatorUnlockPanel)!;
    expect(q(panel, T.formError)).toBeNull();
    expect(panel.textContent).toContain('该钱包运营机构未接入系统接口，请按人工方式联系');
  });

  it("shows the operator's refusal on a failed unlock and offers the request again", async () => {
    const rejected = asked({ status: 'rejected', calls: 1, last_answer: 'rejected: wallet-closed', reference: 'wallet-closed', settled_at: '2026-11-29T02:21:00Z' });
    const v = view({
      case: {
        state: 'unlock-failed', operator_unlock: rejected,
        unlock_failures: [{ reason: 'the operator refused: wallet-closed: the wallet was closed', next: 'retry', operator_ticket: 'op-key-1', by: 'tel01', at: '2026-11-29T02:21:00Z' }],
      },
      allowed: ['log-contact', 'record-unlock-failure', 'cancel', 'wallet-status', 'request-unlock'],
      blocked: [{ event: 'confirm-unlock', rule: 'no-operator-contact', message: 'x' }],
    });
    const { root } = await unlockStep(v);
    const banner = q(root, T.operatorRejected)!;
    expect(banner.textContent).toContain('wallet-closed');
    expect(banner.textContent).toContain('the wallet was closed');
    expect(q<HTMLButtonElement>(root, T.operatorUnlockRequest)!.disabled).toBe(false);
  });

  it('reads the case again while waiting, and shows the answer the background worker got', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let reads = 0;
    const calls = backend((cmd) => {
      if (cmd !== 'case_view') throw { code: 'invalid', message: `unexpected ${cmd}` };
      reads += 1;
      // The first read finds the case unlocked with its SMS queued; the next, the SMS sent.
      const v = unlocked();
      return reads === 1 ? v : { ...v, notifications: [sms({ status: 'sent', attempts: 1, sent_at: '2026-11-29T02:30:05Z' })] };
    });
    const { root } = await unlockStep(waiting());
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(5000);
    await settle();
    expect(calls.map(([c]) => c)).toEqual(['case_view']);
    expect(q(root, T.operatorWaiting)).toBeNull();
    expect(q(root, T.unlockRecord)!.textContent).toContain('OP-REF-77');
    // Its SMS is queued: the screen reads on (same case version) until it shows sent.
    vi.advanceTimersByTime(5000);
    await settle();
    expect(calls).toHaveLength(2);
    expect(q(root, T.notificationRow, '[data-status="sent"]')).not.toBeNull();
    // Settled and sent: no more reads.
    vi.advanceTimersByTime(20000);
    await settle();
    expect(calls).toHaveLength(2);
  });

  it('shows nothing of the connector when none serves the operator', async () => {
    const v = view({ operator_connector: false, allowed: ['log-contact', 'record-unlock-failure'], blocked: [{ event: 'confirm-unlock', rule: 'no-operator-contact', message: 'x' }] });
    const { root } = await unlockStep(v);
    expect(q(root, T.operatorUnlockPanel)).toBeNull();
    expect(q(root, T.manualPath)).toBeNull();
    expect(q(root, T.walletStatusPanel)).toBeNull();
    expect(q(root, T.unlockConfirm)).not.toBeNull();
  });
});

describe('the wallet status', () => {
  it("warns strongly of an authority freeze the operator flags, with the operator's lock cause and time", async () => {
    const v = view({
      case: {
        state: 'refused-authority-freeze',
        wallet_check: {
          wallet: '0099********9012',
          status: { locked: true, lock_cause: 'wrong-password', locked_since: '2026-11-28T16:30:00Z', authority_freeze: true },
          by: 'tel01', at: '2026-11-29T02:05:00Z',
        },
      },
    });
    const root = await render(WalletStatus, { view: v, onchange: () => {} });
    const panel = q<HTMLElement>(root, T.walletStatusPanel)!;
    expect(panel.dataset['freeze']).toBe('true');
    expect(panel.dataset['locked']).toBe('true');
    const warning = q(root, T.walletStatusFreeze)!;
    expect(warning.getAttribute('role')).toBe('alert');
    expect(warning.textContent).toContain('有权机关冻结');
    expect(warning.textContent).toContain('柜台不得解锁');
    const result = q(root, T.walletStatusResult)!.textContent ?? '';
    expect(result).toContain('已锁定');
    expect(result).toContain('多次输错密码');
    // In the branch's time (Asia/Shanghai), not UTC.
    expect(result).toContain('2026-11-29 00:30');
    expect(panel.textContent).toContain('柜员甲（tel01） 于 2026-11-29 10:05 查询');
    // A refused case asks nothing more.
    expect(q(root, T.walletStatusCheck)).toBeNull();
  });

  it('asks with a typed wallet id when the form has none, and never shows it back', async () => {
    const checked = view({
      case: {
        state: 'identity-verified', form: null,
        wallet_check: { wallet: 'W12****5678', status: { locked: true, lock_cause: 'abnormal-activity', locked_since: null, authority_freeze: false }, by: 'tel01', at: '2026-11-29T02:05:00Z' },
      },
      allowed: ['wallet-status'],
    });
    let refuse = true;
    const calls = backend((cmd) => {
      if (cmd !== 'wallet_status') throw { code: 'invalid', message: `unexpected ${cmd}` };
      if (refuse) throw { code: 'invalid', message: 'x', fields: [{ field: 'wallet_id', rule: 'format', message: 'letters and digits' }] };
      return checked;
    });
    const props = $state({
      view: view({ case: { state: 'identity-verified', form: null }, allowed: ['wallet-status'] }),
      onchange: (next: CaseView) => {
        props.view = next;
      },
    });
    const root = await render(WalletStatus, props);
    expect(q(root, T.walletStatusPanel)!.textContent).toContain('尚未向钱包运营机构查询');
    const input = q<HTMLInputElement>(root, T.walletStatusId)!;
    type(input, '0012-3456');
    q<HTMLButtonElement>(root, T.walletStatusCheck)!.click();
    await settle();
    expect(calls[0]).toEqual(['wallet_status', { caseId: 'c1', walletId: '0012-3456' }]);
    // Refused beside the field, kept as typed so it can be corrected; no banner as well.
    expect(root.querySelector('#ws-id-err')!.textContent).toBe('格式不正确');
    expect(q(root, T.formError)).toBeNull();
    expect(q<HTMLInputElement>(root, T.walletStatusId)!.value).toBe('0012-3456');

    refuse = false;
    type(q<HTMLInputElement>(root, T.walletStatusId)!, ' 0012345678 ');
    q<HTMLButtonElement>(root, T.walletStatusCheck)!.click();
    await settle();
    expect(calls[1]).toEqual(['wallet_status', { caseId: 'c1', walletId: '0012345678' }]);
    expect(q<HTMLInputElement>(root, T.walletStatusId)!.value).toBe('');
    expect(root.textContent).not.toContain('0012345678');
    expect(q(root, T.walletStatusResult)!.textContent).toContain('异常操作');
    expect(q(root, T.walletStatusFreeze)).toBeNull();
  });

  it("uses the form's wallet id (shown masked, as core sent it) and is offered on the review step", async () => {
    const calls = backend(() => view({ case: { state: 'submitted' } }));
    const v = view({ case: { state: 'submitted' }, allowed: ['wallet-status'] });
    const root = await render(Review, { view: v, draft: draftFor('c1', v), onchange: () => {} });
    const panel = q(root, T.walletStatusPanel)!;
    expect(panel.textContent).toContain('0012****5678');
    expect(q(root, T.walletStatusId)).toBeNull();
    q<HTMLButtonElement>(root, T.walletStatusCheck)!.click();
    await settle();
    expect(calls[0]).toEqual(['wallet_status', { caseId: 'c1', walletId: null }]);
  });

  it('is not offered without a connector', async () => {
    const v = view({ operator_connector: false, case: { state: 'submitted' }, allowed: [] });
    const root = await render(WalletStatus, { view: v, onchange: () => {} });
    expect(q(root, T.walletStatusPanel)).toBeNull();
  });
});

describe("the customer's SMS", () => {
  const items = [
    sms({ id: 'm3', status: 'failed', attempts: 5, last_error: 'gateway refused: number not in service', sent_at: null }),
    sms({ id: 'm2', status: 'queued', attempts: 2, last_error: 'timed out', next_attempt_at: '2026-11-29T02:40:00Z', sent_at: null }),
    sms({ id: 'm1' }),
  ];

  it('lists each with its status, attempts and why it failed', async () => {
    const root = await render(Notifications, { items, timeZone: 'Asia/Shanghai' });
    const rows = qa(root, T.notificationRow);
    expect(rows.map((r) => r.dataset['status'])).toEqual(['failed', 'queued', 'sent']);
    expect(rows[0]!.dataset['attempts']).toBe('5');
    expect(rows[0]!.textContent).toContain('发送失败');
    expect(rows[0]!.textContent).toContain('已尝试 5 次，重试 4 次');
    expect(rows[0]!.textContent).toContain('原因：gateway refused: number not in service');
    expect(rows[1]!.textContent).toContain('待发送');
    expect(rows[1]!.textContent).toContain('下次重试 2026-11-29 10:40');
    expect(rows[1]!.textContent).toContain('上次失败：timed out');
    expect(rows[2]!.textContent).toContain('已发送');
    expect(rows[2]!.textContent).toContain('发送时间 2026-11-29 10:30');
    expect(rows[2]!.textContent).not.toContain('已尝试');
  });

  it('in English', async () => {
    setLocale('en');
    const root = await render(Notifications, { items, timeZone: 'Asia/Shanghai' });
    const rows = qa(root, T.notificationRow);
    expect(rows[0]!.textContent).toContain('Failed');
    expect(rows[0]!.textContent).toContain('5 attempts, retried 4 times');
    expect(rows[0]!.textContent).toContain('Reason: gateway refused');
  });

  it('shows on the case view when the case has any', async () => {
    const closed = view({ case: { state: 'closed' }, notifications: items });
    backend((cmd) => {
      if (cmd === 'case_view') return closed;
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render(CaseDetail, { caseId: 'c1' });
    expect(qa(root, T.notificationRow)).toHaveLength(3);

    const none = view({ case: { state: 'closed' } });
    backend(() => none);
    const other = await render(CaseDetail, { caseId: 'c1' });
    expect(q(other, T.notificationsList)).toBeNull();
  });
});
