-- Queue controls (`wsgate queue pause|resume|limit`): a paused queue is not claimed; max_running caps its
-- running entries across all executors; max_starts per per_seconds caps how many start in a fixed window
-- (window_start, window_starts). A queue without a row has no controls.
CREATE TABLE "ws_queue" (
    "name" TEXT NOT NULL,
    "paused_at" TIMESTAMP(3),
    "max_running" INTEGER,
    "max_starts" INTEGER,
    "per_seconds" INTEGER,
    "window_start" TIMESTAMP(3),
    "window_starts" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ws_queue_pkey" PRIMARY KEY ("name")
);
