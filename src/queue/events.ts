// Enqueues made in this process, for an executor in the same process (`wsgate serve` on SQLite, where no
// other process can be told): it wakes at once instead of at its next poll.
import { EventEmitter } from 'node:events';

export interface Enqueued {
  queue: string;
  dueAt: Date;
}

class QueueEvents extends EventEmitter<{ enqueued: [Enqueued] }> {}

export const queueEvents = new QueueEvents();
