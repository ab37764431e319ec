import { describe, expect, it } from 'vitest';
import { fieldLabel, importTone, rejectedRowCount, sortedRejections } from './importing';
import { setLocale } from './i18n/index.svelte';

const rejected = [
  { row: 3, field: 'slot_end', reason: 'the slot must end after it starts' },
  { row: 1, field: 'phone', reason: 'not a mainland mobile number' },
  { row: 3, field: 'id_number', reason: 'check digit' },
  { row: 1, field: 'reference', reason: 'required' },
];

describe('appointment import report', () => {
  it('lists rejections in file order: row, then header order', () => {
    expect(sortedRejections(rejected).map((r) => `${r.row}:${r.field}`)).toEqual([
      '1:reference', '1:phone', '3:id_number', '3:slot_end',
    ]);
  });

  it('counts rejected rows, not failed fields', () => {
    expect(rejectedRowCount({ imported: 2, updated: 0, unchanged: 0, rejected })).toBe(2);
  });

  it('tones: all taken, some refused, nothing taken', () => {
    expect(importTone({ imported: 2, updated: 0, unchanged: 0, rejected: [] })).toBe('ok');
    expect(importTone({ imported: 0, updated: 0, unchanged: 1, rejected })).toBe('warn');
    expect(importTone({ imported: 0, updated: 0, unchanged: 0, rejected })).toBe('bad');
  });

  it('labels header keys in the chosen language; unknown keys pass through', () => {
    setLocale('en');
    expect(fieldLabel('slot_start')).toBe('Slot start');
    setLocale('zh-CN');
    expect(fieldLabel('slot_start')).toBe('开始时间');
    expect(fieldLabel('extra_column')).toBe('extra_column');
  });
});
