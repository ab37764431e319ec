/**
 * The admin's view of the branch's identity policy (docs/domain.md §1 step 3): which rows of the
 * default table are enabled. Core decides what suffices and validates the saved table
 * (`IdPolicy::validate`, field `id_policy`); this module only toggles rows.
 */
import type { IdPolicy } from './bindings/IdPolicy';
import type { PolicyRule } from './bindings/PolicyRule';
import defaultRules from './idpolicy.default.json';

/**
 * The rows of core's `IdPolicy::default()` (crates/core/src/identity/policy.rs), in its order:
 * the choices the admin screen offers. The JSON is checked against core by a Rust test
 * (`default_policy_matches_the_admin_screens_list`), so the two cannot drift apart.
 */
export const DEFAULT_RULES: readonly PolicyRule[] = defaultRules as PolicyRule[];

/** The rows to offer: the default rows, then any other row the branch's table holds. */
export function policyChoices(policy: IdPolicy | undefined): PolicyRule[] {
  const ids = new Set(DEFAULT_RULES.map((r) => r.id));
  const extra = (policy?.rules ?? []).filter((r) => !ids.has(r.id));
  return [...DEFAULT_RULES.map((r) => ({ ...r, all_of: [...r.all_of] })), ...extra];
}

export function isEnabled(policy: IdPolicy | undefined, id: string): boolean {
  return !!policy?.rules.some((r) => r.id === id);
}

/**
 * The table with row `id` enabled (added back in the order of the choices, keeping a stored
 * row's own settings) or disabled (removed).
 */
export function toggleRule(policy: IdPolicy | undefined, id: string, on: boolean): IdPolicy {
  const current = policy?.rules ?? [];
  const enabled = new Set(current.map((r) => r.id));
  if (on) enabled.add(id);
  else enabled.delete(id);
  const rules = policyChoices(policy)
    .filter((c) => enabled.has(c.id))
    .map((c) => current.find((r) => r.id === c.id) ?? c);
  return { rules };
}
