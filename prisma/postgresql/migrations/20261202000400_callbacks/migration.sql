-- Callbacks (cbwsOptions.callback): where a deferred operation reports its final outcome, and the deliveries.
-- A trigger makes the delivery in the statement that makes the outcome final (done, failed, cancelled),
-- whichever path does it (a worker's commit, the failed store, a cancel), so nothing is lost between the
-- two. The delivery keeps a copy of the envelope until it is delivered or given up.
ALTER TABLE "ws_queued_operation" ADD COLUMN "callback" TEXT;

CREATE TABLE "ws_callback_delivery" (
    "id" TEXT NOT NULL,
    "operation_id" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "url" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "payload" TEXT,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "log" TEXT NOT NULL DEFAULT '[]',
    "available_at" TIMESTAMP(3) NOT NULL,
    "lease_token" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "ws_callback_delivery_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "ws_callback_delivery_state_available_at_idx" ON "ws_callback_delivery"("state", "available_at");
CREATE INDEX "ws_callback_delivery_operation_id_idx" ON "ws_callback_delivery"("operation_id");

CREATE FUNCTION wsgate_callback_on_final() RETURNS trigger AS $$
BEGIN
  INSERT INTO "ws_callback_delivery" ("id", "operation_id", "user_id", "url", "method", "outcome", "payload", "available_at", "created_at")
  VALUES (replace(gen_random_uuid()::text, '-', ''), NEW."id", NEW."user_id", NEW."callback"::json ->> 'url', NEW."callback"::json ->> 'method',
          NEW."state", NEW."result", COALESCE(NEW."finished_at", NEW."submitted_at"), COALESCE(NEW."finished_at", NEW."submitted_at"));
  RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "ws_callback_on_final" AFTER UPDATE OF "state" ON "ws_queued_operation"
FOR EACH ROW WHEN (NEW."callback" IS NOT NULL AND NEW."state" IN ('done', 'failed', 'cancelled') AND OLD."state" IS DISTINCT FROM NEW."state")
EXECUTE FUNCTION wsgate_callback_on_final();
