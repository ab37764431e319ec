// (k) The past-case browser: cases of earlier days by date range, state, teller and wallet
// operator, the ones left open from an earlier day flagged (and a quick filter for them), rows
// that do not wrap at 1280×800 in either language, and a row that opens the case on Enter.
// The earlier days are the demo branch's own: `demo` records them through the real use cases
// at a demo clock set to those days (core/src/demo.rs), so nothing here fakes the screen.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { T, cli, launch, setLocale, shot, signIn, signOut, tid, waitUntil } from './app.mjs';
import { KEY } from './webdriver.mjs';

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

/** The rows on the screen, as the spec checks them. */
const rows = () =>
  s.exec(
    `return [...document.querySelectorAll(arguments[0])].map((tr) => ({
       number: tr.dataset.caseNumber, state: tr.dataset.state, leftOpen: tr.dataset.leftOpen === 'true',
       by: tr.dataset.openedBy, operator: tr.dataset.operator,
       flag: !!tr.querySelector(arguments[1]), text: tr.textContent,
       height: tr.getBoundingClientRect().height,
       lineHeight: parseFloat(getComputedStyle(tr.querySelector('td')).lineHeight) }));`,
    [tid(T.pastRow), tid(T.pastLeftOpenFlag)],
  );

/** Waits until the list shows what a search for `expect` (CLI rows) gives, in that order. */
async function waitRows(expect, what) {
  const want = expect.map((c) => c.case_number);
  let seen = [];
  await waitUntil(
    async () => {
      seen = (await rows()).map((r) => r.number);
      return JSON.stringify(seen) === JSON.stringify(want);
    },
    { message: `${what}: ${want.join(' ')} (seen ${seen.join(' ')})` },
  ).catch((e) => {
    throw new Error(`${e.message}; last seen ${seen.join(' ')}`);
  });
  return rows();
}

const addDays = (day, n) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};

test('past cases: range, flag of cases left open, filters, no wrapped rows, Enter opens', async () => {
  // The screen's first page holds 50 rows: compare with core's first 50.
  const list = (args) => cli(['case', 'list', '--limit', '50', ...args], { as: 'sup01' });
  const today = cli(['case', 'list', '--day', 'today'], { as: 'sup01' })[0]?.opened_day;
  assert.ok(today, 'the demo opened cases today');
  const from = addDays(today, -29);
  const all = list(['--from', from]);
  const earlier = all.filter((c) => c.opened_day < today);
  assert.ok(earlier.length >= 6, `the demo's earlier days: ${earlier.length} cases`);
  const leftOpen = list(['--from', from, '--left-open']);
  assert.ok(leftOpen.length >= 3, 'cases left open from earlier days');
  assert.ok(leftOpen.every((c) => c.opened_day < today && c.open_from_earlier_day));

  await signIn(s, 'sup01');
  await s.click(tid(T.navPast));
  await s.find(tid(T.pastScreen));
  // The first search: the last 30 days, newest first, as core lists them.
  assert.equal(await s.value(tid(T.pastFrom)), from);
  assert.equal(await s.value(tid(T.pastTo)), today);
  let shown = await waitRows(all, 'the last 30 days');
  const flagged = shown.filter((r) => r.flag).map((r) => r.number);
  assert.deepEqual(flagged, leftOpen.map((c) => c.case_number), 'the flag is on exactly the cases core marks');
  assert.ok(shown.every((r) => r.flag === r.leftOpen));
  // Masked as elsewhere: phone 3 + 4, no full 11-digit number on the screen.
  assert.ok(shown.every((r) => !/1\d{10}/.test(r.text)), 'no full phone number');
  for (const locale of ['zh-CN', 'en']) {
    await setLocale(s, locale);
    for (const r of await rows()) {
      assert.ok(r.height < r.lineHeight * 2 + 4, `a row wraps in ${locale}: ${JSON.stringify(r)}`);
    }
    // ... and the table fits: nothing to scroll sideways.
    const fit = await s.exec(`const m = document.querySelector('main'); return [m.scrollWidth, m.clientWidth];`);
    assert.ok(fit[0] <= fit[1], `the table is wider than the window in ${locale}: ${fit}`);
  }
  // The screenshots: the demo's earlier days only (the other specs open their cases today).
  const yesterday = addDays(today, -1);
  await s.type(tid(T.pastTo), yesterday);
  await s.click(tid(T.pastSearch));
  await waitRows(list(['--from', from, '--to', yesterday]), 'up to yesterday');
  for (const locale of ['zh-CN', 'en']) {
    await setLocale(s, locale);
    await shot(s, `past-cases-${locale}`);
  }
  await setLocale(s, 'zh-CN');
  await s.click(tid(T.pastReset));
  await waitRows(all, 'the default range again');

  // The quick filter: only the cases left open from an earlier day.
  await s.click(tid(T.pastLeftOpenOnly));
  await s.waitAttr(tid(T.pastLeftOpenOnly), 'aria-pressed', 'true');
  shown = await waitRows(leftOpen, 'left open from earlier days');
  assert.ok(shown.every((r) => r.flag));
  await shot(s, 'past-cases-left-open');
  await s.click(tid(T.pastLeftOpenOnly));
  await s.waitAttr(tid(T.pastLeftOpenOnly), 'aria-pressed', 'false');

  // A state, a teller, an operator: each narrows as core's query does.
  await s.select(tid(T.pastState), 'returned-for-info');
  shown = await waitRows(list(['--from', from, '--state', 'returned-for-info']), 'returned for information');
  assert.ok(shown.length >= 1 && shown.every((r) => r.state === 'returned-for-info'));
  await s.select(tid(T.pastState), '');
  await s.select(tid(T.pastTeller), 'tel02');
  shown = await waitRows(list(['--from', from, '--teller', 'tel02']), 'tel02\'s cases');
  assert.ok(shown.length >= 1 && shown.every((r) => r.by === 'tel02'));
  assert.ok(shown.every((r) => r.text.includes('柜员二 Teller Two（tel02）')), 'the teller by name beside the id');
  await s.select(tid(T.pastTeller), '');
  const operator = earlier.find((c) => c.wallet_operator)?.wallet_operator;
  assert.ok(operator, 'an earlier case with a wallet operator');
  await s.select(tid(T.pastOperator), operator);
  shown = await waitRows(list(['--from', from, '--operator', operator]), `operator ${operator}`);
  assert.ok(shown.every((r) => r.operator === operator));
  await s.select(tid(T.pastOperator), '');
  await waitRows(all, 'every case again');

  // A range ending before it starts: named beside the date, the list as it was.
  await s.type(tid(T.pastTo), addDays(from, -1));
  await s.click(tid(T.pastSearch));
  await s.waitAttr(tid(T.pastTo), 'aria-invalid', 'true');
  assert.equal(
    await s.exec('return document.querySelector(arguments[0]).parentElement.querySelector("[role=alert]")?.textContent', [tid(T.pastTo)]),
    '截止日期不能早于起始日期',
  );
  await s.click(tid(T.pastReset));
  await s.waitAttr(tid(T.pastTo), 'aria-invalid', 'false');
  await waitRows(all, 'the default range again');

  // Keyboard: Tab to the first case left open, Enter opens its detail.
  const target = leftOpen[0].case_number;
  await s.tabTo(tid(T.pastRow, `[data-case-number="${target}"]`));
  await s.keys(KEY.Enter);
  await s.waitText(tid(T.caseNumber), (t) => t === target);
  // Back to the list: the same search.
  await s.click(tid(T.navPast));
  await waitRows(all, 'the list kept');
  await signOut(s);
});
