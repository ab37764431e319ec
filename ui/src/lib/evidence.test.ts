import { describe, expect, it } from 'vitest';
import type { BlockedStep } from './bindings/BlockedStep';
import type { EventKind } from './bindings/EventKind';
import type { FormPrefill } from './bindings/FormPrefill';
import type { PrintDelivery } from './bindings/PrintDelivery';
import { emptyForm } from './counter.svelte';
import { applyPrefill, blockedKey, blockedSteps, canClose, isLocked, offered, printNotice, ready, validityText, waiverToSend } from './evidence';
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
      'cocheck-required', 'not-signed', 'reason-required', 'four-eyes', 'already-decided',
    ];
    for (const r of rules) expect(blockedKey(r), r).toBe(`blocked.${r}`);
    expect(blockedKey('something-new')).toBe('blocked.unknown');
    setLocale('zh-CN');
    expect(t(blockedKey('not-printed'))).toContain('银行联');
    expect(t(blockedKey('not-printed'))).not.toContain('English');
  });

  it('has words for the field rules core uses', () => {
    for (const r of ['differs-from-document', 'failed', 'not-allowed-by-branch', 'expired', 'receipt-not-printed', 'order', 'channel']) {
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

  it('names the printer, the job and the outcome of a CUPS print', () => {
    setLocale('zh-CN');
    const n = printNotice(cups({}), 'disabled', '/data/a.pdf');
    expect(n).toMatchObject({ tone: 'ok', key: 'case.printedCups', counted: true });
    expect(n.params).toEqual({ printer: 'Counter_1', job: 'Counter_1-12', outcome: '已打印' });
    expect(printNotice(cups({ outcome: 'sent' }), 'disabled', '').params['outcome']).toBe('已送打印机');
  });

  it('warns when CUPS refused the job: not counted as printed', () => {
    const n = printNotice(cups({ job_id: null, outcome: 'failed', message: 'lp: The printer or class does not exist.' }), 'disabled', '');
    expect(n).toMatchObject({ tone: 'warn', key: 'case.printFailed', counted: false });
    expect(n.params['message']).toContain('does not exist');
  });

  it('keeps the viewer texts; a viewer that did not open is not counted', () => {
    const viewer = (outcome: PrintDelivery['outcome']): PrintDelivery => ({ channel: 'viewer', printer: null, job_id: null, outcome, message: '' });
    expect(printNotice(viewer('completed'), 'opened', '/data/a.pdf')).toMatchObject({ tone: 'ok', key: 'case.printed', params: { path: '/data/a.pdf' }, counted: true });
    expect(printNotice(viewer('failed'), 'missing', '/data/a.pdf')).toMatchObject({ tone: 'warn', key: 'case.printedNoViewer', counted: false });
    expect(printNotice(viewer('failed'), 'disabled', '/data/a.pdf')).toMatchObject({ tone: 'warn', key: 'case.printedNotOpened', counted: false });
  });
});
