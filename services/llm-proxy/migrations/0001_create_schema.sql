-- The llm-proxy service keeps its tables in its own schema, so services can share one database
-- without name clashes and each can later move to its own server.
CREATE SCHEMA IF NOT EXISTS llm_proxy;
