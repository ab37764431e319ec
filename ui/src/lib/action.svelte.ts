/**
 * One user action (a button press that calls the shell): disabled while pending so a double
 * click never submits twice, with the error and per-field errors of the last failure.
 * What the teller typed lives in the screen's own state and is never cleared by a failure.
 */
import { ApiError, toApiError } from './errors';
import type { FieldError } from './bindings/FieldError';

export class Action<A extends unknown[], R> {
  pending = $state(false);
  error = $state<ApiError | null>(null);
  #fn: (...args: A) => Promise<R>;

  constructor(fn: (...args: A) => Promise<R>) {
    this.#fn = fn;
  }

  get fields(): Record<string, FieldError> {
    return this.error?.fieldMap() ?? {};
  }

  /** Runs the action unless one is already pending; resolves to the result or `undefined`. */
  async run(...args: A): Promise<R | undefined> {
    if (this.pending) return undefined;
    this.pending = true;
    this.error = null;
    try {
      return await this.#fn(...args);
    } catch (e) {
      this.error = toApiError(e);
      return undefined;
    } finally {
      this.pending = false;
    }
  }

  reset(): void {
    this.error = null;
  }
}

/** A fresh idempotency key for one attempt of an action (kept across retries of that attempt). */
export function idempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
