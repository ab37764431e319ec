-- Schema version 8: field-level encryption of the C2 values (fields.rs; the embedded store
-- encrypts the whole file instead). The branch's data key is kept here wrapped by the key
-- file's key, never in clear; only the schema owner writes it (migrate.rs grants). An
-- appointment's phone and ID number columns then hold keyed lookup hashes, and the values
-- themselves sit sealed in `sealed` (NULL: a row of a store without a key).

CREATE TABLE key_record (
    id     integer PRIMARY KEY CHECK (id = 1),
    record jsonb NOT NULL                   -- KeyRecord as JSON: wrapped data key(s)
);

ALTER TABLE appointments ADD COLUMN sealed text;
