import { describe, expect, it } from 'vitest';
import { zhCN } from './zh-CN';
import { en } from './en';

describe('dictionaries', () => {
  it('zh-CN and en have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(zhCN).sort());
  });

  it('no entry is empty, and placeholders match', () => {
    const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(zhCN) as (keyof typeof zhCN)[]) {
      expect(zhCN[key].trim(), key).not.toBe('');
      expect(en[key].trim(), key).not.toBe('');
      expect(placeholders(en[key]), key).toEqual(placeholders(zhCN[key]));
    }
  });

  it('English has no Chinese characters except the language switch', () => {
    for (const [key, value] of Object.entries(en)) {
      if (key === 'shell.language') continue;
      expect(/[\u4e00-\u9fff]/.test(value), `${key}: ${value}`).toBe(false);
    }
  });
});
