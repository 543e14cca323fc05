-- One row per completion request, written in batches by PgUsageStore (services/llm-proxy/storage) and
-- read back as per-model statistics for the scoring service. Durations are whole microseconds; counts
-- that are uint32 in the service are bigint here so every value fits.
CREATE TABLE llm_proxy.usage_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id text NOT NULL,
    caller text NOT NULL,
    -- The public model name that was requested: statistics are grouped by it.
    model text NOT NULL,
    -- The model that answered (differs from model after a fallback); NULL when none did.
    served_by text,
    provider text NOT NULL,
    streamed boolean NOT NULL,
    simulated boolean NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('ok', 'error', 'cancelled')),
    -- e.g. rate_limited, timeout; NULL when the request succeeded.
    error_kind text,
    error_message text,
    prompt_tokens bigint NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens bigint NOT NULL CHECK (completion_tokens >= 0),
    -- The provider reported no usage and the token counts were estimated.
    usage_estimated boolean NOT NULL,
    cost_usd double precision NOT NULL,
    -- NULL when no text arrived.
    time_to_first_token_us bigint,
    total_duration_us bigint NOT NULL,
    tokens_per_second double precision,
    attempts bigint NOT NULL CHECK (attempts >= 0),
    started_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    -- Only when the service is configured to keep prompts.
    prompt_text text
);

-- Statistics for chosen models over a window, and for every model over a window.
CREATE INDEX usage_records_model_started_at ON llm_proxy.usage_records (model, started_at);
CREATE INDEX usage_records_started_at ON llm_proxy.usage_records (started_at);
