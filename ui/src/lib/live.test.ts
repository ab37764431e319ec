import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { describeRule, liveFeedback, mrzLine, mrzLinesInError, needsCocheck, provinceLabel, readFields, SECOND_FACTORS, toFeedback } from './live';
import { setLocale } from './i18n/index.svelte';
import type { DocCheck } from './bindings/DocCheck';

const specimen: DocCheck = {
  valid: true,
  kind: 'passport-mrz',
  normalized: 'L898902C3',
  fields: { surname: 'ERIKSSON', given_names: 'ANNA MARIA', birth_date: '1974-08-12', sex: 'female', issuer: 'UTO', expiry: '2012-04-15', expired: true, document_number: 'L898902C3' },
  errors: [],
};

afterEach(() => {
  clearMocks();
  setLocale('zh-CN');
});

describe('live identity feedback', () => {
  it('an expired but well-formed document is its own status, with the date', () => {
    const fb = toFeedback({ status: 'valid', detail: specimen });
    expect(fb.status).toBe('expired');
    expect(fb.check?.fields.expiry).toBe('2012-04-15');
    const ok = toFeedback({ status: 'valid', detail: { ...specimen, fields: { ...specimen.fields, expired: false } } });
    expect(ok.status).toBe('valid');
  });

  it('a check digit names which check failed and the two characters, in both languages', () => {
    const r = { rule: 'check-digit', message: 'x', field: 'expiry', expected: '9', found: '8' };
    setLocale('en');
    expect(describeRule(r)).toBe('Expiry date check digit wrong: expected 9, found 8');
    setLocale('zh-CN');
    expect(describeRule(r)).toBe('有效期校验位错误：应为 9，实为 8');
    expect(describeRule({ rule: 'date', message: 'x' })).toBe('日期无效');
    expect(describeRule({ rule: 'check-digit', message: 'x', field: 'check-character', expected: '2', found: '3' })).toBe('校验位错误：应为 2，实为 3');
    expect(describeRule({ rule: 'no-such-rule', message: 'x' })).toBe('无效');
  });

  it('reads the holder fields but never echoes the document number', () => {
    setLocale('en');
    const read = readFields(specimen);
    expect(read.map((r) => r.key)).toEqual(['idfield.name', 'idfield.birth', 'idfield.sex', 'idfield.issuer', 'idfield.expiry']);
    expect(read.find((r) => r.key === 'idfield.sex')?.value).toBe('Female');
    expect(JSON.stringify(read)).not.toContain('L898902C3');
    expect(readFields(undefined)).toEqual([]);
  });

  it('only the resident ID card skips the supervisor co-check', () => {
    expect(needsCocheck('prc-id')).toBe(false);
    expect(needsCocheck('prc-id-15')).toBe(false);
    for (const k of ['passport-mrz', 'bank-card', 'e-id', 'hk-macau-permit', 'driving-licence']) expect(needsCocheck(k)).toBe(true);
  });

  it('offers the four second factors core knows', () => {
    expect([...SECOND_FACTORS]).toEqual(['card-pin', 'sms-to-registered-phone', 'face-verification', 'security-questions']);
  });

  it('asks core (document_status) and keeps expected/found of a failed check', async () => {
    let asked: unknown = null;
    mockIPC((cmd, args) => {
      asked = { cmd, args };
      return { status: 'invalid', detail: [{ rule: 'check-digit', message: 'm', field: 'check-character', expected: '9', found: '8' }] };
    });
    const fb = await liveFeedback('prc-id', '110105198503150018');
    expect(asked).toEqual({ cmd: 'document_status', args: { kind: 'prc-id', text: '110105198503150018' } });
    expect(fb.status).toBe('invalid');
    expect(fb.rules[0]?.expected).toBe('9');
  });

  it('blank input and e-ID never reach core', async () => {
    mockIPC(() => {
      throw new Error('must not be called');
    });
    expect((await liveFeedback('prc-id', '  ')).status).toBe('incomplete');
    expect((await liveFeedback('e-id', 'REF1')).status).toBe('incomplete');
  });

  it('names the refused birth date as typed (1900 is not a leap year)', () => {
    setLocale('en');
    expect(describeRule({ rule: 'date', message: 'm', found: '1900-02-29' })).toBe('Birth date 1900-02-29 is not a real date');
    expect(describeRule({ rule: 'date', message: 'm' })).toBe('not a valid date');
  });
});

describe('provinceLabel', () => {
  it('shows the province in the current language, keeping the code', () => {
    setLocale('en');
    expect(provinceLabel('11 北京市')).toBe('11 Beijing');
    expect(provinceLabel('81 香港特别行政区')).toBe('81 Hong Kong SAR');
    setLocale('zh-CN');
    expect(provinceLabel('11 北京市')).toBe('11 北京市');
  });
  it('leaves an unknown code as core sent it', () => {
    setLocale('en');
    expect(provinceLabel('99 未知')).toBe('99 未知');
    setLocale('zh-CN');
  });
});

describe('the MRZ line in error', () => {
  const r = (rule: string, field?: string) => ({ rule, message: 'm', ...(field ? { field } : {}) });
  it('is line 2 for TD3 check digits and dates, the named line for length and characters', () => {
    expect(mrzLine(r('check-digit', 'birth-date'))).toBe(2);
    expect(mrzLine(r('check-digit', 'composite'))).toBe(2);
    expect(mrzLine(r('date'))).toBe(2);
    expect(mrzLine(r('length', 'line1'))).toBe(1);
    expect(mrzLine(r('character', 'line2'))).toBe(2);
    expect(mrzLine(r('format'))).toBeNull();
  });
  it('outlines only the failing line; an unnamed failure leaves both in question', () => {
    expect(mrzLinesInError([r('check-digit', 'expiry')])).toEqual({ line1: false, line2: true });
    expect(mrzLinesInError([r('length', 'line1')])).toEqual({ line1: true, line2: false });
    expect(mrzLinesInError([r('format')])).toEqual({ line1: true, line2: true });
  });
});
