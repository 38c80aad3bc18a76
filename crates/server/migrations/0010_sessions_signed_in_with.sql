-- How each session was opened: a PIN can be set without the current one only moments after signing in with an
-- activation code (auth.rs `set_pin`). Sessions from before count as opened with a code long ago.
ALTER TABLE sessions ADD COLUMN signed_in_with TEXT NOT NULL DEFAULT 'code' CHECK (signed_in_with IN ('code', 'pin'));

-- From now on `rejected_mutations.args` keeps `{"sha256": ..., "bytes": ...}` of the args a refused write came
-- with, not the args themselves: a refusal costs the same few bytes however large a body was sent (push.rs).
