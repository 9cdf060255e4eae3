// The one clock of wsgate. Tests move it (in process with advance(), in child processes with
// WSGATE_CLOCK_OFFSET_MS) instead of sleeping until a schedule comes due. Its offset lives in shared
// memory, so the executor's worker threads see every move of the main thread's clock.
export class Clock {
  private readonly offset: Float64Array;

  constructor(offsetMs: number | SharedArrayBuffer = 0) {
    if (typeof offsetMs === 'number') {
      this.offset = new Float64Array(new SharedArrayBuffer(8));
      this.offset[0] = offsetMs;
    } else {
      this.offset = new Float64Array(offsetMs);
    }
  }

  now(): Date {
    return new Date(Date.now() + this.offset[0]!);
  }

  advance(ms: number): void {
    this.offset[0] = this.offset[0]! + ms;
  }

  /** For another thread's Clock: `new Clock(clock.shared)`. */
  get shared(): SharedArrayBuffer {
    return this.offset.buffer as SharedArrayBuffer;
  }
}
