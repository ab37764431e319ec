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

  it('words the console and retention as the bank does: 审计台, 法律保全, 销毁清册, 拟定 / 审批 / 撤回, 业务 (never 案件)', () => {
    expect(zhCN['shell.nav.console']).toBe('审计台');
    expect(zhCN['shell.nav.retention']).toBe('保存与销毁');
    expect(zhCN['console.tab.audit']).toBe('审计日志');
    expect(zhCN['console.tab.verify']).toBe('链校验');
    expect(zhCN['console.verify.run']).toBe('校验审计链');
    expect(zhCN['console.tab.reveals']).toBe('完整号码查看记录');
    expect(zhCN['console.tab.holds']).toBe('法律保全');
    expect(zhCN['hold.set']).toBe('设置法律保全');
    expect(zhCN['hold.release']).toBe('解除法律保全');
    expect(zhCN['console.tab.retention']).toBe('到期销毁');
    expect(zhCN['case.retention']).toBe('保存期限');
    expect(zhCN['register.title']).toBe('销毁清册');
    expect(zhCN['retention.prepare']).toContain('拟定');
    expect(zhCN['retention.approve']).toContain('审批');
    expect(zhCN['retention.withdraw']).toBe('撤回');
    expect(zhCN['case.tombstoneName']).toBe('已销毁（仅存档案摘要）');
    expect(zhCN['retention.intro']).toContain('反洗钱法（2024年修订）第三十四条');
    expect(zhCN['retention.intro']).toContain('会计档案管理办法（2015）');
    expect(zhCN['retention.intro']).toContain('个人信息保护法第四十七条');
    expect(zhCN['admin.retention']).toBe('业务及身份资料保存年限');
  });
});
