-- CreateTable
CREATE TABLE "ws_user" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "user_name" TEXT NOT NULL,
    "access_key_enc" TEXT NOT NULL,
    "password_hash" TEXT,
    "is_admin" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ws_challenge" (
    "user_name" TEXT NOT NULL PRIMARY KEY,
    "token" TEXT NOT NULL,
    "expires_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ws_session" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "user_id" INTEGER NOT NULL,
    "created_at" DATETIME NOT NULL,
    "last_seen_at" DATETIME NOT NULL,
    CONSTRAINT "ws_session_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "ws_user" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ws_record" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "module" TEXT NOT NULL,
    "owner_id" INTEGER NOT NULL,
    "data" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,
    "modified_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "ws_queued_operation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "operation" TEXT NOT NULL,
    "params" TEXT NOT NULL,
    "user_id" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'queued',
    "available_at" DATETIME NOT NULL,
    "due_at" DATETIME NOT NULL,
    "submitted_at" DATETIME NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lease_token" TEXT,
    "started_at" DATETIME,
    "finished_at" DATETIME,
    "result" TEXT,
    "result_expires_at" DATETIME
);

-- CreateIndex
CREATE UNIQUE INDEX "ws_user_user_name_key" ON "ws_user"("user_name");

-- CreateIndex
CREATE INDEX "ws_session_user_id_idx" ON "ws_session"("user_id");

-- CreateIndex
CREATE INDEX "ws_record_module_idx" ON "ws_record"("module");

-- CreateIndex
CREATE INDEX "ws_queued_operation_state_available_at_idx" ON "ws_queued_operation"("state", "available_at");

-- CreateIndex
CREATE INDEX "ws_queued_operation_result_expires_at_idx" ON "ws_queued_operation"("result_expires_at");

