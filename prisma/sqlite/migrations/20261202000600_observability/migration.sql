-- Observability (issue 14): the W3C traceparent of the call that queued an entry, continued when it runs;
-- an index (queue, state, available_at) from which the metrics' one GROUP BY reads every queue's counts and
-- oldest waiting entry without reading the entries; and runs and failures per queue and minute, which the
-- executors add up with their heartbeat (`wsgate top`).
ALTER TABLE "ws_queued_operation" ADD COLUMN "trace_parent" TEXT;

CREATE INDEX "ws_queued_operation_queue_state_available_at_idx" ON "ws_queued_operation"("queue", "state", "available_at");

CREATE TABLE "ws_queue_minute" (
    "queue" TEXT NOT NULL,
    "minute" DATETIME NOT NULL,
    "runs" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY ("queue", "minute")
);

CREATE INDEX "ws_queue_minute_minute_idx" ON "ws_queue_minute"("minute");
