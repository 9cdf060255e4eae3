-- A cancel asked for while the entry runs: its executor stops the run and stores it as cancelled; no
-- statement may finish, retry or hand back such an entry as anything else.
ALTER TABLE "ws_queued_operation" ADD COLUMN "cancel_requested_at" TIMESTAMP(3);
