// What a worker thread does not load until it needs it (issue 13, memory): @opentelemetry/api without an SDK
// registered in the thread, pino (its lines go to the main thread's), node-cron, better-sqlite3 on
// PostgreSQL, what httpRequest and exec use before they run, and ajv before a record is checked (own
// operations' schemas are compiled as the worker starts: its first batch does not wait for them). Each
// worker below watches every script its isolate compiles (the inspector's Debugger.scriptParsed: ES modules
// and CommonJS alike) while it sets up as the executor's and call workers do.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { loadConfig } from '../src/config.js';
import { loadModules } from '../src/records/modules.js';
import path from 'node:path';
import { backends, testEnv, tmpDir } from './support.js';
import type { Config } from '../src/config.js';
import type { ModuleDefinition } from '../src/records/modules.js';

const src = (file: string) => JSON.stringify(new URL(`../src/${file}`, import.meta.url).href);

/** Runs `body` (an ES module's statements after the watch starts) in a worker; answers what it posts back and the scripts compiled. */
async function watched(body: string, workerData: unknown): Promise<{ reply: Record<string, unknown>; scripts: string[] }> {
  const worker = new Worker(
    `import { Session } from 'node:inspector/promises';
     import { parentPort, workerData } from 'node:worker_threads';
     const session = new Session();
     session.connect();
     const scripts = [];
     session.on('Debugger.scriptParsed', ({ params }) => scripts.push(params.url));
     await session.post('Debugger.enable');
     const phases = {};
     const mark = (name) => (phases[name] = scripts.length);
     const reply = await (async () => { ${body} })();
     session.disconnect();
     parentPort.postMessage({ reply, phases, scripts });`,
    { eval: true, type: 'module', workerData } as WorkerOptions,
  );
  try {
    const [out] = (await once(worker, 'message')) as [{ reply: Record<string, unknown>; phases: Record<string, number>; scripts: string[] }];
    return { reply: { ...out.reply, phases: out.phases }, scripts: out.scripts };
  } finally {
    await worker.terminate();
  }
}

const of = (scripts: string[], what: string) => scripts.filter((url) => url.includes(what));

describe('what a worker thread loads', () => {
  test('no SDK registered: spans and statement spans work without loading @opentelemetry/api', async () => {
    const { reply, scripts } = await watched(
      `const { startSpan, inSpan, withSpanContext } = await import(${src('observe/trace.js')});
       const { span, spanContext } = startSpan('run x', null);
       span.end();
       const answer = await withSpanContext(spanContext, () => inSpan('db SELECT', {}, async () => 42));
       return { answer, traceId: spanContext.traceId };`,
      {},
    );
    assert.ok(of(scripts, 'observe/trace.js').length > 0, 'the module was watched');
    assert.equal(reply.answer, 42);
    assert.match(String(reply.traceId), /^[0-9a-f]{32}$/);
    assert.deepEqual(of(scripts, '@opentelemetry'), []);
  });

  /** Sets up a registry and services as the executor's and call workers do, then checks parameters and a record. */
  const setUp = (operationsDir: string, modules: ModuleDefinition[], config: Config) =>
    watched(
      `const { loadRegistry } = await import(${src('operations/registry.js')});
       const { servicesOf } = await import(${src('services.js')});
       const { validateElement } = await import(${src('records/validate.js')});
       const { threadLogger } = await import(${src('thread-log.js')});
       const log = threadLogger('info', () => undefined, { worker: true });
       const { config, operationsDir } = workerData;
       const registry = await loadRegistry({ operationsDir, inWorker: true });
       const services = servicesOf(config, { modules: workerData.modules, log });
       mark('setUp');
       const greet = registry.get('greet');
       const user = { isAdmin: true };
       let refused;
       if (greet) {
         greet.precheck({ user }, { name: 'Ann', times: '3' });
         try {
           greet.precheck({ user }, { name: 'Ann', times: 'many' });
         } catch (error) {
           refused = error.code + ': ' + error.message;
         }
       }
       mark('ownChecked');
       let invalid;
       try {
         validateElement(services.modules.get('Contacts'), { lastname: 'x', email: 'not an email' });
       } catch (error) {
         invalid = error.code;
       }
       return { modules: services.modules.modules.length, refused, invalid };`,
      { config, modules, operationsDir },
    );

  test('set up as a worker: no node-cron, http, child_process, pino, better-sqlite3, nor ajv without own operations; ajv when a record is first checked', async () => {
    const config = loadConfig(testEnv(await backends[0]!.freshUrl()));
    const modules = loadModules(config.modulesFile).modules;
    const { reply, scripts } = await setUp(path.join(tmpDir('imports'), 'no-operations'), modules, config);
    const phases = reply.phases as Record<string, number>;
    assert.equal(reply.modules, modules.length, "the main thread's definitions");
    const during = scripts.slice(0, phases.setUp);
    assert.ok(of(during, 'operations/registry.js').length > 0, 'the registry was watched');
    for (const what of ['/ajv/', '/node-cron/', 'node:https', 'node:child_process', '@opentelemetry', '/pino/', '/better-sqlite3/']) {
      assert.deepEqual(of(during, what), [], what);
    }
    assert.ok(of(scripts.slice(phases.ownChecked), '/ajv/').length > 0, 'loaded by the first record checked');
    assert.equal(reply.invalid, 'VALIDATION_FAILED', 'and the record checked');
  });

  test("with own operations, their schemas are compiled as the worker sets up, not at an operation's first run", async () => {
    const config = loadConfig(testEnv(await backends[0]!.freshUrl()));
    const modules = loadModules(config.modulesFile).modules;
    const { reply, scripts } = await setUp(config.operationsDir, modules, config);
    const phases = reply.phases as Record<string, number>;
    assert.ok(of(scripts.slice(0, phases.setUp), '/ajv/').length > 0, 'ajv loaded as the worker sets up');
    assert.deepEqual(of(scripts.slice(phases.setUp, phases.ownChecked), '/ajv/'), [], 'nothing more for the first check');
    assert.match(String(reply.refused), /^INVALID_PARAMETER: greet: parameter times must be integer/);
  });
});
