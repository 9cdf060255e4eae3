-- Observability (issue 14): the W3C traceparent of the call that queued an entry, continued when it runs;
-- an index (queue, state, available_at) from which the metrics' one GROUP BY reads every queue's counts and
-- oldest waiting entry without reading the entries. (Runs and failures per queue and minute, for `wsgate top`
-- and the dashboard, are ws_queue_minute, kept by triggers: migration 20261202000700_dashboard.)
ALTER TABLE "ws_queued_operation" ADD COLUMN "trace_parent" TEXT;

CREATE INDEX "ws_queued_operation_queue_state_available_at_idx" ON "ws_queued_operation"("queue", "state", "available_at");
