/** The materials checklist shown on the form: the three standard items plus the branch's extras. */
import type { Branch } from './bindings/Branch';

/** Mirrors core's `service::required_materials` (see the report: core should send this list). */
export const STANDARD_MATERIALS = ['id-document', 'bank-account', 'wallet-details'] as const;

export function materialsFor(branch: Branch | undefined): string[] {
  return [...STANDARD_MATERIALS, ...(branch?.extra_materials ?? [])];
}
