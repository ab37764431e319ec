// The auditor's console (审计台): an auditor searches the trail with a filter core receives as
// typed (empty fields null), pages on with the cursor, exports and sees the path, verifies the
// chain; an administrator sees only retention and holds, may not approve the batch they
// prepared, and reads a four-eyes refusal in the words of the destruction rule.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import AuditorConsole from './AuditorConsole.svelte';
import { app } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { T } from '../lib/testids';
import { callsOf, click, q, qa, render as renderComponent, type, unmountAll } from '../lib/test-dom';
import type { AuditEvent } from '../lib/bindings/AuditEvent';
import type { AuditFilter } from '../lib/bindings/AuditFilter';
import type { PurgeBatch } from '../lib/bindings/PurgeBatch';
import type { RetentionReport } from '../lib/bindings/RetentionReport';
import type { Role } from '../lib/bindings/Role';
import type { SessionView } from '../lib/bindings/SessionView';

const sessionOf = (id: string, role: Role): SessionView => ({
  staff: { id, name: 'X', role, must_change_password: false, locked: false, disabled: false },
  branch: {
    code: 'BJ001', name: 'Demo', time_zone: 'Asia/Shanghai', idle_lock_minutes: 0, max_failed_logins: 5, extra_materials: [],
    bank_copy_unmasked: false, retention_years: 10, id_policy: { rules: [] }, online_check_required: true, agents_allowed: false,
    signed_scan_required: false, voucher_retention_years: 30,
  },
  locked: false,
});

function ev(seq: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    seq, at: '2026-12-07T01:05:00Z', staff_id: 'tel01', role: 'teller', terminal: 'desk:counter-1', case_id: 'c1', action: 'reveal',
    from_state: null, to_state: null, reason: 'customer asked', outcome: 'ok', detail: '{}', prev_hash: '', hash: `${seq}`, ...over,
  };
}

const batch = (over: Partial<PurgeBatch> = {}): PurgeBatch => ({
  id: 'DR-20361208-a1b2c3', state: 'prepared', as_of: '2036-12-08', prepared_by: 'adm01', prepared_at: '2036-12-08T01:00:00Z',
  approved_by: null, approved_at: null, withdrawn_reason: null, appointments_before: null, appointments: 0,
  items: [{ case_id: 'c1', case_number: 'BJ001-20261207-0001', state: 'closed', opened_at: '2026-12-07T01:00:00Z', closed_on: '2026-12-07', classes: ['case'], purged: [], skipped: null }],
  ...over,
});

const report = (over: Partial<RetentionReport> = {}): RetentionReport => ({
  as_of: '2036-12-08', case_years: 10, voucher_years: 30, pending: null, truncated: false, held: [],
  appointments_due: 0, appointments_before: '2026-12-08',
  due: [{
    case_id: 'c1', case_number: 'BJ001-20261207-0001', state: 'closed', opened_at: '2026-12-07T01:00:00Z', closed_on: '2026-12-07',
    classes: [{ class: 'case', kept_until: '2036-12-07', removes: ['personal-data', 'appointment'] }], hold: null,
  }],
  ...over,
});

const render = () => renderComponent(AuditorConsole, {});
const calls = callsOf(invoke);

beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
  app.phase = 'ready';
  app.route = { name: 'console' };
});
afterEach(() => {
  unmountAll();
  document.body.innerHTML = '';
});

