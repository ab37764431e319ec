// Retention on the case view: a final case is read-only, so its reprint is an exported copy (not
// a print onto the case); each record class says how long it is kept or that it was destroyed;
// a destroyed case shows its tombstone with the personal data gone; a legal hold shows, and an
// auditor sets or releases one with a reason.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import CaseDetail from './CaseDetail.svelte';
import { app } from '../lib/app.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { T } from '../lib/testids';
import { callsOf, q, render as renderComponent, settle, unmountAll } from '../lib/test-dom';
import type { Case } from '../lib/bindings/Case';
import type { CaseView } from '../lib/bindings/CaseView';
import type { LegalHold } from '../lib/bindings/LegalHold';
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

const kase: Case = {
  id: 'c1', case_number: 'BJ001-20261207-0001', state: 'closed', version: 12, appointment_id: null, customer_name: '张三',
  phone: '131****6789', lock_cause: 'wrong-password', opened_by: 'tel01', opened_at: '2026-12-07T01:00:00Z',
  updated_at: '2026-12-07T03:00:00Z', makers: ['tel01'], identity: null, form: null, form_signed_at: null, authorization: null,
  unlock: {
    operator_reference: 'WO-1', notified_via: 'in-person', notified_at: '2026-12-07T02:00:00Z', confirmed_by: 'tel01', authorized_by: 'sup01',
    at: '2026-12-07T02:00:00Z',
  },
  unlock_failures: [], contacts: [], last_reason: '', form_revision: 1, prints: [], receipt_waiver: null, unlock_request: null,
  signed_scans: [], purges: [],
};

const hold: LegalHold = {
  id: 'h1', case_id: 'c1', case_number: kase.case_number, reason: '法院调查函', set_by: 'aud01', set_at: '2026-12-09T02:00:00Z',
  released_by: null, released_at: null, release_reason: null,
};

function view(over: Partial<Omit<CaseView, 'case'>> & { case?: Partial<Case> } = {}): CaseView {
  const { case: c, ...rest } = over;
  return {
    allowed: [], history: [], documents: [], freeze_route: null, required_materials: [], form_document: null, cocheck_needed: false,
    amendment_draft: null, blocked: [], prefill: null, form_printed: true, receipt_printed: true, reprints: 0, online_check_required: true,
    agents_allowed: false, signed_scan_required: false, staff: { tel01: '柜员甲', aud01: '审计甲', adm01: '管理员甲' },
    pending_authorization: null,
    retention: {
      closed_on: '2026-12-07',
      classes: [
        { class: 'case', years: 10, kept_until: '2036-12-07', purged: null },
        { class: 'voucher', years: 30, kept_until: '2056-12-07', purged: null },
      ],
      hold: null,
    },
    ...rest,
    case: { ...kase, ...c },
  };
}

async function render(v: () => CaseView, more: (cmd: string, args: Record<string, unknown>) => unknown = () => undefined): Promise<HTMLElement> {
  invoke.mockImplementation(async (cmd: string, args: Record<string, unknown>) => {
    if (cmd === 'case_view') return v();
    const r = await more(cmd, args);
    if (r !== undefined) return r;
    throw { code: 'invalid', message: `unexpected ${cmd}` };
  });
  return renderComponent(CaseDetail, { caseId: 'c1' });
}
const calls = callsOf(invoke);

beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
  app.session = sessionOf('tel01', 'teller');
});
afterEach(() => {
  unmountAll();
  document.body.innerHTML = '';
  app.session = null;
});

describe('a closed case is read-only while its retention runs', () => {
  it('says so, shows each class kept until a day, and exports the reprint instead of printing it', async () => {
    const root = await render(() => view(), (cmd) =>
      cmd === 'export_document'
        ? {
          absolute_path: '/data/received/c1-receipt-customer-export.pdf', viewer: 'disabled',
          delivery: { channel: 'cups', printer: 'Counter_1', job_id: 'Counter_1-9', outcome: 'sent', message: '' },
        }
        : undefined);
    expect(q(root, T.caseReadOnly)?.textContent).toContain('保存期内只读');
    const panel = q(root, T.retentionPanel)!;
    expect(panel.dataset['closedOn']).toBe('2026-12-07');
    expect(q(root, T.retentionClass, '[data-class="case"]')?.textContent).toContain('保存至 2036-12-07（10 年）');
    expect(q(root, T.retentionClass, '[data-class="voucher"]')?.textContent).toContain('保存至 2056-12-07（30 年）');
    expect(q(root, T.tombstoneBanner)).toBeNull();

    q<HTMLButtonElement>(root, T.reprintReceipt)!.click();
    await settle();
    expect(calls('print_document')).toEqual([]);
    expect(calls('export_document')).toEqual([{ caseId: 'c1', kind: 'receipt', copy: 'customer' }]);
    const notice = q(root, T.printOutcome)!;
    expect(notice.dataset['export']).toBe('true');
    expect(notice.dataset['channel']).toBe('cups');
    expect(notice.dataset['path']).toBe('/data/received/c1-receipt-customer-export.pdf');
    expect(notice.textContent).toContain('Counter_1-9');
    // No print record to wait for: the case is not read again.
    expect(calls('case_view').length).toBe(1);
  });

  it('an open case still prints onto the case, with no read-only note', async () => {
    const root = await render(
      () => view({ case: { state: 'unlocked' }, retention: { closed_on: null, classes: [{ class: 'case', years: 10, kept_until: null, purged: null }], hold: null } }),
      (cmd) =>
        cmd === 'print_document'
          ? {
            record: { id: 'd1', case_id: 'c1', kind: 'receipt', copy: 'customer', path: 'x', sha256: '', bytes: 1, at: '', by: 'tel01' },
            absolute_path: '/x', viewer: 'disabled', delivery: { channel: 'cups', printer: 'Q', job_id: 'Q-1', outcome: 'completed', message: '' },
          }
          : undefined,
    );
    expect(q(root, T.caseReadOnly)).toBeNull();
    expect(q(root, T.retentionClass)?.textContent).toContain('10 年（办结后起算）');
    q<HTMLButtonElement>(root, T.reprintReceipt)!.click();
    await settle();
    expect(calls('print_document')).toEqual([{ caseId: 'c1', kind: 'receipt', copy: 'customer' }]);
    expect(calls('export_document')).toEqual([]);
  });
});

