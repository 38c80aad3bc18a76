-- Signing in on another phone with a PIN, and the member's list of signed-in phones.

-- argon2id in PHC form; NULL until the member sets one after activation.
ALTER TABLE people ADD COLUMN pin_hash TEXT;
-- Wrong PINs in a row, and until when PIN sign-in is closed after too many.
ALTER TABLE people ADD COLUMN pin_failures INTEGER NOT NULL DEFAULT 0 CHECK (pin_failures >= 0);
ALTER TABLE people ADD COLUMN pin_locked_until INTEGER;
-- An activation code works once (its hash is cleared on use) and until this time; demo people's codes are
-- marked reusable so that the printed demo sheet keeps working.
ALTER TABLE people ADD COLUMN activation_expires_at INTEGER;
ALTER TABLE people ADD COLUMN activation_reusable INTEGER NOT NULL DEFAULT 0 CHECK (activation_reusable IN (0, 1));

-- A session is one signed-in phone: it gets a public id (the token hash is never shown), what the browser said
-- it is, and when it was last seen (at most hourly, so reads do not become writes).
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER;
-- Sessions from before get an id made from their token hash, which reveals nothing of the token.
UPDATE sessions SET id = lower(
    substr(hex(token_hash), 1, 8) || '-' || substr(hex(token_hash), 9, 4) || '-' || substr(hex(token_hash), 13, 4)
    || '-' || substr(hex(token_hash), 17, 4) || '-' || substr(hex(token_hash), 21, 12)
);
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);
