// `wsgate serve` asks V8 to favour memory over speed: its --optimize-for-size, set as it starts, before any
// worker thread's heap is made (a start flag cannot be given through `wsgate serve`). V8 flags are
// process-wide: the main thread and every worker thread run under it. Measured (BENCHMARKS.md, sixteenth
// stop), the sustained bench on SQLite: the serve process's RSS at most 166-172 MB against 185-204, for ~10%
// more CPU per operation. WSGATE_OPTIMIZE_FOR_SIZE=off leaves V8's default. `wsgate work` (a dedicated
// executor, whose memory was not measured under it) keeps V8's default: its add-to-start p99 at concurrency
// 16 was 17-22 ms (one run 77) with it on against 12-30 off, eight alternating runs each: no gain to show for it.
import { setFlagsFromString } from 'node:v8';

export function favourMemory(on: boolean): void {
  if (on) setFlagsFromString('--optimize-for-size');
}
