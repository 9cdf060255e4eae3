// What a worker thread does not load until it needs it (issue 13, memory): @opentelemetry/api without an SDK
// registered in the thread, ajv before an operation's parameters or a record are checked there, node-cron,
// and what httpRequest and exec use before they run. Each
// worker below watches every script its isolate compiles (the inspector's Debugger.scriptParsed: ES modules
// and CommonJS alike) while it sets up as the executor's and call workers do.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { loadConfig } from '../src/config.js';
import { loadModules } from '../src/records/modules.js';
import { backends, testEnv } from './support.js';

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

  test("the registry and services as a worker sets them up load no ajv, node-cron, http or child_process; an operation's first check loads ajv, and checks", async () => {
    const config = loadConfig(testEnv(await backends[0]!.freshUrl()));
    const modules = loadModules(config.modulesFile).modules;
    const { reply, scripts } = await watched(
      `const { loadRegistry } = await import(${src('operations/registry.js')});
       const { servicesOf } = await import(${src('services.js')});
       const { validateElement } = await import(${src('records/validate.js')});
       const { threadLogger } = await import(${src('thread-log.js')});
       const lines = [];
       const log = threadLogger('info', (line) => lines.push(line), { worker: true });
       const { config } = workerData;
       const registry = await loadRegistry({ operationsDir: config.operationsDir, inWorker: true });
       const services = servicesOf(config, { modules: workerData.modules, log });
       mark('setUp');
       const greet = registry.get('greet');
       const user = { isAdmin: true };
       greet.precheck({ user }, { name: 'Ann', times: '3' });
       let refused;
       try {
         greet.precheck({ user }, { name: 'Ann', times: 'many' });
       } catch (error) {
         refused = error.code + ': ' + error.message;
       }
       mark('ownChecked');
       let invalid;
       try {
         validateElement(services.modules.get('Contacts'), { lastname: 'x', email: 'not an email' });
       } catch (error) {
         invalid = error.code;
       }
       return { modules: services.modules.modules.length, refused, invalid };`,
      { config, modules },
    );
    const phases = reply.phases as Record<string, number>;
    assert.equal(reply.modules, modules.length, "the main thread's definitions");
    const setUp = scripts.slice(0, phases.setUp);
    assert.ok(of(setUp, 'operations/registry.js').length > 0, 'the registry was watched');
    for (const what of ['/ajv/', '/node-cron/', 'node:https', 'node:child_process', '@opentelemetry', '/pino/', '/better-sqlite3/']) {
      assert.deepEqual(of(setUp, what), [], what);
    }
    assert.ok(of(scripts.slice(phases.setUp, phases.ownChecked), '/ajv/').length > 0, "loaded by the operation's first check");
    assert.match(String(reply.refused), /^INVALID_PARAMETER: greet: parameter times must be integer/);
    assert.equal(reply.invalid, 'VALIDATION_FAILED', 'records are checked too');
  });
});
