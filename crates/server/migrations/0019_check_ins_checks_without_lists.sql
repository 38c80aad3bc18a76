-- SQLite checks `x IN ('a', 'b', 'c')` (three values or more) by building a temporary b-tree of the list, on
-- every insert: two per check-in, a quarter of the push writer's time inserting check-ins in a profile. The
-- same checks written as `=` and `OR` build nothing (`db::tests`). SQLite cannot change a column's CHECK: each
-- column moves to a new one, as in 0009.
ALTER TABLE check_ins RENAME COLUMN flag TO flag_before;
ALTER TABLE check_ins ADD COLUMN flag TEXT
    CHECK (flag = 'outside_window' OR flag = 'clock_skew' OR flag = 'stale_code');
UPDATE check_ins SET flag = flag_before;
ALTER TABLE check_ins DROP COLUMN flag_before;

ALTER TABLE check_ins RENAME COLUMN how TO how_before;
ALTER TABLE check_ins ADD COLUMN how TEXT NOT NULL DEFAULT 'own_scan'
    CHECK (how = 'own_scan' OR how = 'card' OR how = 'by_hand');
UPDATE check_ins SET how = how_before;
ALTER TABLE check_ins DROP COLUMN how_before;
