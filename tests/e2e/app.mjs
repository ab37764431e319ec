// Shared fixtures of the e2e specs: the app's own test ids and dictionaries, the CLI over the
// same data directory, sign-in, screenshots, and the app process (for the kill-and-restart spec).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session, sleep, tid, waitUntil } from './webdriver.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const APP = process.env.E2E_APP ?? join(ROOT, 'target/debug/unlockdesk');
export const CLI = process.env.E2E_CLI ?? join(ROOT, 'target/debug/unlockdesk-cli');
export const DATA_DIR = process.env.UNLOCKDESK_DATA_DIR;
export const PASSWORD = 'Demo#Pass2026';
/** `alone` (the embedded store) or `branch` (the app and the CLI through a branch server). */
export const MODE = process.env.E2E_MODE ?? 'alone';
export const BRANCH = MODE === 'branch';

/**
 * Where the app left a printed PDF for the viewer: a decrypted copy in the private `received/`
 * folder, named by case and file (the store's own copy is sealed at rest, or in PostgreSQL).
 */
export function printedFile(doc) {
  return join(DATA_DIR, 'received', `${doc.case_id}-${doc.path.split('/').pop()}`);
}
if (!DATA_DIR) throw new Error('UNLOCKDESK_DATA_DIR is not set: run the specs through scripts/e2e.sh');

/**
 * Loads a `export const X = {...} as const;` module of the UI (TypeScript) as plain JS, so the
 * specs use the very same test ids and words as the screens (Node 20 cannot import .ts).
 */
async function loadTsConst(rel) {
  let src = readFileSync(join(ROOT, rel), 'utf8')
    .replace(/^import type .*$/gm, '')
    .replace(/^export type .*$/gm, '')
    .replace(/\}\s*as const\s*;/g, '};')
    .replace(/\}\s*as const\s*satisfies[^;]*;/g, '};')
    .replace(/\}\s*satisfies[^;]*;/g, '};');
  return import(`data:text/javascript;base64,${Buffer.from(src).toString('base64')}`);
}

export const { T } = await loadTsConst('ui/src/lib/testids.ts');
const { zhCN } = await loadTsConst('ui/src/lib/i18n/zh-CN.ts');
const { en } = await loadTsConst('ui/src/lib/i18n/en.ts');
export const DICT = { 'zh-CN': zhCN, en };

/** Runs the CLI against the run's data directory; returns parsed JSON. */
export function cli(args, { as = null, env = {} } = {}) {
  const argv = ['--json', ...(as ? ['--as', as] : []), ...args];
  const out = execFileSync(CLI, argv, {
    env: { ...process.env, UNLOCKDESK_PASSWORD: PASSWORD, UNLOCKDESK_SUPERVISOR_PASSWORD: PASSWORD, ...env },
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out);
}

/** A case with its history, as the store holds it (masked). */
export const caseShow = (idOrNumber) => cli(['case', 'show', idOrNumber], { as: 'sup01' });

/** A waiting demo appointment not used by another spec (each spec claims its own). */
export function waitingAppointment(index) {
  const appts = cli(['appointments', 'today'], { as: 'tel01' }).filter((a) => a.status === 'waiting' && a.lock_cause !== 'authority-freeze');
  const a = appts[index];
  if (!a) throw new Error(`no waiting appointment #${index} (have ${appts.length})`);
  return a;
}

/** A valid 18-digit resident ID (GB 11643-1999 check character, ISO 7064 MOD 11-2). */
export function residentId(body17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body17].reduce((s, d, i) => s + Number(d) * w[i], 0);
  return body17 + '10X98765432'[sum % 11];
}
/** The same number with a wrong check character. */
export function wrongCheck(id) {
  const good = id.at(-1);
  return id.slice(0, 17) + (good === '1' ? '2' : '1');
}

const SHOTS = process.env.E2E_SCREENSHOTS ? resolve(ROOT, process.env.E2E_SCREENSHOTS) : null;
/** Saves a PNG of the window to docs/screenshots/NAME.png when the run asks for screenshots. */
export async function shot(s, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(SHOTS, `${name}.png`), await s.screenshot(200));
}

/**
 * Starts the app (with `args` on its command line) and waits for the first screen (the branch
 * passphrase, set-up, sign-in or shell); through `driver` (a second tauri-driver, for a second window) if given.
 */
