/**
 * The live side of the supervisors' authorization desk (待授权), one per window:
 *
 * - the queue as core last said it (`authorizationQueue`), read again on every `resync` and
 *   after every event (debounced: a burst of events is one read), and only for a supervisor
 *   (everyone else's queue is empty; a sign-out or a lock clears it);
 * - `now`, ticking every `TICK_MS`, so waiting times move on screen without a read;
 * - per-case subscriptions: a screen showing a case (the counter, the request screen) hears the
 *   events of that case and every `resync`, and re-reads the case itself.
 *
 * The shell's live channel is opened once per page load (`start`, from App.svelte).
 */
import * as api from './api';
import type { LiveMessage } from './api';
import { app } from './app.svelte';
import { toApiError, type ApiError } from './errors';
import { actionableCount } from './queue';
import type { AuthorizationItem } from './bindings/AuthorizationItem';

/** Events closer together than this are read as one. */
export const DEBOUNCE_MS = 50;
/** How often waiting times move (they are shown in whole minutes). */
export const TICK_MS = 20_000;

export type CaseListener = (m: LiveMessage) => void;

/** What the desk needs from outside (the shell, the session, the clock): fakes in tests. */
export type DeskDeps = {
  read: () => Promise<AuthorizationItem[]>;
  follow: (onMessage: (m: LiveMessage) => void) => Promise<unknown>;
  /** The queue is read for the signed-in person (a supervisor, screen not locked). */
  enabled: () => boolean;
  clock?: () => number;
};

/** A sentence for the queue screen (a decision made, a request gone meanwhile). */
/** A one-line notice on the queue; `text` is worded when shown, in the language of that moment. */
export type DeskNotice = { tone: 'ok' | 'warn'; text: () => string };

export class Desk {
  items = $state<AuthorizationItem[]>([]);
  /** The queue has been read for the person signed in now. */
  loaded = $state(false);
  /** The last read's failure (the last queue read stays shown). */
  error = $state<ApiError | null>(null);
  /** The time the waiting minutes are counted to (ms); moves every `TICK_MS` and at each read. */
  now = $state(0);
  notice = $state<DeskNotice | null>(null);
  /** Requests the signed-in person may decide (the nav badge). */
  readonly actionable = $derived(actionableCount(this.items));

  #deps: DeskDeps;
  #clock: () => number;
  #listeners = new Map<string, Set<CaseListener>>();
  #debounce: ReturnType<typeof setTimeout> | null = null;
  #ticker: ReturnType<typeof setInterval> | null = null;
  #started = false;
  /** Bumped by each read and by `clear`: an older answer arriving late is dropped. */
  #generation = 0;

  constructor(deps: DeskDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
    this.now = this.#clock();
  }

  /** Open the live channel (once per page load) and start the clock. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#ticker = setInterval(() => (this.now = this.#clock()), TICK_MS);
    // Without the shell (unit tests, a plain browser) there is no channel: the queue is then
    // read only on demand.
    this.#deps.follow((m) => this.receive(m)).catch(() => {});
  }

  /** Stop the clock and any pending read (tests). */
  stop(): void {
    if (this.#ticker !== null) clearInterval(this.#ticker);
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#ticker = null;
    this.#debounce = null;
    this.#started = false;
  }

  /** One message of the live channel: tell the case's screens, then read the queue again. */
  receive(m: LiveMessage): void {
    const targets =
      m.kind === 'resync' ? [...this.#listeners.values()] : [this.#listeners.get(m.event.case_id) ?? new Set()];
    for (const set of targets) {
      for (const fn of [...set]) {
        try {
          fn(m);
        } catch {
          /* one screen's failure never stops the others hearing it */
        }
      }
    }
    this.schedule();
  }

  /** Read the queue after `DEBOUNCE_MS` of quiet. */
  schedule(): void {
    if (this.#debounce !== null) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = null;
      void this.refresh();
    }, DEBOUNCE_MS);
  }

  /** Read the queue now (or clear it when nobody may see it). */
  async refresh(): Promise<void> {
    const generation = ++this.#generation;
    this.now = this.#clock();
    if (!this.#deps.enabled()) {
      this.#reset();
      return;
    }
    try {
      const items = await this.#deps.read();
      if (generation !== this.#generation) return;
      this.items = items;
      this.loaded = true;
      this.error = null;
      this.now = this.#clock();
    } catch (e) {
      if (generation === this.#generation) this.error = toApiError(e);
    }
  }

  /** Forget the queue (sign-out, lock): the next person reads their own. */
  clear(): void {
    this.#generation += 1;
    this.#reset();
  }

  /**
   * Hear the events of one case (and every resync) while a screen shows it; returns the stop
   * function (an `$effect` cleanup).
   */
  followCase(caseId: string, fn: CaseListener): () => void {
    let set = this.#listeners.get(caseId);
    if (!set) this.#listeners.set(caseId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.#listeners.get(caseId) === set) this.#listeners.delete(caseId);
    };
  }

  #reset(): void {
    this.items = [];
    this.loaded = false;
    this.error = null;
    this.notice = null;
  }
}

/** The window's desk. */
export const desk = new Desk({
  read: api.authorizationQueue,
  follow: api.followAuthorizations,
  enabled: () => app.phase === 'ready' && app.session?.staff.role === 'supervisor',
});
