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

-- Entries per queue and state, kept by triggers as entries are queued, change state and are deleted: the
-- dashboard's counts read this small table instead of counting a table of a million entries every second.
-- slot: as above, one row per connection; rows of connections that are gone are folded into slot 0 by the
-- dashboard's read (src/dashboard/queries.ts).
CREATE TABLE "ws_queue_count" (
    "queue" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "slot" INTEGER NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ws_queue_count_pkey" PRIMARY KEY ("queue", "state", "slot")
);
INSERT INTO "ws_queue_count" ("queue", "state", "slot", "n")
  SELECT "queue", "state", 0, count(*) FROM "ws_queued_operation" GROUP BY "queue", "state";

-- Once per statement (not per row), from the statement's transition tables: one upsert per queue and state.
CREATE FUNCTION "wsgate_queue_count_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), count(*) FROM wsgate_new_rows GROUP BY 1, 2
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_queue_count_insert" AFTER INSERT ON "ws_queued_operation"
  REFERENCING NEW TABLE AS wsgate_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_queue_count_insert"();

CREATE FUNCTION "wsgate_queue_count_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), -count(*) FROM wsgate_old_rows GROUP BY 1, 2
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_queue_count_delete" AFTER DELETE ON "ws_queued_operation"
  REFERENCING OLD TABLE AS wsgate_old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_queue_count_delete"();

-- An update: the rows that changed state or queue move between counts; the rows that went from running to
-- done or failed are counted as runs (and failures) of their minute.
CREATE FUNCTION "wsgate_queue_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), sum(d) FROM (
      SELECT o.queue, o.state, -1 AS d FROM wsgate_new_rows n JOIN wsgate_old_rows o ON o.id = n.id
      WHERE o.state <> n.state OR o.queue <> n.queue
      UNION ALL
      SELECT n.queue, n.state, 1 FROM wsgate_new_rows n JOIN wsgate_old_rows o ON o.id = n.id
      WHERE o.state <> n.state OR o.queue <> n.queue
    ) AS moves GROUP BY 1, 2 HAVING sum(d) <> 0
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
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
CREATE TRIGGER "ws_queue_update" AFTER UPDATE ON "ws_queued_operation"
  REFERENCING OLD TABLE AS wsgate_old_rows NEW TABLE AS wsgate_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_queue_update"();

-- Two hours are kept: each new minute's row drops the older ones.
CREATE FUNCTION "wsgate_queue_minute_prune"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ws_queue_minute WHERE minute < NEW.minute - interval '2 hours';
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_queue_minute_prune" AFTER INSERT ON "ws_queue_minute"
  FOR EACH ROW EXECUTE FUNCTION "wsgate_queue_minute_prune"();
