-- Callbacks (cbwsOptions.callback): where a deferred operation reports its final outcome, and the deliveries.
-- A trigger makes the delivery in the statement that makes the outcome final (done, failed, cancelled),
-- whichever path does it (a worker's commit, the failed store, a cancel), so nothing is lost between the
-- two. The delivery keeps a copy of the envelope until it is delivered or given up.
ALTER TABLE "ws_queued_operation" ADD COLUMN "callback" TEXT;

CREATE TABLE "ws_callback_delivery" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "operation_id" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "url" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "payload" TEXT,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "log" TEXT NOT NULL DEFAULT '[]',
    "available_at" DATETIME NOT NULL,
    "lease_token" TEXT,
    "created_at" DATETIME NOT NULL,
    "finished_at" DATETIME
);
CREATE INDEX "ws_callback_delivery_state_available_at_idx" ON "ws_callback_delivery"("state", "available_at");
CREATE INDEX "ws_callback_delivery_operation_id_idx" ON "ws_callback_delivery"("operation_id");

CREATE TRIGGER "ws_callback_on_final" AFTER UPDATE OF "state" ON "ws_queued_operation"
FOR EACH ROW WHEN NEW."callback" IS NOT NULL AND NEW."state" IN ('done', 'failed', 'cancelled') AND OLD."state" IS NOT NEW."state"
BEGIN
  INSERT INTO "ws_callback_delivery" ("id", "operation_id", "user_id", "url", "method", "outcome", "payload", "available_at", "created_at")
  VALUES (lower(hex(randomblob(16))), NEW."id", NEW."user_id", json_extract(NEW."callback", '$.url'), json_extract(NEW."callback", '$.method'),
          NEW."state", NEW."result", COALESCE(NEW."finished_at", NEW."submitted_at"), COALESCE(NEW."finished_at", NEW."submitted_at"));
END;
