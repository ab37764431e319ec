import { describe, expect, it } from 'vitest';
import { authorizerOf, reasonText } from './history';
import { setLocale } from './i18n/index.svelte';
import type { AuditEvent } from './bindings/AuditEvent';

const ev = (detail: string, staff_id = 'tel01'): AuditEvent => ({
  seq: 1, at: '2026-11-30T01:20:00Z', staff_id, role: 'teller', terminal: 't', case_id: null, action: 'approve',
  from_state: 'submitted', to_state: 'approved', reason: '', outcome: 'ok', detail, prev_hash: '', hash: '',
});

describe('case history', () => {
  it('names the supervisor who authorized on the teller terminal', () => {
    expect(authorizerOf(ev('{"supervisor":"sup02","decision":"approve"}'))).toBe('sup02');
    expect(authorizerOf(ev('{"authorized_by":"sup01"}'))).toBe('sup01');
    expect(authorizerOf(ev('{}'))).toBeNull();
    expect(authorizerOf(ev('not json'))).toBeNull();
    expect(authorizerOf(ev('{"supervisor":"sup01"}', 'sup01'))).toBeNull();
  });

  it('translates a reason code, keeps free text as typed', () => {
    setLocale('en');
    expect(reasonText('form-incomplete: add the wallet screenshot')).toBe('Form incomplete: add the wallet screenshot');
    expect(reasonText('no code here')).toBe('no code here');
    expect(reasonText('unknown-code: x')).toBe('unknown-code: x');
    setLocale('zh-CN');
  });
});
