// Long-running processes (serve, work) ask V8 to favour memory over speed: its --optimize-for-size, set as
// they start, before any worker thread's heap is made (a start flag cannot be given through `wsgate serve`).
// V8 flags are process-wide: the main thread and every worker thread run under it. Measured (BENCHMARKS.md,
// sixteenth stop), the sustained bench on SQLite: the serve process's RSS at most 168-172 MB against 199-204,
// for more CPU per operation. WSGATE_OPTIMIZE_FOR_SIZE=off leaves V8's default.
import { setFlagsFromString } from 'node:v8';

export function favourMemory(on: boolean): void {
  if (on) setFlagsFromString('--optimize-for-size');
}
