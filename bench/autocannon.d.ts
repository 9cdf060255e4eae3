// The part of autocannon's programmatic API the benchmark uses (the package ships no types).
declare module 'autocannon' {
  interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    /** Requests made in turn on each connection; setupRequest may rewrite one (its path) before it is sent. */
    requests?: { setupRequest?: (req: { path?: string; method?: string }) => { path?: string; method?: string } }[];
    /** Requests per second across all connections at most. */
    overallRate?: number;
    /** Called with every response body; false counts the response as a mismatch. */
    verifyBody?: (body: string) => boolean;
  }
  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    sent?: number;
  }
  interface AutocannonResult {
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    '2xx': number;
    latency: Histogram;
    requests: Histogram;
    statusCodeStats: Record<string, { count: number }>;
  }
  /** In the main thread it resolves to the aggregated result; in a worker thread to a raw one. */
  function autocannon(options: AutocannonOptions): Promise<unknown>;
  namespace autocannon {
    /** Aggregates raw results (those a run in a worker thread resolves to). */
    function aggregateResult(results: unknown[], options: AutocannonOptions): AutocannonResult;
  }
  export = autocannon;
}