describe('a destroyed case', () => {
  it('shows the tombstone, who prepared and approved its destruction, and renders without its personal data', async () => {
    const mark = { class: 'case' as const, batch_id: 'DR-20361208-a1b2c3', prepared_by: 'adm01', approved_by: 'aud01', at: '2036-12-08T03:00:00Z' };
    const root = await render(() =>
      view({
        case: { customer_name: '', phone: '', identity: null, form: null, purges: [mark] },
        retention: {
          closed_on: '2026-12-07',
          classes: [
            { class: 'case', years: 10, kept_until: '2036-12-07', purged: mark },
            { class: 'voucher', years: 30, kept_until: '2056-12-07', purged: null },
          ],
          hold: null,
        },
      }));
    expect(q(root, T.tombstoneBanner)?.textContent).toContain('仅存档案摘要');
    expect(q(root, T.caseNumber)?.closest('h1')?.textContent).toContain('已销毁（仅存档案摘要）');
    const line = q(root, T.retentionClass, '[data-class="case"]')!;
    expect(line.dataset['purged']).toBe('true');
    expect(line.textContent).toContain('已于 2036-12-08 销毁');
    expect(line.textContent).toContain('DR-20361208-a1b2c3');
    expect(line.textContent).toContain('管理员甲（adm01）');
    expect(line.textContent).toContain('审计甲（aud01）');
    expect(q<HTMLButtonElement>(root, T.reprintReceipt)?.disabled).toBe(true);
    expect(q<HTMLButtonElement>(root, T.reprintForm)?.disabled).toBe(true);
  });
});

describe('legal holds on the case view', () => {
  it('shows an active hold to everyone; only an auditor may set or release one', async () => {
    const root = await render(() => view({ retention: { ...view().retention!, hold } }));
    const banner = q(root, T.holdBanner)!;
    expect(banner.textContent).toContain('法律保全中：法院调查函');
    expect(banner.textContent).toContain('审计甲（aud01）');
    expect(banner.textContent).toContain('2026-12-09 10:00');
    expect(q(root, T.caseHoldRelease)).toBeNull();
    expect(q(root, T.caseHoldSet)).toBeNull();
  });

  it('an auditor sets a hold with a reason; core\'s refusal of the reason shows beside it', async () => {
    app.session = sessionOf('aud01', 'auditor');
    let held = false;
    const root = await render(
      () => view({ retention: { ...view().retention!, hold: held ? hold : null } }),
      (cmd, args) => {
        if (cmd !== 'set_legal_hold') return undefined;
        if (String(args['reason']).length < 4) {
          throw { code: 'invalid', message: 'reason', fields: [{ field: 'reason', rule: 'required', message: '' }] };
        }
        held = true;
        return hold;
      },
    );
    expect(q(root, T.holdBanner)).toBeNull();
    q<HTMLButtonElement>(root, T.caseHoldSet)!.click();
    await settle();
    const dialog = () => document.querySelector(`[data-testid="${T.holdDialog}"]`);
    const input = () => dialog()!.querySelector<HTMLInputElement>(`[data-testid="${T.reasonInput}"]`)!;
    input().value = '短';
    input().dispatchEvent(new Event('input', { bubbles: true }));
    dialog()!.querySelector<HTMLButtonElement>(`[data-testid="${T.reasonSubmit}"]`)!.click();
    await settle();
    expect(dialog()!.textContent).toContain('请填写原因（4 至 500 字）');

    input().value = '法院调查函';
    input().dispatchEvent(new Event('input', { bubbles: true }));
    dialog()!.querySelector<HTMLButtonElement>(`[data-testid="${T.reasonSubmit}"]`)!.click();
    await settle();
    expect(calls('set_legal_hold').at(-1)).toEqual({ caseId: 'c1', reason: '法院调查函' });
    expect(dialog()).toBeNull();
    expect(q(root, T.holdBanner)).not.toBeNull();
    expect(q(root, T.caseHoldRelease)).not.toBeNull();
  });
});