export async function launch(args = [], driver = undefined) {
  const s = await Session.start(APP, 60_000, args, driver);
  try {
    await waitUntil(async () => (await s.exec('return document.readyState')) === 'complete', { timeout: 30_000, message: 'page load' });
    const url = await s.cmd('GET', '/url');
    if (/^https?:\/\/localhost/.test(url)) {
      throw new Error(`${APP} loads the dev server (${url}): it was built without the embedded UI; build it with \`cd ui && npm run app:build\``);
    }
    const first = [T.signinScreen, T.setupScreen, T.appShell, T.storePassphraseScreen, T.storeUnlockScreen]
      .map((id) => tid(id))
      .join(', ');
    // App.svelte's start-up failure: the store did not open.
    const failed = tid(T.bootFailed);
    const which = await waitUntil(
      async () => ((await s.exists(first)) ? 'ok' : (await s.exists(failed)) ? 'failed' : null),
      { timeout: 30_000, message: 'the first screen' },
    );
    if (which === 'failed') throw new Error(`the app could not start: ${await s.text(failed)}\n${appLogErrors()}`);
    return s;
  } catch (e) {
    await s.delete();
    throw e;
  }
}

/** The ERROR lines of the app's log in the run's data directory (why a start failed). */
function appLogErrors() {
  try {
    const dir = join(DATA_DIR, 'logs');
    return readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('')
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .slice(-3)
      .join('\n');
  } catch {
    return '(no app log)';
  }
}

export async function setLocale(s, locale) {
  const cur = await s.exec('return document.documentElement.lang');
  if (cur !== locale) {
    await s.click(tid(T.langSwitch));
    await waitUntil(async () => (await s.exec('return document.documentElement.lang')) === locale, { message: `locale ${locale}` });
  }
}

export async function signIn(s, staffId, password = PASSWORD) {
  await s.type(tid(T.signinStaffId), staffId);
  await s.type(tid(T.signinPassword), password);
  await s.click(tid(T.signinSubmit));
  await s.find(tid(T.appShell), 15_000);
  await s.waitText(tid(T.headerUser), (t) => t.includes(staffId));
}

export async function signOut(s) {
  await s.click(tid(T.signOutButton));
  await s.find(tid(T.signinScreen), 10_000);
}

/** The banner of a refused step: its code and sentence. */
export async function errorBanner(s, timeout = 10_000) {
  const el = await s.findVisible(tid(T.formError), timeout);
  const code = await s.cmd('GET', `/element/${el}/attribute/data-code`);
  const text = await s.cmd('GET', `/element/${el}/text`);
  return { code, text };
}

export async function caseState(s) {
  return s.attr(tid(T.caseState), 'data-state');
}
export async function waitState(s, state, timeout = 15_000) {
  return s.waitAttr(tid(T.caseState), 'data-state', state, timeout);
}

/** Counter: find the appointment by the last 4 of its phone, check in; returns the case number. */
export async function checkInByPhoneTail(s, appt, shotName = null) {
  await s.click(tid(T.navCounter));
  const tail = appt.phone.replace(/\D/g, '').slice(-4);
  await s.type(tid(T.apptQuery), tail);
  await s.click(tid(T.apptSearch));
  const row = tid(T.appointmentRow, `[data-reference="${appt.reference}"]`);
  await s.find(row);
  if (shotName) await shot(s, shotName);
  await s.click(`${row} ${tid(T.apptCheckIn)}`);
  await waitState(s, 'checked-in');
  return s.text(tid(T.caseNumber));
}

/** Counter: open a walk-in case; returns the case number. */
export async function walkIn(s, { name, phone, cause = 'wrong-password' }) {
  await s.click(tid(T.navCounter));
  await s.type(tid(T.walkInName), name);
  await s.type(tid(T.walkInPhone), phone);
  await s.select(tid(T.walkInLockCause), cause);
  await s.click(tid(T.walkInSubmit));
  await s.find(tid(T.caseState));
  return s.text(tid(T.caseNumber));
}

/** The error shown beside the field that holds `css` (Field renders it as role=alert). */
export async function fieldError(s, css) {
  return s.exec(
    `const el = document.querySelector(arguments[0]);
     const f = el && el.parentElement;
     const e = f && f.querySelector('[role=alert]');
     return e ? e.textContent.trim() : null;`,
    [css],
  );
}

/** Sign in (if needed), submit a case up to \`submitted\` from a walk-in; returns the case number. */
export async function makeSubmittedCase(s, { name, phone, idBody, submit = true }) {
  const caseNumber = await walkIn(s, { name, phone });
  await waitState(s, 'checked-in');
  await verifyIdentity(s, residentId(idBody), name);
  await fillForm(s, { phone, idNumber: residentId(idBody) });
  await printAndSign(s);
  if (!submit) return caseNumber;
  await s.click(tid(T.submitCase));
  await waitState(s, 'submitted');
  return caseNumber;
}

