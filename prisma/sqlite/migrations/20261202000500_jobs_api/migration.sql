-- The Queue Server's API and the 202 doors (issue 12): a free label kept with each queued entry
-- (`context`, filterable), users' API tokens (only their SHA-256 is stored), and a short record of
-- results already read, so that a second read answers 410 Gone rather than 404.
ALTER TABLE "ws_queued_operation" ADD COLUMN "context" TEXT;
CREATE INDEX "ws_queued_operation_context_idx" ON "ws_queued_operation"("context");

CREATE TABLE "ws_api_token" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "user_id" INTEGER NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "revoked_at" DATETIME,
    CONSTRAINT "ws_api_token_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "ws_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "ws_api_token_token_hash_key" ON "ws_api_token"("token_hash");
CREATE INDEX "ws_api_token_user_id_idx" ON "ws_api_token"("user_id");

CREATE TABLE "ws_result_taken" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "user_id" INTEGER NOT NULL,
    "taken_at" DATETIME NOT NULL,
    "expires_at" DATETIME NOT NULL
);
CREATE INDEX "ws_result_taken_expires_at_idx" ON "ws_result_taken"("expires_at");
