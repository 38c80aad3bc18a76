-- The signing keys' secrets leave the database: a copy of the database (a backup) must not be able to forge
-- codes. keys.rs keeps each secret in a file of the key directory, readable by the server's user only; the
-- database keeps the public halves, which every phone gets anyway.
--
-- The secrets wait in `signing_key_secrets_to_move` until the server's next start has written each to its file
-- (keys.rs `move_secrets`), which then deletes them. `secure_delete` zeroes the pages this migration frees.
PRAGMA secure_delete = ON;

CREATE TABLE signing_key_secrets_to_move (
    key_id     INTEGER PRIMARY KEY NOT NULL,
    secret_key BLOB NOT NULL CHECK (length(secret_key) = 32)
) STRICT;
INSERT INTO signing_key_secrets_to_move (key_id, secret_key) SELECT key_id, secret_key FROM signing_keys;

CREATE TABLE signing_keys_public (
    key_id     INTEGER PRIMARY KEY CHECK (key_id BETWEEN 1 AND 65535),
    public_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
INSERT INTO signing_keys_public (key_id, public_key, created_at, revoked_at)
    SELECT key_id, public_key, created_at, revoked_at FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_public RENAME TO signing_keys;
