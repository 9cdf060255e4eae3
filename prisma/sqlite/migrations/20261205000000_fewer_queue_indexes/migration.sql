-- Two indexes of the queue's table that (state, queue, available_at) serves as well: (queue, state,
-- available_at) is the same index with its equality columns swapped (every statement that read it asks for
-- one queue and one state); (state, available_at) served the running entries (the lease rescue and
-- renewal: the few entries of that state, read from (state, queue, available_at) too) and the idle
-- executor's next due time, now one descent per queue (src/queue/sql/claim.ts nextDue). Each index cost every enqueue an insertion and every claim and completion an update of its entry
-- (SQLite: ~15 us per index and statement).
DROP INDEX "ws_queued_operation_state_available_at_idx";
DROP INDEX "ws_queued_operation_queue_state_available_at_idx";
