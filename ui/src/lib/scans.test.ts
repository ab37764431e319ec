import { describe, expect, it } from 'vitest';
import { bankCopyPrint, currentScan, mediaLabel, scanEventText, scanMissing, scanOpen, scanRuleKey, sizeText, supersededScans } from './scans';
import { setLocale } from './i18n/index.svelte';
import type { AuditEvent } from './bindings/AuditEvent';
import type { CaseState } from './bindings/CaseState';
import type { PrintRecord } from './bindings/PrintRecord';
import type { SignedScan } from './bindings/SignedScan';

const scan = (document_id: string, form_revision: number): SignedScan => ({
  document_id, form_revision, media_type: 'image/jpeg', bytes: 1000, sha256: 'x', file_name: `${document_id}.jpg`, by: 'tel01',
  at: '2026-11-30T01:00:00Z',
});
const print = (over: Partial<PrintRecord>): PrintRecord => ({
  document_id: 'd', kind: 'application', copy: 'bank', form_revision: 1, reprint: false, channel: 'cups', printer: 'Q',
  job_id: 'Q-1', outcome: 'completed', message: '', by: 'tel01', at: '2026-11-30T01:00:00Z', ...over,
});

describe('the signed form scan', () => {
  it('takes the latest scan of the current revision; earlier revisions and replaced scans are superseded', () => {
    const c = { form_revision: 2, signed_scans: [scan('a', 1), scan('b', 2), scan('c', 2), scan('d', 1)] };
    expect(currentScan(c)?.document_id).toBe('c');
    expect(supersededScans(c).map((s) => s.document_id)).toEqual(['d', 'b', 'a']);
    // Only scans of an amended (earlier) revision: none is current.
    const amended = { form_revision: 3, signed_scans: [scan('a', 1), scan('b', 2)] };
    expect(currentScan(amended)).toBeNull();
    expect(supersededScans(amended)).toHaveLength(2);
    expect(currentScan({ form_revision: 1, signed_scans: [] })).toBeNull();
  });

  it('picks the latest delivered bank copy of the current revision, never the customer copy, an old revision or an undelivered print', () => {
    const prints = [
      print({ document_id: 'old', form_revision: 1 }),
      print({ document_id: 'bank2', form_revision: 2 }),
      print({ document_id: 'reprint2', form_revision: 2, reprint: true }),
      print({ document_id: 'customer2', form_revision: 2, copy: 'customer' }),
      print({ document_id: 'sent2', form_revision: 2, outcome: 'sent' }),
      print({ document_id: 'failed2', form_revision: 2, outcome: 'failed' }),
      print({ document_id: 'receipt', form_revision: 2, kind: 'receipt' }),
    ];
    expect(bankCopyPrint({ form_revision: 2, prints })?.document_id).toBe('reprint2');
    expect(bankCopyPrint({ form_revision: 1, prints })?.document_id).toBe('old');
    expect(bankCopyPrint({ form_revision: 3, prints })).toBeNull();
    expect(bankCopyPrint({ form_revision: 2, prints: [print({ form_revision: 2, outcome: 'pending' })] })).toBeNull();
  });

  it('is attached once the bank copy is printed, while signed, never once submitted; the hint only where submit still lies ahead', () => {
    const v = (state: CaseState, form_printed: boolean, scans: SignedScan[] = []) => ({
      form_printed, case: { state, form_revision: 1, signed_scans: scans },
    });
    expect(scanOpen(v('form-recorded', false))).toBe(false);
    expect(scanOpen(v('form-recorded', true))).toBe(true);
    expect(scanOpen(v('form-signed', true))).toBe(true);
    expect(scanOpen(v('submitted', true))).toBe(false);
    expect(scanOpen(v('approved', true))).toBe(false);
    expect(scanOpen(v('returned-for-info', true))).toBe(false);

    expect(scanMissing(v('form-signed', true), true)).toBe(true);
    expect(scanMissing(v('form-signed', true), false)).toBe(false);
    expect(scanMissing(v('form-signed', true, [scan('a', 1)]), true)).toBe(false);
    expect(scanMissing(v('form-signed', true, [scan('a', 0)]), true)).toBe(true);
    expect(scanMissing(v('submitted', true), true)).toBe(false);
  });

  it('words the refusals at the path, the type and the size', () => {
    expect(scanRuleKey({ field: 'path', rule: 'readable', message: '' })).toBe('scan.rule.readable');
    expect(scanRuleKey({ field: 'file', rule: 'max-size', message: '' })).toBe('scan.rule.maxSize');
    expect(scanRuleKey({ field: 'file', rule: 'type', message: '' })).toBe('scan.rule.type');
    expect(scanRuleKey({ field: 'file', rule: 'required', message: '' })).toBe('scan.rule.empty');
    expect(scanRuleKey({ field: 'signed_scan', rule: 'required', message: '' })).toBe('scan.rule.required');
    expect(scanRuleKey({ field: 'file', rule: 'something-new', message: '' })).toBeNull();
    expect(scanRuleKey(undefined)).toBeNull();
    expect(mediaLabel('application/pdf')).toBe('PDF');
    expect(mediaLabel('image/gif')).toBe('image/gif');
    expect(sizeText(820)).toBe('820 B');
    expect(sizeText(348_160)).toBe('340 KB');
    expect(sizeText(10 * 1024 * 1024)).toBe('10.0 MB');
  });

  it('says what an attach-signed-scan event attached, defensively', () => {
    setLocale('zh-CN');
    const ev = (action: string, detail: string): AuditEvent => ({
      seq: 1, at: '2026-11-30T01:20:00Z', staff_id: 'tel01', role: 'teller', terminal: 't', case_id: null, action,
      from_state: 'form-signed', to_state: 'form-signed', reason: '', outcome: 'ok', detail, prev_hash: '', hash: '',
    });
    expect(scanEventText(ev('attach-signed-scan', '{"media_type":"application/pdf","bytes":1258291,"form_revision":2,"sha256":"ab"}'))).toBe(
      'PDF · 1.2 MB · 第 2 版',
    );
    expect(scanEventText(ev('attach-signed-scan', '{"bytes":"many"}'))).toBeNull();
    expect(scanEventText(ev('attach-signed-scan', 'not json'))).toBeNull();
    expect(scanEventText(ev('print', '{"media_type":"image/png"}'))).toBeNull();
  });
});
