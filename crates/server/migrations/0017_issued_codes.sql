-- The check-in codes this server signed, by the SHA-256 of their payload (keys.rs `issued`): a code pushed back
-- byte for byte as it was issued needs no signature check, the costliest step of a push. A code missing here
-- (signed before this table, or by another instance) is checked with its signature as before.
CREATE TABLE issued_codes (digest BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID;
