/**
 * Errors from the shell arrive as core's `{code, message, fields}`. The UI translates `code`
 * and each field's `rule`; it never parses `message` (one exception: `opensNotThisStore`).
 */
import type { CoreError } from './bindings/CoreError';
import type { ErrorCode } from './bindings/ErrorCode';
import type { FieldError } from './bindings/FieldError';
import { hasKey, t } from './i18n/index.svelte';

export class ApiError extends Error {
  readonly code: ErrorCode | 'unknown';
  readonly fields: FieldError[];

  constructor(code: ErrorCode | 'unknown', message: string, fields: FieldError[] = []) {
    super(message);
    this.code = code;
    this.fields = fields;
  }

  /** Field name → the first failed rule on it. */
  fieldMap(): Record<string, FieldError> {
    const out: Record<string, FieldError> = {};
    for (const f of this.fields) out[f.field] ??= f;
    return out;
  }
}

function isCoreError(e: unknown): e is CoreError {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as CoreError).code === 'string';
}

/** Anything thrown by `invoke` (or by our own code) as an ApiError. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isCoreError(e)) return new ApiError(e.code, e.message, e.fields ?? []);
  return new ApiError('unknown', typeof e === 'string' ? e : String(e));
}

/** The sentence shown for an error code. */
export function errorText(e: ApiError): string {
  const key = `error.${e.code}`;
  return hasKey(key) ? t(key) : t('error.unknown');
}

/** The words shown beside a field for a failed rule. */
export function ruleText(f: FieldError | undefined): string {
  if (!f) return '';
  const key = `rule.${f.rule}`;
  return hasKey(key) ? t(key) : t('rule.unknown');
}

/**
 * A branch passphrase that does not open the encrypted store. The shell has no code of its
 * own for it (`storage`, like a damaged database), so its message is read: the only place the
 * UI does so.
 */
export function opensNotThisStore(e: ApiError | null): boolean {
  return e?.code === 'storage' && e.message.includes('does not open this store');
}
