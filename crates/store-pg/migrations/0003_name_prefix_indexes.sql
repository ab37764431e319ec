-- Name prefixes of 3 and 4 characters get their own expression indexes in slot order, like 1
-- and 2 in 0001: a range on (name, slot_start) finds a 3-character prefix's rows but cannot
-- give them in slot order, so the lookup fetched and sorted every match (p99 3-4 ms at a
-- million appointments, against the 2 ms goal). Most Chinese names have 2-4 characters.
CREATE INDEX appointments_name3_slot ON appointments ((left(name, 3)), slot_start);
CREATE INDEX appointments_name4_slot ON appointments ((left(name, 4)), slot_start);
