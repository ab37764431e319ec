// What the counter screens read about the operator's connector from the case view (core
// decides), and the words for what the connector adds to a case's history and refusals.
import { describe, expect, it } from 'vitest';
import { connectorPath, noConnector, rejectedUnlock, rejectionText, waitingUnlock } from './operator';
import { ApiError, errorText, ruleText } from './errors';
import { blockedKey } from './evidence';
import { label } from './format';
import { setLocale, t } from './i18n/index.svelte';
import type { CaseState } from './bindings/CaseState';
import type { OperatorUnlock } from './bindings/OperatorUnlock';

const asked = (status: OperatorUnlock['status']): OperatorUnlock => ({
  key: 'k1', by: 'tel01', at: '2026-11-29T02:20:00Z', status, calls: 1, last_answer: '', reference: '', settled_at: null,
});

describe('the connector on the unlock step', () => {
  it('is offered on an approved or failed case when a connector serves its operator', () => {
    const on = (state: CaseState, operator_connector?: boolean) => connectorPath({ operator_connector, case: { state } as never });
    expect(on('approved', true)).toBe(true);
    expect(on('unlock-failed', true)).toBe(true);
    expect(on('unlocked', true)).toBe(false);
    expect(on('submitted', true)).toBe(false);
    expect(on('approved', false)).toBe(false);
    // A view from a core without the connector has no such field: the manual path.
    expect(on('approved')).toBe(false);
  });

  it('finds the request waiting for the answer, and a refusal only on a failed case', () => {
    expect(waitingUnlock({ operator_unlock: asked('waiting') })?.key).toBe('k1');
    expect(waitingUnlock({ operator_unlock: asked('confirmed') })).toBeNull();
    expect(waitingUnlock({})).toBeNull();
    expect(rejectedUnlock({ state: 'unlock-failed', operator_unlock: asked('rejected') })?.key).toBe('k1');
    expect(rejectedUnlock({ state: 'approved', operator_unlock: asked('rejected') })).toBeNull();
  });

  it("reads the operator's own refusal, not a failure recorded by hand", () => {
    const failure = (reason: string, operator_ticket: string) => ({ reason, next: 'retry' as const, operator_ticket, by: 'tel01', at: '2026-11-29T02:21:00Z' });
    const c = { unlock_failures: [failure('the operator refused: closed: x', 'k1'), failure('customer left', 'T-9')] };
    expect(rejectionText(c, { key: 'k1' })).toBe('the operator refused: closed: x');
    expect(rejectionText(c, { key: 'k2' })).toBe('');
  });

  it('tells "no connector" from other refusals', () => {
    const none = new ApiError('invalid', 'x', [{ field: 'wallet_operator', rule: 'no-connector', message: 'x' }]);
    expect(noConnector(none)?.rule).toBe('no-connector');
    expect(noConnector(new ApiError('invalid', 'x', [{ field: 'wallet_id', rule: 'format', message: 'x' }]))).toBeNull();
    expect(noConnector(new ApiError('operator-unavailable', 'x'))).toBeNull();
    expect(noConnector(null)).toBeNull();
  });
});

describe("the connector's words", () => {
  it('names its history actions, its error, its blocked rule and field rule in both languages', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      setLocale(locale);
      for (const a of ['wallet-status', 'request-unlock', 'operator-unlocked', 'operator-rejected', 'operator-no-answer', 'notification-sent', 'notification-failed']) {
        expect(label('event', a), a).not.toBe(a);
      }
      expect(errorText(new ApiError('operator-unavailable', 'x'))).not.toBe(t('error.unknown'));
      expect(blockedKey('waiting-for-operator')).toBe('blocked.waiting-for-operator');
      expect(ruleText({ field: 'wallet_operator', rule: 'no-connector', message: 'x' })).not.toBe(t('rule.unknown'));
    }
    setLocale('zh-CN');
    expect(label('event', 'notification-failed')).toBe('短信通知发送失败');
    expect(label('notes.status', 'queued')).toBe('待发送');
    expect(label('notes.status', 'sent')).toBe('已发送');
    expect(label('notes.status', 'failed')).toBe('发送失败');
    expect(t('wallet.freeze')).toContain('有权机关冻结');
    expect(t('operator.again')).toBe('再次查询');
  });
});
