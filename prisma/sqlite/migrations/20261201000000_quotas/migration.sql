-- Quotas and operator controls: disabled users, per-user overrides of the queue quotas (null: the
-- settings' values), and the bytes of each entry's parameters, which the quotas count and sum per user
-- from one index (user_id, state, params_bytes) without reading the entries.
ALTER TABLE "ws_user" ADD COLUMN "disabled_at" DATETIME;
ALTER TABLE "ws_user" ADD COLUMN "quota_queued" INTEGER;
ALTER TABLE "ws_user" ADD COLUMN "quota_queued_bytes" INTEGER;
ALTER TABLE "ws_user" ADD COLUMN "quota_max_delay_seconds" INTEGER;
ALTER TABLE "ws_queued_operation" ADD COLUMN "params_bytes" INTEGER NOT NULL DEFAULT 0;

UPDATE "ws_queued_operation" SET "params_bytes" = length(CAST("params" AS BLOB)) WHERE "state" IN ('queued', 'running', 'failed');

CREATE INDEX "ws_queued_operation_user_id_state_params_bytes_idx" ON "ws_queued_operation"("user_id", "state", "params_bytes");