/**
 * Identity step with a resident ID and the online citizen-identity check (联网核查), which the
 * demo branch requires: `online` is its result, `ref` its serial number. A failed check stops
 * the case (`refused-identity`); the caller waits for that state.
 */
export async function verifyIdentity(s, idNumber, name, { online = 'match', ref = 'LWHC-20261206-000317' } = {}) {
  await s.select(tid(T.idKind), 'prc-id');
  await s.type(tid(T.idName), name);
  await s.type(tid(T.idNumber), idNumber);
  await s.waitAttr(tid(T.idFeedback), 'data-status', 'valid');
  await s.type(tid(T.idValidUntil), '长期');
  await s.select(tid(T.idOnlineCheck), online);
  await s.type(tid(T.idOnlineRef), ref);
  await s.click(tid(T.idSubmit));
  if (online === 'match') await waitState(s, 'identity-verified');
}

/**
 * Clicks a print button and waits for the shell's print notice: `{ outcome, channel }` of the
 * delivery (the run prints on a real CUPS queue, so `sent` or `completed`).
 */
export async function printVia(s, buttonId) {
  const before = await s.exec(`return document.querySelector(arguments[0])?.dataset.document ?? ''`, [tid(T.printOutcome)]);
  await s.click(tid(buttonId));
  const el = await waitUntil(
    async () => {
      const e = await s.exec(
        `const e = document.querySelector(arguments[0]);
         return e ? { outcome: e.dataset.outcome, channel: e.dataset.channel, document: e.dataset.document ?? '' } : null;`,
        [tid(T.printOutcome)],
      );
      return e && e.document !== before ? e : null;
    },
    { timeout: 20_000, message: `the print notice after ${buttonId}` },
  );
  return el;
}

/** Prints the bank copy of the recorded form (the rule before signing), then confirms the signed paper. */
export async function printAndSign(s) {
  const p = await printVia(s, T.printForm);
  if (p.outcome === 'failed') throw new Error(`printing the form failed: ${await s.text(tid(T.printOutcome))}`);
  await s.waitAttr(tid(T.formPrintStatus), 'data-printed', 'true');
  await s.click(tid(T.confirmSigned));
  await waitState(s, 'form-signed');
}

/** Logs the teller's contact with the wallet operator (needed before the unlock is confirmed). */
export async function logContact(s, ticket, result = '已解锁 unlocked') {
  await s.select(tid(T.contactChannel), 'operator-portal');
  await s.type(tid(T.contactTicket), ticket);
  await s.type(tid(T.contactResult), result);
  await s.click(tid(T.contactAdd));
  await s.waitText(tid(T.contactLog), (t) => t.includes(ticket));
}

/** Fills the application form's required fields and saves it. */
/** The sex an 18-digit resident ID encodes (GB 11643-1999 §5.3: odd sequence code = male). */
export const sexOf = (idNumber) => (Number(idNumber[16]) % 2 === 1 ? 'male' : 'female');

export async function fillForm(s, { phone, idNumber, wallet = '0099123456789012', shotName = null }) {
  const f = (name) => tid(T.formField, `[data-field="${name}"]`);
  await s.find(f('customer_name'));
  // Core refuses a sex on the form other than the one the verified number encodes.
  await s.select(f('sex'), sexOf(idNumber));
  await s.type(f('occupation'), '职员');
  await s.type(f('phone'), phone);
  await s.type(f('address'), '北京市东城区测试路1号');
  // The validity typed at the identity step fills (and locks) the form's: typed here only when open.
  if ((await s.attr(f('id_valid_until'), 'data-locked')) !== 'true') await s.type(f('id_valid_until'), 'long-term');
  await s.type(f('wallet_operator'), '运营机构A');
  await s.type(f('wallet_id'), wallet);
  await s.select(f('wallet_class'), '2');
  await s.select(f('requested_action'), 'unlock');
  for (const el of await s.findAll(tid(T.material))) {
    const checked = await s.cmd('GET', `/element/${el}/property/checked`);
    if (!checked) await s.cmd('POST', `/element/${el}/click`, {});
  }
  for (const d of ['declaration_true', 'consent_query', 'risk_acknowledged']) {
    const el = await s.find(f(d));
    if (!(await s.cmd('GET', `/element/${el}/property/checked`))) await s.cmd('POST', `/element/${el}/click`, {});
  }
  if (shotName) await shot(s, shotName);
  await s.click(tid(T.formSubmit));
  await waitState(s, 'form-recorded');
}

