-- Recurring operations (WSGATE_SCHEDULE_FILE): the last tick of each schedule that was queued. A tick is
-- queued by the one transaction that moves last_tick past it (a conditional UPDATE), so any number of
-- executors queue it exactly once.
CREATE TABLE "ws_schedule" (
    "name" TEXT NOT NULL PRIMARY KEY,
    "last_tick" DATETIME NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 0,
    "updated_at" DATETIME NOT NULL
);
