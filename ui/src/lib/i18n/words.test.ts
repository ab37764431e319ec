// Words of the trade (issue 17; ../shared/domain.md §8): what a teller of a Chinese bank reads.
import { describe, expect, it } from 'vitest';
import { zhCN } from './zh-CN';
import { en } from './en';

const values = Object.entries(zhCN) as [string, string][];

describe('zh-CN words of the trade', () => {
  it('has no 案件 (a criminal case), no 签到 for customers, no 我的账户, no 服务商', () => {
    for (const word of ['案件', '签到', '我的账户', '服务商']) {
      expect(values.filter(([, v]) => v.includes(word)).map(([k]) => k), word).toEqual([]);
    }
  });

  it('says 锁屏 for the screen lock (锁定 is the wallet\'s)', () => {
    expect(zhCN['shell.lock']).toBe('锁屏');
    expect(zhCN['lock.title']).toContain('锁屏');
    expect(zhCN['admin.idle']).toContain('锁屏');
  });

  it('words the decision 授权意见: 同意（授权通过）/ 退回补正 / 拒绝授权; 现场授权 at this terminal', () => {
    expect(zhCN['auth.decision']).toBe('授权意见');
    expect(zhCN['decision.approve']).toBe('同意（授权通过）');
    expect(zhCN['decision.return-for-info']).toBe('退回补正');
    expect(zhCN['decision.reject']).toBe('拒绝授权');
    expect(zhCN['review.authorize']).toBe('现场授权');
    expect(zhCN['error.four-eyes']).toContain('授权人不得授权本人经办的业务');
    expect(zhCN['error.four-eyes']).toContain('经办与授权分离');
  });

  it('words the supervisors\' desk 待授权 / 授权要素, and names the decision on its button', () => {
    expect(zhCN['shell.nav.authorizations']).toBe('待授权');
    expect(zhCN['desk.title']).toBe('待授权');
    expect(zhCN['desk.facts']).toBe('授权要素');
    expect(zhCN['auth.confirm.approve']).toBe('同意');
    expect(zhCN['auth.confirm.return-for-info']).toBe('退回补正');
    expect(zhCN['auth.confirm.reject']).toBe('拒绝授权');
    expect(zhCN['desk.not.maker']).toContain('经办与授权分离');
    expect(zhCN['desk.cocheckWhy']).toContain('双人审核');
  });

  it('names the wallet class in words, never a bare digit', () => {
    expect(['1', '2', '3', '4'].map((c) => zhCN[`walletclass.${c}` as keyof typeof zhCN])).toEqual(['一类钱包', '二类钱包', '三类钱包', '四类钱包']);
    expect(en['walletclass.2']).toBe('Class 2 wallet');
  });

  it('words the past-case dates as 受理 (开立 is an account\'s), the disabled mark in full-width brackets', () => {
    expect(zhCN['past.from']).toBe('受理日期（起）');
    expect(zhCN['past.to']).toBe('受理日期（止）');
    expect(zhCN['past.leftOpenHint']).not.toContain('未不予受理');
    expect(zhCN['past.tellerOptionDisabled']).toContain('（已停用）');
  });

  it('calls the operator 钱包运营机构 and long-term 长期', () => {
    expect(zhCN['form.wallet_operator']).toBe('钱包运营机构');
    expect(zhCN['form.longTerm']).toBe('长期');
  });
});
