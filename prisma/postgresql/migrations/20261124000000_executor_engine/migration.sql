-- The executor engine: named queues, priorities, retries with each attempt's error, the failed store, a
-- claim index in claim order, and the executors' own rows (for `wsgate status`).
ALTER TABLE "ws_queued_operation" ADD COLUMN "queue" TEXT NOT NULL DEFAULT 'default';
ALTER TABLE "ws_queued_operation" ADD COLUMN "priority" INTEGER NOT NULL DEFAULT 500;
ALTER TABLE "ws_queued_operation" ADD COLUMN "failures" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "ws_queued_operation" ADD COLUMN "errors" TEXT;
ALTER TABLE "ws_queued_operation" ADD COLUMN "result_taken_at" TIMESTAMP(3);

-- Claims read queued entries of one queue in this order; a partial index keeps done rows out of it.
CREATE INDEX "ws_queued_operation_claim_idx" ON "ws_queued_operation"("queue", "priority" DESC, "available_at", "submitted_at") WHERE "state" = 'queued';

CREATE TABLE "ws_executor" (
    "id" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "queues" TEXT NOT NULL,
    "max_workers" INTEGER NOT NULL,
    "busy_workers" INTEGER NOT NULL,
    "started_at" TIMESTAMP(3) NOT NULL,
    "seen_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ws_executor_pkey" PRIMARY KEY ("id")
);
