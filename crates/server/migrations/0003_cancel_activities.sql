-- A secretary may cancel an activity. It is kept (check-ins already made stay facts and keep their title), but
-- it leaves every phone through a tombstone and its code is refused from then on.
ALTER TABLE activities ADD COLUMN cancelled_at INTEGER;
