import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AUDIT_PAGE_SIZE,
  appendAuditPage,
  appendRevealPage,
  approveBlock,
  auditFormErrors,
  batchCounts,
  emptyAuditForm,
  kilobytes,
  nextPage,
  normalizeCaseNumber,
  removesLabel,
  removesText,
  resolveCase,
  skippedText,
  stepErrorKey,
  tabsFor,
  textOrNull,
  toAuditFilter,
  type AuditForm,
} from './console';
import { setLocale } from './i18n/index.svelte';
import type { AuditEvent } from './bindings/AuditEvent';
import type { PurgeItem } from './bindings/PurgeItem';

const form = (over: Partial<AuditForm> = {}): AuditForm => ({ ...emptyAuditForm(), ...over });
const rules = (f: AuditForm) => auditFormErrors(f).map((e) => `${e.field}:${e.rule}`);

beforeEach(() => setLocale('zh-CN'));

describe('the audit filter from the form', () => {
  it('an empty form filters nothing: every text null, first page of the default size', () => {
    expect(toAuditFilter(emptyAuditForm())).toEqual({
      from: null, to: null, staff_id: null, case: null, action: null, refused_only: false, before: null, limit: AUDIT_PAGE_SIZE,
    });
  });

  it('trims text, reads typed days as dates, lower-cases the action, keeps the cursor and limit', () => {
    const f = form({
      from: ' 2026/12/1 ', to: '２０２６年１２月７日', staff: '  AUD01 ', caseRef: ' BJ001-20261207-0001 ', action: ' Refused-Step ',
      refusedOnly: true,
    });
    expect(toAuditFilter(f, 812, 50)).toEqual({
      from: '2026-12-01', to: '2026-12-07', staff_id: 'AUD01', case: 'BJ001-20261207-0001', action: 'refused-step',
      refused_only: true, before: 812, limit: 50,
    });
  });

  it('blank-only text is null', () => {
    expect(textOrNull('   ')).toBeNull();
    expect(textOrNull(null)).toBeNull();
    expect(textOrNull(' a ')).toBe('a');
    expect(toAuditFilter(form({ staff: ' \t', action: ' ' })).staff_id).toBeNull();
  });

  it('refuses a day that is no day, and a range that ends before it starts (beside `to`)', () => {
    expect(rules(form())).toEqual([]);
    expect(rules(form({ from: '2026-02-30' }))).toEqual(['from:date']);
    expect(rules(form({ to: 'yesterday' }))).toEqual(['to:date']);
    expect(rules(form({ from: '2026-12-07', to: '2026-12-01' }))).toEqual(['to:range-order']);
    expect(rules(form({ from: '2026-12-01', to: '2026-12-01' }))).toEqual([]);
    // One day alone is a fine bound.
    expect(rules(form({ to: '2026-12-01' }))).toEqual([]);
  });

  it('the next page reads on from the last one\'s `next`, with the same filter', () => {
    const f = toAuditFilter(form({ staff: 'tel01' }));
    expect(nextPage(f, 40)).toEqual({ ...f, before: 40 });
    expect(nextPage(f, null)).toBeNull();
  });
});

describe('pages put together', () => {
  const ev = (seq: number): AuditEvent => ({
    seq, at: '2026-12-07T01:00:00Z', staff_id: 'tel01', role: 'teller', terminal: 'desk', case_id: null, action: 'reveal',
    from_state: null, to_state: null, reason: '', outcome: 'ok', detail: '{}', prev_hash: '', hash: `${seq}`,
  });

  it('appends events and merges the names and case numbers; `next` is the newest page\'s', () => {
    const first = { events: [ev(9), ev(8)], case_numbers: { a: 'N-1' }, staff: { tel01: '柜员甲' }, next: 8 };
    const second = { events: [ev(7)], case_numbers: { b: 'N-2' }, staff: { sup01: '主管甲' }, next: null };
    expect(appendAuditPage(null, first)).toBe(first);
    const both = appendAuditPage(first, second);
    expect(both.events.map((e) => e.seq)).toEqual([9, 8, 7]);
    expect(both.case_numbers).toEqual({ a: 'N-1', b: 'N-2' });
    expect(both.staff).toEqual({ tel01: '柜员甲', sup01: '主管甲' });
    expect(both.next).toBeNull();
  });

  it('appends reveals', () => {
    const r = (seq: number) => ({
      seq, at: '', staff_id: 'tel01', staff_name: null, role: null, terminal: '', case_id: null, case_number: null, field: 'phone', reason: 'x',
    });
    expect(appendRevealPage({ reveals: [r(5)], next: 5 }, { reveals: [r(3)], next: null })).toEqual({ reveals: [r(5), r(3)], next: null });
  });
});

