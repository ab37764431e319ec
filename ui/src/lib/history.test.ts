import { describe, expect, it } from 'vitest';
import { authorizerOf, printFacts, printText, reasonText, staffLabel } from './history';
import type { PrintRecord } from './bindings/PrintRecord';
import { setLocale } from './i18n/index.svelte';
import type { AuditEvent } from './bindings/AuditEvent';

const ev = (detail: string, staff_id = 'tel01', action = 'approve'): AuditEvent => ({
  seq: 1, at: '2026-11-30T01:20:00Z', staff_id, role: 'teller', terminal: 't', case_id: null, action,
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
    expect(reasonText('receipt-waived: customer declined it')).toBe('Receipt not handed over: customer declined it');
    setLocale('zh-CN');
    expect(reasonText('receipt-waived: 客户不要回执')).toBe('未交付回执：客户不要回执');
    // Rows audited before the code: the English words core wrote then, read as the code.
    expect(reasonText('receipt not handed over: 客户不要回执')).toBe('未交付回执：客户不要回执');
    expect(reasonText('Receipt not handed over:printer jammed')).toBe('未交付回执：printer jammed');
    setLocale('en');
    expect(reasonText('receipt not handed over: customer declined it')).toBe('Receipt not handed over: customer declined it');
    setLocale('zh-CN');
  });

  it('names the document, copy, revision, printer and job of each print', () => {
    setLocale('zh-CN');
    const rec: PrintRecord = {
      document_id: 'd1', kind: 'application', copy: 'bank', form_revision: 2, reprint: false, channel: 'cups',
      printer: 'CUPS-PDF', job_id: 'CUPS-PDF-12', outcome: 'completed', message: '', by: 'tel01', at: '2026-11-30T01:20:00Z',
    };
    const print = printFacts(ev('{"kind":"application","copy":"bank","document_id":"d1","form_revision":2}', 'tel01', 'print'), [rec]);
    expect(print).toEqual({ kind: 'application', copy: 'bank', revision: 2, printer: 'CUPS-PDF', job: 'CUPS-PDF-12', outcome: null });
    expect(printText(print!)).toBe('申请表 · 银行联 · 第 2 版 · 打印机 CUPS-PDF · 作业 CUPS-PDF-12');
    const delivery = printFacts(ev(
      '{"document_id":"d9","kind":"receipt","copy":"customer","form_revision":1,"channel":"cups","printer":"Q","job_id":"Q-3","outcome":"failed","message":"stopped"}',
      'tel01', 'print-delivery'));
    expect(printText(delivery!)).toBe('解锁回执 · 客户联 · 打印机 Q · 作业 Q-3 · 失败');
    // Defensive: not JSON, an array, mistyped fields; other actions are not prints.
    expect(printFacts(ev('not json', 'tel01', 'reprint'))).toEqual({ kind: '', copy: '', revision: null, printer: null, job: null, outcome: null });
    expect(printFacts(ev('[1]', 'tel01', 'print'))?.kind).toBe('');
    expect(printFacts(ev('{"kind":7,"printer":""}', 'tel01', 'print'))).toMatchObject({ kind: '', printer: null });
    expect(printFacts(ev('{"kind":"application"}', 'tel01', 'approve'))).toBeNull();
  });

  it('shows staff by name beside the id where the name is known', () => {
    setLocale('zh-CN');
    expect(staffLabel('tel01', { tel01: '柜员一' })).toBe('柜员一（tel01）');
    expect(staffLabel('sup01', { tel01: '柜员一' })).toBe('sup01');
    setLocale('en');
    expect(staffLabel('tel01', { tel01: 'Teller One' })).toBe('Teller One (tel01)');
    setLocale('zh-CN');
  });
});
