/**
 * The appointment import screen's logic: the report core returns, as the screen lists it.
 * Core validates every row; the UI only orders and labels what came back, and words each
 * rejection from its code (the English `reason` is for the CLI and logs).
 */
import { hasKey, t } from './i18n/index.svelte';
import type { ImportReport } from './bindings/ImportReport';
import type { RejectedRow } from './bindings/RejectedRow';

/** The header keys of the call centre's export, in file order (`row` = a malformed record). */
export const IMPORT_FIELDS = [
  'reference', 'name', 'phone', 'id_type', 'id_number', 'wallet_operator', 'lock_cause', 'slot_start', 'slot_end', 'notes', 'row',
] as const;

/** A header key in the screen's language; an unknown key is shown as it came. */
export function fieldLabel(field: string): string {
  const key = `importfield.${field}`;
  return hasKey(key) ? t(key) : field;
}

/** Why a row was refused, in the screen's language: its code's words with the field named. */
export function rejectionText(r: RejectedRow): string {
  return t(`rejection.${r.code}`, { field: fieldLabel(r.field), arg: r.arg ?? '' });
}

/** Rejected rows in file order (row, then the header order of the field). */
export function sortedRejections(rows: readonly RejectedRow[]): RejectedRow[] {
  const pos = (f: string) => {
    const i = (IMPORT_FIELDS as readonly string[]).indexOf(f);
    return i < 0 ? IMPORT_FIELDS.length : i;
  };
  return [...rows].sort((a, b) => a.row - b.row || pos(a.field) - pos(b.field));
}

/** How many distinct data rows were rejected (a row may fail on several fields). */
export function rejectedRowCount(report: ImportReport): number {
  return new Set(report.rejected.map((r) => r.row)).size;
}

/** The outcome tone: every row taken, some rows refused, or nothing taken at all. */
export function importTone(report: ImportReport): 'ok' | 'warn' | 'bad' {
  if (report.rejected.length === 0) return 'ok';
  return report.imported + report.updated + report.unchanged > 0 ? 'warn' : 'bad';
}
