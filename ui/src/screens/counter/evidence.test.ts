// The counter screens with core's evidence rules: a blocked step stays visible, disabled, with
// its reason in words; closing takes a printed receipt or a typed reason; the verified
// document's fields are read-only on the form.
import { afterEach, describe, expect, it } from 'vitest';
import { flushSync, mount, unmount, type Component } from 'svelte';
import Unlock from './Unlock.svelte';
import Form from './Form.svelte';
import Review from './Review.svelte';
import { draftFor, forgetDrafts } from '../../lib/counter.svelte';
import { setLocale } from '../../lib/i18n/index.svelte';
import { T } from '../../lib/testids';
import type { ApplicationForm } from '../../lib/bindings/ApplicationForm';
import type { Case } from '../../lib/bindings/Case';
import type { CaseView } from '../../lib/bindings/CaseView';
import type { IdentityRecord } from '../../lib/bindings/IdentityRecord';

const kase: Case = {
  id: 'c1', case_number: 'BJ001-20261129-0001', state: 'unlocked', version: 3, appointment_id: null, customer_name: '张三',
  phone: '131****6789', lock_cause: 'wrong-password', opened_by: 't01', opened_at: '2026-11-29T01:00:00Z',
  updated_at: '2026-11-29T01:00:00Z', makers: ['t01'], identity: null, form: null, form_signed_at: null, authorization: null,
  unlock: null, unlock_failures: [], contacts: [], last_reason: '', form_revision: 1, prints: [], receipt_waiver: null, unlock_request: null, signed_scans: [], purges: [],
};

