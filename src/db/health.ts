// Whether the database serves, as this process last saw it: requests and the executor report what they
// meet, and a change of state is logged once ("database unavailable", "database available again") rather
// than once per failed statement, so that an outage does not flood the log.
import type { Logger } from 'pino';
import { databaseUnavailability } from './errors.js';

export type Unavailability = NonNullable<ReturnType<typeof databaseUnavailability>>;

export class DatabaseHealth {
  private down: { reason: Unavailability; since: number } | null = null;

  /** A time stamp for `ok(startedAt)`: take it before the work whose success is reported. */
  static now = () => performance.now();

  constructor(private readonly log: Logger) {}

  /** The reason the database is unavailable, or null while it serves. */
  get unavailable(): Unavailability | null {
    return this.down?.reason ?? null;
  }

  /**
   * Records a failure. Returns its unavailability (null for an error that is not the database's being
   * unavailable: the caller handles that one). Logs only when the state changes.
   */
  failed(error: unknown): Unavailability | null {
    const reason = databaseUnavailability(error);
    if (!reason) return null;
    if (this.down?.reason !== reason) {
      this.log.error({ reason, error: (error as Error)?.message }, 'database unavailable');
      this.down = { reason, since: performance.now() };
    }
    return reason;
  }

  /**
   * Records a success of work started at `startedAt` (DatabaseHealth.now()); true when the database was
   * unavailable until now. Work started before the failure was recorded proves nothing (a request already
   * answered by the database as it went down) and changes no state.
   */
  ok(startedAt = DatabaseHealth.now()): boolean {
    if (!this.down || startedAt < this.down.since) return false;
    this.log.info({ reason: this.down.reason, downForMs: Math.round(performance.now() - this.down.since) }, 'database available again');
    this.down = null;
    return true;
  }
}
