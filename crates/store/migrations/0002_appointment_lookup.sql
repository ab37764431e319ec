-- Schema version 2: appointment lookup at a million rows (ARCHITECTURE.md
-- "Appointment lookup"). Released migrations are never edited.
--
-- Every lookup key gets a B-tree index (key, slot_start): an equality on the key then walks
-- the index in slot order, so "today's first, then the most recent" reads at most a few dozen
-- index entries instead of sorting every match. slot_start (YYYY-MM-DDTHH:MM) sorts as
-- (slot_day, time), so it serves both "today" (a range) and "most recent" (reverse order).
DROP INDEX appointments_phone;
DROP INDEX appointments_phone_tail;
DROP INDEX appointments_id_number;
DROP INDEX appointments_id_tail;
DROP INDEX appointments_name;
CREATE INDEX appointments_phone_slot ON appointments (phone, slot_start);
CREATE INDEX appointments_phone_tail_slot ON appointments (phone_tail, slot_start);
CREATE INDEX appointments_id_number_slot ON appointments (id_number, slot_start);
CREATE INDEX appointments_id_tail_slot ON appointments (id_tail, slot_start);
CREATE INDEX appointments_name_slot ON appointments (name, slot_start);

-- Name prefixes of 1 and 2 characters (surname; surname + first given character, or a
-- two-character full name), so a short prefix such as 王 (hundreds of thousands of rows at a
-- million) is also an equality walked in slot order. Longer prefixes use appointments_name_slot
-- (few candidates). `appt` is the appointment's rowid: the reader re-checks the name on the
-- row it fetches, so a stale entry (e.g. after a VACUUM renumbered rowids) is never shown.
CREATE TABLE appointment_name_prefix (
    prefix     TEXT NOT NULL,
    slot_start TEXT NOT NULL,
    appt       INTEGER NOT NULL,
    PRIMARY KEY (prefix, slot_start, appt)
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt)
    SELECT substr(name, 1, 1), slot_start, rowid FROM appointments WHERE length(name) >= 1;
INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt)
    SELECT substr(name, 1, 2), slot_start, rowid FROM appointments WHERE length(name) >= 2;

CREATE TRIGGER appointments_name_prefix_insert AFTER INSERT ON appointments
BEGIN
    INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt)
        SELECT substr(NEW.name, 1, 1), NEW.slot_start, NEW.rowid WHERE length(NEW.name) >= 1;
    INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt)
        SELECT substr(NEW.name, 1, 2), NEW.slot_start, NEW.rowid WHERE length(NEW.name) >= 2;
END;

CREATE TRIGGER appointments_name_prefix_delete AFTER DELETE ON appointments
BEGIN
    DELETE FROM appointment_name_prefix
        WHERE prefix IN (substr(OLD.name, 1, 1), substr(OLD.name, 1, 2)) AND slot_start = OLD.slot_start AND appt = OLD.rowid;
END;

CREATE TRIGGER appointments_name_prefix_update AFTER UPDATE OF name, slot_start ON appointments
WHEN OLD.name IS NOT NEW.name OR OLD.slot_start IS NOT NEW.slot_start
BEGIN
    DELETE FROM appointment_name_prefix
        WHERE prefix IN (substr(OLD.name, 1, 1), substr(OLD.name, 1, 2)) AND slot_start = OLD.slot_start AND appt = OLD.rowid;
    INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt)
        SELECT substr(NEW.name, 1, 1), NEW.slot_start, NEW.rowid WHERE length(NEW.name) >= 1;
    INSERT OR IGNORE INTO appointment_name_prefix (prefix, slot_start, appt)
        SELECT substr(NEW.name, 1, 2), NEW.slot_start, NEW.rowid WHERE length(NEW.name) >= 2;
END;
