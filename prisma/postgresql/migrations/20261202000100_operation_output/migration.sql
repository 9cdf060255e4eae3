-- An own operation's report of its run (ctx.progress, ctx.log): the last progress (0 to 1) and its
-- message, and its log lines (a JSON array of text, capped), stored with the entry's result or failure.
ALTER TABLE "ws_queued_operation" ADD COLUMN "progress" DOUBLE PRECISION;
ALTER TABLE "ws_queued_operation" ADD COLUMN "progress_message" TEXT;
ALTER TABLE "ws_queued_operation" ADD COLUMN "output" TEXT;
