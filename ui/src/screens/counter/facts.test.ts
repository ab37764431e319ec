// What the authorizing supervisor reads (the online checks, the second factor, the printed
// bank copy), why a refused identity was refused, the print notice, and the accessible names of
// blocked buttons and the online-check select.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushSync, mount, tick, unmount, type Component } from 'svelte';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import Review from './Review.svelte';
import Identity from './Identity.svelte';
import Counter from '../Counter.svelte';
import PrintNotice from '../../components/PrintNotice.svelte';
import { draftFor, forgetDrafts } from '../../lib/counter.svelte';
import { setLocale } from '../../lib/i18n/index.svelte';
import { T } from '../../lib/testids';
import type { ApplicationForm } from '../../lib/bindings/ApplicationForm';
import type { Case } from '../../lib/bindings/Case';
import type { CaseView } from '../../lib/bindings/CaseView';
import type { IdentityRecord } from '../../lib/bindings/IdentityRecord';
import type { PrintedDocument } from '../../lib/bindings/PrintedDocument';

const kase: Case = {
  id: 'c1', case_number: 'BJ001-20261129-0001', state: 'submitted', version: 5, appointment_id: null, customer_name: '张三',
  phone: '131****6789', lock_cause: 'wrong-password', opened_by: 't01', opened_at: '2026-11-29T01:00:00Z',
  updated_at: '2026-11-29T01:00:00Z', makers: ['t01'], identity: null, form: null, form_signed_at: null, authorization: null,
  unlock: null, unlock_failures: [], contacts: [], last_reason: '', form_revision: 2, prints: [], receipt_waiver: null, unlock_request: null, signed_scans: [], purges: [],
};
const identity: IdentityRecord = {
  kind: 'prc-id', number: '110105********0015', name_on_document: '张三', birth_date: null, expiry: null, name_matches: true,
  reference: null, needs_cocheck: false, checked_by: 't01', checked_at: '2026-11-29T01:00:00Z', cochecked_by: null,
  cochecked_at: null, minor: false, online_check: { result: 'match', reference: 'LWHC-0001' }, second_factor: null, sex: 'male',
  nationality: 'CHN', name_latin: '', long_term: true,
};
const form: ApplicationForm = {
  customer_name: '张三', customer_name_latin: '', sex: 'male', nationality: 'CHN', occupation: '教师', address: '北京',
  phone: '131****6789', id_type: 'prc-id', id_number: '', id_valid_until: 'long-term',
  agent: { name: '李四', id_type: 'prc-id', id_number: '110105********0023', phone: '', relationship: '父亲', online_check: { result: 'match', reference: 'LWHC-0002' } },
  wallet_operator: '运营机构A', wallet_id: '****', wallet_class: '2', lock_cause: 'wrong-password', requested_action: 'unlock', reason: '',
  bank_card: '', declaration_true: true, consent_query: true, risk_acknowledged: true, materials: ['id-document'],
};

function view(over: Partial<Omit<CaseView, 'case'>> & { case?: Partial<Case> } = {}): CaseView {
  const { case: c, ...rest } = over;
  return {
    allowed: [], history: [], documents: [], freeze_route: null, required_materials: ['id-document'], form_document: null,
    cocheck_needed: false, amendment_draft: null, blocked: [], prefill: null, form_printed: true, receipt_printed: false,
    reprints: 0, online_check_required: true, agents_allowed: true, signed_scan_required: false, staff: {}, pending_authorization: null, retention: null,
    ...rest,
    case: { ...kase, identity, form, ...c },
  };
}

const q = <E extends Element>(root: Element, id: string, extra = '') => root.querySelector<E>(`[data-testid="${id}"]${extra}`);
let mounted: ReturnType<typeof mount>[] = [];
function render<P extends Record<string, any>>(component: Component<P>, props: P): HTMLElement {
  const target = document.createElement('div');
  document.body.appendChild(target);
  mounted.push(mount(component, { target, props }));
  flushSync();
  return target;
}
beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
});
afterEach(() => {
  for (const m of mounted) void unmount(m);
  mounted = [];
  document.body.innerHTML = '';
  forgetDrafts();
});
const noop = () => {};
const settle = async () => {
  for (let i = 0; i < 5; i++) await tick();
  flushSync();
};

