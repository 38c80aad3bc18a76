-- Guihai's first schema. Ids are UUID text, times are Unix milliseconds, enums are their wire names.
-- Deliberately absent: national ID numbers. A person is known by name, phone and certificate number only.

CREATE TABLE organisations (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN
                       ('county', 'township', 'mobile_committee', 'general_branch', 'branch', 'contact_point')),
    parent_id      TEXT REFERENCES organisations (id),
    city           TEXT,
    address        TEXT,
    contact        TEXT,
    -- Host-side organisations only: the home county whose members they look after.
    home_county_id TEXT REFERENCES organisations (id)
) STRICT;

CREATE TABLE people (
    id                   TEXT PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL,
    phone                TEXT,
    home_org_id          TEXT NOT NULL REFERENCES organisations (id),
    current_org_id       TEXT REFERENCES organisations (id),
    certificate_no       TEXT UNIQUE,
    -- sha256 of the normalised activation code; the code itself is never stored.
    activation_code_hash BLOB UNIQUE
) STRICT;

-- Roles beyond plain membership (which every person with a home organisation has).
CREATE TABLE roles (
    person_id TEXT NOT NULL REFERENCES people (id),
    role      TEXT NOT NULL CHECK (role IN ('secretary', 'township_admin', 'county_admin')),
    org_id    TEXT NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (person_id, role, org_id)
) STRICT;

CREATE TABLE activities (
    id        TEXT PRIMARY KEY NOT NULL,
    org_id    TEXT NOT NULL REFERENCES organisations (id),
    title     TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('organisation_life', 'study', 'volunteer', 'training', 'other')),
    starts_at INTEGER NOT NULL,
    ends_at   INTEGER NOT NULL CHECK (ends_at > starts_at),
    place     TEXT
) STRICT;
CREATE INDEX activities_by_org ON activities (org_id, starts_at);

-- The server's Ed25519 keys for signing codes. Several may be trusted at once (rotation); phones get the
-- public halves through the change log (audience `all`).
CREATE TABLE signing_keys (
    key_id     INTEGER PRIMARY KEY CHECK (key_id BETWEEN 1 AND 65535),
    secret_key BLOB NOT NULL CHECK (length(secret_key) = 32),
    public_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

-- One installation of the app. A client id belongs to the first person who uses it; `last_seq` is the
-- highest push sequence number settled for it, kept in the same transaction as the writes it covers.
CREATE TABLE clients (
    client_id  TEXT PRIMARY KEY NOT NULL,
    person_id  TEXT NOT NULL REFERENCES people (id),
    last_seq   INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    -- sha256 of the bearer token; the token itself is never stored.
    token_hash BLOB PRIMARY KEY NOT NULL,
    person_id  TEXT NOT NULL REFERENCES people (id),
    client_id  TEXT NOT NULL REFERENCES clients (client_id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
CREATE INDEX sessions_by_person ON sessions (person_id);

-- Check-ins are facts: `id` was made on the phone, `scanned_at` is the phone's clock (display only),
-- `received_at` and (`client_id`, `seq`) are the server's truth. A doubtful device time is flagged, not dropped.
CREATE TABLE check_ins (
    id          TEXT PRIMARY KEY NOT NULL,
    person_id   TEXT NOT NULL REFERENCES people (id),
    activity_id TEXT NOT NULL REFERENCES activities (id),
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    scanned_at  INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    seq         INTEGER NOT NULL,
    flag        TEXT CHECK (flag IN ('outside_window', 'clock_skew')),
    -- Scanning the same activity twice is one check-in.
    UNIQUE (person_id, activity_id)
) STRICT;
CREATE INDEX check_ins_by_activity ON check_ins (activity_id);

-- Mutations that can never succeed, kept with their reason (they still advanced `last_seq`).
CREATE TABLE rejected_mutations (
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    args        TEXT NOT NULL,   -- JSON, as the phone sent it
    occurred_at INTEGER NOT NULL,
    reason      TEXT NOT NULL,   -- JSON: core's `Rejection`
    received_at INTEGER NOT NULL,
    PRIMARY KEY (client_id, seq)
) STRICT;

-- The change log behind pull. Touching a record deletes its rows and inserts new ones in the same
-- transaction, so each (record, audience) appears once, at its newest `seq`. AUTOINCREMENT (not a plain rowid)
-- so that a seq is never reused after the newest row was deleted by a touch. Audiences: `member:<person id>`,
-- `org:<org id>` (what an organisation publishes to its members) and `all`.
CREATE TABLE changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    key      TEXT NOT NULL,
    audience TEXT NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    UNIQUE (key, audience)
) STRICT;
CREATE INDEX changes_by_audience ON changes (audience, seq);
