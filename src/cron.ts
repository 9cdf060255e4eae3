// node-cron, required when an expression is first checked or scheduled rather than imported with the
// settings (config.ts, which every worker thread imports): a worker thread does not hold its ~1 MB.
import { createRequire } from 'node:module';
import type nodeCron from 'node-cron';

const requireCjs = createRequire(import.meta.url);
let loaded: typeof nodeCron | undefined;

export const cron = (): typeof nodeCron => (loaded ??= requireCjs('node-cron') as typeof nodeCron);
