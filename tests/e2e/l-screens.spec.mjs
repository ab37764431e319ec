// (l) The remaining screens the README shows, taken from the demo data of the run's store: the
// import report wording each rejection from its rule code in both languages, a closed demo
// case's record with staff named beside their ids, and the locked session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PASSWORD, T, cli, launch, openCaseFromToday, setLocale, shot, signIn, tid, waitUntil } from './app.mjs';

let s;
before(async () => {
  s = await launch();
  await signIn(s, 'tel01');
});
after(async () => {
  await s?.delete();
});

test('the import report words each rejection from its rule code, in either language', async () => {
  const day = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const dir = mkdtempSync(join(tmpdir(), 'ud-import-'));
  const file = join(dir, 'appointments.csv');
  writeFileSync(
    file,
    [
      'reference,name,phone,id_type,id_number,wallet_operator,lock_cause,slot_start,slot_end,notes',
      `APT${day.replaceAll('-', '')}901,梁晓燕,13912345901,prc-id,110105199003071234,数字人民币运营机构A,wrong-password,${day}T15:00,${day}T15:30,`,
      `APT${day.replaceAll('-', '')}902,罗志强,1391234,prc-id,,钱包运营机构B,self-locked,${day}T15:30,${day}T16:00,`,
      `APT${day.replaceAll('-', '')}903,,13912345903,prc-id,,钱包运营机构B,self-locked,${day}T16:00,${day}T15:00,`,
      '',
    ].join('\n'),
  );
  await s.click(tid(T.navImport));
  await s.type(tid(T.importPath), file);
  await s.click(tid(T.importSubmit));
  await s.find(tid(T.importRejections));
  const zh = await s.text(tid(T.importRejections));
  assert.ok(/[\u4e00-\u9fff]/.test(zh), `the reasons are in Chinese: ${zh}`);
  assert.ok(!/\b(is required|must|invalid)\b/i.test(zh), `no English reason on the Chinese screen: ${zh}`);
  await shot(s, 'import');
  await setLocale(s, 'en');
  await waitUntil(async () => !/[\u4e00-\u9fff]{4}/.test(await s.text(tid(T.importRejections))), {
    message: 'the reasons in English',
  });
  await shot(s, 'import-en');
  await setLocale(s, 'zh-CN');
});

test('a closed demo case reads as a record, staff named beside their ids', async () => {
  const cases = cli(['case', 'list'], { as: 'sup01' });
  // The demo's first case of the day is closed; any closed case will do if it is not.
  const closed =
    cases.find((c) => c.state === 'closed' && c.case_number.endsWith('-0001')) ??
    cases.find((c) => c.state === 'closed');
  assert.ok(closed, 'the demo data has a closed case today');
  await openCaseFromToday(s, closed.case_number);
  await s.find(tid(T.history));
  const who = await s.text(tid(T.history));
  assert.match(who, /（tel0\d）|（sup0\d）/, `a name beside an id: ${who.slice(0, 200)}`);
  await shot(s, 'case-history');
});

test('the locked session hides the case and asks for the password again', async () => {
  await s.click(tid(T.lockButton));
  await s.find(tid(T.lockScreen));
  await shot(s, 'lock');
  await s.type(tid(T.lockPassword), PASSWORD);
  await s.click(tid(T.lockSubmit));
  await s.waitGone(tid(T.lockScreen));
});
