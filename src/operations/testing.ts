// Operations that exist only when WSGATE_TEST_OPERATIONS=on: the test suite uses them to hold an executor
// inside a running operation (to kill it there) and to raise an unexpected exception.
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRecord, moduleOf } from '../records/store.js';
import { validateElement } from '../records/validate.js';
import { WsError } from '../errors.js';
import { callerOf, type OperationDefinition } from './types.js';

export const testOperations: OperationDefinition[] = [
  {
    name: 'wsgatetest_slowcreate',
    method: 'POST',
    prelogin: false,
    queueable: true,
    summary:
      'Testing only: create, append this process id to the file `marker`, wait until the file `release` exists, then succeed (or fail, with `fail`).',
    params: [
      { name: 'elementType', type: 'string', required: true, description: 'Module name' },
      { name: 'element', type: 'encoded', required: true, description: 'JSON object of field values' },
      { name: 'marker', type: 'string', required: true, description: 'File written once the record is created' },
      { name: 'release', type: 'string', required: true, description: 'File whose existence lets the operation finish' },
      { name: 'fail', type: 'string', required: false, description: '`1`: fail once released, rolling the record back' },
    ],
    async run(ctx, p) {
      const module = moduleOf(ctx.services.modules, p.elementType);
      const record = await createRecord(ctx.db, module, validateElement(module, p.element), callerOf(ctx), ctx.services.clock.now());
      fs.appendFileSync(String(p.marker), `${process.pid}\n`);
      while (!fs.existsSync(String(p.release))) await sleep(20);
      if (p.fail === '1') throw new WsError('VALIDATION_FAILED', 'wsgatetest_slowcreate: failed on request');
      return record;
    },
  },
  {
    name: 'wsgatetest_throw',
    method: 'POST',
    prelogin: false,
    queueable: true,
    summary: 'Testing only: fails with an unexpected exception.',
    params: [],
    async run() {
      throw new TypeError('wsgatetest_throw: an unexpected failure');
    },
  },
];
