import { describe, expect, it } from 'vitest';
import type { CaseView } from './bindings/CaseView';
import { checkInKey, checkInSettled, draftFor, forgetDrafts, onlineCheck, secondFactor } from './counter.svelte';

describe('identity inputs', () => {
  it('sends the online check once a result is chosen, with its reference trimmed', () => {
    expect(onlineCheck({ result: '', reference: 'X1' })).toBeNull();
    expect(onlineCheck({ result: 'match', reference: ' 2026112900001 ' })).toEqual({ result: 'match', reference: '2026112900001' });
  });

  it('sends the second factor once its kind is chosen; the score only for face verification', () => {
    const f = { passed: true, score: '87', reference: ' FV-1 ' };
    expect(secondFactor('', f)).toBeNull();
    expect(secondFactor('face-verification', f)).toEqual({ kind: 'face-verification', passed: true, score: 87, reference: 'FV-1' });
    expect(secondFactor('sms-to-registered-phone', f)).toEqual({ kind: 'sms-to-registered-phone', passed: true, score: null, reference: 'FV-1' });
    expect(secondFactor('face-verification', { ...f, score: 'high' })?.score).toBeNull();
  });
});

describe('drafts', () => {
  it('take the verified document\'s fields when made', () => {
    forgetDrafts();
    const view = {
      case: { id: 'c1', customer_name: '张三', lock_cause: 'wrong-password' },
      form_document: null,
      amendment_draft: null,
      prefill: { sex: 'male', nationality: 'CHN', id_valid_until: '2036-01-01', birth_date: null, customer_name_latin: '', locked: ['sex', 'nationality', 'id_valid_until'] },
    } as unknown as CaseView;
    const d = draftFor('c1', view);
    expect(d.form.customer_name).toBe('张三');
    expect(d.form.sex).toBe('male');
    expect(d.form.nationality).toBe('CHN');
    expect(d.form.id_valid_until).toBe('2036-01-01');
    expect(d.agentOnline).toEqual({ result: '', reference: '' });
    forgetDrafts();
  });
});

describe('check-in keys', () => {
  it('stay the same for one attempt across visits to the screen, new after a success or a sign-out', () => {
    const first = checkInKey('walk-in');
    expect(checkInKey('walk-in')).toBe(first);
    expect(checkInKey('appointment a1')).not.toBe(first);
    checkInSettled('walk-in');
    const second = checkInKey('walk-in');
    expect(second).not.toBe(first);
    forgetDrafts();
    expect(checkInKey('walk-in')).not.toBe(second);
  });
});
