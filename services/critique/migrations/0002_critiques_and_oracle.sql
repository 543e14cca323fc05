-- Every critique the service answered or failed, and the oracle worker's progress through the chain.
-- The prompt itself is not kept (only its Keccak-256, the hash the critic contract stores): prompts are
-- user text and the chain already carries them in calldata.
CREATE TABLE critique.critiques (
    id              bigserial PRIMARY KEY,
    prompt_hash     text NOT NULL,            -- 0x-prefixed Keccak-256 of the prompt's UTF-8 bytes
    prompt_bytes    integer NOT NULL CHECK (prompt_bytes >= 0),
    outcome         text NOT NULL CHECK (outcome IN ('answered', 'oracle_error', 'bad_answer', 'failed')),
    score           double precision CHECK (score BETWEEN 0 AND 10),
    description     text,
    error           text,                     -- why it failed, when it did
    tx_hash         text,                     -- the sendMessage transaction, once sent
    run_id          numeric(78, 0),           -- uint256
    request_block   bigint,
    answer_block    bigint,
    simulated       boolean NOT NULL DEFAULT false,
    latency_ms      double precision NOT NULL CHECK (latency_ms >= 0),
    chain_ms        double precision NOT NULL CHECK (chain_ms >= 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX critiques_created_at ON critique.critiques (created_at);
CREATE INDEX critiques_run_id ON critique.critiques (run_id);

-- The next block the oracle worker reads PromptAdded events from, per oracle contract. It moves only past
-- blocks whose every prompt was answered, so a restart resumes where the worker stopped.
CREATE TABLE critique.oracle_cursor (
    oracle_address  text PRIMARY KEY,         -- lower-case 0x hex
    chain_id        bigint NOT NULL,
    next_block      bigint NOT NULL CHECK (next_block >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per prompt the worker answered (or tried to): what the LLM said and where it went on chain.
CREATE TABLE critique.oracle_answers (
    oracle_address  text NOT NULL,
    prompt_id       numeric(78, 0) NOT NULL,
    callback_id     numeric(78, 0) NOT NULL,
    prompt_block    bigint NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('answered', 'error_answered', 'already_answered', 'failed')),
    model           text,
    simulated       boolean NOT NULL DEFAULT false,
    llm_ms          double precision,
    tx_hash         text,
    error           text,
    answered_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (oracle_address, prompt_id)
);