/** The supervisor dialog: own id and password, optional decision and reason. */
export async function authorize(s, staffId, { decision = null, reasonCode = null, reason = '' } = {}) {
  await s.find(tid(T.authDialog));
  await s.type(tid(T.authStaffId), staffId);
  await s.type(tid(T.authPassword), PASSWORD);
  if (decision) {
    await s.click(`${tid(T.authDecision)} input[data-decision="${decision}"]`);
    if (reasonCode) await s.select(tid(T.authReasonCode), reasonCode);
    if (reason) await s.type(tid(T.authReason), reason);
  }
  await s.click(tid(T.authSubmit));
}

/** Opens a case from Today's search (by case number). */
export async function openCaseFromToday(s, caseNumber) {
  await s.click(tid(T.navToday));
  await s.type(tid(T.searchInput), caseNumber);
  await s.click(tid(T.searchSubmit));
  await s.click(`${tid(T.searchResults)} ${tid(T.caseRow, `[data-case-number="${caseNumber}"]`)} td`);
  await s.waitText(tid(T.caseNumber), (t) => t === caseNumber);
}

/** Case view → "work on it at the counter". */
export async function openAtCounter(s, caseNumber) {
  await s.click(tid(T.caseOpen));
  await s.find(tid(T.counterScreen));
  await s.waitText(tid(T.caseNumber), (t) => t === caseNumber);
}

/** Pids of the app binary among the descendants of the driver (the app we launched). */
export function appPids() {
  const root = Number(process.env.E2E_DRIVER_PID);
  if (!root) throw new Error('E2E_DRIVER_PID not set');
  const children = new Map();
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(p));
    } catch {
      // gone
    }
  }
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    for (const c of children.get(p) ?? []) {
      stack.push(c);
      try {
        if (resolve(readlinkSync(`/proc/${c}/exe`)) === resolve(APP)) out.push(c);
      } catch {
        // gone or not ours
      }
    }
  }
  return out;
}

export { Session, sleep, tid, waitUntil };

/** What the specs type into the form: customer data, not labels. */
export const FORM_TEXT = ['职员', '北京市东城区测试路1号', '运营机构A'];

/** Customer and staff data that may show in Chinese whatever the language (names, typed text). */
export function customerData() {
  const names = new Set(FORM_TEXT);
  for (const a of cli(['appointments', 'today'], { as: 'tel01' })) names.add(a.name);
  for (const c of cli(['case', 'list'], { as: 'tel01' })) names.add(c.customer_name);
  for (const st of cli(['staff', 'list'], { as: 'admin' })) names.add(st.name);
  return [...names].filter(Boolean).sort((a, b) => b.length - a.length);
}

/**
 * Visible text (and options, placeholders, aria-labels, titles) that still holds CJK characters
 * once `exclude` (customer data) is taken out. The language switch names itself in its own
 * language (lang="zh-CN"), and the header's branch and user are data: both are skipped.
 */
export async function chineseLabels(s, exclude) {
  return s.exec(
    `const cjk = /[\\u3400-\\u9fff\\uf900-\\ufaff\\u3000-\\u303f\\uff01-\\uff60]/;
     const exclude = arguments[0];
     const skip = arguments[1].map((id) => '[data-testid="' + id + '"]').join(',');
     const strip = (t) => { for (const x of exclude) t = t.split(x).join(''); return t; };
     const visible = (el) => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
     const ignored = (el) => { const z = el.closest('[lang="zh-CN"]'); return (z && z !== document.documentElement) || el.closest(skip) || el.closest('script,style'); };
     const bad = [];
     const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
     for (let n; (n = walker.nextNode()); ) {
       const el = n.parentElement;
       if (!el || ignored(el)) continue;
       const opt = el.closest('option');
       if (!(opt ? visible(opt.closest('select')) : visible(el))) continue;
       const t = strip(n.textContent);
       if (cjk.test(t)) bad.push(t.trim().slice(0, 80));
     }
     for (const el of document.querySelectorAll('[placeholder],[aria-label],[title]')) {
       if (!visible(el) || ignored(el)) continue;
       for (const a of ['placeholder', 'aria-label', 'title']) {
         const v = el.getAttribute(a);
         if (v && cjk.test(strip(v))) bad.push(a + ': ' + v.slice(0, 80));
       }
     }
     return bad;`,
    [exclude, [T.headerBranch, T.headerUser]],
  );
}
