/**
 * This terminal's printer (My settings): the CUPS queues the shell found, plus the chosen one
 * when CUPS no longer lists it (so the select never silently shows another value).
 */
import type { PrinterSettings } from './bindings/PrinterSettings';

export type PrinterChoice = { name: string; listed: boolean };

/** The queues to offer, the chosen one first among them if CUPS does not list it. `''` (no printer) is not included. */
export function printerChoices(s: Pick<PrinterSettings, 'printers' | 'selected'>): PrinterChoice[] {
  const out = s.printers.map((name) => ({ name, listed: true }));
  if (s.selected && !s.printers.includes(s.selected)) out.unshift({ name: s.selected, listed: false });
  return out;
}

/** The value sent to the shell: `null` for "no printer (open in the viewer)". */
export function printerToSave(choice: string): string | null {
  return choice.trim() || null;
}
