-- The arena's votes and the online ELO state they produce, written together by PgVoteStore
-- (services/arena/storage): a vote locks both model rows, updates their ratings and counters and inserts its
-- votes row in one transaction, so arena.models always equals the replay of arena.votes in id order.

-- One row per model that can be voted on, with its current rating and vote counts.
CREATE TABLE arena.models (
    name text PRIMARY KEY,
    rating double precision NOT NULL,
    votes bigint NOT NULL DEFAULT 0 CHECK (votes >= 0),
    wins bigint NOT NULL DEFAULT 0 CHECK (wins >= 0),
    losses bigint NOT NULL DEFAULT 0 CHECK (losses >= 0),
    -- Draws only; both_bad votes are rated as draws but counted apart.
    ties bigint NOT NULL DEFAULT 0 CHECK (ties >= 0),
    both_bad bigint NOT NULL DEFAULT 0 CHECK (both_bad >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (votes = wins + losses + ties + both_bad)
);

-- Every vote, with both ratings before and after it. Ids are taken while the vote holds both model rows
-- locked, so any two votes sharing a model are numbered in the order they were applied.
CREATE TABLE arena.votes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The battle the vote closes, when it came from one.
    battle_id text,
    model_a text NOT NULL REFERENCES arena.models (name),
    model_b text NOT NULL REFERENCES arena.models (name),
    -- vote_outcome_name() in services/arena/domain/vote_outcome.cc.
    outcome text NOT NULL CHECK (outcome IN ('model_a', 'model_b', 'tie', 'both_bad')),
    rating_a_before double precision NOT NULL,
    rating_b_before double precision NOT NULL,
    rating_a_after double precision NOT NULL,
    rating_b_after double precision NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- A hash of the voter's API key, never the key itself.
    voter_key_hash text,
    -- A retried request with the same key gets this row back instead of voting twice.
    idempotency_key text CONSTRAINT votes_idempotency_key_unique UNIQUE,
    CHECK (model_a <> model_b)
);
