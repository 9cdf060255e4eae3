// The V8 heap limits of a worker thread (executor, call and event-script workers alike).

/**
 * The young generation of a worker's heap (MB). V8's default grows it to ~32 MB under load, in every
 * thread: with 4 executor and 2 call workers that was ~60 MB of the serve process's resident memory under
 * the sustained bench (RSS at most 287 MB by default, 231 MB at 4, 223 MB at 2; no change in throughput
 * measured). A worker's garbage is short-lived (one batch or call); 4 MB still scavenges it cheaply, while
 * a batch with large parameters is not pushed into the old generation after every few entries.
 */
const YOUNG_GENERATION_MB = 4;

/** resourceLimits for a worker whose old generation may hold `memoryMb` MB before it is stopped. */
export const workerResourceLimits = (memoryMb: number) => ({ maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB });
