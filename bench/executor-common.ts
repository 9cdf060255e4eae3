// What both executor measurements share: the operation they queue and the shape of a measurement.

/** The sanitized parameters of `create Contacts {"lastname":"Bench"}`, as the dispatcher queues them. */
export const CREATE_PARAMS = { elementType: 'Contacts', element: { lastname: 'Bench' } };

export interface ExecutorMeasurement {
  /** Operations in the measured pass. */
  n: number;
  ms: number;
  opsPerSecond: number;
  /** Why the run cannot be trusted; empty when every check passed. */
  problems: string[];
}

export interface ExecutorSettings {
  n: number;
  /** Operations run (and checked) before the measured pass, to warm up the code paths. */
  warmup: number;
  claimBatch: number;
}

export const measurement = (n: number, ms: number, problems: string[]): ExecutorMeasurement => ({
  n,
  ms: Math.round(ms),
  opsPerSecond: (n / ms) * 1000,
  problems,
});