function view(over: Partial<Omit<CaseView, 'case'>> & { case?: Partial<Case> } = {}): CaseView {
  const { case: c, ...rest } = over;
  return {
    allowed: [], history: [], documents: [], freeze_route: null, required_materials: ['id-document'], form_document: null,
    cocheck_needed: false, amendment_draft: null, blocked: [], prefill: null, form_printed: false, receipt_printed: false,
    reprints: 0, online_check_required: true, agents_allowed: false, signed_scan_required: false, staff: {}, pending_authorization: null, retention: null,
    ...rest,
    case: { ...kase, ...c },
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
afterEach(() => {
  for (const m of mounted) void unmount(m);
  mounted = [];
  document.body.innerHTML = '';
  forgetDrafts();
});
const noop = () => {};
const noprint = async () => {};

describe('unlock step', () => {
  it('closes only with a printed receipt or a typed reason', () => {
    setLocale('zh-CN');
    const v = view({ allowed: ['close'], blocked: [{ event: 'close', rule: 'receipt-not-printed', message: 'no receipt printed' }] });
    const root = render(Unlock, { view: v, draft: draftFor('c1', v), onchange: noop, onprint: noprint });
    const close = q<HTMLButtonElement>(root, T.closeCase)!;
    expect(close.disabled).toBe(true);
    const hint = q(root, T.blockedReason)!;
    expect(hint.getAttribute('data-rule')).toBe('receipt-not-printed');
    expect(hint.textContent).toContain('回执');
    expect(hint.textContent).not.toContain('no receipt printed');
    const waiver = q<HTMLInputElement>(root, T.receiptWaiver)!;
    waiver.value = '客户拒收';
    waiver.dispatchEvent(new Event('input', { bubbles: true }));
    flushSync();
    expect(close.disabled).toBe(false);
  });

  it('needs no reason once the receipt is printed', () => {
    const v = view({ allowed: ['close'], receipt_printed: true });
    const root = render(Unlock, { view: v, draft: draftFor('c1', v), onchange: noop, onprint: noprint });
    expect(q<HTMLButtonElement>(root, T.closeCase)!.disabled).toBe(false);
    expect(q(root, T.receiptWaiver)).toBeNull();
    expect(q(root, T.receiptPrinted)).not.toBeNull();
  });

  it('shows confirm-unlock disabled until an operator contact is logged', () => {
    const v = view({
      case: { state: 'approved' },
      allowed: ['log-contact', 'record-unlock-failure'],
      blocked: [{ event: 'confirm-unlock', rule: 'no-operator-contact', message: 'x' }],
    });
    const root = render(Unlock, { view: v, draft: draftFor('c1', v), onchange: noop, onprint: noprint });
    expect(q<HTMLButtonElement>(root, T.unlockConfirm)!.disabled).toBe(true);
    expect(q(root, T.blockedReason, '[data-rule="no-operator-contact"]')).not.toBeNull();
  });
});

describe('form step', () => {
  const form: ApplicationForm = {
    customer_name: '张三', customer_name_latin: '', sex: 'male', nationality: 'CHN', occupation: '教师', address: '北京',
    phone: '131****6789', id_type: 'prc-id', id_number: '', id_valid_until: 'long-term', agent: null, wallet_operator: '运营机构A',
    wallet_id: '****', wallet_class: '2', lock_cause: 'wrong-password', requested_action: 'unlock', reason: '', bank_card: '',
    declaration_true: true, consent_query: true, risk_acknowledged: true, materials: ['id-document'],
  };
  const recorded = (over: Partial<CaseView> = {}) =>
    view({
      case: { state: 'form-recorded', form },
      allowed: ['record-form', 'cancel'],
      blocked: [{ event: 'confirm-signed', rule: 'not-printed', message: 'x' }],
      prefill: { sex: 'male', nationality: 'CHN', id_valid_until: 'long-term', birth_date: null, customer_name_latin: '', locked: ['sex', 'nationality', 'id_valid_until'] },
      ...over,
    });

  it('prints the bank copy from the main button and keeps confirm-signed disabled until it is printed', () => {
    const printed: string[] = [];
    const v = recorded();
    const root = render(Form, { view: v, draft: draftFor('c1', v), onchange: noop, onprint: async (_: string, copy: string) => void printed.push(copy) });
    expect(q<HTMLButtonElement>(root, T.confirmSigned)!.disabled).toBe(true);
    expect(q(root, T.blockedReason)!.getAttribute('data-rule')).toBe('not-printed');
    expect(q(root, T.formPrintStatus)!.getAttribute('data-printed')).toBe('false');
    q<HTMLButtonElement>(root, T.printForm)!.click();
    q<HTMLButtonElement>(root, T.printFormCustomer)!.click();
    expect(printed).toEqual(['bank']);
  });

  it('enables confirm-signed once the bank copy of this revision is printed', () => {
    const v = recorded({ allowed: ['record-form', 'confirm-signed', 'cancel'], blocked: [], form_printed: true });
    const root = render(Form, { view: v, draft: draftFor('c1', v), onchange: noop, onprint: noprint });
    expect(q<HTMLButtonElement>(root, T.confirmSigned)!.disabled).toBe(false);
    expect(q(root, T.blockedReason)).toBeNull();
  });

  it('shows the verified document\'s fields read-only', () => {
    setLocale('zh-CN');
    const v = recorded();
    const root = render(Form, { view: v, draft: draftFor('c1', v), onchange: noop, onprint: noprint });
    [...root.querySelectorAll('button')].find((b) => b.textContent === '修改申请表')!.click();
    flushSync();
    expect(q<HTMLSelectElement>(root, T.formField, '[data-field="sex"]')!.disabled).toBe(true);
    expect(q<HTMLInputElement>(root, T.formField, '[data-field="nationality"]')!.readOnly).toBe(true);
    const validity = q<HTMLInputElement>(root, T.formField, '[data-field="id_valid_until"]')!;
    expect(validity.readOnly).toBe(true);
    expect(validity.value).toBe('长期');
    expect(q<HTMLInputElement>(root, T.formField, '[data-field="customer_name_latin"]')!.readOnly).toBe(false);
  });
});

describe('review step', () => {
  it('shows submit disabled with the co-check to do first, and offers the co-check', () => {
    const identity: IdentityRecord = {
      kind: 'passport-mrz', number: 'E1****67', name_on_document: 'ZHANG SAN', birth_date: null, expiry: null, name_matches: true,
      reference: null, needs_cocheck: true, checked_by: 't01', checked_at: '2026-11-29T01:00:00Z', cochecked_by: null,
      cochecked_at: null, minor: false, online_check: null, second_factor: null, sex: null, nationality: '', name_latin: '', long_term: false,
    };
    const v = view({
      case: { state: 'form-signed', identity },
      allowed: ['cocheck-identity', 'cancel'],
      cocheck_needed: true,
      blocked: [{ event: 'submit', rule: 'cocheck-required', message: 'x' }],
    });
    const root = render(Review, { view: v, draft: draftFor('c1', v), onchange: noop });
    expect(q<HTMLButtonElement>(root, T.submitCase)!.disabled).toBe(true);
    expect(q(root, T.blockedReason)!.getAttribute('data-rule')).toBe('cocheck-required');
    expect(q(root, T.cocheckButton)).not.toBeNull();
  });
});
