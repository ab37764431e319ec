// (p) The auditor's console (审计台): the audit trail filtered (staff, action, refused only) and
// exported as CSV (BOM, the right characters), the chain verified, every reveal of a full
// number, a legal hold set and released by case number, the retention report; a closed case
// shows how long it is kept and is read-only; an administrator sees retention and holds only.
// In zh-CN and English, with screenshots.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { T, cli, launch, setLocale, shot, signIn, signOut, tid, waitUntil } from './app.mjs';

let s;
before(async () => {
  s = await launch();
});
after(async () => {
  try {
    await setLocale(s, 'zh-CN');
  } catch {
    // the window may be gone
  }
  await s?.delete();
});

const tab = (name) => s.click(tid(T.consoleTab, `[data-tab="${name}"]`));

/** The rows of `testid` with their data attributes. */
const rows = (testid) =>
  s.exec(
    `return [...document.querySelectorAll(arguments[0])].map((tr) => ({ ...tr.dataset, text: tr.textContent }));`,
    [tid(testid)],
  );

/** Types into a filter field, replacing what is there. */
async function fill(testid, text) {
  await s.exec(
    `const el = document.querySelector(arguments[0]);
     el.value = arguments[1]; el.dispatchEvent(new Event('input', { bubbles: true }));`,
    [tid(testid), text],
  );
}

