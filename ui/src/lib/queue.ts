/**
 * The supervisors' queue (待授权) as the screens show it: how long a request has waited, the
 * kind filter, how many requests this person may decide (the nav badge), and why a request is
 * not theirs to decide, in words. Core decides what waits and for whom (`actionable`); this
 * module only shapes it. Pure: the live store is `desk.svelte.ts`.
 */
import { t, type MessageKey } from './i18n/index.svelte';
import type { LiveMessage } from './api';
import type { AuthorizationItem } from './bindings/AuthorizationItem';
import type { AuthorizationKind } from './bindings/AuthorizationKind';

/** The kinds in the filter's order. */
export const AUTH_KINDS: readonly AuthorizationKind[] = ['authorize', 'co-check', 'confirm-unlock'];
export type KindFilter = 'all' | AuthorizationKind;

/** Whole minutes since `since` (RFC 3339) at `now` (ms); 0 for a future or unreadable time. */
export function waitingMinutes(since: string, now: number): number {
  const start = Date.parse(since);
  if (Number.isNaN(start) || now <= start) return 0;
  return Math.floor((now - start) / 60_000);
}

/** The dictionary key and parameters of a waiting time: under a minute, minutes, hours. */
export function waitParts(minutes: number): { key: MessageKey; params: Record<string, number | string> } {
  if (minutes < 1) return { key: 'desk.wait.underMinute', params: {} };
  if (minutes < 60) return { key: 'desk.wait.minutes', params: { n: minutes } };
  return { key: 'desk.wait.hours', params: { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, '0') } };
}

/** A waiting time in words (`5 min`, `5 分钟`). */
export function waitingLabel(minutes: number): string {
  const { key, params } = waitParts(minutes);
  return t(key, params);
}

/** A request waiting this long is shown as late (minutes). */
export const LATE_MINUTES = 10;

/** The requests of one kind (or all), in the queue's order (oldest first, as core sends it). */
export function filterByKind(items: readonly AuthorizationItem[], filter: KindFilter): AuthorizationItem[] {
  return filter === 'all' ? [...items] : items.filter((i) => i.kind === filter);
}

/** How many requests the signed-in person may decide (the nav badge). */
export function actionableCount(items: readonly AuthorizationItem[]): number {
  return items.reduce((n, i) => n + (i.actionable ? 1 : 0), 0);
}

/** How many requests per kind (the filter chips), `all` included. */
export function countByKind(items: readonly AuthorizationItem[]): Record<KindFilter, number> {
  const out: Record<KindFilter, number> = { all: items.length, authorize: 0, 'co-check': 0, 'confirm-unlock': 0 };
  for (const i of items) out[i.kind] += 1;
  return out;
}

/**
 * Why `me` may not decide a request, as a dictionary key (core's `not_actionable` is an English
 * sentence for logs and the CLI; screens say it in words from the same facts). `null` when the
 * request is actionable, or when the reason is none of the known ones (then core's sentence).
 */
export function notActionableKey(item: AuthorizationItem, me: string | undefined, role: string | undefined): MessageKey | null {
  if (item.actionable) return null;
  if (role !== 'supervisor') return 'desk.not.role';
  if (me && item.makers.includes(me)) return 'desk.not.maker';
  if (me && item.kind === 'confirm-unlock' && item.requested_by === me) return 'desk.not.asker';
  return null;
}

/** A live message concerns the case `caseId` (a resync concerns every case shown). */
export function concerns(m: LiveMessage, caseId: string): boolean {
  return m.kind === 'resync' || m.event.case_id === caseId;
}

/** The request on the case left the queue: a supervisor decided it, or it was withdrawn. */
export function ended(m: LiveMessage): boolean {
  return m.kind === 'event' && (m.event.event === 'decided' || m.event.event === 'withdrawn');
}
