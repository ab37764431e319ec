// (r) The wallet operator's connector in the real window, against the operator simulator
// (unlockdesk-operator-sim): an approved case at the counter offers "request unlock from the
// operator" above the manual path; the teller checks the wallet's status (locked, wrong
// password), asks for the unlock, and the case is unlocked with the operator's reference; the
// customer's SMS is queued with the step and shows as sent once the outbox worker (the app's
// own alone, the server's in the branch run) delivered it. The simulator's ledger counts one
// unlock and one message.
//
// Alone: the app on a store of the spec's own with UNLOCKDESK_OPERATOR_URL. Branch: a server of
// the spec's own on the run's PostgreSQL with the connector, and the app through it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { BRANCH, ROOT, T, launch, openAtCounter, openCaseFromToday, shot, signIn, tid, waitState, waitUntil } from './app.mjs';
import { cliAt, specStore, startDriver, startServer, startSim, tempDir } from './branch.mjs';

let s;
let driver;
let server;
let sim;
after(async () => {
  await s?.delete();
  await driver?.stop();
  await server?.stop('SIGTERM');
  await sim?.stop();
});

const ID = '11010519491231002X';
const WALLET = '0099123456789012';

/** A case approved by sup01 (walk-in, identity, form, print, signed, submitted), via the CLI. */
function approvedCase(where, env) {
  const as = (who, args) => cliAt(where, args, { as: who, env });
  const v = as('tel01', ['case', 'open', '--name', '测试甲', '--phone', '13123456789', '--lock-cause', 'wrong-password']);
  const id = v.case.id;
  as('tel01', ['case', 'verify-identity', '--case', id, '--kind', 'prc-id', '--valid-until', 'long-term', '--number', ID,
    '--online-check', 'match', '--online-ref', 'LWHC-0001', '--name-on-document', '测试甲']);
  as('tel01', ['case', 'record-form', '--case', id, '--form', join(ROOT, 'tests/fixtures/form.json')]);
  as('tel01', ['form', 'print', '--case', id, '--form', 'application', '--copy', 'bank', '--out', join(tempDir('unlockdesk-spec-print-'), 'form.pdf')]);
  as('tel01', ['case', 'confirm-signed', '--case', id]);
  as('tel01', ['case', 'submit', '--case', id]);
  const done = as('sup01', ['case', 'approve', '--case', id]);
  assert.equal(done.case.state, 'approved');
  return done.case.case_number;
}

test('an approved case is unlocked through the operator simulator and its SMS is sent', async () => {
  sim = await startSim();
  let where;
  let cliEnv = {};
  let dataDir;
  let driverEnv;
  if (BRANCH) {
    server = await startServer({ db: process.env.E2E_DATABASE_URL, tls: true, env: { UNLOCKDESK_OPERATOR_URL: sim.url } });
    where = { server: server.url };
    cliEnv = { UNLOCKDESK_SERVER_FINGERPRINT: server.fingerprint };
    dataDir = tempDir('unlockdesk-spec-operator-terminal-');
    driverEnv = { UNLOCKDESK_SERVER: server.url, UNLOCKDESK_SERVER_FINGERPRINT: server.fingerprint };
  } else {
    const db = specStore();
    where = { db };
    dataDir = dirname(db);
    driverEnv = { UNLOCKDESK_OPERATOR_URL: sim.url };
  }
  const number = approvedCase(where, cliEnv);

  driver = await startDriver({ env: driverEnv, without: BRANCH ? [] : ['UNLOCKDESK_SERVER', 'UNLOCKDESK_SERVER_FINGERPRINT'] });
  s = await launch(['--data-dir', dataDir], driver.url);
  await signIn(s, 'tel01');
  await openCaseFromToday(s, number);
  await openAtCounter(s, number);
  await s.find(tid(T.operatorUnlockPanel));
  await s.find(tid(T.manualPath));

  // The wallet's status first (seed: confirm the wallet really is locked).
  await s.click(tid(T.walletStatusCheck));
  await s.find(tid(T.walletStatusResult), 15_000).catch(async (e) => {
    throw new Error(`${e.message}; the panel reads: ${await s.text(tid(T.walletStatusPanel))}`);
  });
  const panel = await s.text(tid(T.walletStatusPanel));
  assert.match(panel, /0099\*+9012/, `the wallet id is shown masked: ${panel}`);
  assert.ok(!(await s.text('body')).includes(WALLET), 'the full wallet id is nowhere on the screen');
  await shot(s, 'operator-wallet-status');

  await s.click(tid(T.operatorUnlockRequest));
  await waitState(s, 'unlocked', 20_000);
  await s.find(tid(T.operatorUnlocked));
  const shown = cliAt(where, ['case', 'show', number], { as: 'sup01', env: cliEnv });
  assert.equal(shown.case.operator_unlock.status, 'confirmed');
  assert.match(shown.case.unlock.operator_reference, /^SIM-UNL-/);
  assert.equal(shown.case.unlock.authorized_by, 'sup01', 'the approval was the four-eyes control');

  // The SMS: queued with the step, sent by the outbox worker; the screen re-reads it.
  await waitUntil(async () => (await s.exists(`${tid(T.notificationRow)}[data-status="sent"]`)) || null, {
    timeout: 30_000,
    message: 'the SMS shown as sent',
  });
  await shot(s, 'operator-unlocked');
  const ledger = await sim.ledger();
  assert.deepEqual(ledger.unlocks, { [WALLET]: 1 });
  assert.equal(Object.keys(ledger.messages).length, 1);
  const notes = cliAt(where, ['notifications', 'list', '--case', number], { as: 'tel01', env: cliEnv });
  assert.equal(notes.length, 1);
  assert.equal(notes[0].status, 'sent');
  assert.equal(ledger.messages[notes[0].id], 1);
});