describe('what a purge removes, in words', () => {
  it('personal data, the appointment and N documents', () => {
    expect(removesLabel('personal-data')).toBe('客户个人信息');
    expect(removesLabel('appointment')).toBe('预约记录');
    expect(removesLabel('documents:3')).toBe('3 份文件');
    expect(removesText(['personal-data', 'appointment'])).toBe('客户个人信息、预约记录');
    setLocale('en');
    expect(removesText(['personal-data', 'appointment'])).toBe('personal data, the appointment');
    expect(removesLabel('documents:0')).toBe('0 documents');
  });

  it('a value it does not know stays as core sent it', () => {
    expect(removesLabel('thumbnails')).toBe('thumbnails');
    expect(removesLabel('documents:x')).toBe('documents:x');
  });

  it('skipped reasons in words; an unknown one as written', () => {
    expect(skippedText('a legal hold was set after the batch was prepared')).toBe('拟定后被设置了法律保全');
    expect(skippedText('no longer due')).toBe('已不再到期');
    expect(skippedText('the case is not in the store')).toBe('该业务已不存在');
    expect(skippedText('something else')).toBe('something else');
    expect(skippedText(null)).toBe('');
  });
});

describe('destruction batches', () => {
  it('the preparer may not approve (any case of the id); someone else may try, core decides the role', () => {
    expect(approveBlock({ prepared_by: 'adm01', state: 'prepared' }, 'adm01')).toBe('retention.approveSelf');
    expect(approveBlock({ prepared_by: 'adm01', state: 'prepared' }, 'ADM01')).toBe('retention.approveSelf');
    expect(approveBlock({ prepared_by: 'adm01', state: 'prepared' }, 'aud01')).toBeNull();
    expect(approveBlock({ prepared_by: 'adm01', state: 'approved' }, 'adm01')).toBeNull();
  });

  it('counts destroyed and skipped cases', () => {
    const item = (purged: PurgeItem['purged'], skipped: string | null): PurgeItem => ({
      case_id: 'c', case_number: 'N', state: 'closed', opened_at: '', closed_on: '2016-01-01', classes: ['case'], purged, skipped,
    });
    expect(batchCounts({ items: [item(['case'], null), item([], 'no longer due'), item(['case', 'voucher'], null)] })).toEqual({ purged: 2, skipped: 1 });
    expect(batchCounts({ items: [] })).toEqual({ purged: 0, skipped: 0 });
  });

  it('says a refusal in the step\'s own words', () => {
    expect(stepErrorKey('approve', 'four-eyes')).toBe('retention.fourEyes');
    expect(stepErrorKey('hold', 'conflict')).toBe('hold.conflict');
    expect(stepErrorKey('lookup', 'forbidden')).toBe('hold.lookupForbidden');
    expect(stepErrorKey('hold', 'forbidden')).toBeNull();
    expect(stepErrorKey('approve', undefined)).toBeNull();
  });
});

describe('the console', () => {
  it('shows an auditor every tab, an administrator only retention and holds', () => {
    expect(tabsFor('auditor')).toEqual(['audit', 'verify', 'reveals', 'holds', 'retention']);
    expect(tabsFor('admin')).toEqual(['retention', 'holds']);
    expect(tabsFor('teller')).toEqual([]);
    expect(tabsFor(undefined)).toEqual([]);
  });

  it('sizes an export in KB', () => {
    expect(kilobytes(0)).toBe(0);
    expect(kilobytes(10)).toBe(1);
    expect(kilobytes(4096)).toBe(4);
  });
});

describe('a hold\'s case by number', () => {
  const cases = [
    { id: 'c1', case_number: 'BJ001-20261207-0001' },
    { id: 'c2', case_number: 'BJ001-20261207-0010' },
  ];

  it('folds width and case, and takes the exact number among the search\'s answers', async () => {
    expect(normalizeCaseNumber(' ｂｊ００１-20261207-0001 ')).toBe('BJ001-20261207-0001');
    const find = vi.fn(async () => cases);
    expect(await resolveCase('bj001-20261207-0010', find)).toEqual({ id: 'c2', number: 'BJ001-20261207-0010' });
    expect(find).toHaveBeenCalledWith('BJ001-20261207-0010');
  });

  it('no exact number is no case; a case id is taken as it is, without a search', async () => {
    const find = vi.fn(async () => cases);
    expect(await resolveCase('BJ001-20261207-0002', find)).toBeNull();
    expect(await resolveCase('   ', find)).toBeNull();
    find.mockClear();
    const id = '0F8FAD5B-D9CB-469F-A165-70867728950E';
    expect(await resolveCase(id, find)).toEqual({ id: id.toLowerCase(), number: id.toLowerCase() });
    expect(find).not.toHaveBeenCalled();
  });
});