test('the auditor reads, filters, exports and verifies the trail, and holds a case', async () => {
  // A reveal and a refused attempt to find in the trail, made at the CLI.
  const closed = cli(['case', 'list', '--state', 'closed'], { as: 'sup01' });
  assert.ok(closed.length >= 1, 'the demo has a closed case');
  const today = cli(['case', 'list', '--day', 'today'], { as: 'sup01' });
  const open = today.find((c) => !['closed', 'cancelled', 'rejected', 'refused-authority-freeze', 'refused-identity'].includes(c.state));
  assert.ok(open, 'an open case today');
  cli(['case', 'reveal', '--case', open.case_number, '--field', 'phone', '--reason', '客户要求回电 callback'], { as: 'tel01' });
  assert.throws(() => cli(['retention', 'purge', '--dry-run'], { as: 'tel01' }), 'a teller may not read retention');

  await signIn(s, 'aud01');
  await s.click(tid(T.navConsole));
  await s.find(tid(T.consoleScreen, '[data-role="auditor"]'));
  // The trail, newest first.
  await s.find(tid(T.auditRow));
  let shown = await rows(T.auditRow);
  const seqs = shown.map((r) => Number(r.seq));
  assert.ok(seqs.every((q, i) => i === 0 || seqs[i - 1] > q), 'newest first');
  await shot(s, 'console-audit');

  // By staff and action.
  await fill(T.consoleStaff, 'tel01');
  await fill(T.consoleAction, 'reveal');
  await s.click(tid(T.consoleSearch));
  await waitUntil(async () => {
    shown = await rows(T.auditRow);
    return shown.length > 0 && shown.every((r) => r.staff === 'tel01' && r.action === 'reveal');
  }, { message: 'only tel01 reveals' });
  assert.ok(shown.some((r) => r.caseNumber === open.case_number));
  // Refused only: the teller's refused retention read is there.
  await s.click(tid(T.consoleReset));
  await fill(T.consoleStaff, 'tel01');
  await s.click(tid(T.consoleRefusedOnly));
  await s.click(tid(T.consoleSearch));
  await waitUntil(async () => {
    shown = await rows(T.auditRow);
    return shown.length > 0 && shown.every((r) => r.outcome === 'refused');
  }, { message: 'refused attempts only' });
  await shot(s, 'console-refused');

  // The export: a CSV with a BOM that reads back with the right characters.
  await s.click(tid(T.consoleReset));
  await s.click(tid(T.consoleSearch));
  await s.click(tid(T.auditExport));
  const path = await s.attr(tid(T.auditExportPath), 'data-path');
  const csv = readFileSync(path);
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with BOM');
  const text = csv.subarray(3).toString('utf8');
  assert.ok(text.startsWith('seq,at_utc,staff_id,staff_name,'), text.slice(0, 80));
  assert.ok(text.includes('柜员一 Teller One'), 'Chinese names read back');
  assert.ok(text.includes('客户要求回电 callback'));

  // The chain.
  await tab('verify');
  await s.click(tid(T.verifyRun));
  await s.find(tid(T.verifyResult, '[data-ok="true"]'));
  await shot(s, 'console-verify');

  // Every reveal: who, which case, which field.
  await tab('reveals');
  await waitUntil(async () => (await rows(T.revealsRow)).some((r) => r.caseNumber === open.case_number), { message: 'the reveal is listed' });
  const reveal = (await rows(T.revealsRow)).find((r) => r.caseNumber === open.case_number);
  assert.equal(reveal.staff, 'tel01');
  assert.equal(reveal.field, 'phone');
  await shot(s, 'console-reveals');

  // A legal hold by case number, then released with a reason.
  const held = closed[0].case_number;
  await tab('holds');
  await s.type(tid(T.holdCase), held);
  await s.type(tid(T.holdReason), '客户投诉未结 complaint open');
  await s.click(tid(T.holdSet));
  await s.find(tid(T.holdRow, `[data-case-number="${held}"][data-active="true"]`));
  const holds = cli(['retention', 'holds'], { as: 'aud01' });
  assert.ok(holds.some((h) => h.case_number === held && h.set_by === 'aud01'));
  await shot(s, 'console-holds');

  // Retention: nothing is due in a branch opened this week; the held case is shown as held
  // only when due. The periods are the branch's.
  await tab('retention');
  const report = await s.find(tid(T.retentionReport, '[data-due="0"]'));
  assert.ok(report);
  const prepare = await s.find(tid(T.purgePrepare));
  assert.equal(await s.cmd('GET', `/element/${prepare}/enabled`), false, 'nothing to prepare');
  await shot(s, 'console-retention');

  // The held closed case: how long it is kept, the hold, read-only.
  const c = cli(['case', 'show', held], { as: 'sup01' });
  assert.ok(c.retention?.hold, 'the case view carries its hold');
  await s.click(tid(T.navToday));
  await s.type(tid(T.searchInput), held);
  await s.click(tid(T.searchSubmit));
  await s.click(`${tid(T.searchResults)} ${tid(T.caseRow, `[data-case-number="${held}"]`)} td`);
  await s.find(tid(T.retentionPanel, '[data-held="true"]'));
  await s.find(tid(T.holdBanner, '[data-set-by="aud01"]'));
  await s.find(tid(T.caseReadOnly));
  const classes = await rows(T.retentionClass);
  assert.deepEqual(classes.map((k) => k.class), ['case', 'voucher']);
  assert.ok(classes.every((k) => /^\d{4}-\d{2}-\d{2}$/.test(k.keptUntil)), JSON.stringify(classes));
  await shot(s, 'console-case-retention');

  // Released from the holds tab, with a reason.
  await s.click(tid(T.navConsole));
  await tab('holds');
  await s.click(tid(T.holdRow, `[data-case-number="${held}"]`) + ' ' + tid(T.holdRelease));
  await s.type(`${tid(T.holdReleaseDialog)} ${tid(T.reasonInput)}`, '投诉已办结 settled');
  await s.click(`${tid(T.holdReleaseDialog)} ${tid(T.reasonSubmit)}`);
  await waitUntil(async () => !(await rows(T.holdRow)).some((r) => r.caseNumber === held && r.active === 'true'), { message: 'the hold is released' });
  assert.equal(cli(['retention', 'holds'], { as: 'aud01' }).length, 0);

  // The same screens in English.
  await setLocale(s, 'en');
  await tab('audit');
  await s.find(tid(T.auditRow));
  await shot(s, 'console-audit-en');
  await tab('retention');
  await s.find(tid(T.retentionReport));
  await shot(s, 'console-retention-en');
  await tab('holds');
  await shot(s, 'console-holds-en');
  await setLocale(s, 'zh-CN');
  await signOut(s);
});

test('an administrator sees retention and legal holds, not the trail', async () => {
  await signIn(s, 'admin');
  await s.click(tid(T.navConsole));
  await s.find(tid(T.consoleScreen, '[data-role="admin"]'));
  const tabs = await s.exec(`return [...document.querySelectorAll(arguments[0])].map((b) => b.dataset.tab);`, [tid(T.consoleTab)]);
  assert.deepEqual(tabs.sort(), ['holds', 'retention']);
  await s.find(tid(T.retentionReport));
  await shot(s, 'console-admin');
  await signOut(s);
});
