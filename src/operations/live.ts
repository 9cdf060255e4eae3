// The registry in force, which SIGHUP replaces as a whole: each call looks its operation up once and runs
// what it found, so calls in flight finish on the set they started with while new calls get the new set.
// A reload that fails (a broken file) leaves the set in force as it was. What a reload loads is whatever
// `load` returns: the built-in operations and the deployment's own code (loadRegistry).
import type { OperationDefinition } from './types.js';
import type { OperationRegistry } from './registry.js';

export type ReloadOutcome = { ok: true; operations: number } | { ok: false; reason: string };

export class LiveRegistry {
  private current: OperationRegistry;
  private last: Promise<unknown> = Promise.resolve();

  constructor(
    initial: OperationRegistry,
    private readonly load: () => Promise<OperationRegistry>,
  ) {
    this.current = initial;
  }

  /** The set in force now (keep it for the length of one call). */
  get registry(): OperationRegistry {
    return this.current;
  }

  get list(): OperationDefinition[] {
    return this.current.list;
  }

  /** The own code's files in force (worker threads load these as they start). */
  get files(): string[] {
    return this.current.files;
  }

  /** Operation names are case-insensitive, as in coreBOS. */
  get(name: string): OperationDefinition | undefined {
    return this.current.get(name);
  }

  /** Loads the set afresh; reloads asked while one runs follow it, one at a time. */
  reload(): Promise<ReloadOutcome> {
    const next = this.last.then(() => this.loadNow());
    this.last = next;
    return next;
  }

  private async loadNow(): Promise<ReloadOutcome> {
    let next: OperationRegistry;
    try {
      next = await this.load();
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    this.current = next;
    return { ok: true, operations: next.list.length };
  }
}
