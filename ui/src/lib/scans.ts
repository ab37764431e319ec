/**
 * The signed paper on screen: which scan of the signed application form is current, which are
 * superseded, which printed bank copy the customer signed, and when a teller may (or must)
 * attach a scan. Core decides; these only pick what to show from the case it sent.
 */
import { t } from './i18n/index.svelte';
import type { AuditEvent } from './bindings/AuditEvent';
import type { Case } from './bindings/Case';
import type { CaseView } from './bindings/CaseView';
import type { FieldError } from './bindings/FieldError';
import type { MessageKey } from './i18n/zh-CN';
import type { PrintRecord } from './bindings/PrintRecord';
import type { SignedScan } from './bindings/SignedScan';

type Scans = Pick<Case, 'signed_scans' | 'form_revision'>;

/**
 * The scan of the current form revision: the latest attached (`signed_scans` is oldest first).
 * An amended form needs a new signature, so a scan of an earlier revision is never current.
 */
export function currentScan(c: Scans): SignedScan | null {
  for (let i = c.signed_scans.length - 1; i >= 0; i--) {
    const s = c.signed_scans[i]!;
    if (s.form_revision === c.form_revision) return s;
  }
  return null;
}

/** Every scan but the current one (an earlier revision's, or replaced by a later one), newest first. */
export function supersededScans(c: Scans): SignedScan[] {
  const current = currentScan(c);
  return c.signed_scans.filter((s) => s !== current).reverse();
}

/**
 * The printed bank copy the customer signed: the latest delivered (`completed`) print of the
 * application form's bank copy of the current revision, as core counts `form_printed`. A
 * print only sent to CUPS, failed or of an earlier revision is not it.
 */
export function bankCopyPrint(c: Pick<Case, 'prints' | 'form_revision'>): PrintRecord | null {
  for (let i = c.prints.length - 1; i >= 0; i--) {
    const p = c.prints[i]!;
    if (p.kind === 'application' && p.copy === 'bank' && p.form_revision === c.form_revision && p.outcome === 'completed') return p;
  }
  return null;
}

/**
 * Core accepts a scan now: the bank copy of the current revision was printed (`form-recorded`
 * with `form_printed`) or the paper is signed; never once submitted (the supervisor decides on
 * the pages they were shown).
 */
export function scanOpen(view: Pick<CaseView, 'form_printed'> & { case: Pick<Case, 'state'> }): boolean {
  const s = view.case.state;
  return (s === 'form-recorded' && view.form_printed) || s === 'form-signed';
}

/** The branch asks for a scan before submitting and the current revision has none yet. */
export function scanMissing(view: { case: Scans & Pick<Case, 'state'> }, required: boolean): boolean {
  const s = view.case.state;
  return required && (s === 'form-recorded' || s === 'form-signed') && currentScan(view.case) === null;
}

/** `PNG`, `JPEG` or `PDF` for a scan's media type (anything else as it is). */
export function mediaLabel(mediaType: string): string {
  switch (mediaType) {
    case 'image/png':
      return 'PNG';
    case 'image/jpeg':
      return 'JPEG';
    case 'application/pdf':
      return 'PDF';
    default:
      return mediaType;
  }
}

/** A file size as people read it: `820 B`, `340 KB`, `2.4 MB` (1 KB = 1,024 bytes, as the 10 MB limit). */
export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The words for a refused scan file beside its path (the rule in this screen's terms). */
export function scanRuleKey(f: FieldError | undefined): MessageKey | null {
  if (!f) return null;
  if (f.field === 'signed_scan' && f.rule === 'required') return 'scan.rule.required';
  switch (f.rule) {
    case 'readable':
      return 'scan.rule.readable';
    case 'required':
      return 'scan.rule.empty';
    case 'max-size':
      return 'scan.rule.maxSize';
    case 'type':
      return 'scan.rule.type';
    default:
      return null;
  }
}

/**
 * What an `attach-signed-scan` audit event attached, from its JSON `detail`:
 * `PDF · 1.2 MB · 第 2 版`. `null` for other events; a detail that is not JSON or lacks a
 * field leaves that part out.
 */
export function scanEventText(e: AuditEvent): string | null {
  if (e.action !== 'attach-signed-scan') return null;
  let d: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(e.detail);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) d = parsed as Record<string, unknown>;
  } catch {
    /* not JSON: the action alone */
  }
  const parts: string[] = [];
  if (typeof d['media_type'] === 'string') parts.push(mediaLabel(d['media_type']));
  if (typeof d['bytes'] === 'number') parts.push(sizeText(d['bytes']));
  if (typeof d['form_revision'] === 'number') parts.push(t('case.revision', { n: d['form_revision'] }));
  return parts.length > 0 ? parts.join(' · ') : null;
}
