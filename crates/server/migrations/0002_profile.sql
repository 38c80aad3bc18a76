-- The member's own profile (core's `profile`): one row per field, with the profile version and the phone that
-- last changed it, so edits from several phones merge field by field; and the conflicts waiting for the member.
-- The phone number moves here from `people`: the member keeps it up to date, not the organisation.

ALTER TABLE people ADD COLUMN profile_version INTEGER NOT NULL DEFAULT 0 CHECK (profile_version >= 0);

CREATE TABLE profile_fields (
    person_id  TEXT NOT NULL REFERENCES people (id),
    field      TEXT NOT NULL CHECK (field IN
                   ('phone', 'city', 'address', 'employer', 'job', 'skills', 'emergency_contact')),
    value      TEXT NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 0),
    -- The client that changed it last; NULL for the organisation (a roster import).
    changed_by TEXT REFERENCES clients (client_id),
    PRIMARY KEY (person_id, field)
) STRICT;

CREATE TABLE profile_conflicts (
    person_id TEXT NOT NULL REFERENCES people (id),
    field     TEXT NOT NULL,
    kept      TEXT NOT NULL,
    theirs    TEXT NOT NULL,
    version   INTEGER NOT NULL,
    PRIMARY KEY (person_id, field)
) STRICT;

INSERT INTO profile_fields (person_id, field, value, version)
    SELECT id, 'phone', phone, 0 FROM people WHERE phone IS NOT NULL AND phone <> '';
ALTER TABLE people DROP COLUMN phone;
