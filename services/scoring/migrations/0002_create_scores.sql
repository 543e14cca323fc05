-- Named weight configurations: GET /scoring/configuration?config=NAME, PUT /scoring/configuration/NAME.
CREATE TABLE scoring.configurations (
    name               text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    response_speed     double precision NOT NULL CHECK (response_speed >= 0),
    model_efficiency   double precision NOT NULL CHECK (model_efficiency >= 0),
    cost_effectiveness double precision NOT NULL CHECK (cost_effectiveness >= 0),
    capability         double precision NOT NULL CHECK (capability >= 0),
    recency            double precision NOT NULL CHECK (recency >= 0),
    min_score          double precision NOT NULL DEFAULT 0,
    max_score          double precision NOT NULL DEFAULT 10,
    enabled            boolean NOT NULL DEFAULT true,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- The seed's default weights.
INSERT INTO scoring.configurations (name, response_speed, model_efficiency, cost_effectiveness, capability, recency)
VALUES ('default', 0.25, 0.20, 0.25, 0.20, 0.10);

-- The current score of each model: what GET /models/{id}/score, the ranking and the comparison read. The
-- inputs and weights are kept as calculated so /scoring/validate can recompute the calculation hash.
CREATE TABLE scoring.scores (
    model_id           text PRIMARY KEY,
    model_name         text NOT NULL,
    overall_score      double precision NOT NULL,
    speed_score        double precision NOT NULL,
    efficiency_score   double precision NOT NULL,
    cost_score         double precision NOT NULL,
    capability_score   double precision NOT NULL,
    recency_score      double precision NOT NULL,
    calculation_hash   text NOT NULL,
    algorithm_version  text NOT NULL,
    score_suffix       text NOT NULL,
    data_source        text NOT NULL,
    weights            jsonb NOT NULL,  -- rally.v1.ScoreWeights as applied, protobuf JSON
    weights_normalized boolean NOT NULL,
    inputs             jsonb NOT NULL,  -- rally.v1.ScoreInputs, protobuf JSON: what the hash covers
    recalc_reason      text NOT NULL DEFAULT '',
    calculated_at      timestamptz NOT NULL,
    valid_until        timestamptz NOT NULL
);

CREATE INDEX scores_by_overall ON scoring.scores (overall_score DESC, model_id);

-- Every stored calculation, oldest first, with the overall score it replaced.
CREATE TABLE scoring.score_history (
    id                     bigserial PRIMARY KEY,
    model_id               text NOT NULL,
    overall_score          double precision NOT NULL,
    previous_overall_score double precision,
    calculation_hash       text NOT NULL,
    reason                 text NOT NULL DEFAULT '',
    calculated_at          timestamptz NOT NULL
);

CREATE INDEX score_history_by_model ON scoring.score_history (model_id, id);

-- Batch calculations. An asynchronous batch still 'processing' when the service stops is resumed at start
-- from its stored request, skipping the positions already in batch_results.
CREATE TABLE scoring.batches (
    batch_id     text PRIMARY KEY,
    status       text NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
    request      jsonb NOT NULL,  -- rally.v1.BatchCalculateRequest, protobuf JSON
    model_count  integer NOT NULL CHECK (model_count >= 0),
    created_at   timestamptz NOT NULL,
    completed_at timestamptz
);

CREATE INDEX batches_processing ON scoring.batches (created_at) WHERE status = 'processing';

CREATE TABLE scoring.batch_results (
    batch_id text NOT NULL REFERENCES scoring.batches ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 0),
    result   jsonb NOT NULL,  -- rally.v1.BatchItemResult, protobuf JSON
    PRIMARY KEY (batch_id, position)
);
