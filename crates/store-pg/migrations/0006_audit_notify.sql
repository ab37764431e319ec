-- Every appended audit event wakes the branch servers that follow the trail (the supervisors'
-- queue and its live events): NOTIFY is delivered at commit, in commit order, and never for a
-- rolled-back transaction. The payload is the event's seq; listeners read the trail from
-- their last seq, so a notification lost with a dropped connection loses nothing.
CREATE OR REPLACE FUNCTION unlockdesk_audit_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('unlockdesk_audit', NEW.seq::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

-- Dropped first: a database migrated again from an older version (the migration tests) keeps it.
DROP TRIGGER IF EXISTS audit_events_notify ON audit_events;
CREATE TRIGGER audit_events_notify
    AFTER INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION unlockdesk_audit_notify();
