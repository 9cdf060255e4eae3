// The in-process executor of `wsgate serve`: a node-cron schedule whose runs never overlap.
import cron from 'node-cron';
import { purgeExpired } from './maintenance.js';
import { formatSummary, runPass, type Executor } from './pass.js';

export interface ScheduledExecutor {
  /** Runs one pass now unless one is running; resolves when it has ended. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function scheduleExecutor(ex: Executor, expression: string): ScheduledExecutor {
  if (!cron.validate(expression)) throw new Error(`WSGATE_EXECUTOR_SCHEDULE: "${expression}" is not a cron expression`);
  let running: Promise<void> | null = null;
  const tick = () => {
    running ??= (async () => {
      try {
        const summary = await runPass(ex);
        await purgeExpired(ex.db.prisma, ex.services.clock.now(), ex.services.sessionPolicy);
        if (summary.run || summary.lost) ex.log.info(summary, formatSummary(summary));
      } catch (error) {
        ex.log.error({ err: error }, 'executor pass failed');
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const task = cron.schedule(expression, () => void tick(), { noOverlap: true });
  return {
    tick,
    async stop() {
      await task.stop();
      await running;
    },
  };
}
