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
-- slot: one row per database connection on PostgreSQL (no two executors wait on one row); 0 on SQLite.
CREATE TABLE "ws_queue_minute" (
    "queue" TEXT NOT NULL,
    "minute" DATETIME NOT NULL,
    "slot" INTEGER NOT NULL,
    "runs" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("queue", "minute", "slot")
);
CREATE INDEX "ws_queue_minute_minute_idx" ON "ws_queue_minute"("minute");

-- Dates are epoch milliseconds here (the adapter's unixepoch-ms format).
CREATE TRIGGER "ws_queue_minute_count" AFTER UPDATE OF "state" ON "ws_queued_operation"
WHEN OLD."state" = 'running' AND NEW."state" IN ('done', 'failed')
BEGIN
  INSERT INTO "ws_queue_minute" ("queue", "minute", "slot", "runs", "failures")
  VALUES (NEW."queue", (NEW."finished_at" / 60000) * 60000, 0, 1,
          CASE WHEN NEW."state" = 'failed' OR substr(NEW."result", 1, 16) = '{"success":false' THEN 1 ELSE 0 END)
  ON CONFLICT ("queue", "minute", "slot") DO UPDATE SET "runs" = "runs" + 1, "failures" = "failures" + excluded."failures";
END;

-- Two hours are kept: each new minute's row drops the older ones.
CREATE TRIGGER "ws_queue_minute_prune" AFTER INSERT ON "ws_queue_minute"
BEGIN
  DELETE FROM "ws_queue_minute" WHERE "minute" < NEW."minute" - 7200000;
END;

-- Entries per queue and state, kept by triggers as entries are queued, change state and are deleted: the
-- dashboard's counts read this small table instead of counting a table of a million entries every second.
CREATE TABLE "ws_queue_count" (
    "queue" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "slot" INTEGER NOT NULL,
    "n" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("queue", "state", "slot")
);
INSERT INTO "ws_queue_count" ("queue", "state", "slot", "n")
  SELECT "queue", "state", 0, count(*) FROM "ws_queued_operation" GROUP BY "queue", "state";

CREATE TRIGGER "ws_queue_count_insert" AFTER INSERT ON "ws_queued_operation"
BEGIN
  INSERT INTO "ws_queue_count" ("queue", "state", "slot", "n") VALUES (NEW."queue", NEW."state", 0, 1)
  ON CONFLICT ("queue", "state", "slot") DO UPDATE SET "n" = "n" + 1;
END;

CREATE TRIGGER "ws_queue_count_delete" AFTER DELETE ON "ws_queued_operation"
BEGIN
  UPDATE "ws_queue_count" SET "n" = "n" - 1 WHERE "queue" = OLD."queue" AND "state" = OLD."state" AND "slot" = 0;
END;

CREATE TRIGGER "ws_queue_count_update" AFTER UPDATE OF "state", "queue" ON "ws_queued_operation"
WHEN OLD."state" <> NEW."state" OR OLD."queue" <> NEW."queue"
BEGIN
  UPDATE "ws_queue_count" SET "n" = "n" - 1 WHERE "queue" = OLD."queue" AND "state" = OLD."state" AND "slot" = 0;
  INSERT INTO "ws_queue_count" ("queue", "state", "slot", "n") VALUES (NEW."queue", NEW."state", 0, 1)
  ON CONFLICT ("queue", "state", "slot") DO UPDATE SET "n" = "n" + 1;
END;
