// (q) A counter PC with no key file: the store is encrypted under the branch passphrase (网点口令).
// First start: an administrator chooses it (a short one, or two that differ, are refused at
// their field), the store is created encrypted and set-up follows; the file on disk has no
// SQLite header and its key record says "passphrase". Next start: the window asks for the
// passphrase before anything else; a wrong one is refused and changes nothing; the right one
// opens the store and the teller signs in.
//
// Runs in the standalone run (a branch terminal keeps no store of its own).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRANCH, PASSWORD, T, fieldError, launch, shot, signIn, tid, waitUntil } from './app.mjs';
import { startDriver, tempDir } from './branch.mjs';

let s;
let driver;
after(async () => {
  await s?.delete();
  await driver?.stop();
});

const PASSPHRASE = '测试网点 counter 2026';

test('the branch passphrase is set at first start and opens the store at the next', { skip: BRANCH && 'a branch terminal keeps no store' }, async () => {
  // The run's key file and server are not this terminal's.
  driver = await startDriver({ without: ['UNLOCKDESK_KEY_FILE', 'UNLOCKDESK_SERVER', 'UNLOCKDESK_SERVER_FINGERPRINT'] });
  const dataDir = tempDir('unlockdesk-spec-passphrase-');
  s = await launch(['--data-dir', dataDir], driver.url);
  await s.find(tid(T.storePassphraseScreen));
  await shot(s, 'store-passphrase-set');
  // Too short, then two that differ: each refused at its own field, nothing created.
  await s.type(tid(T.storePassphrase), 'short');
  await s.type(tid(T.storePassphrase2), 'short');
  await s.click(tid(T.storePassphraseSubmit));
  await waitUntil(async () => (await fieldError(s, tid(T.storePassphrase))) !== null, { message: 'the too-short error' });
  assert.ok(!existsSync(join(dataDir, 'unlockdesk.db.keys')), 'no store made for a refused passphrase');
  await s.type(tid(T.storePassphrase), PASSPHRASE);
  await s.type(tid(T.storePassphrase2), PASSPHRASE + 'x');
  await s.click(tid(T.storePassphraseSubmit));
  await waitUntil(async () => (await fieldError(s, tid(T.storePassphrase2))) !== null, { message: 'the mismatch error' });
  await s.type(tid(T.storePassphrase2), PASSPHRASE);
  await s.click(tid(T.storePassphraseSubmit));
  // argon2id takes a moment; then the empty store asks for the branch.
  await s.find(tid(T.setupScreen), 30_000);
  const record = JSON.parse(readFileSync(join(dataDir, 'unlockdesk.db.keys'), 'utf8'));
  assert.equal(record.kek, 'passphrase');
  assert.equal(record.kdf.alg, 'argon2id');
  assert.ok(!JSON.stringify(record).includes(PASSPHRASE), 'the passphrase is not kept');
  await s.click(tid(T.loadDemo));
  await s.find(tid(T.signinScreen), 60_000);
  const head = readFileSync(join(dataDir, 'unlockdesk.db')).subarray(0, 16).toString('latin1');
  assert.notEqual(head, 'SQLite format 3\0', 'the store file is encrypted');
  await s.delete();
  s = null;

  // The next start: the passphrase first.
  s = await launch(['--data-dir', dataDir], driver.url);
  await s.find(tid(T.storeUnlockScreen));
  await s.type(tid(T.storeUnlockPassphrase), 'not the passphrase');
  await s.click(tid(T.storeUnlockSubmit));
  await s.findVisible(tid(T.storeUnlockError), 30_000);
  await shot(s, 'store-unlock-wrong');
  assert.equal(await s.exists(tid(T.signinScreen)), false);
  await s.type(tid(T.storeUnlockPassphrase), PASSPHRASE);
  await s.click(tid(T.storeUnlockSubmit));
  await s.find(tid(T.signinScreen), 30_000);
  await signIn(s, 'tel01', PASSWORD);
});
