/** Live document feedback: core's verdict on a partly typed number, as the screen shows it. */
import * as api from './api';
import type { DocKind } from './bindings/DocKind';
import type { FieldError } from './bindings/FieldError';

export type Feedback = { status: 'incomplete' | 'invalid' | 'valid'; rules: FieldError[] };

const DOC_KINDS: readonly string[] = [
  'prc-id', 'prc-id-15', 'residence-permit', 'hk-macau-permit', 'taiwan-permit', 'foreign-permanent-id',
  'passport-mrz', 'driving-licence', 'bank-card', 'mobile',
];

/** Ask core about `text` of `kind`. Kinds core has no live rule for (e-ID) stay incomplete. */
export async function liveFeedback(kind: string, text: string): Promise<Feedback> {
  if (!DOC_KINDS.includes(kind) || text.trim() === '') return { status: 'incomplete', rules: [] };
  try {
    const s = await api.documentStatus(kind as DocKind, text);
    if (s.status === 'invalid') {
      return { status: 'invalid', rules: s.detail.map((e) => ({ field: e.field ?? 'number', rule: e.rule, message: e.message })) };
    }
    return { status: s.status, rules: [] };
  } catch {
    return { status: 'incomplete', rules: [] };
  }
}
