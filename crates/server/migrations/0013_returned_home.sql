-- When the township registered the member as back home (rosters.rs `register_return`); cleared when they are
-- accepted at a host organisation again. With it, the member's screens and the township's say "returned home"
-- rather than the newcomer's "not reported yet" (core's `situation`).
ALTER TABLE people ADD COLUMN returned_home_at INTEGER;
