// `wsgate run ID`: runs one queued operation now, in the foreground, and prints its stored envelope (the
// Queue Server's `php work.php -j123`). It claims the entry with a lease as an executor does, so an
// executor running meanwhile cannot run it too, and the engine's workers, retries and failed store apply.
import { engineOf } from '../runtime.js';
import { claimById, jobDetails } from '../queue/jobs.js';
import { Refusal, UsageError, withRuntime, type Verb } from './verb.js';

export const runVerbs: Record<string, Verb> = {
  run: {
    usage: 'wsgate run ID',
    help: `Runs the queued operation ID (an operationTrackingID, or a /jobs/add id) now, whether or not it is due,
as the user who queued it, and prints its envelope as JSON. Exit code 0 when it succeeded, 1 when it
answered an error or its attempt failed (a retry is then queued as usual), 2 when it is not queued (running,
finished, or unknown): an operation never runs twice. Its result stays to be read by its owner. An ID that
starts with - goes after --: wsgate run -- -Xy12.`,
    async run({ positionals }, config) {
      const [id, ...extra] = positionals;
      if (!id || extra.length > 0) throw new UsageError('needs exactly one ID');
      return withRuntime(config, async (rt) => {
        const claimed = await claimById(rt.db, id, rt.services.clock.now(), config.leaseSeconds);
        if (!claimed) {
          const known = await jobDetails(rt.db, id);
          throw new Refusal(known ? `operation ${id} is ${known.state}: only a queued one can be run` : `no queued operation ${id}`);
        }
        const engine = engineOf(rt, { concurrency: 1 });
        const stop = () => void engine.stop();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        try {
          await engine.runClaimed([claimed]);
        } finally {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          await engine.close();
        }
        const after = await jobDetails(rt.db, id);
        if (after?.result && (after.state === 'done' || after.state === 'failed')) {
          process.stdout.write(after.result + '\n');
          return (JSON.parse(after.result) as { success: boolean }).success ? 0 : 1;
        }
        process.stderr.write(`wsgate run: operation ${id} did not finish (${after?.state ?? 'gone'}); see wsgate failed or getQueuedOperationStatus\n`);
        return 1;
      });
    },
  },
};
