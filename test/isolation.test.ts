// No call stalls the gateway: operations whose work grows with their input run in call workers, every
// statement has a time limit, and a call that outlives its time is stopped with its worker. Ordering, not
// timing, is asserted: a light call sent while a heavy one runs is answered first.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, call, login, startGateway, until, type Gateway } from './support.js';

/** Resolves with the order in which the promises settled. */
async function finishOrder(named: Record<string, Promise<unknown>>): Promise<string[]> {
  const order: string[] = [];
  await Promise.all(Object.entries(named).map(([name, p]) => p.then(() => order.push(name))));
  return order;
}

for (const backend of backends) {
  describe(`call isolation (${backend.name})`, () => {
    let gw: Gateway;
    let session: string;
    before(async () => {
      gw = await startGateway(backend, { WSGATE_CALL_TIMEOUT_SECONDS: '2', WSGATE_CALL_WORKERS: '2', WSGATE_CALL_AHEAD_MS: '60000' });
      session = (await login(gw.url)).sessionName;
    });
    after(() => gw.close());

    test('a call that outlives WSGATE_CALL_TIMEOUT_SECONDS answers TIMEOUT, its worker replaced; the event loop never waits for it', async () => {
      const spin = call(gw.url, { operation: 'wsgatetest_spin', sessionName: session, ms: '600000' });
      const retrieveLike = call(gw.url, { operation: 'describe', sessionName: session, elementType: 'Contacts' }, { method: 'GET' });
      const order = await finishOrder({ spin, retrieveLike });
      assert.deepEqual(order, ['retrieveLike', 'spin']);
      const answer = await spin;
      assert.equal(answer.error?.code, 'TIMEOUT', JSON.stringify(answer));
      const again = await call(gw.url, { operation: 'wsgatetest_spin', sessionName: session, ms: '1' });
      assert.equal(again.success, true, JSON.stringify(again));
    });

    test('two heavy calls run side by side in the two workers; a third waits for one of them', async () => {
      const before = gw.server.calls!.load;
      assert.equal(before.size, 2);
      const a = call(gw.url, { operation: 'wsgatetest_spin', sessionName: session, ms: '400' });
      const b = call(gw.url, { operation: 'wsgatetest_spin', sessionName: session, ms: '400' });
      const c = call(gw.url, { operation: 'wsgatetest_spin', sessionName: session, ms: '1' });
      const answers = await Promise.all([a, b, c]);
      for (const x of answers) assert.equal(x.success, true, JSON.stringify(x));
      assert.deepEqual(gw.server.calls!.load, { busy: 0, waiting: 0, size: 2 });
    });

    /** Calls of misbehaves that answer at once: the pool learns that it runs quickly. */
    const quickHistory = async () => {
      for (let i = 0; i < 3; i++) {
        const quick = await call(gw.url, { operation: 'misbehaves', sessionName: session, how: 'protocol' });
        assert.equal(quick.error?.code, 'NOT_TODAY');
      }
    };

    // This gateway sends a call ahead behind one of an operation that usually runs in under a minute
    // (WSGATE_CALL_AHEAD_MS above), and has not run that long yet.
    test('a call sent ahead to a busy worker that then dies is run by a fresh worker, not lost', async () => {
      const calls = gw.server.calls!;
      await quickHistory();
      const before = calls.sentAhead;
      const exit = () => call(gw.url, { operation: 'misbehaves', sessionName: session, how: 'exit', afterMs: '1000' });
      const exits = [exit(), exit()];
      await until('both workers busy', async () => calls.load.busy === 2);
      const [a, b, c] = await Promise.all([...exits, call(gw.url, { operation: 'wsgatetest_spin', sessionName: session, ms: '1' })]);
      assert.equal(calls.sentAhead, before + 1);
      assert.equal(a.error?.code, 'INTERNAL_SERVER_ERROR', JSON.stringify(a));
      assert.equal(b.error?.code, 'INTERNAL_SERVER_ERROR', JSON.stringify(b));
      assert.equal(c.success, true, JSON.stringify(c));
      assert.equal(c.result.spun, 1);
      await calls.warm();
      assert.deepEqual(calls.load, { busy: 0, waiting: 0, size: 2 });
    });

    test('a call sent ahead behind one that then hangs is not run late: answered SERVER_BUSY once that one is stopped', async () => {
      const calls = gw.server.calls!;
      await quickHistory();
      const before = calls.sentAhead;
      const hang = () => call(gw.url, { operation: 'misbehaves', sessionName: session, how: 'loop' });
      const hangs = [hang(), hang()];
      await until('both workers busy', async () => calls.load.busy === 2);
      const [a, b, c] = await Promise.all([...hangs, call(gw.url, { operation: 'wsgatetest_spin', sessionName: session, ms: '1' })]);
      assert.equal(calls.sentAhead, before + 1);
      assert.equal(a.error?.code, 'TIMEOUT', JSON.stringify(a));
      assert.equal(b.error?.code, 'TIMEOUT', JSON.stringify(b));
      // It waited as long as a call may run, as one waiting in the gateway's line would have been.
      assert.equal(c.error?.code, 'SERVER_BUSY', JSON.stringify(c));
      assert.match(c.error!.message, /was not run/);
      await calls.warm();
      assert.deepEqual(calls.load, { busy: 0, waiting: 0, size: 2 });
    });

    test('a query led by a field index is answered on the event loop; a scan, a like with inner wildcards and the mass operations go to a call worker', async () => {
      const calls = gw.server.calls!;
      const created = await call(gw.url, {
        operation: 'create',
        sessionName: session,
        elementType: 'Contacts',
        element: { lastname: 'Quick', firstname: 'Q' },
      });
      assert.equal(created.success, true);
      const ask = async (query: string) => {
        const before = calls.received;
        const res = await call(gw.url, { operation: 'query', sessionName: session, query });
        assert.equal(res.success, true, JSON.stringify(res));
        return { rows: res.result.length, pooled: calls.received - before };
      };
      // lastname is indexed in the sample modules; firstname is not.
      const onLoop = 0;
      const scan = backend.name === 'sqlite' ? 1 : 0;
      assert.deepEqual(await ask("select * from Contacts where lastname = 'Quick';"), { rows: 1, pooled: onLoop });
      assert.deepEqual(await ask("select * from Contacts where lastname like 'qui%' and firstname = 'Q';"), { rows: 1, pooled: onLoop });
      assert.deepEqual(await ask('select * from Contacts limit 5;'), { rows: 1, pooled: scan });
      // SQLite runs scans in a worker; PostgreSQL runs every statement in the server and keeps query here.
      assert.deepEqual(await ask("select * from Contacts where firstname = 'Q';"), { rows: 1, pooled: scan });
      assert.deepEqual(await ask("select * from Contacts where lastname like '%ick';"), { rows: 1, pooled: scan });
      assert.deepEqual(await ask("select * from Contacts where lastname = 'Quick' or firstname = 'Q';"), { rows: 1, pooled: scan });
      const before = calls.received;
      const mass = await call(gw.url, { operation: 'MassDelete', sessionName: session, ids: created.result.id });
      assert.equal(mass.success, true, JSON.stringify(mass));
      assert.equal(calls.received - before, 1);
    });

    test('a statement past WSGATE_STATEMENT_TIMEOUT_MS answers STATEMENT_TIMEOUT; the gateway answers others meanwhile', async () => {
      // A like pattern over long text fields: stopped by the statement limit, not run to its end.
      const text = 'a'.repeat(60_000);
      for (let i = 0; i < 40; i++) {
        const created = await call(gw.url, {
          operation: 'create',
          sessionName: session,
          elementType: 'Accounts',
          element: { accountname: `Long ${i}`, description: text },
        });
        assert.equal(created.success, true, JSON.stringify(created).slice(0, 300));
      }
      // A second gateway on the same database with a limit of 300 ms for each statement: only the calls
      // below run under it, not the writes above (on a loaded machine, one of those may take longer).
      const limited = await startGateway(
        { name: backend.name, freshUrl: async () => gw.env.DATABASE_URL! },
        {
          WSGATE_STATEMENT_TIMEOUT_MS: '300',
          WSGATE_CALL_TIMEOUT_SECONDS: '2',
          WSGATE_CALL_WORKERS: '2',
        },
      );
      try {
        const pattern = `%${'a'.repeat(900)}b`;
        const slow = call(limited.url, {
          operation: 'query',
          sessionName: session,
          query: `select accountname from Accounts where description like '${pattern}';`,
        });
        const challenge = call(limited.url, { operation: 'getchallenge', username: 'admin' }, { method: 'GET' });
        const listtypes = call(limited.url, { operation: 'listtypes', sessionName: session }, { method: 'GET' });
        const order = await finishOrder({ slow, challenge, listtypes });
        assert.equal(order.at(-1), 'slow');
        const answer = await slow;
        assert.equal(answer.success, false);
        assert.equal(answer.error!.code, 'STATEMENT_TIMEOUT', JSON.stringify(answer).slice(0, 300));
        assert.equal((await challenge).success, true);
        // Nothing is left held (on SQLite the call worker is free again): the next scan runs.
        const next = await call(limited.url, {
          operation: 'query',
          sessionName: session,
          query: "select lastname from Contacts where lastname like '%nobody';",
        });
        assert.deepEqual(next.result, [], JSON.stringify(next).slice(0, 300));
      } finally {
        await limited.close();
      }
    });
  });
}
