-- The mobile member certificate: a member's stops at host organisations (each report opens one, leaving closes
-- it) with the evaluation the organisation's secretary writes on departure, and the home township's yearly
-- review.
CREATE TABLE stops (
    id           TEXT PRIMARY KEY NOT NULL,
    person_id    TEXT NOT NULL REFERENCES people (id),
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    arrived_at   INTEGER NOT NULL,
    left_at      INTEGER CHECK (left_at IS NULL OR left_at > arrived_at),
    grade        TEXT CHECK (grade IN ('excellent', 'qualified', 'basically_qualified', 'unqualified')),
    evaluation   TEXT,
    evaluated_at INTEGER,
    CHECK ((grade IS NULL) = (evaluation IS NULL) AND (grade IS NULL) = (evaluated_at IS NULL))
) STRICT;
CREATE INDEX stops_by_person ON stops (person_id, arrived_at);

CREATE TABLE reviews (
    id        TEXT PRIMARY KEY NOT NULL,
    person_id TEXT NOT NULL REFERENCES people (id),
    org_id    TEXT NOT NULL REFERENCES organisations (id),
    year      INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    grade     TEXT NOT NULL CHECK (grade IN ('excellent', 'qualified', 'basically_qualified', 'unqualified')),
    text      TEXT NOT NULL,
    UNIQUE (person_id, year)
) STRICT;
