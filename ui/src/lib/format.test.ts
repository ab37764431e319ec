import { describe, expect, it } from 'vitest';
import { label, localTime, slotTime, stateTone } from './format';
import { setLocale } from './i18n/index.svelte';

describe('format', () => {
  it('shows UTC times in the branch time zone', () => {
    expect(localTime('2026-11-29T01:05:00Z', 'Asia/Shanghai')).toBe('2026-11-29 09:05');
    expect(localTime('2026-11-29T23:30:00Z', 'Asia/Shanghai')).toBe('2026-11-30 07:30');
  });
  it('shows slot times', () => {
    expect(slotTime('2026-11-29T09:30:00')).toBe('09:30');
  });
  it('translates known values and passes unknown ones through', () => {
    setLocale('en');
    expect(label('state', 'submitted')).toBe('Awaiting authorization');
    expect(label('material', 'passbook')).toBe('passbook');
    setLocale('zh-CN');
    expect(label('state', 'closed')).toBe('已办结');
  });
  it('colours states', () => {
    expect(stateTone('closed')).toBe('ok');
    expect(stateTone('refused-authority-freeze')).toBe('bad');
  });
});
