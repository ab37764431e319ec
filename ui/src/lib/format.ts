/** Display helpers: times in the branch's time zone, kebab-case values through the dictionary. */
import { hasKey, t } from './i18n/index.svelte';

/** `2026-11-29 14:05` in `timeZone` (IANA). Falls back to the raw text for unparsable input. */
export function localTime(iso: string, timeZone: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** A naive local date-time from core (`2026-11-29T09:30:00`) as `09:30`. */
export function slotTime(naive: string): string {
  const m = /T(\d{2}:\d{2})/.exec(naive);
  return m?.[1] ?? naive;
}

/** Translate `prefix.value` when the dictionary has it, else show the value itself. */
export function label(prefix: string, value: string | null | undefined): string {
  if (!value) return '';
  const key = `${prefix}.${value}`;
  return hasKey(key) ? t(key) : value;
}

/** Badge colour of a case state. */
export function stateTone(state: string): '' | 'ok' | 'warn' | 'bad' {
  if (state === 'closed' || state === 'unlocked' || state === 'approved') return 'ok';
  if (state === 'submitted' || state === 'returned-for-info' || state === 'unlock-failed') return 'warn';
  if (state === 'rejected' || state === 'cancelled' || state === 'refused-authority-freeze' || state === 'refused-identity') return 'bad';
  return '';
}
