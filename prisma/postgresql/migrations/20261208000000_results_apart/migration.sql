-- Finished results apart from the queue's hot rows (issue 13). A completion used to update its entry in
-- place: a second version of a wide row that could not stay on its page (state and available_at are
-- indexed), added to the primary key and two partial indexes, with the statement trigger's old and new
-- rows. Now the entries that are queued, running, failed or cancelled stay in "ws_queue_entry" (the table
-- as it was, renamed), and a completion moves its entry into "ws_queue_result" in one statement: a DELETE
-- (no index entry) and an insert into an append-only table (its primary key, its expiry and list indexes;
-- the context index only for entries that have one). Measured by bench/peers (100,000 no-op operations,
-- 4 workers, three runs alternating with the build before): the server's CPU per drain -9% to -25%.
-- "ws_queued_operation" becomes a view of both tables: what reads an entry in any state reads it there (the
-- statements of src/queue/sql that must walk an index name the tables themselves).
-- The queue is stopped for the length of this migration: no claim or enqueue may see half of it. Gateways and
-- executors of an earlier version must be stopped before it runs: their statements write ws_queued_operation,
-- which becomes a view (a write through it fails; nothing is half-done).
LOCK TABLE "ws_queued_operation" IN ACCESS EXCLUSIVE MODE;
ALTER TABLE "ws_queued_operation" RENAME TO "ws_queue_entry";
CREATE TABLE "ws_queue_result" (LIKE "ws_queue_entry" INCLUDING DEFAULTS);
ALTER TABLE "ws_queue_result" ADD CONSTRAINT "ws_queue_result_pkey" PRIMARY KEY ("id");

-- The done entries move with their keys (ws_queued_operation_key) and their counts as they are: no trigger
-- of the entries' table fires for this move.
ALTER TABLE "ws_queue_entry" DISABLE TRIGGER USER;
INSERT INTO "ws_queue_result" SELECT * FROM "ws_queue_entry" WHERE "state" = 'done';
DELETE FROM "ws_queue_entry" WHERE "state" = 'done';
ALTER TABLE "ws_queue_entry" ENABLE TRIGGER USER;

-- Retention (results that expire), the dashboard's list of done entries newest first, entries by context.
-- The list's index has submitted_at alone: its entries with equal keys are kept in the order of their rows,
-- so each completion adds at the end of its key's run (results are appended), where (submitted_at, id)
-- would put it at a random place among entries queued in the same millisecond (a bulk enqueue: every
-- entry). bench/peers, 100,000 entries of one submitted_at drained by 4 workers, alternating: the server's
-- CPU 5.7-8.4 s without that index against 7.5-8.7 s with it. A page sorts the entries of a millisecond by id.
CREATE INDEX "ws_queue_result_result_expires_at_idx" ON "ws_queue_result"("result_expires_at");
CREATE INDEX "ws_queue_result_submitted_at_idx" ON "ws_queue_result"("submitted_at");
CREATE INDEX "ws_queue_result_context_idx" ON "ws_queue_result"("context") WHERE "context" IS NOT NULL;

-- An entry deleted from the queue while it runs is moving to the results (nothing else deletes a running
-- entry: retention, the failed store and an administrator's purge delete finished or queued ones): its key
-- stays for the result.
CREATE OR REPLACE FUNCTION "wsgate_queue_count_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), -count(*) FROM wsgate_old_rows GROUP BY 1, 2
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
  DELETE FROM ws_queued_operation_key WHERE id IN (SELECT id FROM wsgate_old_rows WHERE state <> 'running');
  RETURN NULL;
END
$$;

-- TRUNCATE of the entries leaves the results' keys and counts.
CREATE OR REPLACE FUNCTION "wsgate_queue_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ws_queued_operation_key k WHERE NOT EXISTS (SELECT 1 FROM ws_queue_result r WHERE r.id = k.id);
  DELETE FROM ws_queue_count WHERE state <> 'done';
  RETURN NULL;
END
$$;

-- A result stored: its count, and the run of its minute (a done entry's envelope may be a protocol error).
CREATE FUNCTION "wsgate_result_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), count(*) FROM wsgate_new_rows GROUP BY 1, 2
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
  INSERT INTO ws_queue_minute (queue, minute, slot, runs, failures)
    SELECT queue, date_trunc('minute', finished_at), pg_backend_pid(), count(*),
           count(*) FILTER (WHERE left(result, 16) = '{"success":false')
    FROM wsgate_new_rows WHERE finished_at IS NOT NULL
    GROUP BY 1, 2
  ON CONFLICT (queue, minute, slot) DO UPDATE
    SET runs = ws_queue_minute.runs + excluded.runs, failures = ws_queue_minute.failures + excluded.failures;
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_result_insert" AFTER INSERT ON "ws_queue_result"
  REFERENCING NEW TABLE AS wsgate_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_result_insert"();

-- A result read or expired: its count and its key go.
CREATE FUNCTION "wsgate_result_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), -count(*) FROM wsgate_old_rows GROUP BY 1, 2
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
  DELETE FROM ws_queued_operation_key WHERE id IN (SELECT id FROM wsgate_old_rows);
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_result_delete" AFTER DELETE ON "ws_queue_result"
  REFERENCING OLD TABLE AS wsgate_old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_result_delete"();

CREATE FUNCTION "wsgate_result_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ws_queued_operation_key k WHERE NOT EXISTS (SELECT 1 FROM ws_queue_entry e WHERE e.id = k.id);
  DELETE FROM ws_queue_count WHERE state = 'done';
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_result_truncate" AFTER TRUNCATE ON "ws_queue_result"
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_result_truncate"();

-- wsgate never updates a result; should anyone else, its count and its key follow, as an entry's do.
CREATE TRIGGER "ws_result_update" AFTER UPDATE ON "ws_queue_result"
  REFERENCING OLD TABLE AS wsgate_old_rows NEW TABLE AS wsgate_new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_queue_update"();
CREATE TRIGGER "ws_result_key_update" AFTER UPDATE OF "id", "submitted_at", "queue", "operation", "user_id" ON "ws_queue_result"
  FOR EACH ROW EXECUTE FUNCTION "wsgate_queue_key_update"();

-- The callback of a done entry (failed and cancelled ones are reported by the entries' own trigger).
CREATE TRIGGER "ws_callback_on_result" AFTER INSERT ON "ws_queue_result"
FOR EACH ROW WHEN (NEW."callback" IS NOT NULL)
EXECUTE FUNCTION wsgate_callback_on_final();

-- The quotas count the queued and running entries: those of the entries' table alone.
CREATE OR REPLACE FUNCTION "wsgate_queue_usage"("p_user_id" INTEGER) RETURNS TABLE ("n" BIGINT, "b" BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('wsgate-quota:' || p_user_id, 0));
  RETURN QUERY
    SELECT count(*), COALESCE(sum(o.params_bytes), 0)::BIGINT FROM ws_queue_entry o
    WHERE o.user_id = p_user_id AND o.state IN ('queued', 'running');
END
$$;

CREATE VIEW "ws_queued_operation" AS
  SELECT * FROM "ws_queue_entry" UNION ALL SELECT * FROM "ws_queue_result";
