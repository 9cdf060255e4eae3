// The in-process executor of `wsgate serve`: a listening engine, woken by enqueues in this process (and by
// NOTIFY on PostgreSQL), and by a node-cron schedule that stands in for the listener's poll interval.
import { cron } from '../cron.js';
import type { Engine } from './engine.js';

export interface ScheduledExecutor {
  engine: Engine;
  stop(): Promise<void>;
  /** After a reload of the operations: its worker threads are replaced. */
  recycleWorkers(): void;
}

export function scheduleExecutor(engine: Engine, expression: string): ScheduledExecutor {
  if (!cron().validate(expression)) throw new Error(`WSGATE_EXECUTOR_SCHEDULE: "${expression}" is not a cron expression`);
  const listening = engine.listen();
  const task = cron().schedule(expression, () => engine.poke(), { noOverlap: true });
  return {
    recycleWorkers: () => engine.recycleWorkers(),
    engine,
    async stop() {
      await task.stop();
      await engine.close();
      await listening;
    },
  };
}
