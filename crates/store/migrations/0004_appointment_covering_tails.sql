-- Schema version 4: fewer index writes per imported appointment (100,000 rows in
-- at most 5 s into a million-row book). ARCHITECTURE.md, "Appointment lookup".
--
-- The full phone and ID number no longer have their own indexes: the last-4 indexes carry
-- them as a third column, so a full-number lookup is an equality on the tail (about a hundred
-- entries at a million rows) filtered inside the index, still read in slot order without
-- touching the table. Each imported row then writes 8 B-tree entries instead of 10.
DROP INDEX appointments_phone_slot;
DROP INDEX appointments_id_number_slot;
DROP INDEX appointments_phone_tail_slot;
DROP INDEX appointments_id_tail_slot;
CREATE INDEX appointments_phone_tail_slot ON appointments (phone_tail, slot_start, phone);
CREATE INDEX appointments_id_tail_slot ON appointments (id_tail, slot_start, id_number);

-- The store writes a new appointment's name-prefix rows itself, with one prepared statement
-- (crates/store/src/tx.rs, insert_appointment_rows), instead of a trigger program per row.
-- The update and delete triggers stay: they follow any change, however it is made.
DROP TRIGGER appointments_name_prefix_insert;
