-- Schema version 3: an idempotency key remembers the use case it was used for, so a key sent
-- again with another request (another case or another step) is refused instead of replaying
-- as a silent success. Keys written before version 3 have '' (any step of their case).
ALTER TABLE idempotency ADD COLUMN use_case TEXT NOT NULL DEFAULT '';