describe('the review summary shows the evidence', () => {
  it('the customer\'s and the agent\'s online checks with their serial numbers, and the printed bank copy', () => {
    const root = render(Review, { view: view(), draft: draftFor('c1'), onchange: noop });
    const online = q(root, T.factsOnlineCheck)!;
    expect(online.getAttribute('data-result')).toBe('match');
    expect(online.textContent).toContain('联网核查');
    expect(online.textContent).toContain('一致');
    expect(online.textContent).toContain('LWHC-0001');
    const agent = q(root, T.factsAgentOnlineCheck)!;
    expect(agent.textContent).toContain('代理人联网核查');
    expect(agent.textContent).toContain('LWHC-0002');
    const printed = q(root, T.factsFormPrinted)!;
    expect(printed.getAttribute('data-printed')).toBe('true');
    expect(printed.getAttribute('data-revision')).toBe('2');
    expect(printed.textContent).toContain('第 2 版已打印');
    expect(q(root, T.factsSecondFactor)).toBeNull();
  });

  it('the second factor: kind, outcome, score and reference; no agent row without an agent', () => {
    setLocale('en');
    const card: IdentityRecord = {
      ...identity, kind: 'bank-card', number: '6222********1234', online_check: null,
      second_factor: { kind: 'face-verification', passed: true, score: 87, reference: 'FACE-77' },
    };
    const v = view({ case: { identity: card, form: { ...form, agent: null } }, form_printed: false });
    const root = render(Review, { view: v, draft: draftFor('c1'), onchange: noop });
    const sf = q(root, T.factsSecondFactor)!;
    expect(sf.getAttribute('data-passed')).toBe('true');
    for (const s of ['Face verification', 'passed', 'score 87', 'FACE-77']) expect(sf.textContent).toContain(s);
    expect(q(root, T.factsOnlineCheck)!.getAttribute('data-result')).toBe('');
    expect(q(root, T.factsAgentOnlineCheck)).toBeNull();
    expect(q(root, T.factsFormPrinted)!.getAttribute('data-printed')).toBe('false');
    expect(q(root, T.factsFormPrinted)!.textContent).toContain('revision 2 not printed');
  });
});

describe('staff by name beside their id', () => {
  it('the identity checker, co-checker and the authorizing supervisor; an id with no name stays bare', () => {
    const v = view({
      case: {
        identity: { ...identity, cochecked_by: 's01' },
        authorization: { decision: 'approve', supervisor: 's02', reason_code: null, reason: '', at: '2026-11-29T02:00:00Z' },
      },
      staff: { t01: '柜员甲', s01: '主管甲' },
    });
    const root = render(Review, { view: v, draft: draftFor('c1'), onchange: noop });
    const facts = q(root, T.caseFacts)!.textContent ?? '';
    expect(facts).toContain('柜员甲（t01） / 主管甲（s01）');
    expect(facts).toMatch(/同意（授权通过）|approve/);
    expect(facts).toContain(' · s02');
    expect(facts).not.toContain('（s02）');
    for (const m of mounted) void unmount(m);
    mounted = [];
    setLocale('en');
    const en = q(render(Review, { view: v, draft: draftFor('c1'), onchange: noop }), T.caseFacts)!.textContent ?? '';
    expect(en).toContain('柜员甲 (t01) / 主管甲 (s01)');
  });
});

describe('a blocked step\'s button is described by its hint', () => {
  it('points aria-describedby at the hint\'s id', () => {
    const v = view({ case: { state: 'form-signed' }, blocked: [{ event: 'submit', rule: 'cocheck-required', message: 'x' }] });
    const root = render(Review, { view: v, draft: draftFor('c1'), onchange: noop });
    const button = q<HTMLButtonElement>(root, T.submitCase)!;
    expect(button.disabled).toBe(true);
    const hint = q(root, T.blockedReason)!;
    expect(hint.id).not.toBe('');
    expect(button.getAttribute('aria-describedby')).toBe(hint.id);
    expect(document.getElementById(button.getAttribute('aria-describedby')!)).toBe(hint);
  });

  it('has no aria-describedby when nothing blocks it', () => {
    const v = view({ case: { state: 'form-signed' }, allowed: ['submit'] });
    const root = render(Review, { view: v, draft: draftFor('c1'), onchange: noop });
    expect(q(root, T.submitCase)!.hasAttribute('aria-describedby')).toBe(false);
  });
});