describe('the audit trail (auditor)', () => {
  beforeEach(() => {
    app.session = sessionOf('aud01', 'auditor');
  });

  it('searches with the typed filter, pages on with the cursor, exports and shows the path', async () => {
    invoke.mockImplementation(async (cmd: string, args: { filter: AuditFilter }) => {
      if (cmd === 'search_audit') {
        if (args.filter.limit === 1) return { events: [], case_numbers: {}, staff: { tel01: '柜员甲', aud01: '审计甲' }, next: null };
        if (args.filter.before === null) {
          return { events: [ev(12), ev(11, { outcome: 'refused', action: 'refused-step' })], case_numbers: { c1: 'BJ001-20261207-0001' }, staff: { tel01: '柜员甲' }, next: 11 };
        }
        return { events: [ev(10, { case_id: null })], case_numbers: {}, staff: {}, next: null };
      }
      if (cmd === 'export_audit_csv') return { path: '/data/exports/audit-20261207T010500Z.csv', bytes: 2048 };
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render();
    expect(qa(root, T.consoleTab).map((b) => b.dataset['tab'])).toEqual(['audit', 'verify', 'reveals', 'holds', 'retention']);
    expect(q(root, T.consoleTab, '[aria-selected="true"]')?.dataset['tab']).toBe('audit');

    // The first page of everything, newest first.
    const rows = qa(root, T.auditRow);
    expect(rows.map((r) => r.dataset['seq'])).toEqual(['12', '11']);
    expect(rows[0]?.textContent).toContain('柜员甲（tel01）');
    expect(rows[0]?.textContent).toContain('2026-12-07 09:05');
    expect(rows[0]?.textContent).toContain('BJ001-20261207-0001');
    expect(rows[1]?.dataset['outcome']).toBe('refused');

    type(q<HTMLInputElement>(root, T.consoleFrom)!, '2026/12/1');
    type(q<HTMLInputElement>(root, T.consoleStaff)!, ' tel01 ');
    type(q<HTMLInputElement>(root, T.consoleAction)!, 'Reveal');
    await click(q(root, T.consoleSearch));
    const sent = calls('search_audit').at(-1)!['filter'];
    expect(sent).toEqual({
      from: '2026-12-01', to: null, staff_id: 'tel01', case: null, action: 'reveal', refused_only: false, before: null, limit: 100,
    });
    expect(q<HTMLInputElement>(root, T.consoleFrom)!.value).toBe('2026-12-01');

    await click(q(root, T.consoleMore));
    expect(calls('search_audit').at(-1)!['filter']).toEqual({ ...(sent as AuditFilter), before: 11 });
    expect(qa(root, T.auditRow).map((r) => r.dataset['seq'])).toEqual(['12', '11', '10']);
    expect(q(root, T.consoleMore)).toBeNull();

    await click(q(root, T.auditExport));
    expect(calls('export_audit_csv').at(-1)!['filter']).toEqual(sent);
    expect(q(root, T.auditExportPath)?.dataset['path']).toBe('/data/exports/audit-20261207T010500Z.csv');
    expect(root.textContent).toContain('已导出 2 KB');
  });

  it('shows a date it cannot read beside its field without asking core, and core\'s refusal beside the case', async () => {
    invoke.mockImplementation(async (cmd: string, args: { filter: AuditFilter }) => {
      if (cmd === 'search_audit' && args.filter.case) {
        throw { code: 'invalid', message: 'no case', fields: [{ field: 'case', rule: 'not-found', message: '' }] };
      }
      if (cmd === 'search_audit') return { events: [], case_numbers: {}, staff: {}, next: null };
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render();
    const before = calls('search_audit').length;
    type(q<HTMLInputElement>(root, T.consoleTo)!, '2026-13-01');
    await click(q(root, T.consoleSearch));
    expect(calls('search_audit').length).toBe(before);
    expect(q(root, T.consoleTo)?.getAttribute('aria-invalid')).toBe('true');

    type(q<HTMLInputElement>(root, T.consoleTo)!, '');
    type(q<HTMLInputElement>(root, T.consoleCase)!, 'BJ001-20261207-0099');
    await click(q(root, T.consoleSearch));
    expect(q(root, T.consoleCase)?.getAttribute('aria-invalid')).toBe('true');
    expect(root.querySelector('#audit-case-err')?.textContent).toBe('未找到');
  });

  it('verifies the chain: intact, or the first broken link with both hashes', async () => {
    let ok = true;
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'search_audit') return { events: [], case_numbers: {}, staff: {}, next: null };
      if (cmd === 'verify_audit') {
        return ok
          ? { ok: true, events: 4821, broken_at: null, expected: null, found: null, problem: null }
          : { ok: false, events: 4821, broken_at: 1204, expected: 'aa11', found: 'bb22', problem: 'hash mismatch' };
      }
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render();
    await click(q(root, T.consoleTab, '[data-tab="verify"]'));
    await click(q(root, T.verifyRun));
    expect(q(root, T.verifyResult)?.dataset['ok']).toBe('true');
    expect(q(root, T.verifyResult)?.textContent).toContain('完好：4821 条事件');
    ok = false;
    await click(q(root, T.verifyRun));
    const r = q(root, T.verifyResult)!;
    expect(r.dataset['brokenAt']).toBe('1204');
    expect(r.textContent).toContain('第 1204 条事件');
    expect(r.textContent).toContain('aa11');
    expect(r.textContent).toContain('bb22');
  });

  it('lists the reveals with the field in words and the same filters', async () => {
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'search_audit') return { events: [], case_numbers: {}, staff: {}, next: null };
      if (cmd === 'audit_reveals') {
        return {
          reveals: [{
            seq: 40, at: '2026-12-07T02:00:00Z', staff_id: 'sup01', staff_name: '主管甲', role: 'supervisor', terminal: 'desk',
            case_id: 'c1', case_number: 'BJ001-20261207-0001', field: 'id-number', reason: '核对证件',
          }],
          next: null,
        };
      }
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render();
    await click(q(root, T.consoleTab, '[data-tab="reveals"]'));
    expect(q(root, T.consoleAction)).toBeNull();
    const row = q(root, T.revealsRow)!;
    expect(row.textContent).toContain('主管甲（sup01）');
    expect(row.textContent).toContain('证件号码');
    expect(row.textContent).toContain('核对证件');
    expect(calls('audit_reveals')[0]!['filter']).toMatchObject({ action: null, refused_only: false, before: null });
  });
});

describe('retention (administrator)', () => {
  beforeEach(() => {
    app.session = sessionOf('adm01', 'admin');
  });

  function serve(r: RetentionReport, batches: PurgeBatch[] = []) {
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'list_staff') return [{ id: 'adm01', name: '管理员甲', role: 'admin', must_change_password: false, locked: false, disabled: false }];
      if (cmd === 'retention_report') return r;
      if (cmd === 'purge_batches') return batches;
      if (cmd === 'prepare_purge') return batch();
      if (cmd === 'approve_purge') throw { code: 'four-eyes', message: 'the other role approves' };
      if (cmd === 'legal_holds') return [];
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
  }

  it('sees only retention and holds; the due cases with what a purge removes; prepares a batch', async () => {
    serve(report());
    const root = await render();
    expect(qa(root, T.consoleTab).map((b) => b.dataset['tab'])).toEqual(['retention', 'holds']);
    expect(calls('search_audit')).toEqual([]);
    const row = q(root, T.retentionDueRow)!;
    expect(row.dataset['caseNumber']).toBe('BJ001-20261207-0001');
    expect(row.textContent).toContain('保存至 2036-12-07');
    expect(row.textContent).toContain('客户个人信息、预约记录');
    expect(root.textContent).toContain('反洗钱法（2024年修订）第三十四条');
    await click(q(root, T.purgePrepare));
    expect(calls('prepare_purge').length).toBe(1);
    expect(q(root, T.purgeNotice)?.textContent).toContain('DR-20361208-a1b2c3');
  });

  it('may not approve the batch it prepared; nothing due, nothing to prepare', async () => {
    serve(report({ due: [], pending: batch() }));
    const root = await render();
    expect(q(root, T.purgePending)?.dataset['preparedBy']).toBe('adm01');
    expect(q<HTMLButtonElement>(root, T.purgeApprove)?.disabled).toBe(true);
    expect(root.textContent).toContain('您是本批次的拟定人');
    expect(q(root, T.purgePrepare)).toBeNull();

    serve(report({ due: [] }));
    unmountAll();
    const again = await render();
    expect(q<HTMLButtonElement>(again, T.purgePrepare)?.disabled).toBe(true);
  });

  it('counts the appointments nobody came to: due alone, they can be prepared', async () => {
    serve(report({ due: [], appointments_due: 3, appointments_before: '2026-12-08' }));
    const root = await render();
    expect(q(root, T.retentionAppointments)?.dataset['count']).toBe('3');
    expect(q(root, T.retentionAppointments)?.textContent).toContain('2026-12-08');
    expect(q<HTMLButtonElement>(root, T.purgePrepare)?.disabled).toBe(false);
  });

  it('reads a four-eyes refusal of the approval in the destruction rule\'s words', async () => {
    serve(report({ pending: batch({ prepared_by: 'aud02' }) }));
    const root = await render();
    await click(q(root, T.purgeApprove));
    await click(document.querySelector<HTMLElement>(`[data-testid="${T.purgeApproveConfirm}"]`));
    expect(calls('approve_purge')[0]).toEqual({ batchId: 'DR-20361208-a1b2c3' });
    const err = document.querySelector(`[data-testid="${T.purgeApproveDialog}"] [data-testid="${T.formError}"]`);
    expect(err?.textContent).toContain('管理员拟定的由审计员审批');
  });

  it('lists the register with its counts and items', async () => {
    const done = batch({
      state: 'approved', approved_by: 'aud01', approved_at: '2036-12-08T03:00:00Z',
      items: [
        { ...batch().items[0]!, purged: ['case'] },
        { ...batch().items[0]!, case_id: 'c2', case_number: 'BJ001-20261207-0002', skipped: 'a legal hold was set after the batch was prepared' },
      ],
    });
    serve(report({ due: [] }), [done]);
    const root = await render();
    const row = q(root, T.registerRow)!;
    expect(row.dataset['state']).toBe('approved');
    expect(row.dataset['purged']).toBe('1');
    expect(row.dataset['skipped']).toBe('1');
    expect(row.textContent).toContain('管理员甲（adm01）');
    await click(q(root, T.registerToggle));
    const items = qa(root, T.registerItem);
    expect(items.map((i) => i.dataset['caseNumber'])).toEqual(['BJ001-20261207-0001', 'BJ001-20261207-0002']);
    expect(items[1]?.textContent).toContain('拟定后被设置了法律保全');
  });

  it('sets a hold by case number; an administrator cannot look cases up and is told where to set it', async () => {
    serve(report());
    invoke.mockImplementation(async (cmd: string) => {
      if (cmd === 'list_staff') return [];
      if (cmd === 'legal_holds') return [];
      if (cmd === 'find_cases') throw { code: 'forbidden', message: 'admin' };
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render();
    await click(q(root, T.consoleTab, '[data-tab="holds"]'));
    type(q<HTMLInputElement>(root, T.holdCase)!, 'BJ001-20261207-0001');
    type(q<HTMLInputElement>(root, T.holdReason)!, '法院调查函');
    await click(q(root, T.holdSet));
    expect(q(root, T.formError)?.textContent).toContain('管理员无权查询业务');
    expect(calls('set_legal_hold')).toEqual([]);
  });
});

describe('legal holds (auditor)', () => {
  beforeEach(() => {
    app.session = sessionOf('aud01', 'auditor');
  });

  it('sets a hold on the case the number names, and releases one with a reason', async () => {
    let holds = [
      {
        id: 'h1', case_id: 'c9', case_number: 'BJ001-20261201-0003', reason: '投诉未结', set_by: 'aud01', set_at: '2026-12-05T01:00:00Z',
        released_by: null, released_at: null, release_reason: null,
      },
    ];
    invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
      if (cmd === 'search_audit') return { events: [], case_numbers: {}, staff: { aud01: '审计甲' }, next: null };
      if (cmd === 'legal_holds') return holds;
      if (cmd === 'find_cases') return [{ id: 'c1', case_number: 'BJ001-20261207-0001' }];
      if (cmd === 'set_legal_hold') return { ...holds[0], id: 'h2', case_id: args['caseId'], case_number: 'BJ001-20261207-0001' };
      if (cmd === 'release_legal_hold') {
        holds = [];
        return { id: 'h1', case_id: 'c9', case_number: 'BJ001-20261201-0003' };
      }
      throw { code: 'invalid', message: `unexpected ${cmd}` };
    });
    const root = await render();
    await click(q(root, T.consoleTab, '[data-tab="holds"]'));
    expect(q(root, T.holdRow)?.textContent).toContain('审计甲（aud01）');

    type(q<HTMLInputElement>(root, T.holdCase)!, 'bj001-20261207-0001');
    type(q<HTMLInputElement>(root, T.holdReason)!, '法院调查函 2026-17');
    await click(q(root, T.holdSet));
    expect(calls('find_cases')[0]).toEqual({ query: 'BJ001-20261207-0001' });
    expect(calls('set_legal_hold')[0]).toEqual({ caseId: 'c1', reason: '法院调查函 2026-17' });
    expect(q(root, T.holdNotice)?.textContent).toContain('BJ001-20261207-0001');

    await click(q(root, T.holdRelease));
    const dialog = document.querySelector(`[data-testid="${T.holdReleaseDialog}"]`)!;
    type(dialog.querySelector<HTMLInputElement>(`[data-testid="${T.reasonInput}"]`)!, '投诉已处理完毕');
    await click(dialog.querySelector<HTMLElement>(`[data-testid="${T.reasonSubmit}"]`));
    expect(calls('release_legal_hold')[0]).toEqual({ caseId: 'c9', reason: '投诉已处理完毕' });
    expect(document.querySelector(`[data-testid="${T.holdReleaseDialog}"]`)).toBeNull();
    expect(q(root, T.holdRow)).toBeNull();
  });
});
