-- The dashboard (issue 14): its list of operations is read newest first, filtered by state, queue,
-- operation or user, in pages of (submitted_at, id) keys; each filter has an index in that order, so a page
-- reads its rows and no more at any table size. Its counts per queue and state read one index alone.
CREATE INDEX "ws_queued_operation_submitted_at_id_idx" ON "ws_queued_operation"("submitted_at", "id");
CREATE INDEX "ws_queued_operation_state_submitted_at_id_idx" ON "ws_queued_operation"("state", "submitted_at", "id");
CREATE INDEX "ws_queued_operation_queue_submitted_at_id_idx" ON "ws_queued_operation"("queue", "submitted_at", "id");
CREATE INDEX "ws_queued_operation_operation_submitted_at_id_idx" ON "ws_queued_operation"("operation", "submitted_at", "id");
CREATE INDEX "ws_queued_operation_user_id_submitted_at_id_idx" ON "ws_queued_operation"("user_id", "submitted_at", "id");
CREATE INDEX "ws_queued_operation_state_queue_available_at_idx" ON "ws_queued_operation"("state", "queue", "available_at");

-- Runs and failures per queue and minute, for the dashboard's chart of the last hour (results read once
-- are deleted, so the entries alone cannot tell). Kept by triggers as entries finish: a run is an entry
-- that ends done or in the failed store; a failure one that ends in the failed store or answered an error.
-- slot: one row per database connection (pg_backend_pid), so that executors committing at once never
-- wait on each other's row.
CREATE TABLE "ws_queue_minute" (
    "queue" TEXT NOT NULL,
    "minute" TIMESTAMP(3) NOT NULL,
    "slot" INTEGER NOT NULL,
    "runs" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ws_queue_minute_pkey" PRIMARY KEY ("queue", "minute", "slot")
);
CREATE INDEX "ws_queue_minute_minute_idx" ON "ws_queue_minute"("minute");

-- Once per statement (not per row): the rows it moved from running to done or failed, counted per queue
-- and minute in one upsert.
CREATE FUNCTION "wsgate_queue_minute_count"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_minute (queue, minute, slot, runs, failures)
    SELECT n.queue, date_trunc('minute', n.finished_at), pg_backend_pid(), count(*),
           count(*) FILTER (WHERE n.state = 'failed' OR left(n.result, 16) = '{"success":false')
    FROM wsgate_new_rows n JOIN wsgate_old_rows o ON o.id = n.id
    WHERE o.state = 'running' AND n.state IN ('done', 'failed') AND n.finished_at IS NOT NULL
    GROUP BY 1, 2
  ON CONFLICT (queue, minute, slot) DO UPDATE
    SET runs = ws_queue_minute.runs + excluded.runs, failures = ws_queue_minute.failures + excluded.failures;
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_queue_minute_count" AFTER UPDATE ON "ws_queued_operation"
  REFERENCING OLD TABLE AS wsgate_old_rows NEW TABLE AS wsgate_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_queue_minute_count"();

-- Two hours are kept: each new minute's row drops the older ones.
CREATE FUNCTION "wsgate_queue_minute_prune"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ws_queue_minute WHERE minute < NEW.minute - interval '2 hours';
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_queue_minute_prune" AFTER INSERT ON "ws_queue_minute"
  FOR EACH ROW EXECUTE FUNCTION "wsgate_queue_minute_prune"();
