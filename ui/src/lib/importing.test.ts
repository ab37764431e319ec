import { describe, expect, it } from 'vitest';
import { fieldLabel, importTone, rejectedRowCount, rejectionText, sortedRejections } from './importing';
import { setLocale } from './i18n/index.svelte';
import type { RejectedRow } from './bindings/RejectedRow';

const rejected: RejectedRow[] = [
  { row: 3, field: 'slot_end', code: 'slot-end-before-start', reason: 'the slot must end after it starts' },
  { row: 1, field: 'phone', code: 'bad-phone', reason: 'not a mainland mobile number' },
  { row: 3, field: 'id_number', code: 'bad-id-check-digit', reason: 'check digit' },
  { row: 1, field: 'reference', code: 'missing-field', reason: 'required' },
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

  it('words each rejection from its code with the field named, never the English reason', () => {
    setLocale('zh-CN');
    expect(rejected.map(rejectionText)).toEqual([
      '结束时间须晚于开始时间', '不是有效的手机号（11 位，以 13–19 开头，可带 +86）', '证件号码校验位不符', '预约号不能为空',
    ]);
    const zh = (code: RejectedRow['code'], field: string, arg?: string) =>
      rejectionText({ row: 1, field, code, reason: 'x', ...(arg === undefined ? {} : { arg }) });
    expect(zh('too-long', 'notes', '500')).toBe('备注最多 500 个字符');
    expect(zh('unknown-value', 'lock_cause', 'forgot')).toBe('“forgot”不是有效的锁定原因');
    expect(zh('duplicate-reference', 'reference', '2')).toBe('预约号与第 2 行重复（以第 2 行为准）');
    expect(zh('field-count', 'row', '2')).toBe('应有 10 个字段，实有 2 个');
    setLocale('en');
    expect(zh('missing-field', 'slot_start')).toBe('Slot start is required');
    expect(zh('unknown-value', 'id_type', 'id-card')).toBe('ID type: "id-card" is not a known value');
    expect(zh('too-long', 'name', '50')).toBe('Name: at most 50 characters');
    setLocale('zh-CN');
  });
});
