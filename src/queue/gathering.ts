// PostgreSQL: submits that come while earlier ones are on their way to the database go together in one
// statement (./sql/enqueue.ts's insertGatheredWhere): one plan, one run of the table's statement triggers,
// one commit and one round trip for all of them, where each was one of each. A submit that finds fewer than
// `inFlight` statements under way goes at once, alone: a quiet gateway adds no wait to a submit, and a busy
// one gathers as many as came during a statement's round trip (so the size follows the load, with no timer).
//
// What a row's guard refused in a gathered statement, and every row of a gathered statement that failed, is
// answered `again`: the caller queues it alone, as it would have without gathering (the same id, so an
// entry whose statement committed although its answer was lost cannot be queued twice), and a refusal gets
// its exact reason there. A statement of one row answers for itself.
import type { GatheredValues } from './sql/enqueue.js';

/** Runs one gathered statement; the ids it queued. */
export type RunGathered = (rows: GatheredValues[]) => Promise<ReadonlySet<string>>;

export interface GatheringLimits {
  /** Statements under way at most; a submit beyond them waits for the next one. */
  inFlight: number;
  /** Rows of one statement at most. */
  rows: number;
}

interface Waiting {
  row: GatheredValues;
  resolve: (outcome: 'queued' | 'again') => void;
  reject: (error: unknown) => void;
}

/**
 * The rows in the order of their users' ids. A limited user's guard takes that user's lock (./sql/quota.ts):
 * statements that take several users' locks all take them in one order, so that two cannot deadlock.
 */
const byUser = (rows: GatheredValues[]) => [...rows].sort((a, b) => a.userId - b.userId);

export class Gathering {
  private waiting: Waiting[] = [];
  private underWay = 0;
  /** Statements run and rows they carried, since the start (for the benchmark and the tests). */
  readonly counts = { statements: 0, rows: 0 };

  constructor(
    private readonly run: RunGathered,
    private readonly limits: GatheringLimits = { inFlight: 2, rows: 100 },
  ) {}

  /** `queued`: the entry is committed; `again`: it is not, queue it alone. Rejects when its own statement failed. */
  add(row: GatheredValues): Promise<'queued' | 'again'> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      if (this.underWay < this.limits.inFlight) void this.next();
    });
  }

  private async next(): Promise<void> {
    const batch = this.waiting.splice(0, this.limits.rows);
    if (batch.length === 0) return;
    this.underWay++;
    this.counts.statements++;
    this.counts.rows += batch.length;
    try {
      const queued = await this.run(byUser(batch.map((w) => w.row)));
      for (const w of batch) w.resolve(queued.has(w.row.id) ? 'queued' : 'again');
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else for (const w of batch) w.resolve('again');
    } finally {
      this.underWay--;
      if (this.waiting.length > 0) void this.next();
    }
  }
}
