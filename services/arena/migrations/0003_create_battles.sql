-- Anonymous battles, written by PgBattleStore (services/arena/storage): the arena picks two models for a user
-- message and keeps them secret until the battle's single vote, which PgBattleStore::vote_battle records
-- exactly as a direct vote (same locks, same rating update, same votes row) in the transaction that sets
-- vote_id here.

-- One row per battle. Unvoted battles are deleted some time after they expire; voted ones are kept as the
-- record of which models the vote was about.
CREATE TABLE arena.battles (
    -- Random ids made by the service ("bt_" and 32 hex digits), so they cannot be guessed.
    id text PRIMARY KEY,
    message text NOT NULL,
    model_a text NOT NULL REFERENCES arena.models (name),
    model_b text NOT NULL REFERENCES arena.models (name),
    -- A hash of the API key that started the battle, never the key itself; its vote carries it too.
    voter_key_hash text,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- From then on the battle is gone for clients, voted or not.
    expires_at timestamptz NOT NULL,
    -- The battle's vote; set once, in the vote's own transaction.
    vote_id bigint UNIQUE REFERENCES arena.votes (id),
    voted_at timestamptz,
    CHECK (model_a <> model_b),
    CHECK ((vote_id IS NULL) = (voted_at IS NULL))
);

-- The expiry sweep reads only unvoted battles.
CREATE INDEX battles_unvoted_expiry ON arena.battles (expires_at) WHERE vote_id IS NULL;

-- A battle's vote is inserted only after its row was locked and found unvoted; this index makes a second vote
-- for one battle impossible even if a bug (or a direct record_vote with a battle id) skipped that check.
CREATE UNIQUE INDEX votes_battle_id_unique ON arena.votes (battle_id) WHERE battle_id IS NOT NULL;
