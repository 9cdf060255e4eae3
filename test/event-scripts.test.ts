// Event scripts (WSGATE_EVENTS_DIR): pre scripts reject and rewrite calls (deferred ones at submit, so a
// rejected one queues nothing), post scripts rewrite results, queued scripts fire exactly once per
// committed call (synchronous or deferred run) and never for one that rolled back, with a snapshot of what
// was sent and answered and no secret settings; a pre script that never returns answers TIMEOUT while the
// gateway keeps serving; broken files stop the start with their name.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot, loadConfig } from '../src/config.js';
import { openRuntime } from '../src/runtime.js';
import { loadModules } from '../src/records/modules.js';
import { moduleOfCall, publicSettings } from '../src/operations/own/events-hooks.js';
import { ADMIN_KEY, backends, call, login, runCli, runPass, startGateway, testEnv, type Gateway, shown, tmpDir } from './support.js';

const fixtures = path.join(packageRoot, 'test', 'fixtures');
const deferred = '{"launchfromqueue":1}';

for (const backend of backends) {
  describe(`event scripts on ${backend.name}`, () => {
    let gw: Gateway;
    let admin: string;
    before(async () => {
      gw = await startGateway(backend, {
        WSGATE_EVENTS_DIR: path.join(fixtures, 'events', 'hooks'),
        WSGATE_OPERATIONS_DIR: path.join(fixtures, 'operations'),
        WSGATE_EVENT_TIMEOUT_MS: '3000',
      });
      admin = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    const queued = () => gw.rt.db.prisma.queuedOperation.count();
    const eventsFile = () => path.join(gw.env.WSGATE_DATA_DIR!, 'queued-events.jsonl');
    /** The snapshots the queued scripts received so far (each line one run). */
    const fired = (): any[] =>
      fs.existsSync(eventsFile())
        ? fs
            .readFileSync(eventsFile(), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
        : [];
    const create = (element: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      call(gw.url, { operation: 'create', sessionName: admin, elementType: 'Contacts', element: JSON.stringify(element), ...extra });
    const resultOf = async (id: string) =>
      JSON.parse((await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: admin, operationTrackingID: id })).result);

    test('pre rewrites the parameters and post the result of a synchronous call; its queued script fires once, after, with the snapshot', async () => {
      const before = fired().length;
      const answer = await create({ lastname: 'smith', firstname: 'Ann' });
      assert.equal(answer.success, true, JSON.stringify(answer));
      assert.equal(answer.result.lastname, 'SMITH', 'pre rewrote the element');
      assert.equal(answer.result.postedBy, 'admin', 'post rewrote the result');
      const stored = await call(gw.url, { operation: 'retrieve', sessionName: admin, id: answer.result.id });
      assert.equal(stored.result.lastname, 'SMITH', 'the rewritten element is what was stored');
      assert.equal(fired().length, before, 'a queued script runs in the executor, not in the call');
      await runPass(gw.rt);
      const runs = fired().slice(before);
      assert.equal(runs.length, 1);
      const { event, user } = runs[0];
      assert.equal(event.script, 'create.queued.mjs');
      assert.deepEqual(event.request, {
        operation: 'create',
        module: 'Contacts',
        params: { elementType: 'Contacts', element: { lastname: 'SMITH', firstname: 'Ann' } },
        user: { id: '19x1', userName: 'admin', isAdmin: true },
      });
      assert.deepEqual(event.response, answer, 'the snapshot holds the envelope the caller got');
      assert.deepEqual(user, event.request.user);
      assert.ok(!Number.isNaN(Date.parse(event.environment.time)));
      const settings = event.environment.settings;
      assert.equal(settings.WSGATE_DATA_DIR, gw.env.WSGATE_DATA_DIR);
      for (const secret of ['WSGATE_SECRET', 'WSGATE_ADMIN_ACCESSKEY', 'WSGATE_SECRET_FILE']) assert.ok(!(secret in settings), secret);
      const text = JSON.stringify(runs[0]);
      assert.doesNotMatch(text, new RegExp(gw.env.WSGATE_SECRET!));
      assert.doesNotMatch(text, new RegExp(ADMIN_KEY));
      await runPass(gw.rt);
      assert.equal(fired().length, before + 1, 'exactly once');
    });

    test('pre rejects with its OperationError: nothing created, nothing fired; deferred, nothing queued', async () => {
      const before = fired().length;
      const entries = await queued();
      const sync = await create({ lastname: 'Reject' });
      assert.deepEqual(sync.error, { code: 'REJECTED_BY_SCRIPT', message: 'create.Contacts.pre: no Rejects here' });
      const later = await create({ lastname: 'Reject' }, { cbwsOptions: deferred });
      assert.deepEqual(later.error, { code: 'REJECTED_BY_SCRIPT', message: 'create.Contacts.pre: no Rejects here' });
      assert.equal(await queued(), entries, 'a rejected deferred call queues nothing');
      const found = await call(gw.url, { operation: 'query', sessionName: admin, query: "select lastname from Contacts where lastname = 'Reject';" });
      assert.deepEqual(found.result, []);
      await runPass(gw.rt);
      assert.equal(fired().length, before);
    });

    test('a deferred call: pre rewrites at submit, post the stored result; queued fires once for the run', async () => {
      const before = fired().length;
      const submit = await create({ lastname: 'jones' }, { cbwsOptions: deferred });
      const id = submit.result.operationTrackingID as string;
      const entry = await gw.rt.db.prisma.queuedOperation.findUnique({ where: { id } });
      assert.equal(JSON.parse(entry!.params).element.lastname, 'JONES', 'queued with the parameters pre returned');
      await runPass(gw.rt);
      const result = await resultOf(id);
      assert.equal(result.result.lastname, 'JONES');
      assert.equal(result.result.postedBy, 'admin', 'post ran before the result was stored');
      const runs = fired().slice(before);
      assert.equal(runs.length, 1, JSON.stringify(runs));
      assert.deepEqual(runs[0].event.response, result, 'the snapshot holds the stored envelope');
      assert.equal(runs[0].event.request.params.element.lastname, 'JONES');
    });

    test('queued never fires for a call that rolled back: a create that fails validation, a post that rejects, a deferred run that throws', async () => {
      const before = fired().length;
      const invalid = await create({ firstname: 'No last name' });
      assert.equal(invalid.success, false);
      const refused = await create({ lastname: 'kept?', firstname: 'Refused' });
      assert.equal(refused.error?.code, 'REFUSED_BY_POST');
      const found = await call(gw.url, { operation: 'query', sessionName: admin, query: "select lastname from Contacts where firstname = 'Refused';" });
      assert.deepEqual(found.result, [], 'a post script that rejects rolls the call back');
      // In one batch and one transaction (one worker, a group commit window that does not close): the good
      // create runs and queues its script, the next operation throws and rolls the shared transaction back,
      // the create runs again alone: its script is queued once.
      const good = await create({ lastname: 'batch' }, { cbwsOptions: deferred });
      const bad = await call(gw.url, { operation: 'misbehaves', sessionName: admin, how: 'protocol', cbwsOptions: deferred });
      const refusedLater = await create({ lastname: 'later', firstname: 'Refused' }, { cbwsOptions: deferred });
      await runPass(gw.rt, { concurrency: 1, groupCommitMs: 60_000 });
      assert.equal((await resultOf(bad.result.operationTrackingID)).error.code, 'NOT_TODAY');
      assert.equal((await resultOf(refusedLater.result.operationTrackingID)).error.code, 'REFUSED_BY_POST');
      assert.equal((await resultOf(good.result.operationTrackingID)).success, true);
      await runPass(gw.rt);
      const runs = fired().slice(before);
      assert.deepEqual(
        runs.map((r) => r.event.request.params.element.lastname),
        ['BATCH'],
        'only the committed create fired, once',
      );
    });

    test('concurrent creates, each in its transaction with its scripts: every one answered, each fires once', async () => {
      const before = fired().length;
      const names = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
      const answers = await Promise.all(names.map((n) => create({ lastname: n })));
      for (const a of answers) assert.equal(a.result?.postedBy, 'admin', JSON.stringify(a));
      await runPass(gw.rt);
      const runs = fired().slice(before);
      assert.deepEqual(
        runs.map((r) => r.event.request.params.element.lastname).sort(),
        names.map((n) => n.toUpperCase()),
      );
    });

    test('an idempotent create fires its queued script once: a repeat answers the first answer and fires nothing', async () => {
      const before = fired().length;
      const options = { cbwsOptions: '{"ClientRequestIdentifier":"event-once"}' };
      const first = await create({ lastname: 'once' }, options);
      const repeat = await create({ lastname: 'once' }, options);
      assert.equal(first.result.lastname, 'ONCE');
      assert.equal(first.result.postedBy, 'admin');
      assert.deepEqual(repeat, first);
      await runPass(gw.rt);
      const runs = fired().slice(before);
      assert.equal(runs.length, 1);
      assert.deepEqual(runs[0].event.response, first);
    });

    test('post rewrites the result of an own operation run in a call worker, and of its deferred run', async () => {
      const sync = await call(gw.url, { operation: 'greet', sessionName: admin, name: 'Ann' });
      assert.equal(sync.result.greeting, 'Hello Ann!');
      const submit = await call(gw.url, { operation: 'greet', sessionName: admin, name: 'Bo', cbwsOptions: deferred });
      await runPass(gw.rt);
      assert.equal((await resultOf(submit.result.operationTrackingID)).result.greeting, 'Hello Bo!');
    });

    test('a pre script that never returns answers TIMEOUT; the gateway answers other calls meanwhile and after', async () => {
      const order: string[] = [];
      const loop = create({ lastname: 'Loop' }).then((r) => (order.push('loop'), r));
      const other = call(gw.url, { operation: 'listtypes', sessionName: admin }).then((r) => (order.push('listtypes'), r));
      const [looped, listed] = await Promise.all([loop, other]);
      assert.deepEqual(order, ['listtypes', 'loop']);
      assert.equal(listed.success, true);
      assert.equal(looped.error?.code, 'TIMEOUT');
      assert.match(looped.error!.message, /create\.Contacts\.pre\.mjs did not finish within 3000 ms/);
      const after = await create({ lastname: 'after' });
      assert.equal(after.result?.lastname, 'AFTER', 'a new event worker serves the next call');
    });

    test('a queued script that throws is retried per --tries, then kept in the failed store; the call was answered', async () => {
      const described = await call(gw.url, { operation: 'describe', sessionName: admin, elementType: 'Accounts' });
      assert.equal(described.success, true);
      const summary = await runPass(gw.rt, { tries: 2 });
      assert.equal(summary.retried, 1, JSON.stringify(summary));
      assert.equal(summary.failed, 1, JSON.stringify(summary));
      const entry = await gw.rt.db.prisma.queuedOperation.findFirst({ where: { operation: 'wsgate.queuedEvent', state: 'failed' } });
      assert.ok(entry, 'in the failed store');
      assert.equal(JSON.parse(entry.result!).error.code, 'INTERNAL_SERVER_ERROR');
      const failed = await runCli(['failed', '--json'], gw.env);
      assert.match(failed.stdout, /wsgate\.queuedEvent/, shown(failed));
    });

    test('the internal operation that runs queued scripts cannot be called', async () => {
      const answer = await call(gw.url, { operation: 'wsgate.queuedEvent', sessionName: admin });
      assert.equal(answer.error?.code, 'UNKNOWN_OPERATION');
    });
  });
}

test("the module of a call: elementType or module, the id or element id, a query's from", () => {
  const modules = loadModules(loadConfig(testEnv('file:x.db')).modulesFile);
  assert.equal(moduleOfCall({ elementType: 'contacts' }, modules), 'Contacts');
  assert.equal(moduleOfCall({ module: 'Accounts' }, modules), 'Accounts');
  assert.equal(moduleOfCall({ id: '12x5' }, modules), 'Contacts');
  assert.equal(moduleOfCall({ element: { id: '11x3', accountname: 'A' } }, modules), 'Accounts');
  assert.equal(moduleOfCall({ query: 'select * from leads where lastname = 1;' }, modules), 'Leads');
  assert.equal(moduleOfCall({ elements: [] }, modules), undefined);
  assert.equal(moduleOfCall({ elementType: 'Nomodule' }, modules), undefined);
});

test('the settings a queued script sees: no secret, no database password', () => {
  const env = testEnv('postgresql://wsgate:hunter2-pw@db.example:5432/wsgate');
  const shown = publicSettings(loadConfig(env));
  assert.equal(shown.DATABASE_URL, 'postgresql://wsgate:***@db.example:5432/wsgate');
  assert.equal(shown.WSGATE_EVENT_TIMEOUT_MS, 2000);
  for (const name of ['WSGATE_SECRET', 'WSGATE_SECRET_FILE', 'WSGATE_ADMIN_ACCESSKEY']) assert.ok(!(name in shown), name);
  const text = JSON.stringify(shown);
  for (const secret of ['hunter2-pw', env.WSGATE_SECRET!, env.WSGATE_ADMIN_ACCESSKEY!]) assert.ok(!text.includes(secret), secret);
});

describe('broken event script files stop the start, naming the file and the reason', () => {
  const cases: [string, string, RegExp][] = [
    ['create.Contacts.pre.mjs', 'export default async (event) => {', /create\.Contacts\.pre\.mjs: it cannot be loaded/],
    ['create.post.mjs', 'export default 42;', /create\.post\.mjs: it exports no event script/],
    ['nosuch.pre.mjs', 'export default () => {};', /nosuch\.pre\.mjs: there is no operation nosuch/],
    ['create.Nomodule.post.mjs', 'export default () => {};', /create\.Nomodule\.post\.mjs: there is no module Nomodule/],
    ['create.before.mjs', 'export default () => {};', /create\.before\.mjs: "before" is not a kind of event script/],
    ['create.a.b.pre.mjs', 'export default () => {};', /create\.a\.b\.pre\.mjs: the name must be <operation>\[\.<Module>\]\.<pre\|post\|queued>\.js/],
    ['login.pre.mjs', 'export default () => {};', /login\.pre\.mjs: login runs before login/],
  ];
  for (const [file, text, message] of cases) {
    test(file, async () => {
      const dir = tmpDir('events');
      fs.writeFileSync(path.join(dir, file), text);
      const env = testEnv(`file:${path.join(dir, 'x.db')}`, { WSGATE_EVENTS_DIR: dir });
      await assert.rejects(openRuntime(loadConfig(env)), message);
      const cli = await runCli(['execute'], env);
      assert.equal(cli.code, 2, shown(cli));
      assert.match(cli.stderr, message, shown(cli));
      assert.doesNotMatch(cli.stderr, /\n\s+at /, `one line, no stack\n${shown(cli)}`);
    });
  }

  test('wsgate serve stops too', async () => {
    const dir = tmpDir('events');
    fs.writeFileSync(path.join(dir, 'retrieve.pre.mjs'), 'export default {};');
    const cli = await runCli(['serve'], testEnv(`file:${path.join(dir, 'x.db')}`, { WSGATE_EVENTS_DIR: dir }));
    assert.equal(cli.code, 2, shown(cli));
    assert.match(cli.stderr, /^wsgate serve: .*retrieve\.pre\.mjs: it exports no event script/, shown(cli));
  });
});
