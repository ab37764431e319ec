/**
 * One user action (a button press that calls the shell): disabled while pending so a double
 * click never submits twice, with the error and per-field errors of the last failure.
 * What the teller typed lives in the screen's own state and is never cleared by a failure.
 */
import { untrack } from 'svelte';
import { ApiError, toApiError } from './errors';
import type { FieldError } from './bindings/FieldError';
import { connection, currentEpoch, forget, isWaiting, wait, waitForUnlock, type Waiting } from './connection.svelte';

/** Called when a step sent again finds the session ended: the window locks (set by the app). */
let onSessionEnded: () => void = () => {};
export function whenSessionEnds(f: () => void): void {
  onSessionEnded = f;
}

export class Action<A extends unknown[], R> implements Waiting {
  /** True from the press until the outcome, including while waiting for the branch server. */
  pending = $state(false);
  /** Waiting for the branch server (or for the unlock) to send the same call again. */
  waiting = $state(false);
  error = $state<ApiError | null>(null);
  #fn: (...args: A) => Promise<R>;
  #args: A | null = null;
  #resumable: boolean;
  /** The connection's epoch when this run began (see `currentEpoch`). */
  #epoch = 0;

  /**
   * `resumable: false` for what must never be sent again by itself: sign-in, unlock and
   * password changes (their password field is cleared at the press; a resend would count a
   * failed password), and prints (not idempotent: a resend prints another copy).
   */
  constructor(fn: (...args: A) => Promise<R>, opts: { resumable?: boolean } = {}) {
    this.#fn = fn;
    this.#resumable = opts.resumable ?? true;
  }

  get fields(): Record<string, FieldError> {
    return this.error?.fieldMap() ?? {};
  }

  /**
   * Runs the action unless one is already pending; resolves to the result or `undefined`.
   * On a branch terminal a call that finds the server away does not fail: it waits (still
   * pending, the error says why) and is sent again, with the same arguments and so the same
   * idempotency key, when the server answers (see `connection.svelte.ts`).
   */
  async run(...args: A): Promise<R | undefined> {
    // Untracked: a screen that runs an action from an effect (load the case when its id
    // changes) must not depend on `pending`, or the action's own end would run it again, in a
    // loop (it did: hundreds of reads a second of the case on screen).
    if (untrack(() => this.pending)) return undefined;
    this.#args = args;
    this.#epoch = currentEpoch();
    this.pending = true;
    this.waiting = false;
    this.error = null;
    try {
      return this.#succeeded(await this.#fn(...args));
    } catch (e) {
      return this.#failed(e);
    }
  }

  /** Send the waiting call again, with the same arguments (the connection's queue calls this). */
  async resume(): Promise<void> {
    const args = this.#args;
    if (!args || !this.waiting) return;
    if (this.#epoch !== currentEpoch()) {
      // Its teller signed out meanwhile: dropped, never sent as someone else.
      this.#settle();
      return;
    }
    this.waiting = false;
    try {
      this.#succeeded(await this.#fn(...args));
    } catch (e) {
      this.#failed(e);
    }
  }

  #succeeded(r: R): R {
    this.error = null;
    this.pending = false;
    this.#args = null;
    return r;
  }

  #settle(): void {
    this.waiting = false;
    this.pending = false;
    this.#args = null;
  }

  #failed(e: unknown): undefined {
    const err = toApiError(e);
    this.error = err;
    const mayWait = connection.branch && this.#resumable && this.#epoch === currentEpoch();
    if (mayWait && err.code === 'unavailable') {
      this.waiting = true;
      wait(this);
      return undefined;
    }
    if (mayWait && err.code === 'session-locked') {
      // The server ended the session (idle while it was away, or revoked): the window locks
      // and the same step continues once the same person has signed in again.
      this.waiting = true;
      waitForUnlock(this);
      onSessionEnded();
      return undefined;
    }
    this.#settle();
    return undefined;
  }

  /** Clears the error; a waiting call is dropped (the teller chose to do something else). */
  reset(): void {
    this.error = null;
    if (isWaiting(this)) {
      forget(this);
      this.#settle();
    }
  }
}

/** A fresh idempotency key for one attempt of an action (kept across retries of that attempt). */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
