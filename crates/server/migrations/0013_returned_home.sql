-- When the township registered the member as back home (rosters.rs `register_return`); cleared when they are
-- accepted at a host organisation again. With it, the member's screens and the township's say "returned home"
-- rather than the newcomer's "not reported yet" (core's `situation`).
ALTER TABLE people ADD COLUMN returned_home_at INTEGER;

-- Which phone each value of a profile conflict came from (a client id; none for the organisation), so the member
-- is asked "this phone's or the other phone's" rather than to tell two values apart by themselves.
ALTER TABLE profile_conflicts ADD COLUMN kept_by TEXT;
ALTER TABLE profile_conflicts ADD COLUMN theirs_by TEXT;
