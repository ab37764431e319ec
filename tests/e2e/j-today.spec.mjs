// (j) Today as one table: a state column, filter chips (all, mine, waiting for authorization,
// each state), and rows that do not wrap at 1280×800 in either language.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { T, launch, setLocale, shot, signIn, signOut, tid, waitUntil } from './app.mjs';

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

const rows = () =>
  s.exec(
    `return [...document.querySelectorAll(arguments[0] + ' ' + arguments[1])].map((tr) => ({
       by: tr.lastElementChild.textContent.trim(),
       state: tr.querySelector('.badge') ? tr.querySelector('.badge').textContent.trim() : '',
       height: tr.getBoundingClientRect().height,
       lineHeight: parseFloat(getComputedStyle(tr.querySelector('td')).lineHeight) }));`,
    [tid(T.todayCases), tid(T.caseRow)],
  );

test('today\'s cases: one table, filter chips, no wrapped rows', async () => {
  await signIn(s, 'tel01');
  await s.find(tid(T.todayScreen));
  await waitUntil(async () => (await rows()).length > 0, { message: 'today\'s case rows (earlier specs opened some)' });
  for (const locale of ['zh-CN', 'en']) {
    await setLocale(s, locale);
    const all = await rows();
    assert.ok(all.every((r) => r.state !== ''), 'a state column');
    // one line per row: the row is no taller than a line of text, its padding and a badge
    for (const r of all) assert.ok(r.height < r.lineHeight * 2 + 4, `a row wraps in ${locale}: ${JSON.stringify(r)}`);
    await shot(s, `today-table-${locale}`);
  }
  await s.click(tid(T.todayFilter, '[data-filter="mine"]'));
  await s.waitAttr(tid(T.todayFilter, '[data-filter="mine"]'), 'aria-pressed', 'true');
  const mine = await rows();
  assert.ok(mine.every((r) => r.by === 'tel01'), `mine: only tel01's cases: ${JSON.stringify(mine)}`);
  await s.click(tid(T.todayFilter, '[data-filter="submitted"]'));
  await s.waitAttr(tid(T.todayFilter, '[data-filter="submitted"]'), 'aria-pressed', 'true');
  await s.click(tid(T.todayFilter, '[data-filter="all"]'));
  await signOut(s);
});
