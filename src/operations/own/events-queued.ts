// The internal operation a queued event script runs as: an ordinary queue entry (leases, retries, the
// failed store) whose parameters are the snapshot of the committed call. It cannot be called.
import fs from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { pathToFileURL } from 'node:url';
import type { OperationDefinition } from '../types.js';
import type { QueuedEvent } from './events-define.js';
import { QUEUED_EVENT } from './events-hooks.js';
import { importEventScript } from './events-load.js';

export const queuedEventOperation: OperationDefinition = {
  name: QUEUED_EVENT,
  method: 'POST',
  prelogin: false,
  queueable: true,
  internal: true,
  summary: 'Runs a queued event script with the snapshot of the call it hooks (queued by the call, never called).',
  params: [],
  async run(ctx, p) {
    const snapshot = p as unknown as QueuedEvent;
    const events = ctx.services.events;
    if (typeof snapshot.script !== 'string' || path.basename(snapshot.script) !== snapshot.script) throw new Error('a queued event without a script name');
    const file = path.join(events.dir, snapshot.script);
    // Its text as it is now (a reload may have changed it since the call); a file removed since fails the run.
    const script = await importEventScript(`${pathToFileURL(file).href}?v=${fs.statSync(file).mtimeMs}`, file);
    const log = events.log.child({ script: snapshot.script, operationTrackingID: ctx.trackingId });
    await script(snapshot, { user: snapshot.request.user, log: (...args: unknown[]) => log.info(format(...args)) });
    return null;
  },
};
