-- The past-case browser (issue 17 item 4): cases by a range of opening days, newest first, one
-- page at a time, narrowed by state, teller and wallet operator.
--
-- The day index gains the sort key (opening time, case number): a range of days is then read
-- in the list's own order, newest first, and a page stops the walk after its rows, however
-- long the range; the next page seeks to the last row's key. None of these columns changes
-- after the case is opened, so steps keep their HOT updates.
DROP INDEX cases_day;
CREATE INDEX cases_day_time ON cases (opened_day, opened_at, case_number);

-- The wallet operator as a column: the one on the recorded form, before the form the one the
-- appointment was booked for (a walk-in without a form has none). Its index answers "which
-- operators have cases" (the filter's choices) from the index alone.
ALTER TABLE cases ADD COLUMN wallet_operator text COLLATE "C" NOT NULL DEFAULT '';
UPDATE cases SET wallet_operator = COALESCE(
    data -> 'form' ->> 'wallet_operator',
    (SELECT a.wallet_operator FROM appointments a WHERE a.id = cases.appointment_id),
    '');
CREATE INDEX cases_operator ON cases (wallet_operator);
