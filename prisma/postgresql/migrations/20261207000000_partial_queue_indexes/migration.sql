-- Fewer index entries per claim and completion (issue 13). Neither update can stay on its page (HOT: state
-- and available_at are indexed), so each adds the entry's new version to every index of the table whose
-- condition it meets. Five indexes serve only some entries: they now hold only those, and a claim adds to 3
-- indexes instead of 6, a completion to 3 instead of 6. Measured by bench/peers (20,000 no-op operations,
-- 4 workers, the server's CPU during the drain): the first four, 1.52-1.82 s -> 1.28-1.41 s (three runs
-- alternating), 10,300-10,800 -> 13,300-13,400 jobs/s in a quieter hour; the fifth, 1.31-1.54 -> 1.19-1.41 s.
-- Every statement that reads them states their condition (or implies it: `context = $1` and
-- `result_expires_at <= $1` are false on NULL; the counts by user or of everything name the queued and
-- running states and take finished ones from ws_queue_count, src/queue/status.ts), so each still walks its
-- index (test/index-writes.test.ts):
--   (state, queue, available_at): queued entries (the claim's check, nextDue, the metrics' depth) and
--     running ones (lease renewal and rescue, a queue's running count); never done, failed or cancelled.
--   (user_id, state, params_bytes): the quotas count a user's queued and running entries.
--   (result_expires_at): retention sweeps entries whose result expires; NULL until one is stored.
--   (context): entries by their context (status and the Queue Server's API); NULL unless one was given.
--   (state, submitted_at, id): the dashboard's list by state, for every state but running. The running
--     entries are those claimed and not finished (at most what the executors hold: their workers times
--     their claim batch), read from (state, queue, available_at) and sorted: a claim adds to no list index.
-- The new indexes are built first, under other names, while writes to the entries wait and reads go on;
-- the old ones are dropped and the new renamed at the end (a DROP INDEX locks the table against reads too,
-- until the commit: only for those last statements).
CREATE INDEX "ws_queued_operation_p_state_queue_available_at_idx" ON "ws_queued_operation"("state", "queue", "available_at")
  WHERE "state" IN ('queued', 'running');
CREATE INDEX "ws_queued_operation_p_user_id_state_params_bytes_idx" ON "ws_queued_operation"("user_id", "state", "params_bytes")
  WHERE "state" IN ('queued', 'running');
CREATE INDEX "ws_queued_operation_p_result_expires_at_idx" ON "ws_queued_operation"("result_expires_at")
  WHERE "result_expires_at" IS NOT NULL;
CREATE INDEX "ws_queued_operation_p_context_idx" ON "ws_queued_operation"("context")
  WHERE "context" IS NOT NULL;
CREATE INDEX "ws_queued_operation_p_state_submitted_at_id_idx" ON "ws_queued_operation"("state", "submitted_at", "id")
  WHERE "state" <> 'running';
DROP INDEX "ws_queued_operation_state_queue_available_at_idx";
ALTER INDEX "ws_queued_operation_p_state_queue_available_at_idx" RENAME TO "ws_queued_operation_state_queue_available_at_idx";
DROP INDEX "ws_queued_operation_user_id_state_params_bytes_idx";
ALTER INDEX "ws_queued_operation_p_user_id_state_params_bytes_idx" RENAME TO "ws_queued_operation_user_id_state_params_bytes_idx";
DROP INDEX "ws_queued_operation_result_expires_at_idx";
ALTER INDEX "ws_queued_operation_p_result_expires_at_idx" RENAME TO "ws_queued_operation_result_expires_at_idx";
DROP INDEX "ws_queued_operation_context_idx";
ALTER INDEX "ws_queued_operation_p_context_idx" RENAME TO "ws_queued_operation_context_idx";
DROP INDEX "ws_queued_operation_state_submitted_at_id_idx";
ALTER INDEX "ws_queued_operation_p_state_submitted_at_id_idx" RENAME TO "ws_queued_operation_state_submitted_at_id_idx";
