// exec jobs: commands named in the allow file (WSGATE_EXEC_ALLOW) run without a shell in a process group of
// their own; their output and exit code are stored, a non-zero exit is a failed attempt, and a hanging
// command's whole process group is gone after its timeout (and after the executor's). Names not listed,
// shell metacharacters and arguments the command does not allow are refused at submit, nothing queued.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { backends, call, login, runPass, startGateway, until, type Gateway, tmpDir, script, groupAlive, killGroupsIn } from './support.js';
import { engineOf } from '../src/runtime.js';
import { assertMatchesSchema } from './openapi-schema.js';

const NOT_YET = 'Operation not queued or not finished yet';

for (const backend of backends) {
  describe(`exec jobs on ${backend.name}`, () => {
    const dir = tmpDir('exec-jobs');
    const allowFile = path.join(dir, 'exec-allow.json');
    let gw: Gateway;
    let off: Gateway;
    let session: string;
    const pgidFile = (tag: string) => path.join(dir, `${tag}.pgid`);

    before(async () => {
      const allow = {
        greet: {
          executable: script(dir, 'greet.sh', 'echo "hello $* from $(pwd) with $GREETING and [$WSGATE_SECRET]"\necho "a warning" >&2'),
          args: ['--fixed'],
          allowArgs: '[a-z]+|--count=[0-9]{1,3}',
          cwd: dir,
          env: { GREETING: 'hi' },
        },
        fail: { executable: script(dir, 'fail.sh', 'echo "partial"\necho "broken thing" >&2\nexit 3') },
        hang: { executable: script(dir, 'hang.sh', 'echo $$ > "$1"\nsleep 300 &\nsleep 300'), allowArgs: '/.*', timeout: 2 },
        hangLong: { executable: script(dir, 'hang-long.sh', 'echo $$ > "$1"\nsleep 300 &\nsleep 300'), allowArgs: '/.*', timeout: 600 },
      };
      fs.writeFileSync(allowFile, JSON.stringify(allow));
      gw = await startGateway(backend, { WSGATE_EXEC_ALLOW: allowFile });
      off = await startGateway(backend, { WSGATE_EXEC_ALLOW: path.join(dir, 'no-such-file.json') });
      session = (await login(gw.url)).sessionName;
    });
    after(async () => {
      await gw?.close();
      await off?.close();
      killGroupsIn(dir);
    });

    const submit = (params: Record<string, unknown>, target = gw, s = session) => call(target.url, { operation: 'exec', sessionName: s, ...params });
    const queue = async (params: Record<string, unknown>) => {
      const res = await submit(params);
      assert.equal(res.success, true, JSON.stringify(res));
      return res.result.operationTrackingID as string;
    };
    const status = async (id: string) => (await call(gw.url, { operation: 'getQueuedOperationStatus', sessionName: session, operationTrackingID: id })).result;
    const result = async (id: string) => {
      const r = await call(gw.url, { operation: 'getQueuedOperationResult', sessionName: session, operationTrackingID: id });
      assert.notEqual(r.result, NOT_YET);
      return JSON.parse(r.result);
    };

    test('an allowed command runs without a shell, in its cwd and env only; its output and exit code are the result', async () => {
      const id = await queue({ name: 'greet', args: ['ann', '--count=2'] });
      assert.equal((await runPass(gw.rt)).run, 1);
      const r = await result(id);
      assert.equal(r.success, true, JSON.stringify(r));
      assertMatchesSchema('ExecJobResult', r.result);
      assert.deepEqual(r.result, {
        exitCode: 0,
        signal: null,
        stdout: `hello --fixed ann --count=2 from ${dir} with hi and []\n`,
        stderr: 'a warning\n',
        stdoutTruncated: false,
        stderrTruncated: false,
      });
    });

    test('a non-zero exit is a failed attempt, retried per tries, with the exit code and stderr in its error', async () => {
      const id = await queue({ name: 'fail' });
      const summary = await runPass(gw.rt, { tries: 2 });
      assert.equal(summary.retried, 1, JSON.stringify(summary));
      const s = await status(id);
      assert.equal(s.status, 'failed');
      assert.deepEqual(
        s.errors.map((e: { code: string }) => e.code),
        ['EXEC_FAILED', 'EXEC_FAILED'],
      );
      assert.match(s.errors[0].message, /fail exited with code 3; stderr: broken thing/);
    });

    test("a hanging command's process group is gone after its timeout", async () => {
      const file = pgidFile('hang');
      const id = await queue({ name: 'hang', args: [file] });
      await runPass(gw.rt);
      const pgid = Number(fs.readFileSync(file, 'utf8'));
      assert.ok(pgid > 1);
      const s = await status(id);
      assert.equal(s.errors[0].code, 'TIMEOUT');
      assert.match(s.errors[0].message, /hang did not finish within 2 s; its process group was killed/);
      await until('the process group is gone', async () => !groupAlive(pgid));
    });

    test("the executor's own timeout stops the worker and kills the command's process group with it", async () => {
      const file = pgidFile('hang-long');
      const id = await queue({ name: 'hangLong', args: [file] });
      await runPass(gw.rt, { timeoutSeconds: 2 });
      const pgid = Number(fs.readFileSync(file, 'utf8'));
      const s = await status(id);
      assert.equal(s.errors[0].code, 'TIMEOUT');
      assert.match(s.errors[0].message, /did not finish within 2 s; its worker was stopped/);
      await until('the process group is gone', async () => !groupAlive(pgid));
    });

    test("a shutdown past its grace kills a running command's process group and hands the job back", async () => {
      const file = pgidFile('shutdown');
      const id = await queue({ name: 'hangLong', args: [file] });
      const engine = engineOf(gw.rt, { graceSeconds: 0 });
      const listening = engine.listen();
      try {
        await until('the command started', async () => fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() !== '');
      } finally {
        await engine.close();
        await listening;
      }
      const pgid = Number(fs.readFileSync(file, 'utf8'));
      await until('the process group is gone', async () => !groupAlive(pgid));
      const s = await status(id);
      assert.deepEqual([s.status, s.errors], ['queued', []], 'handed back, not failed');
      const cancelled = await call(gw.url, { operation: 'cancelQueuedOperation', sessionName: session, operationTrackingID: id });
      assert.equal(cancelled.success, true, JSON.stringify(cancelled));
    });

    test('names not listed, shell metacharacters and arguments not allowed are refused, nothing queued', async () => {
      const before = await gw.rt.db.prisma.queuedOperation.count();
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{}, 'INVALID_PARAMETER', /name is required/],
        [{ name: 'rm' }, 'ACCESS_DENIED', /the command rm is not allowed/],
        [{ name: 'toString' }, 'ACCESS_DENIED', /the command toString is not allowed/],
        [{ name: 'greet', args: ['ann; rm -rf /'] }, 'INVALID_PARAMETER', /args\[0\] contains the shell metacharacter ";"/],
        [{ name: 'greet', args: ['ok', '$(id)'] }, 'INVALID_PARAMETER', /args\[1\] contains the shell metacharacter "\$"/],
        [{ name: 'greet', args: ['a|b'] }, 'INVALID_PARAMETER', /args\[0\] contains the shell metacharacter "\|"/],
        [{ name: 'greet', args: ['ann', 'BOB'] }, 'ACCESS_DENIED', /args\[1\] is not an argument the command greet allows/],
        [{ name: 'greet', args: ['--count=12345'] }, 'ACCESS_DENIED', /args\[0\] is not an argument/],
        [{ name: 'fail', args: ['x'] }, 'ACCESS_DENIED', /fail takes no extra arguments/],
        [{ name: 'greet', args: '{"a":1}' }, 'INVALID_PARAMETER', /args must be a JSON array/],
      ];
      for (const [params, code, message] of cases) {
        const res = await submit(params);
        assert.equal(res.error?.code, code, `${JSON.stringify(params)}: ${JSON.stringify(res)}`);
        assert.match(res.error!.message, message);
      }
      assert.equal(await gw.rt.db.prisma.queuedOperation.count(), before);
    });

    test('off until the allow file exists: ACCESS_DENIED', async () => {
      const s = (await login(off.url)).sessionName;
      const res = await submit({ name: 'greet' }, off, s);
      assert.equal(res.error?.code, 'ACCESS_DENIED');
      assert.match(res.error!.message, /running commands is off on this server/);
      assert.equal(await off.rt.db.prisma.queuedOperation.count(), 0);
    });
  });
}
