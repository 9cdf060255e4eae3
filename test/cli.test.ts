// The wsgate command as a user runs it: help for every verb, user add, and serve's first start.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { backends, call, login, md5, runCli, spawnCli, testEnv, until, shown, expectCli } from './support.js';

describe('wsgate CLI', () => {
  test('every verb answers --help', async () => {
    const overview = await runCli(['--help'], testEnv('file::memory:'));
    assert.equal(overview.code, 0, shown(overview));
    for (const verb of [
      ['serve'],
      ['execute'],
      ['user', 'add'],
      ['user', 'role'],
      ['config'],
      ['user', 'disable'],
      ['user', 'enable'],
      ['user', 'key'],
      ['user', 'quota'],
      ['purge'],
    ]) {
      const r = await runCli([...verb, '--help'], testEnv('file::memory:'));
      assert.equal(r.code, 0, shown(r));
      assert.match(r.stdout, new RegExp(`^Usage: wsgate ${verb.join(' ')}`), shown(r));
      assert.match(overview.stdout, new RegExp(`wsgate ${verb.join(' ')}`), shown(overview));
    }
    const unknown = await runCli(['frobnicate'], testEnv('file::memory:'));
    assert.equal(unknown.code, 2, shown(unknown));
  });

  test('serve on a fresh data folder: database, owner-only secret, admin key printed once, clean stop', async () => {
    const env = testEnv('unused', { WSGATE_ADMIN_ACCESSKEY: '', WSGATE_SECRET: '', WSGATE_LOG_LEVEL: 'info' });
    // The defaults: a data folder wsgate creates, holding the database.
    delete env.DATABASE_URL;
    env.WSGATE_DATA_DIR = `${env.WSGATE_DATA_DIR}/fresh`;
    const first = spawnCli(['serve'], env);
    let out = '';
    let err = '';
    first.child.stdout!.on('data', (d) => (out += d));
    first.child.stderr!.on('data', (d) => (err += d));
    const url = await until('the server to listen', async () => /"url":"([^"]+)"/.exec(out)?.[1]);
    // On stderr: stdout is the JSON log stream, which collectors keep.
    const key = /access key \(shown only this once\): ([0-9a-f]{32})/.exec(err)?.[1];
    assert.ok(key, err);
    assert.ok(!out.includes(key), 'the key is not in the log stream');
    const secretFile = `${env.WSGATE_DATA_DIR}/secret.key`;
    assert.equal(fs.statSync(secretFile).mode & 0o777, 0o600);
    const session = await login(url, 'admin', key);
    assert.equal(session.userId, '19x1');
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    assert.equal(stopped.code, 0, shown(stopped));
    assert.doesNotMatch(stopped.stdout + stopped.stderr, new RegExp(`${session.sessionName}|"accessKey"`), `no session or key in logs\n${shown(stopped)}`);

    const db = new Database(`${env.WSGATE_DATA_DIR}/wsgate.db`, { readonly: true });
    const stored = db.prepare('SELECT access_key_enc FROM ws_user').all() as { access_key_enc: string }[];
    const sessions = db.prepare('SELECT id FROM ws_session').all() as { id: string }[];
    db.close();
    assert.equal(stored.length, 1);
    assert.ok(!stored[0]!.access_key_enc.includes(key), 'the access key is not stored in the clear');
    assert.equal(sessions.length, 1);
    assert.notEqual(sessions[0]!.id, session.sessionName, 'nor is the session name');
    assert.equal(fs.statSync(env.WSGATE_DATA_DIR!).mode & 0o777, 0o700, 'the data folder is owner-only');

    const second = spawnCli(['serve'], env);
    let out2 = '';
    second.child.stdout!.on('data', (d) => (out2 += d));
    await until('the server to listen again', async () => /"url":"/.test(out2));
    second.child.kill('SIGTERM');
    const again = await second.done;
    assert.doesNotMatch(out2 + again.stderr, /access key/, 'the key is printed only on first start' + '\n' + shown(again));
  });

  test('user add prints an access key that logs in', async () => {
    const env = testEnv(await backends[0]!.freshUrl());
    const added = await runCli(['user', 'add', 'dora'], env);
    assert.equal(added.code, 0, shown(added));
    const key = /access key: ([0-9a-f]{32})/.exec(added.stdout)?.[1];
    assert.ok(key, shown(added));
    const twice = await runCli(['user', 'add', 'dora'], env);
    assert.equal(twice.code, 2, shown(twice));
    assert.match(twice.stderr, /exists already/, shown(twice));
    const withPassword = await runCli(['user', 'add', 'eve', '--password-stdin'], env, 'sesame\n');
    assert.equal(withPassword.code, 0, shown(withPassword));

    const server = spawnCli(['serve'], { ...env, WSGATE_LOG_LEVEL: 'info' });
    let out = '';
    server.child.stdout!.on('data', (d) => (out += d));
    try {
      const url = await until('the server to listen', async () => /"url":"([^"]+)"/.exec(out)?.[1]);
      const s = await login(url, 'dora', key);
      assert.match(s.userId, /^19x\d+$/);
      // The sample modules let only admins delete Accounts: the role decides, and `user role` changes it.
      const deleteable = async () =>
        (await call(url, { operation: 'describe', sessionName: s.sessionName, elementType: 'Accounts' }, { method: 'GET' })).result.deleteable;
      assert.equal(await deleteable(), false);
      expectCli(await runCli(['user', 'role', 'dora', 'admin'], env), 0);
      assert.equal(await deleteable(), true, 'at the next call');
      expectCli(await runCli(['user', 'role', 'dora', 'boss'], env), 2);
      expectCli(await runCli(['user', 'role', 'nobody', 'user'], env), 2);
      const ch = await call(url, { operation: 'getchallenge', username: 'eve' });
      const eve = await call(url, { operation: 'login', username: 'eve', accessKey: ch.result.token + 'sesame' });
      assert.equal(eve.success, true, JSON.stringify(eve));
      const wrong = await call(url, { operation: 'login', username: 'dora', accessKey: md5(ch.result.token + key) });
      assert.equal(wrong.error?.code, 'INVALID_USER_CREDENTIALS', 'a token is per user');
    } finally {
      server.child.kill('SIGTERM');
      await server.done;
    }
  });

  test('logs at the most verbose level carry no keys, tokens, sessions or parameters', async () => {
    const env = testEnv(await backends[0]!.freshUrl(), { WSGATE_LOG_LEVEL: 'trace' });
    const server = spawnCli(['serve'], env);
    let out = '';
    server.child.stdout!.on('data', (d) => (out += d));
    const secrets: string[] = [env.WSGATE_SECRET!, env.WSGATE_ADMIN_ACCESSKEY!];
    try {
      const url = await until('the server to listen', async () => /"url":"([^"]+)"/.exec(out)?.[1]);
      const ch = await call(url, { operation: 'getchallenge', username: 'admin' });
      const wrongKey = md5(`${ch.result.token}not-the-key`);
      const failed = await call(url, { operation: 'login', username: 'admin', accessKey: wrongKey });
      assert.equal(failed.error?.code, 'INVALID_USER_CREDENTIALS');
      const s = await login(url);
      const queued = await call(url, { operation: 'wsgatetest_throw', sessionName: s.sessionName, cbwsOptions: '{"launchfromqueue":1,"queuedelay":0}' });
      const now = await call(url, { operation: 'wsgatetest_throw', sessionName: s.sessionName });
      assert.equal(now.error?.code, 'INTERNAL_SERVER_ERROR');
      const created = await call(url, {
        operation: 'create',
        sessionName: s.sessionName,
        elementType: 'Contacts',
        element: '{"lastname":"Confidential-Lastname"}',
      });
      assert.equal(created.success, true);
      const queuedCreate = await call(url, {
        operation: 'create',
        sessionName: s.sessionName,
        elementType: 'Contacts',
        element: '{"lastname":"Queued-Confidential"}',
        cbwsOptions: '{"launchfromqueue":1,"queuedelay":0}',
      });
      assert.equal(queuedCreate.success, true);
      const pass = await runCli(['execute'], env);
      assert.equal(pass.code, 0, shown(pass));
      out += pass.stdout + pass.stderr;
      // Tracking ids may be logged: they are no credential (a result goes only to the user who queued it).
      assert.ok(queued.success);
      secrets.push(ch.result.token, wrongKey, s.sessionName, 'Confidential-Lastname', 'Queued-Confidential');
      assert.match(pass.stdout, /done=1 errors=0 retried=0 failed=1/, `the executor ran both queued operations\n${shown(pass)}`);
      assert.match(out, /"level":10|"level":20/, 'trace or debug lines were written');
      assert.match(out, /failed unexpectedly/, 'the unexpected failures were logged');
    } finally {
      server.child.kill('SIGTERM');
      const stopped = await server.done;
      out += stopped.stderr;
    }
    for (const secret of secrets) assert.ok(!out.includes(secret), `the log holds ${secret}`);
  });

  test('config prints the values in force without secrets', async () => {
    const env = testEnv('postgresql://wsgate:hunter2-pw@db.example:5432/wsgate', { WSGATE_CLAIM_BATCH: '7' });
    const r = await runCli(['config'], env);
    assert.equal(r.code, 0, shown(r));
    assert.match(r.stdout, /^DATABASE_URL=postgresql:\/\/wsgate:\*\*\*@db\.example:5432\/wsgate$/m, shown(r));
    assert.match(r.stdout, /^WSGATE_CLAIM_BATCH=7$/m, shown(r));
    assert.match(r.stdout, /^WSGATE_SECRET=\(set\)$/m, shown(r));
    assert.match(r.stdout, /^WSGATE_OPERATIONS_DIR=\/.*\/test\/fixtures\/operations$/m, shown(r));
    for (const secret of ['hunter2-pw', env.WSGATE_SECRET!, env.WSGATE_ADMIN_ACCESSKEY!]) assert.ok(!r.stdout.includes(secret), shown(r));
  });
});
