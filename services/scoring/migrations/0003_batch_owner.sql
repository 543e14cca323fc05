-- Which replica runs a processing batch: the advisory lock key it holds for its whole life (a session-level
-- lock, services/common/pg_advisory_lock.h). A batch whose owner's lock is free was left by a replica that
-- is gone, and another adopts it; rows from before this column (NULL) are adoptable too.
ALTER TABLE scoring.batches ADD COLUMN owner_lock bigint;
