-- Schema version 3: an idempotency key remembers the use case it was used for, so a key sent
-- again with another request (another case or another step) is refused instead of replaying
-- as a silent success. Keys written before version 3 have '' (any step of their case).
ALTER TABLE idempotency ADD COLUMN use_case TEXT NOT NULL DEFAULT '';

-- A case's state changes at almost every step; with `state` in the day index each of those
-- steps also rewrote an index page (written and synced with the step). A branch opens tens of
-- cases a day, so the day alone narrows a list enough; the state filter reads those rows.
DROP INDEX cases_day;
CREATE INDEX cases_day ON cases (opened_day);
