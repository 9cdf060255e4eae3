-- Finished results apart from the queue's hot rows (issue 13), as on PostgreSQL: the entries' table is
-- "ws_queue_entry", done results may live in "ws_queue_result", and "ws_queued_operation" is a view of both,
-- so the same statements serve both databases. SQLite keeps its done entries where they are, in
-- ws_queue_entry (src/db/dialect.ts, resultsApart): an UPDATE there rewrites only the indexes of the columns
-- it changes, while a move would delete the entry from every index of the table and insert it into those
-- of the results. Its ws_queue_result stays empty.
ALTER TABLE "ws_queued_operation" RENAME TO "ws_queue_entry";
CREATE TABLE "ws_queue_result" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "operation" TEXT NOT NULL,
    "params" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'done',
    "available_at" DATETIME NOT NULL,
    "due_at" DATETIME NOT NULL,
    "submitted_at" DATETIME NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_token" TEXT,
    "started_at" DATETIME,
    "finished_at" DATETIME,
    "result" TEXT,
    "result_expires_at" DATETIME,
    "queue" TEXT NOT NULL DEFAULT 'default',
    "priority" INTEGER NOT NULL DEFAULT 500,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "errors" TEXT,
    "result_taken_at" DATETIME,
    "params_bytes" INTEGER NOT NULL DEFAULT 0,
    "progress" REAL,
    "progress_message" TEXT,
    "output" TEXT,
    "callback" TEXT,
    "context" TEXT,
    "trace_parent" TEXT,
    "cancel_requested_at" DATETIME
);
CREATE VIEW "ws_queued_operation" AS
  SELECT * FROM "ws_queue_entry" UNION ALL SELECT * FROM "ws_queue_result";
