import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, isEnabled, policyChoices, toggleRule } from './idpolicy';
import { hasKey, setLocale } from './i18n/index.svelte';

const full = () => ({ rules: DEFAULT_RULES.map((r) => ({ ...r, all_of: [...r.all_of] })) });

describe('identity policy rows', () => {
  it('disabling removes the row; enabling puts it back in the default order', () => {
    const off = toggleRule(full(), 'passport', false);
    expect(isEnabled(off, 'passport')).toBe(false);
    expect(off.rules).toHaveLength(DEFAULT_RULES.length - 1);
    const on = toggleRule(off, 'passport', true);
    expect(on.rules.map((r) => r.id)).toEqual(DEFAULT_RULES.map((r) => r.id));
  });

  it('keeps a stored row settings and a branch-specific row', () => {
    const stored = {
      rules: [
        { id: 'resident-id-card', all_of: ['resident-id-card' as const], cocheck: true },
        { id: 'passport-and-licence', all_of: ['passport' as const, 'driving-licence' as const], cocheck: false },
      ],
    };
    expect(policyChoices(stored).map((r) => r.id).at(-1)).toBe('passport-and-licence');
    const next = toggleRule(stored, 'e-id', true);
    expect(next.rules.map((r) => r.id)).toEqual(['resident-id-card', 'e-id', 'passport-and-licence']);
    expect(next.rules[0]?.cocheck).toBe(true);
  });

  it('has words for every default row and evidence kind in both languages', () => {
    for (const lang of ['zh-CN', 'en'] as const) {
      setLocale(lang);
      for (const r of DEFAULT_RULES) {
        expect(hasKey(`policy.rule.${r.id}`)).toBe(true);
        for (const k of r.all_of) expect(hasKey(`evidence.${k}`)).toBe(true);
      }
    }
  });
});
