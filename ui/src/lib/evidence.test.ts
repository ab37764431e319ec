import { describe, expect, it } from 'vitest';
import type { ApplicationForm } from './bindings/ApplicationForm';
import type { BlockedStep } from './bindings/BlockedStep';
import type { EventKind } from './bindings/EventKind';
import type { FormPrefill } from './bindings/FormPrefill';
import type { IdentityRecord } from './bindings/IdentityRecord';
import type { OnlineCheck } from './bindings/OnlineCheck';
import type { PrintDelivery } from './bindings/PrintDelivery';
import { emptyForm } from './counter.svelte';
import {
  applyPrefill, blockedDescribedBy, blockedHintId, blockedKey, blockedSteps, canClose, identityRefusal, isLocked, offered, printNotice, ready,
  validityText, waiverToSend,
} from './evidence';
import { hasKey, setLocale, t } from './i18n/index.svelte';

const step = (event: EventKind, rule: string): BlockedStep => ({ event, rule, message: `English text for ${rule}` });

describe('blocked steps', () => {
  const view = {
    allowed: ['record-form', 'cancel'] as EventKind[],
    blocked: [step('confirm-signed', 'not-printed')],
  };

  it('picks the refusals of the given steps only', () => {
    expect(blockedSteps(view, ['confirm-signed']).map((b) => b.rule)).toEqual(['not-printed']);
    expect(blockedSteps(view, ['submit', 'approve'])).toEqual([]);
  });

  it('offers a blocked step (disabled) but not one the state does not have', () => {
    expect(offered(view, 'confirm-signed')).toBe(true);
    expect(ready(view, 'confirm-signed')).toBe(false);
    expect(offered(view, 'record-form')).toBe(true);
    expect(ready(view, 'record-form')).toBe(true);
    expect(offered(view, 'submit')).toBe(false);
    expect(ready(view, 'submit')).toBe(false);
  });

  it('translates every rule core can block a step with, never showing core\'s English', () => {
    const rules = [
      'not-printed', 'receipt-not-printed', 'no-operator-contact', 'authority-freeze', 'anti-fraud-restriction',
      'cocheck-required', 'not-signed', 'reason-required', 'four-eyes', 'already-decided', 'waiting-for-operator',
    ];
    for (const r of rules) expect(blockedKey(r), r).toBe(`blocked.${r}`);
    expect(blockedKey('something-new')).toBe('blocked.unknown');
    setLocale('zh-CN');
    expect(t(blockedKey('not-printed'))).toContain('银行联');
    expect(t(blockedKey('not-printed'))).not.toContain('English');
  });

  it('has words for the field rules core uses', () => {
    for (const r of ['differs-from-document', 'failed', 'not-allowed-by-branch', 'expired', 'receipt-not-printed', 'order', 'channel', 'no-connector']) {
      expect(hasKey(`rule.${r}`), r).toBe(true);
    }
  });
});

describe('closing', () => {
  const unlocked = { allowed: ['close'] as EventKind[], receipt_printed: false };

  it('needs a printed receipt or a typed reason', () => {
    expect(canClose(unlocked, '')).toBe(false);
    expect(canClose(unlocked, '   ')).toBe(false);
    expect(canClose(unlocked, '客户拒收')).toBe(true);
    expect(canClose({ ...unlocked, receipt_printed: true }, '')).toBe(true);
  });

  it('is never enabled when core does not allow it', () => {
    expect(canClose({ allowed: [], receipt_printed: true }, 'reason')).toBe(false);
  });

  it('sends the reason only when no receipt was printed', () => {
    expect(waiverToSend(unlocked, '  客户拒收 ')).toBe('客户拒收');
    expect(waiverToSend(unlocked, '  ')).toBeNull();
    expect(waiverToSend({ receipt_printed: true }, '客户拒收')).toBeNull();
  });
});

describe('prefill from the verified document', () => {
  const prefill: FormPrefill = {
    sex: 'female',
    nationality: 'CHN',
    id_valid_until: 'long-term',
    birth_date: '1990-03-07',
    customer_name_latin: '',
    locked: ['sex', 'nationality', 'id_valid_until'],
  };

  it('fills the locked fields that are blank and leaves the rest alone', () => {
    const form = emptyForm();
    form.occupation = '教师';
    expect(applyPrefill(form, prefill)).toEqual(['sex', 'nationality', 'id_valid_until']);
    expect(form.sex).toBe('female');
    expect(form.nationality).toBe('CHN');
    expect(form.id_valid_until).toBe('long-term');
    expect(form.customer_name_latin).toBe('');
    expect(form.occupation).toBe('教师');
  });

  it('is idempotent and keeps what the document already says', () => {
    const form = emptyForm();
    applyPrefill(form, prefill);
    expect(applyPrefill(form, prefill)).toEqual([]);
  });

  it('replaces a stale locked value (the field is read-only), never an unlocked one', () => {
    const form = emptyForm();
    form.nationality = 'HKG';
    form.customer_name_latin = 'ZHANG SAN';
    expect(applyPrefill(form, prefill)).toContain('nationality');
    expect(form.nationality).toBe('CHN');
    expect(form.customer_name_latin).toBe('ZHANG SAN');
  });

  it('does nothing without a verified document', () => {
    const form = emptyForm();
    expect(applyPrefill(form, null)).toEqual([]);
    expect(form).toEqual(emptyForm());
    expect(isLocked(null, 'sex')).toBe(false);
    expect(isLocked(prefill, 'sex')).toBe(true);
    expect(isLocked(prefill, 'customer_name_latin')).toBe(false);
  });

  it('shows long-term validity in words', () => {
    setLocale('zh-CN');
    expect(validityText('long-term')).toBe('长期');
    expect(validityText('2030-01-31')).toBe('2030-01-31');
  });
});

