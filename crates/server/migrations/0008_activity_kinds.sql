-- Every kind of activity a secretary runs (三会一课, 党课, 主题党日, ...), the team that serves a volunteer one, and
-- notes for the members. SQLite cannot change a column's CHECK: the kind moves to a new column with the new
-- list, and the old one, whose CHECK is its own, is dropped.
ALTER TABLE activities RENAME COLUMN kind TO kind_before;
ALTER TABLE activities ADD COLUMN kind TEXT NOT NULL DEFAULT 'other' CHECK (kind IN (
    'branch_assembly', 'branch_committee', 'party_group', 'party_lecture', 'theme_day', 'organisation_life',
    'study', 'training', 'volunteer', 'other'));
UPDATE activities SET kind = kind_before;
ALTER TABLE activities DROP COLUMN kind_before;
ALTER TABLE activities ADD COLUMN team TEXT CHECK (team IN ('greening', 'cleaning', 'patrol', 'household'));
ALTER TABLE activities ADD COLUMN notes TEXT;
