-- What every claim and completion of an entry costs (issue 13). Measured by bench/peers (20,000 no-op
-- operations drained by 4 workers, two runs each): 5,000-5,500 jobs/s as it was, 7,300-8,200 without the four
-- list indexes below on the entries' table, 7,800-8,700 without all five.

-- 1. The dashboard's list keys, in a table of their own. An update of an entry that cannot stay on its page
-- (HOT) adds a key to every index of the table, whatever columns changed: a claim and a completion each
-- wrote the four (submitted_at, id), (queue, ...), (operation, ...), (user_id, ...) keys again, although
-- none of those columns ever changes. Here they are written once, as the entry is queued, and removed with
-- it, by the statement-level triggers below; the list reads them and joins the entries by id
-- (src/queue/sql/browse.ts). The list by state keeps its index on the entries (state does change).
-- Other processes may queue and delete entries while this runs (an upgrade of one gateway of several):
-- none may between the copy below and this transaction's commit, which brings the triggers that keep the
-- keys from then on. Readers are not held up.
LOCK TABLE "ws_queued_operation" IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE "ws_queued_operation_key" (
    "id" TEXT NOT NULL,
    "submitted_at" TIMESTAMP(3) NOT NULL,
    "queue" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,

    CONSTRAINT "ws_queued_operation_key_pkey" PRIMARY KEY ("id")
);
INSERT INTO "ws_queued_operation_key" ("id", "submitted_at", "queue", "operation", "user_id")
  SELECT "id", "submitted_at", "queue", "operation", "user_id" FROM "ws_queued_operation";
CREATE INDEX "ws_queued_operation_key_submitted_at_id_idx" ON "ws_queued_operation_key"("submitted_at", "id");
CREATE INDEX "ws_queued_operation_key_queue_submitted_at_id_idx" ON "ws_queued_operation_key"("queue", "submitted_at", "id");
CREATE INDEX "ws_queued_operation_key_operation_submitted_at_id_idx" ON "ws_queued_operation_key"("operation", "submitted_at", "id");
CREATE INDEX "ws_queued_operation_key_user_id_submitted_at_id_idx" ON "ws_queued_operation_key"("user_id", "submitted_at", "id");
DROP INDEX "ws_queued_operation_submitted_at_id_idx";
DROP INDEX "ws_queued_operation_queue_submitted_at_id_idx";
DROP INDEX "ws_queued_operation_operation_submitted_at_id_idx";
DROP INDEX "ws_queued_operation_user_id_submitted_at_id_idx";

CREATE OR REPLACE FUNCTION "wsgate_queue_count_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), count(*) FROM wsgate_new_rows GROUP BY 1, 2
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
  INSERT INTO ws_queued_operation_key (id, submitted_at, queue, operation, user_id)
    SELECT id, submitted_at, queue, operation, user_id FROM wsgate_new_rows;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION "wsgate_queue_count_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), -count(*) FROM wsgate_old_rows GROUP BY 1, 2
  ON CONFLICT (queue, state, slot) DO UPDATE SET n = ws_queue_count.n + excluded.n;
  DELETE FROM ws_queued_operation_key WHERE id IN (SELECT id FROM wsgate_old_rows);
  RETURN NULL;
END
$$;

-- wsgate never changes these columns of an entry; should anyone else, its key follows. (A trigger on
-- `UPDATE OF` columns fires only for statements that set one of them: no claim or completion does.)
CREATE FUNCTION "wsgate_queue_key_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ws_queued_operation_key
    SET id = NEW.id, submitted_at = NEW.submitted_at, queue = NEW.queue, operation = NEW.operation, user_id = NEW.user_id
    WHERE id = OLD.id;
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_queue_key_update" AFTER UPDATE OF "id", "submitted_at", "queue", "operation", "user_id" ON "ws_queued_operation"
  FOR EACH ROW EXECUTE FUNCTION "wsgate_queue_key_update"();

-- TRUNCATE fires no delete trigger: the keys and counts go with it.
CREATE FUNCTION "wsgate_queue_truncate"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE ws_queued_operation_key;
  DELETE FROM ws_queue_count;
  RETURN NULL;
END
$$;
CREATE TRIGGER "ws_queue_truncate" AFTER TRUNCATE ON "ws_queued_operation"
  FOR EACH STATEMENT EXECUTE FUNCTION "wsgate_queue_truncate"();

-- 2. The update trigger of the counts (20261202000700_dashboard) joined the statement's old and new rows on
-- id. The planner knows nothing of a transition table (it reckons one row), so it joined them in a nested
-- loop: n x n comparisons per statement, 160,000 for a claim of 400 entries, 24-34 ms of each claim and
-- completion of 100-400 entries (auto_explain), more than the statement itself (drain 5,400 -> 6,300 jobs/s
-- without it). The counts need no join: the old rows leave their (queue, state), the new rows enter theirs,
-- and a row that did not move cancels out. The runs of a minute still pair each row with its old state
-- (running to done or failed): that join is planned with nested loops off, a hash join.
CREATE OR REPLACE FUNCTION "wsgate_queue_update"() RETURNS trigger LANGUAGE plpgsql
SET enable_nestloop = off AS $$
BEGIN
  INSERT INTO ws_queue_count (queue, state, slot, n)
    SELECT queue, state, pg_backend_pid(), sum(d) FROM (
      SELECT queue, state, -1 AS d FROM wsgate_old_rows
      UNION ALL
      SELECT queue, state, 1 FROM wsgate_new_rows
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
