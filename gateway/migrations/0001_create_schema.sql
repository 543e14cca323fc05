-- The gateway keeps its tables (API tokens) in its own schema, beside the services' schemas in the same
-- database.
CREATE SCHEMA IF NOT EXISTS gateway;