describe('print notice', () => {
  const cups = (over: Partial<PrintDelivery>): PrintDelivery => ({
    channel: 'cups', printer: 'Counter_1', job_id: 'Counter_1-12', outcome: 'completed', message: '', ...over,
  });

  it('a completed CUPS job is printed: ok, with the printer and the job', () => {
    setLocale('zh-CN');
    const n = printNotice(cups({}), 'disabled', '/data/a.pdf');
    expect(n).toEqual({ tone: 'ok', key: 'case.printedCups', params: { printer: 'Counter_1', job: 'Counter_1-12' }, detail: '', counted: true });
    expect(t(n.key, n.params)).toContain('Counter_1-12');
  });

  it('a job CUPS only accepted (sent) warns: not confirmed, not counted yet, check and print again', () => {
    const n = printNotice(cups({ outcome: 'sent' }), 'disabled', '');
    expect(n).toMatchObject({ tone: 'warn', key: 'case.printSent', params: { printer: 'Counter_1', job: 'Counter_1-12' }, counted: false });
    setLocale('zh-CN');
    expect(t(n.key, n.params)).toContain('Counter_1');
    expect(t(n.key, n.params)).toContain('尚未确认');
    expect(t(n.key, n.params)).toContain('不计为已打印');
    expect(t(n.key, n.params)).toContain('重新打印');
    setLocale('en');
    expect(t(n.key, n.params)).toContain('has not confirmed');
    expect(t(n.key, n.params)).toContain('job Counter_1-12');
  });

  it('a job CUPS refused is bad: the sentence in the UI language, CUPS\'s English as the detail', () => {
    setLocale('zh-CN');
    const n = printNotice(cups({ job_id: null, outcome: 'failed', message: ' lp: The printer or class does not exist. ' }), 'disabled', '');
    expect(n).toMatchObject({ tone: 'bad', key: 'case.printFailed', counted: false });
    expect(n.detail).toBe('lp: The printer or class does not exist.');
    expect(Object.values(n.params).join(' ')).not.toContain('does not exist');
    expect(t(n.key, n.params)).not.toContain('does not exist');
    expect(t(n.key, n.params)).toContain('不计为已打印');
  });

  it('without a printer: says none is configured for this terminal, the PDF opened in the viewer, and where to choose one', () => {
    const viewer = (outcome: PrintDelivery['outcome']): PrintDelivery => ({ channel: 'viewer', printer: null, job_id: null, outcome, message: 'no printer configured' });
    const opened = printNotice(viewer('completed'), 'opened', '/data/a.pdf');
    expect(opened).toEqual({ tone: 'ok', key: 'case.printed', params: { path: '/data/a.pdf' }, detail: '', counted: true });
    setLocale('zh-CN');
    expect(t(opened.key, opened.params)).toContain('未配置打印机');
    expect(t(opened.key, opened.params)).toContain('阅读器中打开');
    expect(t(opened.key, opened.params)).toContain('个人设置');
    setLocale('en');
    expect(t(opened.key, opened.params)).toContain('No printer is configured for this terminal');
    expect(t(opened.key, opened.params)).toContain('My settings');
    expect(printNotice(viewer('failed'), 'missing', '/data/a.pdf')).toMatchObject({ tone: 'bad', key: 'case.printedNoViewer', detail: '', counted: false });
    expect(printNotice(viewer('failed'), 'disabled', '/data/a.pdf')).toMatchObject({ tone: 'bad', key: 'case.printedNotOpened', detail: '', counted: false });
  });
});

describe('blocked hints and the buttons they explain', () => {
  const view = { blocked: [step('submit', 'cocheck-required'), step('submit', 'not-signed'), step('approve', 'four-eyes')] };

  it('names each hint by its step and rule, and the button by its hints', () => {
    expect(blockedHintId(step('submit', 'cocheck-required'))).toBe('blocked-submit-cocheck-required');
    expect(blockedDescribedBy(view, ['submit'])).toBe('blocked-submit-cocheck-required blocked-submit-not-signed');
    expect(blockedDescribedBy(view, ['approve'])).toBe('blocked-approve-four-eyes');
    expect(blockedDescribedBy(view, ['close'])).toBeUndefined();
  });
});

describe('identity refusal', () => {
  const check = (result: OnlineCheck['result'], reference: string): OnlineCheck => ({ result, reference });
  const identity = (online_check: OnlineCheck | null) => ({ online_check } as IdentityRecord);
  const form = (online_check: OnlineCheck | null) => ({ ...emptyForm(), agent: { name: '李四', id_type: 'prc-id', id_number: '', phone: '', relationship: '父亲', online_check } } as ApplicationForm);

  it('names the customer when the customer\'s online check failed', () => {
    expect(identityRefusal({ identity: identity(check('mismatch', 'LWHC-1')), form: null })).toEqual({ who: 'customer', check: check('mismatch', 'LWHC-1') });
  });

  it('names the agent when the customer matched and the agent did not', () => {
    expect(identityRefusal({ identity: identity(check('match', 'LWHC-1')), form: form(check('not-found', 'LWHC-2')) }))
      .toEqual({ who: 'agent', check: check('not-found', 'LWHC-2') });
  });

  it('says nothing when no check failed', () => {
    expect(identityRefusal({ identity: identity(check('match', 'LWHC-1')), form: form(check('match', 'LWHC-2')) })).toBeNull();
    expect(identityRefusal({ identity: null, form: null })).toBeNull();
  });
});
