-- Reporting to a host organisation (报到), leaving it, and lost contact (失联).

-- A member's report after scanning an organisation's code: pending until its secretary accepts (a stop opens)
-- or refuses (with a reason). `left_stop_id` is the open stop the member said they had left.
CREATE TABLE reports (
    id           TEXT PRIMARY KEY NOT NULL,
    person_id    TEXT NOT NULL REFERENCES people (id),
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    left_stop_id TEXT REFERENCES stops (id),
    received_at  INTEGER NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'accepted', 'refused')),
    reason       TEXT,
    decided_at   INTEGER,
    decided_by   TEXT REFERENCES people (id),
    stop_id      TEXT REFERENCES stops (id),
    CHECK ((state = 'pending') = (decided_at IS NULL)),
    CHECK ((state = 'refused') = (reason IS NOT NULL)),
    CHECK ((state = 'accepted') = (stop_id IS NOT NULL))
) STRICT;
CREATE INDEX reports_by_org ON reports (org_id, state);
CREATE INDEX reports_by_person ON reports (person_id);

-- The member said they are leaving; the stop stays open until the secretary writes the evaluation.
ALTER TABLE stops ADD COLUMN leaving_at INTEGER;
CREATE INDEX stops_by_org ON stops (org_id, left_at);

-- Rotating an organisation's code withdraws every code signed to be valid before this time (Unix seconds).
ALTER TABLE organisations ADD COLUMN code_since INTEGER NOT NULL DEFAULT 0;

-- Contact outside the app (the last time a secretary or the township reached the member), so that lost contact
-- also counts members who have never used the app from the day they were registered.
ALTER TABLE people ADD COLUMN contacted_at INTEGER;
CREATE INDEX check_ins_by_person ON check_ins (person_id, received_at);
