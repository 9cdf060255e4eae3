-- Idempotent requests: a user's ClientRequestIdentifier (cbwsOptions) and the answer of the call that used it first.
CREATE TABLE "ws_idempotent_request" (
    "user_id" INTEGER NOT NULL,
    "request_id" TEXT NOT NULL,
    "operation" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "answer" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL,
    "expires_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ws_idempotent_request_pkey" PRIMARY KEY ("user_id","request_id")
);

CREATE INDEX "ws_idempotent_request_expires_at_idx" ON "ws_idempotent_request"("expires_at");
