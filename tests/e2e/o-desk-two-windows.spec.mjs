// (o) Remote authorization across the branch (远程授权), two app windows on one branch server,
// each its own process and data directory: the supervisor waits on the 待授权 queue; the teller
// submits a case with the scan of the signed form attached; the request appears in the
// supervisor's queue by itself; the supervisor opens it, sees its 授权要素 (the printed bank copy
// and the signed scan as pages), and returns it with a reason; the teller's counter shows the
// return without a refresh, the teller amends, prints, signs, attaches a new scan and submits
// again; the supervisor approves and the teller sees it, again by itself. A supervisor who made
// a case sees it in the queue, greyed, with nothing to press.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  DICT, ROOT, T, launch, setLocale, makeSubmittedCase, printAndSign, shot, signIn, signOut, tid, waitState, waitUntil,
} from './app.mjs';
import { cliAt, specStore, startDriver, startServer, tempDir } from './branch.mjs';

const SCAN = join(ROOT, 'tests/fixtures/signed-scan.png');
const LIVE = 8_000; // what "by itself" may take here: the goal is 1 s; the machine is shared

let teller;
let desk;
let driver;
let server;
after(async () => {
  await teller?.delete();
  await desk?.delete();
  await driver?.stop();
  await server?.stop('SIGTERM');
});

/** The queue's row of `caseNumber` (waits for it to appear, live). */
const row = (caseNumber) => tid(T.authRow, `[data-case-number="${caseNumber}"]`);

async function attachScan(s) {
  await s.type(tid(T.scanPath), SCAN);
  await s.click(tid(T.scanAttach));
  await s.find(tid(T.scanCurrent), 15_000);
}

test('two windows: submitted, returned live, amended, approved live; a maker-supervisor has nothing to press', async () => {
  server = await startServer({ db: specStore() });
  driver = await startDriver();
  teller = await launch(['--data-dir', tempDir('unlockdesk-spec-teller-'), '--server', server.url]);
  desk = await launch(['--data-dir', tempDir('unlockdesk-spec-desk-'), '--server', server.url], driver.url);

  // The supervisor waits on the queue before anything is submitted.
  await signIn(desk, 'sup01');
  await desk.click(tid(T.navAuthorizations));
  await desk.find(tid(T.authScreen));

  await signIn(teller, 'tel01');
  const name = '测试庚';
  const caseNumber = await (async () => {
    // As makeSubmittedCase, with the scan attached before the submit.
    const n = await makeSubmittedCase(teller, { name, phone: '13912340015', idBody: '11010519850505007', submit: false });
    await attachScan(teller);
    await teller.click(tid(T.submitCase));
    await waitState(teller, 'submitted');
    return n;
  })();
  await teller.find(tid(T.waitingAuthorization));

  // Live: the request appears in the supervisor's queue by itself, with its facts.
  await desk.find(row(caseNumber), LIVE);
  assert.equal(await desk.attr(row(caseNumber), 'data-kind'), 'authorize');
  assert.equal(await desk.attr(row(caseNumber), 'data-actionable'), 'true');
  const text = await desk.text(row(caseNumber));
  assert.ok(!text.includes(name), `the customer is masked in the queue: ${text}`);
  assert.ok(text.includes('tel01'), `the maker is named: ${text}`);
  await shot(desk, 'desk-queue');

  // The request: its 授权要素, the bank copy and the signed scan as pages; no decision chosen.
  await desk.click(`${row(caseNumber)} ${tid(T.authOpen)}`);
  await desk.find(tid(T.authRequest));
  await desk.findVisible(tid(T.authScanPage), 20_000);
  await desk.findVisible(tid(T.authBankCopyPage), 20_000);
  for (const d of ['approve', 'return-for-info', 'reject']) {
    const el = await desk.find(tid(T.authDecision, ` input[data-decision="${d}"]`));
    assert.equal(await desk.cmd('GET', `/element/${el}/property/checked`), false, `${d} is not preselected`);
  }
  assert.equal(await desk.cmd('GET', `/element/${await desk.find(tid(T.authConfirm))}/enabled`), false, 'nothing to confirm before a decision');
  await shot(desk, 'desk-request');

  // The teller's case shows who has it open.
  await waitUntil(async () => (await teller.text(tid(T.waitingAuthorization))).includes('sup01'), {
    timeout: LIVE,
    message: 'the teller sees the supervisor has it open',
  });

  // Returned with a reason: the confirm button names the decision.
  await desk.click(tid(T.authDecisionReturn));
  await desk.select(tid(T.authReasonCode), 'form-incomplete');
  await desk.type(tid(T.authReason), '地址缺少门牌号');
  await desk.type(tid(T.authPassword), 'Demo#Pass2026');
  assert.equal((await desk.text(tid(T.authConfirm))).trim(), DICT['zh-CN']['auth.confirm.return-for-info'], 'the button names the decision');
  await desk.click(tid(T.authConfirm));
  await desk.find(tid(T.authScreen), 15_000);

  // The teller sees the return by itself (no refresh), amends, signs again, a new scan.
  await waitState(teller, 'returned-for-info', LIVE);
  await shot(teller, 'desk-teller-returned');
  await teller.type(tid(T.formField, '[data-field="address"]'), '北京市东城区测试路1号3单元502室');
  await teller.click(tid(T.formSubmit));
  await waitState(teller, 'form-recorded');
  await teller.waitAttr(tid(T.formPrintStatus), 'data-printed', 'false');
  await printAndSign(teller);
  await attachScan(teller);
  await teller.click(tid(T.submitCase));
  await waitState(teller, 'submitted');

  // Back in the queue by itself (the supervisor works in English now); approved; the teller
  // sees it by itself.
  await setLocale(desk, 'en');
  await desk.find(row(caseNumber), LIVE);
  await shot(desk, 'desk-queue-en');
  await desk.click(`${row(caseNumber)} ${tid(T.authOpen)}`);
  await desk.find(tid(T.authRequest));
  await desk.findVisible(tid(T.authScanPage), 20_000);
  await shot(desk, 'desk-request-en');
  await desk.click(tid(T.authDecisionApprove));
  await desk.type(tid(T.authPassword), 'Demo#Pass2026');
  await desk.click(tid(T.authConfirm));
  await desk.find(tid(T.authScreen), 15_000);
  await waitState(teller, 'approved', LIVE);

  const stored = cliAt({ server: server.url }, ['case', 'show', caseNumber], { as: 'sup01' }).case;
  assert.equal(stored.authorization.supervisor, 'sup01');
  assert.equal(stored.form_revision, 2);
  assert.deepEqual(stored.signed_scans.map((x) => x.form_revision), [1, 2], 'a scan for each signed revision');

  // A supervisor who made a case: listed in their own queue, greyed, nothing to press.
  await signOut(teller);
  await signIn(teller, 'sup02');
  const own = await makeSubmittedCase(teller, { name: '测试辛', phone: '13912340016', idBody: '11010519860606008' });
  await teller.click(tid(T.navAuthorizations));
  await teller.find(row(own), LIVE);
  assert.equal(await teller.attr(row(own), 'data-actionable'), 'false');
  assert.equal(await teller.exists(`${row(own)} ${tid(T.authOpen)}`), false, 'no button for the maker');
  await shot(teller, 'desk-maker-greyed');
  // sup01's queue has it, actionable.
  await desk.find(row(own), LIVE);
  assert.equal(await desk.attr(row(own), 'data-actionable'), 'true');
});
