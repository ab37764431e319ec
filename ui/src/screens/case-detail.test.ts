// The case view's history as a record: staff by name beside their id (from the case view's
// `staff` map), a system actor or an id without an account by its id alone, and the spaces
// between names, roles and marks kept in both languages.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushSync, mount, tick, unmount } from 'svelte';

const invoke = vi.hoisted(() => vi.fn());
vi.mock('@tauri-apps/api/core', () => ({ invoke }));

import CaseDetail from './CaseDetail.svelte';
import { setLocale } from '../lib/i18n/index.svelte';
import { T } from '../lib/testids';
import type { AuditEvent } from '../lib/bindings/AuditEvent';
import type { Case } from '../lib/bindings/Case';
import type { CaseView } from '../lib/bindings/CaseView';

const kase: Case = {
  id: 'c1', case_number: 'BJ001-20261129-0001', state: 'approved', version: 8, appointment_id: null, customer_name: '张三',
  phone: '131****6789', lock_cause: 'wrong-password', opened_by: 'tel01', opened_at: '2026-11-29T01:00:00Z',
  updated_at: '2026-11-29T02:00:00Z', makers: ['tel01'], identity: null, form: null, form_signed_at: null,
  authorization: { decision: 'approve', supervisor: 'sup01', reason_code: null, reason: '', at: '2026-11-29T02:00:00Z' },
  unlock: null, unlock_failures: [], last_reason: '', form_revision: 1, receipt_waiver: null, unlock_request: null, signed_scans: [], purges: [],
  contacts: [{ channel: 'phone', at: '2026-11-29T02:10:00Z', ticket: 'OP-1', result: 'done', by: 'tel01' }],
  prints: [{
    document_id: 'd1', kind: 'application', copy: 'bank', form_revision: 1, reprint: true, channel: 'cups', printer: 'Counter_1',
    job_id: 'Counter_1-7', outcome: 'completed', message: '', by: 'tel01', at: '2026-11-29T01:30:00Z',
  }],
};

function event(seq: number, staff_id: string, action: string, role: AuditEvent['role'], detail = '{}'): AuditEvent {
  return {
    seq, at: '2026-11-29T01:00:00Z', staff_id, role, terminal: 'desk-1', case_id: 'c1', action, from_state: null,
    to_state: null, reason: '', outcome: 'ok', detail, prev_hash: '', hash: `${seq}`,
  };
}

const view: CaseView = {
  case: kase, allowed: [], documents: [], freeze_route: null, required_materials: [], form_document: null,
  cocheck_needed: false, amendment_draft: null, blocked: [], prefill: null, form_printed: true, receipt_printed: false,
  reprints: 1, online_check_required: true, agents_allowed: false, signed_scan_required: false, pending_authorization: null, retention: null,
  history: [
    event(3, 'tel01', 'open-case', 'teller'),
    event(9, 'sup01', 'approve', 'supervisor', '{"operator":"tel01","supervisor":"sup01"}'),
    event(12, 'import', 'appointment-update', null),
    event(14, 'tel01', 'confirm-unlock', 'teller', '{"authorized_by":"sup02"}'),
  ],
  staff: { tel01: '柜员甲', sup01: '主管甲' },
};

let mounted: ReturnType<typeof mount>[] = [];
async function render(): Promise<HTMLElement> {
  invoke.mockImplementation(async (command: string) => {
    if (command === 'case_view') return view;
    throw { code: 'invalid', message: `unexpected ${command}` };
  });
  const target = document.createElement('div');
  document.body.appendChild(target);
  mounted.push(mount(CaseDetail, { target, props: { caseId: 'c1' } }));
  for (let i = 0; i < 5; i++) await tick();
  flushSync();
  return target;
}
const who = (root: HTMLElement) =>
  [...root.querySelectorAll(`[data-testid="${T.historyWho}"]`)].map((e) => (e.textContent ?? '').replace(/\s+/g, ' ').trim());

beforeEach(() => {
  invoke.mockReset();
  setLocale('zh-CN');
});
afterEach(() => {
  for (const m of mounted) void unmount(m);
  mounted = [];
  document.body.innerHTML = '';
});

describe('the history names staff beside their id', () => {
  it('in zh-CN: name（id） · role; a system actor and an id with no account stay bare', async () => {
    const root = await render();
    expect(who(root)).toEqual(['柜员甲（tel01） · 柜员', '主管甲（sup01） · 主管', 'import', '柜员甲（tel01） · 柜员主管 sup02']);
    const auth = [...root.querySelectorAll(`[data-testid="${T.historyAuthorizer}"]`)].map((e) => e.textContent);
    expect(auth).toEqual(['主管 sup02']);
    const text = root.textContent ?? '';
    // The header's facts, the decision, the contact log and the print list name the staff too.
    expect(text).toContain('同意（授权通过） · 主管甲（sup01）');
    expect(text).toContain('重印 · 柜员甲（tel01）');
    expect(text).not.toContain('tel01）·');
  });

  it('in English: Name (id) with a space before the bracket', async () => {
    setLocale('en');
    const root = await render();
    expect(who(root)[0]).toBe('柜员甲 (tel01) · Teller');
    expect(who(root)[1]).toBe('主管甲 (sup01) · Supervisor');
    expect(root.textContent).not.toMatch(/\S\(tel01\)/);
  });
});
