-- API tokens. Only the SHA-256 of a token is stored (hex); the raw token is shown once, when it is created.
-- A token has one scope, the highest it grants (admin includes write, write includes read). Revoked tokens
-- stay, with their names, for the record: a name is never reused.
CREATE TABLE gateway.api_tokens (
  id           text        PRIMARY KEY CHECK (id ~ '^tok_[0-9a-f]{16}$'),
  name         text        NOT NULL UNIQUE CHECK (name <> ''),
  token_hash   text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
  scope        text        NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  -- route class -> requests per window, replacing the class's default for this token
  rate_limits  jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(rate_limits) = 'object'),
  created_at   timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at   timestamptz
);
