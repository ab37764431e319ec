/**
 * The case history as the case view lists it: who acted and, for steps a supervisor
 * authorized on the teller's terminal, which supervisor (core records it in the event's
 * structured `detail`, not in its message).
 */
import { hasKey, t } from './i18n/index.svelte';
import type { AuditEvent } from './bindings/AuditEvent';

/** The supervisor who authorized this event (approve / return / reject / unlock), if any. */
export function authorizerOf(e: AuditEvent): string | null {
  try {
    const d: unknown = JSON.parse(e.detail);
    if (d && typeof d === 'object') {
      const rec = d as Record<string, unknown>;
      const who = rec['supervisor'] ?? rec['authorized_by'] ?? rec['cochecked_by'];
      if (typeof who === 'string' && who !== '' && who !== e.staff_id) return who;
    }
  } catch {
    /* not JSON: nothing to show */
  }
  return null;
}

/** A reason `code: text` with its code in words (`form-incomplete: …` → `申请表不完整：…`). */
export function reasonText(reason: string): string {
  const m = /^([a-z]+(?:-[a-z]+)*): ?(.*)$/s.exec(reason);
  if (!m) return reason;
  const key = `reason.${m[1]}`;
  return hasKey(key) ? t('history.reason', { code: t(key), text: m[2] ?? '' }) : reason;
}
