/**
 * Live document feedback: core's verdict on a partly typed number, as the identity screen
 * shows it. Core decides (`document_status`); this module only turns its answer into what the
 * screen needs: a status, the failed rules with expected/found check characters, the fields
 * read from a valid number, and the expiry of an expired document with its date.
 */
import * as api from './api';
import { hasKey, t } from './i18n/index.svelte';
import type { DocCheck } from './bindings/DocCheck';
import type { DocKind } from './bindings/DocKind';
import type { LiveStatus } from './bindings/LiveStatus';
import type { RuleError } from './bindings/RuleError';
import type { SecondFactor } from './bindings/SecondFactor';

export type Feedback = {
  /** `expired`: the number follows its standard, but the document expired (`expiry`). */
  status: 'incomplete' | 'invalid' | 'valid' | 'expired';
  rules: RuleError[];
  check?: DocCheck;
};

const DOC_KINDS: readonly string[] = [
  'prc-id', 'prc-id-15', 'residence-permit', 'hk-macau-permit', 'taiwan-permit', 'foreign-permanent-id',
  'passport-mrz', 'driving-licence', 'bank-card', 'mobile',
];

/** The second factors core records with a linked bank card (C3 data itself never reaches the app). */
export const SECOND_FACTORS = [
  'card-pin', 'sms-to-registered-phone', 'face-verification', 'security-questions',
] as const satisfies readonly SecondFactor[];

/** Any document other than the resident ID card needs the supervisor's co-check (双人审核). */
export function needsCocheck(kind: string): boolean {
  return kind !== 'prc-id' && kind !== 'prc-id-15';
}

/** Core's live status as the screen's feedback. */
export function toFeedback(s: LiveStatus): Feedback {
  if (s.status === 'invalid') return { status: 'invalid', rules: s.detail };
  if (s.status === 'valid') {
    return { status: s.detail.fields.expired ? 'expired' : 'valid', rules: [], check: s.detail };
  }
  return { status: 'incomplete', rules: [] };
}

/** Ask core about `text` of `kind`. Kinds core has no live rule for (e-ID) stay incomplete. */
export async function liveFeedback(kind: string, text: string): Promise<Feedback> {
  if (!DOC_KINDS.includes(kind) || text.trim() === '') return { status: 'incomplete', rules: [] };
  try {
    return toFeedback(await api.documentStatus(kind as DocKind, text));
  } catch {
    return { status: 'incomplete', rules: [] };
  }
}

/**
 * One failed rule in words: a check digit names which check (MRZ: document number, birth
 * date, expiry, personal number, composite) and the expected and found characters.
 */
export function describeRule(r: RuleError): string {
  const key = `rule.${r.rule}`;
  const base = hasKey(key) ? t(key) : t('rule.unknown');
  // Core names the date it refused (the date as typed in the number).
  if (r.rule === 'date') return r.found ? t('rule.dateDetail', { date: r.found }) : base;
  if (r.rule !== 'check-digit') return base;
  // MRZ checks are named; a number's single check character (`check-character`) needs no name.
  const which = r.field && r.field !== 'check-character' && hasKey(`mrzcheck.${r.field}`) ? t(`mrzcheck.${r.field}` as 'mrzcheck.composite') : '';
  if (r.expected !== undefined && r.found !== undefined) {
    return t('rule.checkDigitDetail', { which, expected: r.expected, found: r.found });
  }
  return which ? `${which} ${base}` : base;
}


/** Core sends the province as `11 北京市` (code and its GB/T 2260 name): show the code with the
 * name in the current language. */
export function provinceLabel(province: string): string {
  const code = province.slice(0, 2);
  const key = `province.${code}`;
  return hasKey(key) ? `${code} ${t(key as 'province.11')}` : province;
}

/** What a valid number tells (birth date, sex, province, name, expiry; never the number), as label/value pairs. */
export function readFields(check: DocCheck | undefined): { key: string; value: string }[] {
  if (!check) return [];
  const f = check.fields;
  const out: { key: string; value: string }[] = [];
  const name = [f.surname, f.given_names].filter(Boolean).join(' ');
  if (name) out.push({ key: 'idfield.name', value: name });
  if (f.birth_date) out.push({ key: 'idfield.birth', value: f.birth_date });
  if (f.sex) out.push({ key: 'idfield.sex', value: hasKey(`sex.${f.sex}`) ? t(`sex.${f.sex}` as 'sex.male') : f.sex });
  if (f.province) out.push({ key: 'idfield.province', value: provinceLabel(f.province) });
  if (f.issuer) out.push({ key: 'idfield.issuer', value: f.issuer });
  if (f.expiry) out.push({ key: 'idfield.expiry', value: f.expiry });
  return out;
}

const MRZ_LINE2_CHECKS = new Set(['document-number', 'birth-date', 'expiry', 'personal-number', 'composite']);

/**
 * The passport MRZ line (ICAO 9303 TD3) a failed rule is on, so the screen outlines that line:
 * core names the line of a length or character error (`line1`, `line2`); every check digit and
 * date of TD3 is on line 2. `null`: core did not say (both lines stay in question).
 */
export function mrzLine(r: RuleError): 1 | 2 | null {
  if (r.field === 'line1') return 1;
  if (r.field === 'line2') return 2;
  if (r.field && MRZ_LINE2_CHECKS.has(r.field)) return 2;
  if (r.rule === 'date') return 2;
  return null;
}

/** Which MRZ lines to outline for these failed rules. */
export function mrzLinesInError(rules: readonly RuleError[]): { line1: boolean; line2: boolean } {
  const lines = rules.map(mrzLine);
  const unknown = lines.includes(null);
  return { line1: unknown || lines.includes(1), line2: unknown || lines.includes(2) };
}
