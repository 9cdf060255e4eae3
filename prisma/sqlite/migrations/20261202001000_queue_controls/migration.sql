-- Queue controls (`wsgate queue pause|resume|limit`): a paused queue is not claimed; max_running caps its
-- running entries across all executors; max_starts per per_seconds caps how many start in a fixed window
-- (window_start, window_starts). A queue without a row has no controls.
CREATE TABLE "ws_queue" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "paused_at" DATETIME,
    "max_running" INTEGER,
    "max_starts" INTEGER,
    "per_seconds" INTEGER,
    "window_start" DATETIME,
    "window_starts" INTEGER NOT NULL DEFAULT 0,
    "updated_at" DATETIME NOT NULL
);
