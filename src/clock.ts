// The one clock of wsgate. Tests move it (in process with advance(), in child processes with
// WSGATE_CLOCK_OFFSET_MS) instead of sleeping until a schedule comes due.
export class Clock {
  constructor(private offsetMs = 0) {}
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
