// The supervisors' queue as the screens shape it, and the decision's comfort rules.
import { afterEach, describe, expect, it } from 'vitest';
import { actionableCount, concerns, countByKind, ended, filterByKind, notActionableKey, waitingLabel, waitingMinutes } from './queue';
import { codeToSend, confirmKey, decisionReady, decisionTestId, needsReason } from './decision';
import { setLocale } from './i18n/index.svelte';
import type { AuthorizationItem } from './bindings/AuthorizationItem';

function item(over: Partial<AuthorizationItem> = {}): AuthorizationItem {
  return {
    case_id: 'c1', case_number: 'BJ001-20261129-0001', kind: 'authorize', state: 'submitted', customer_name: '张*',
    lock_cause: 'wrong-password', makers: ['tel01'], requested_by: 'tel01', terminal: 'desk:counter-1',
    waiting_since: '2026-11-29T02:00:00Z', opened_by: null, opened_at: null, actionable: true, not_actionable: null,
    ...over,
  };
}

const at = (iso: string) => Date.parse(iso);

afterEach(() => setLocale('zh-CN'));

describe('waiting time', () => {
  it('counts whole minutes since the request started waiting', () => {
    expect(waitingMinutes('2026-11-29T02:00:00Z', at('2026-11-29T02:00:59Z'))).toBe(0);
    expect(waitingMinutes('2026-11-29T02:00:00Z', at('2026-11-29T02:01:00Z'))).toBe(1);
    expect(waitingMinutes('2026-11-29T02:00:00Z', at('2026-11-29T02:05:59Z'))).toBe(5);
    expect(waitingMinutes('2026-11-29T10:00:00+08:00', at('2026-11-29T02:12:00Z'))).toBe(12);
  });

  it('never counts backwards (a clock behind the server) nor from an unreadable time', () => {
    expect(waitingMinutes('2026-11-29T02:00:00Z', at('2026-11-29T01:58:00Z'))).toBe(0);
    expect(waitingMinutes('not a time', at('2026-11-29T01:58:00Z'))).toBe(0);
  });

  it('is said in minutes, then hours and minutes, in both languages', () => {
    expect(waitingLabel(0)).toBe('不足1分钟');
    expect(waitingLabel(7)).toBe('7 分钟');
    expect(waitingLabel(125)).toBe('2 小时 05 分钟');
    setLocale('en');
    expect(waitingLabel(0)).toBe('< 1 min');
    expect(waitingLabel(7)).toBe('7 min');
    expect(waitingLabel(60)).toBe('1 h 00 min');
  });
});

describe('the queue', () => {
  const items = [
    item({ case_id: 'a', kind: 'authorize' }),
    item({ case_id: 'b', kind: 'co-check', actionable: false, not_actionable: 'four-eyes: sup01 did a teller step' }),
    item({ case_id: 'c', kind: 'confirm-unlock' }),
    item({ case_id: 'd', kind: 'authorize', actionable: false }),
  ];

  it('filters by kind and keeps core\'s order (oldest first)', () => {
    expect(filterByKind(items, 'all').map((i) => i.case_id)).toEqual(['a', 'b', 'c', 'd']);
    expect(filterByKind(items, 'authorize').map((i) => i.case_id)).toEqual(['a', 'd']);
    expect(filterByKind(items, 'co-check').map((i) => i.case_id)).toEqual(['b']);
    expect(filterByKind(items, 'confirm-unlock').map((i) => i.case_id)).toEqual(['c']);
  });

  it('counts what this person may decide (the badge) and each kind (the chips)', () => {
    expect(actionableCount(items)).toBe(2);
    expect(actionableCount([])).toBe(0);
    expect(countByKind(items)).toEqual({ all: 4, authorize: 2, 'co-check': 1, 'confirm-unlock': 1 });
  });

  it('says why a request is not this person\'s, from the facts core sent', () => {
    expect(notActionableKey(item(), 'sup01', 'supervisor')).toBeNull();
    expect(notActionableKey(item({ actionable: false }), 'tel02', 'teller')).toBe('desk.not.role');
    expect(notActionableKey(item({ actionable: false, makers: ['tel01', 'sup01'] }), 'sup01', 'supervisor')).toBe('desk.not.maker');
    expect(notActionableKey(item({ actionable: false, kind: 'confirm-unlock', requested_by: 'sup01' }), 'sup01', 'supervisor')).toBe('desk.not.asker');
    // A reason the screen does not know: core's sentence is shown instead.
    expect(notActionableKey(item({ actionable: false }), 'sup01', 'supervisor')).toBeNull();
  });

  it('tells which live messages concern a case and which end its request', () => {
    const ev = (event: string, case_id = 'c1') =>
      ({ kind: 'event', event: { seq: 1, event, case_id, kind: 'authorize', action: 'approve', by: 'sup02', at: '' } }) as const;
    expect(concerns(ev('decided'), 'c1')).toBe(true);
    expect(concerns(ev('decided', 'c2'), 'c1')).toBe(false);
    expect(concerns({ kind: 'resync' }, 'c1')).toBe(true);
    expect(ended(ev('decided'))).toBe(true);
    expect(ended(ev('withdrawn'))).toBe(true);
    expect(ended(ev('opened'))).toBe(false);
    expect(ended(ev('requested'))).toBe(false);
    expect(ended({ kind: 'resync' })).toBe(false);
  });
});

describe('the decision', () => {
  it('has no default: nothing may be sent before a decision is chosen', () => {
    expect(decisionReady(null, '', '')).toBe(false);
    expect(confirmKey(null)).toBe('auth.chooseDecision');
    expect(decisionReady('approve', '', '')).toBe(true);
  });

  it('asks a reason code for a return or a rejection, and words for "other"', () => {
    expect(needsReason('approve')).toBe(false);
    expect(decisionReady('return-for-info', '', 'x')).toBe(false);
    expect(decisionReady('return-for-info', 'form-incomplete', '')).toBe(true);
    expect(decisionReady('reject', 'other', '  ')).toBe(false);
    expect(decisionReady('reject', 'other', 'the customer left')).toBe(true);
  });

  it('sends no code with an approval, and names the decision on the button', () => {
    expect(codeToSend('approve', 'other')).toBeNull();
    expect(codeToSend('reject', 'suspected-fraud')).toBe('suspected-fraud');
    expect(codeToSend('reject', '')).toBeNull();
    expect(confirmKey('approve')).toBe('auth.confirm.approve');
    expect(confirmKey('return-for-info')).toBe('auth.confirm.return-for-info');
    expect(decisionTestId('reject')).toBe('auth-decision-reject');
    expect(decisionTestId('return-for-info')).toBe('auth-decision-return-for-info');
  });
});
