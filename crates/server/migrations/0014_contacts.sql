-- Contacts made outside the app (a phone call, a visit, through the family), recorded by the member's township or
-- host secretary (contacts.rs). The latest also sets `people.contacted_at`, which counts as hearing from the
-- member (rosters.rs `LAST_CONTACT`): an out-of-contact flag clears until the next period of silence.
CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id),
    way TEXT NOT NULL,
    note TEXT NOT NULL,
    contacted_at INTEGER NOT NULL,
    recorded_by TEXT NOT NULL REFERENCES people(id),
    recorded_at INTEGER NOT NULL
);
CREATE INDEX contacts_by_person ON contacts(person_id, contacted_at);
