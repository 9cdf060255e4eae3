// The main thread's young generation, held at YOUNG_GENERATION_MB in a long-running process (serve, work).
//
// V8 grows a thread's young generation (its two semi-spaces) up to 32 MB as a start or a load lets objects
// survive scavenges, and never gives it back under load: a gateway held 16 MB of it once started and 32 MB
// under the sustained bench, a sixth of its resident memory. Worker threads are capped at creation
// (src/worker-limits.ts), but the main thread can only be capped by the start flag --max-semi-space-size,
// which also overrides every worker's cap (raising theirs). What V8 reads each time it grows the young
// generation is --semi-space-growth-factor: set to 1 (no growth) once the young generation has reached the
// cap, back to V8's 2 below it. Creating a worker's heap resets the flag to 2 (V8 clamps it there), so it is
// set again on every check. Between two checks the young generation can still double once past the cap.
//
// Measured (bench sustained, 30-40 s, alternating runs): RSS at most 180-197 MB instead of 202-220, the
// same CPU per operation within noise (SQLite 477 against 456-474 us, PostgreSQL 913-935 against 903-1,097).
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** Both semi-spaces together, as V8 reports the new space's size (MB). */
export const YOUNG_GENERATION_MB = 8;
const CHECK_MS = 100;
const V8_GROWTH_FACTOR = 2;

const newSpaceBytes = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/** Runs `check` every 100 ms without keeping the process alive; answers how to stop. */
const everyCheck = (check: () => void) => {
  const timer = setInterval(check, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
};

/**
 * Holds this thread's young generation at `mb`, checked as `schedule` calls back (every 100 ms); the returned
 * function lets it grow again.
 */
export function holdYoungGeneration(mb = YOUNG_GENERATION_MB, schedule: (check: () => void) => () => void = everyCheck): () => void {
  const limit = mb * 1024 * 1024;
  const check = () => {
    // One growth doubles it: allowed only while the doubled size stays within the limit.
    setFlagsFromString(`--semi-space-growth-factor=${newSpaceBytes() * 2 <= limit ? V8_GROWTH_FACTOR : 1}`);
  };
  check();
  const stop = schedule(check);
  return () => {
    stop();
    setFlagsFromString(`--semi-space-growth-factor=${V8_GROWTH_FACTOR}`);
  };
}

/** The young generation's size now (MB), as V8 reports it. */
export const youngGenerationMb = () => newSpaceBytes() / (1024 * 1024);
