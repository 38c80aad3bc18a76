-- The keys of secretaries' phones that sign rotating door codes offline (QR.md; core's `qr::door`). A key
-- belongs to one signed-in phone (session) and one organisation; its certificate is renewed while the phone
-- syncs. Signing the phone out revokes it: codes it makes from then on are refused.
CREATE TABLE door_keys (
    id              TEXT PRIMARY KEY NOT NULL,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    person_id       TEXT NOT NULL REFERENCES people (id),
    session_id      TEXT NOT NULL,
    -- base64url of the 32-byte Ed25519 public key
    public_key      TEXT NOT NULL UNIQUE,
    -- Unix seconds
    certified_until INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
) STRICT;
CREATE INDEX door_keys_by_session ON door_keys (session_id);

-- A door code scanned after its minute is flagged as such (core's `CheckInFlag::StaleCode`). SQLite cannot change
-- a column's CHECK: the flag moves to a new column with the new list, as in 0008.
ALTER TABLE check_ins RENAME COLUMN flag TO flag_before;
ALTER TABLE check_ins ADD COLUMN flag TEXT CHECK (flag IN ('outside_window', 'clock_skew', 'stale_code'));
UPDATE check_ins SET flag = flag_before;
ALTER TABLE check_ins DROP COLUMN flag_before;

-- How each attendance was recorded (core's `attendance::How`): the member's own scan, the secretary scanning the
-- member's card, or entered by hand with a reason; `recorded_by` is the secretary for the last two.
ALTER TABLE check_ins ADD COLUMN how TEXT NOT NULL DEFAULT 'own_scan' CHECK (how IN ('own_scan', 'card', 'by_hand'));
ALTER TABLE check_ins ADD COLUMN recorded_by TEXT REFERENCES people (id);
ALTER TABLE check_ins ADD COLUMN reason TEXT;

-- Who an activity is for (a branch assembly is for the organisation's own members only), the volunteer hours it
-- credits each attendee (tenths of an hour; a secretary may adjust one attendee's in `check_ins`), and its
-- minutes (会议记录), written by the secretary.
ALTER TABLE activities ADD COLUMN open_to_visitors INTEGER NOT NULL DEFAULT 1 CHECK (open_to_visitors IN (0, 1));
ALTER TABLE activities ADD COLUMN hours_tenths INTEGER CHECK (hours_tenths BETWEEN 0 AND 1000);
ALTER TABLE activities ADD COLUMN minutes TEXT;
ALTER TABLE check_ins ADD COLUMN hours_tenths INTEGER CHECK (hours_tenths BETWEEN 0 AND 1000);