describe('the online-check select', () => {
  const checkedIn = (over: Partial<CaseView> = {}) => view({ case: { state: 'checked-in', identity: null, form: null }, allowed: ['verify-identity'], ...over });

  it('is required for a citizen number when the branch requires the check', () => {
    const root = render(Identity, { view: checkedIn(), draft: draftFor('c1'), onchange: noop });
    const select = q(root, T.idOnlineCheck)!;
    expect(select.getAttribute('aria-required')).toBe('true');
    expect(select.getAttribute('aria-invalid')).toBe('false');
  });

  it('is not required where the branch does not require it', () => {
    const root = render(Identity, { view: checkedIn({ online_check_required: false }), draft: draftFor('c1'), onchange: noop });
    expect(q(root, T.idOnlineCheck)!.getAttribute('aria-required')).toBe('false');
  });

  it('is invalid when core refused the identity for a missing check', async () => {
    invoke.mockRejectedValue({ code: 'invalid', message: 'x', fields: [{ field: 'online_check', rule: 'required', message: 'x' }] });
    const root = render(Identity, { view: checkedIn(), draft: draftFor('c1'), onchange: noop });
    q<HTMLButtonElement>(root, T.idSubmit)!.click();
    await settle();
    expect(invoke).toHaveBeenCalledWith('verify_identity', expect.anything());
    expect(q(root, T.idOnlineCheck)!.getAttribute('aria-invalid')).toBe('true');
  });
});

describe('a refused identity says why', () => {
  async function refused(c: Partial<Case>): Promise<HTMLElement> {
    invoke.mockImplementation(async (command: string) => {
      if (command === 'case_view') return view({ case: { state: 'refused-identity', last_reason: 'customer: mismatch', ...c } });
      throw { code: 'invalid', message: `unexpected ${command}` };
    });
    const root = render(Counter, { caseId: 'c1' });
    await settle();
    return root;
  }

  it('names the customer, the result in words and the serial number', async () => {
    const root = await refused({ identity: { ...identity, online_check: { result: 'mismatch', reference: 'LWHC-E2E-MISMATCH' } }, form: null });
    const p = q(root, T.identityRefusal)!;
    expect(p.getAttribute('data-who')).toBe('customer');
    expect(p.textContent).toContain('客户');
    expect(p.textContent).toContain('不一致');
    expect(p.textContent).toContain('LWHC-E2E-MISMATCH');
    expect(p.textContent).not.toContain('mismatch');
    expect(q(root, T.caseOutcome)).not.toBeNull();
  });

  it('names the agent when the agent\'s check failed', async () => {
    const agent = { ...form.agent!, online_check: { result: 'not-found' as const, reference: 'LWHC-AG-9' } };
    const root = await refused({ form: { ...form, agent } });
    const p = q(root, T.identityRefusal)!;
    expect(p.getAttribute('data-who')).toBe('agent');
    expect(p.textContent).toContain('代理人');
    expect(p.textContent).toContain('库中无此号');
    expect(p.textContent).toContain('LWHC-AG-9');
  });
});

describe('the print notice', () => {
  const doc = (delivery: Partial<PrintedDocument['delivery']>): PrintedDocument => ({
    record: { id: 'd1' } as PrintedDocument['record'],
    absolute_path: '/data/a.pdf',
    viewer: 'disabled',
    delivery: { channel: 'cups', printer: 'Counter_1', job_id: 'Counter_1-12', outcome: 'completed', message: '', ...delivery },
  });

  it('a failed job is bad, with CUPS\'s message as an English detail below the sentence', () => {
    const root = render(PrintNotice, { doc: doc({ job_id: null, outcome: 'failed', message: 'lp: The printer or class does not exist.' }) });
    const n = q(root, T.printOutcome)!;
    expect(n.classList.contains('bad')).toBe(true);
    expect(n.getAttribute('data-counted')).toBe('false');
    const detail = n.querySelector('[lang="en"]')!;
    expect(detail.textContent).toBe('lp: The printer or class does not exist.');
    expect(n.textContent).toContain('不计为已打印');
  });

  it('a job only sent warns, a completed one is ok', () => {
    const sent = q(render(PrintNotice, { doc: doc({ outcome: 'sent' }) }), T.printOutcome)!;
    expect(sent.classList.contains('warn')).toBe(true);
    expect(sent.getAttribute('data-counted')).toBe('false');
    expect(sent.querySelector('[lang="en"]')).toBeNull();
    const done = q(render(PrintNotice, { doc: doc({}) }), T.printOutcome)!;
    expect(done.classList.contains('ok')).toBe(true);
    expect(done.getAttribute('data-counted')).toBe('true');
  });
});
