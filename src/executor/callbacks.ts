// The executors' callback delivery loop: beside the operations, never in their way. It claims due deliveries
// (src/queue/callbacks.ts) with a lease, POSTs `{operationTrackingID, status, result}` signed with
// WSGATE_CALLBACK_SECRET and an Idempotency-Key (the delivery's id, the same for every try), and records each
// try: a 2xx ends it; anything else is tried again after the backoff until WSGATE_CALLBACK_TRIES are used.
// A slow or dead receiver holds one of a few delivery slots for at most the delivery timeout; the claim
// loop of the operations does not wait for deliveries at all.
import type { Logger } from 'pino';
import { backoffSeconds, type BackoffPolicy } from '../backoff.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/client.js';
import type { AllowList } from '../outbound/allow.js';
import { send } from '../outbound/send.js';
import { SIGNATURE_HEADER, signatureOf } from '../outbound/signature.js';
import { claimDeliveries, nextDelivery, recordTry, type ClaimedDelivery, type DeliveryTry } from '../queue/callbacks.js';

export interface DelivererOptions {
  db: Database;
  clock: Clock;
  log: Logger;
  secret: string;
  allow: AllowList;
  tries: number;
  backoff: BackoffPolicy;
  /** Deliveries sent at once. */
  concurrency?: number;
  /** How long one try waits for the receiver's answer (ms). */
  timeoutMs?: number;
}

/** A try's lease: longer than its timeout, so no other executor sends it meanwhile. */
const LEASE_SECONDS = 60;
export const CALLBACK_TIMEOUT_MS = 10_000;
const CONCURRENCY = 4;

export class CallbackDeliverer {
  private stopped = true;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  /** Claims that failed in a row: logged once per run of failures (the database's outage is logged elsewhere). */
  private failing = 0;

  constructor(private readonly o: DelivererOptions) {}

  /** Deliveries under way (each ends within its timeout). */
  private readonly inFlight = new Set<Promise<void>>();

  private get concurrency() {
    return this.o.concurrency ?? CONCURRENCY;
  }

  /** Claims due deliveries for the free slots and starts them; how many it started. */
  private async fill(): Promise<number> {
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return 0;
    const claimed = await claimDeliveries(this.o.db, this.o.clock.now(), LEASE_SECONDS, free);
    for (const d of claimed) {
      const p: Promise<void> = this.deliver(d).finally(() => {
        this.inFlight.delete(p);
        this.wake();
      });
      this.inFlight.add(p);
    }
    return claimed.length;
  }

  /** Sends every delivery due now, a few at once; resolves when none is left due or under way (a drain). */
  async deliverDue(): Promise<number> {
    let sent = 0;
    for (;;) {
      const started = await this.fill();
      sent += started;
      if (started === 0 && this.inFlight.size === 0) return sent;
      if (started === 0 || this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    }
  }

  /**
   * Delivers until stop(): fills the free slots, then sleeps until the next due delivery (`pollMs` at most),
   * a finished delivery or a wake(). A receiver that never answers holds one slot, for its timeout.
   */
  start(pollMs: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = (async () => {
      while (!this.stopped) {
        let sleepMs = pollMs;
        try {
          await this.fill();
          if (this.inFlight.size < this.concurrency) {
            const next = await nextDelivery(this.o.db);
            if (next) sleepMs = Math.min(pollMs, Math.max(0, next.getTime() - this.o.clock.now().getTime()));
          }
          this.failing = 0;
        } catch (error) {
          if (this.failing++ === 0) this.o.log.warn({ err: error }, 'callback deliveries could not be claimed; trying again at each poll');
        }
        if (this.stopped) break;
        await this.sleep(sleepMs);
      }
    })();
  }

  /** Something may have come due (an operation finished): look now. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops the loop after the deliveries in flight (each ends within its timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = null;
    await Promise.all(this.inFlight);
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      const self = this;
      function done() {
        clearTimeout(t);
        self.wakeUp = null;
        self.woken = false;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  private async deliver(d: ClaimedDelivery): Promise<void> {
    const { clock, log } = this.o;
    const now = clock.now();
    const body = JSON.stringify({ operationTrackingID: d.operationTrackingID, status: d.outcome, result: d.payload === null ? null : JSON.parse(d.payload) });
    const tried: DeliveryTry = { at: now.toISOString() };
    let ok = false;
    try {
      const answer = await send({
        url: new URL(d.url),
        method: d.method,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'wsgate-callback',
          [SIGNATURE_HEADER]: signatureOf(this.o.secret, Math.floor(now.getTime() / 1000), body),
          'idempotency-key': d.id,
        },
        body: Buffer.from(body),
        timeoutMs: this.o.timeoutMs ?? CALLBACK_TIMEOUT_MS,
        maxBodyBytes: 1_024,
        allow: this.o.allow,
        maxRedirects: 0,
      });
      tried.httpStatus = answer.status;
      ok = answer.status >= 200 && answer.status < 300;
    } catch (error) {
      tried.error = (error as Error).message;
    }
    const state = ok ? 'delivered' : d.attempts >= this.o.tries ? 'failed' : 'pending';
    const retryAt = new Date(clock.now().getTime() + backoffSeconds(this.o.backoff, d.attempts) * 1000);
    try {
      await recordTry(this.o.db, d, tried, state, retryAt, clock.now());
    } catch (error) {
      // Not recorded: the lease runs out and the delivery is tried again (the receiver may see it twice,
      // with the same Idempotency-Key).
      log.warn({ err: error, operationTrackingID: d.operationTrackingID }, 'a callback try could not be recorded');
    }
    if (state === 'failed') log.warn({ operationTrackingID: d.operationTrackingID, attempts: d.attempts }, 'callback delivery given up: its tries are used up');
  }
}
