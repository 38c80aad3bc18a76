-- Notices (notices.rs): what the county, a township or a host organisation tells its members, and who has read
-- each (a phone reports it with `Op::ReadNotice`; the first report counts).
CREATE TABLE notices (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    author_id TEXT NOT NULL REFERENCES people(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at INTEGER NOT NULL
);
CREATE INDEX notices_by_org ON notices(org_id, published_at);

CREATE TABLE notice_reads (
    notice_id TEXT NOT NULL REFERENCES notices(id),
    person_id TEXT NOT NULL REFERENCES people(id),
    read_at INTEGER NOT NULL,
    PRIMARY KEY (notice_id, person_id)
);
