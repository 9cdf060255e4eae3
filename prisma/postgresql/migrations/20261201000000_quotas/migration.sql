-- Quotas and operator controls: disabled users, per-user overrides of the queue quotas (null: the
-- settings' values), and the bytes of each entry's parameters, which the quotas count and sum per user
-- from one index (user_id, state, params_bytes) without reading the entries.
ALTER TABLE "ws_user" ADD COLUMN "disabled_at" TIMESTAMP(3);
ALTER TABLE "ws_user" ADD COLUMN "quota_queued" INTEGER;
ALTER TABLE "ws_user" ADD COLUMN "quota_queued_bytes" INTEGER;
ALTER TABLE "ws_user" ADD COLUMN "quota_max_delay_seconds" INTEGER;
ALTER TABLE "ws_queued_operation" ADD COLUMN "params_bytes" INTEGER NOT NULL DEFAULT 0;

UPDATE "ws_queued_operation" SET "params_bytes" = octet_length("params") WHERE "state" IN ('queued', 'running', 'failed');

CREATE INDEX "ws_queued_operation_user_id_state_params_bytes_idx" ON "ws_queued_operation"("user_id", "state", "params_bytes");

-- The quota check's count of a user's queued and running entries (src/db/dialect.ts, queueUsage), called
-- inside the statement that queues. A statement reads a snapshot taken as it starts, so two concurrent
-- submits would each miss the other's entry: the function first takes a per-user advisory lock, held until
-- the calling transaction ends, and a VOLATILE function takes a fresh snapshot for each statement in it,
-- so its count sees every entry committed by the lock's previous holder.
CREATE FUNCTION "wsgate_queue_usage"("p_user_id" INTEGER) RETURNS TABLE ("n" BIGINT, "b" BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('wsgate-quota:' || p_user_id, 0));
  RETURN QUERY
    SELECT count(*), COALESCE(sum(o.params_bytes), 0)::BIGINT FROM ws_queued_operation o
    WHERE o.user_id = p_user_id AND o.state IN ('queued', 'running');
END
$$;
