// The settings list as a user meets it through the real `wsgate` binary: a bad value of any kind is one line
// naming the setting and what it accepts (exit code 2), a flag is checked as its setting is, and
// `wsgate config` prints every setting of the list, secrets only as "(set)".
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, settings } from '../src/config.js';
import { publicSettings } from '../src/operations/own/events-hooks.js';
import { wholeNumber } from '../src/settings/kinds.js';
import { optional } from '../src/settings/setting.js';
import { expectCli, runCli, shown, testEnv } from './support.js';

const env = () => testEnv('file::memory:');

describe('settings', () => {
  test('a bad value of each kind: one line naming the setting, its value and what it accepts, exit code 2', async () => {
    const cases: [string, string, string][] = [
      ['WSGATE_MAX_WORKERS', 'abc', 'expected a whole number >= 1'],
      ['WSGATE_QUERY_MAX_TERMS', '20000', 'expected a whole number from 1 to 10000'],
      ['WSGATE_TIMEOUT_SECONDS', '-5', 'expected a number > 0'],
      ['WSGATE_TRUST_PROXY', 'yes', 'expected on or off'],
      ['WSGATE_LOG_LEVEL', 'loud', 'expected one of silent, fatal, error, warn, info, debug, trace'],
      ['WSGATE_BACKOFF', 'soon', 'expected seconds (10), a list (10,60,300, the last repeating) or exponential[:SECONDS]'],
      ['WSGATE_EXECUTOR_SCHEDULE', '61 * * * *', 'expected a node-cron expression (six fields with seconds first, or five) or off'],
      ['WSGATE_BODY_LIMIT', 'lots', 'expected bytes, or a size such as 512kb or 1mb'],
      ['WSGATE_QUEUES', 'a b', '"a b" is not a queue name (letters, digits, _ . -, up to 64 characters)'],
    ];
    for (const [name, value, reason] of cases) {
      const r = await runCli(['config'], { ...env(), [name]: value });
      const quoted = /^[\x21-\x7e]+$/.test(value) ? value : JSON.stringify(value);
      assert.equal(r.code, 2, shown(r));
      assert.equal(r.stderr, `wsgate config: ${name}=${quoted}: ${reason}\n`, shown(r));
      assert.equal(r.stdout, '');
    }
  });

  test('a bad setting under --json is a JSON error of code "setting"', async () => {
    const r = await runCli(['status', '--json'], { ...env(), WSGATE_CALLBACK_BACKOFF: 'never' });
    assert.equal(r.code, 2, shown(r));
    assert.deepEqual(JSON.parse(r.stdout), {
      error: {
        code: 'setting',
        message: 'WSGATE_CALLBACK_BACKOFF=never: expected seconds (10), a list (10,60,300, the last repeating) or exponential[:SECONDS]',
      },
    });
  });

  test('settings checked together: one line naming both, no secret quoted', async () => {
    const r = await runCli(['config'], { ...env(), WSGATE_QUERY_DEFAULT_LIMIT: '200', WSGATE_METRICS_TOKEN: 'tok-not-shown' });
    assert.equal(r.code, 2, shown(r));
    assert.equal(r.stderr, 'wsgate config: WSGATE_QUERY_DEFAULT_LIMIT (200) must not exceed WSGATE_QUERY_MAX_LIMIT (100)\n');
    assert.ok(!r.stderr.includes('tok-not-shown'));
  });

  test('a refused secret setting is named without its value', () => {
    const pin = optional({
      env: 'WSGATE_TEST_PIN',
      kind: wholeNumber(1),
      secret: true,
      unset: 'unset',
      help: 'A secret number.',
    });
    assert.throws(
      () => pin.read('12ab-secret'),
      (e: Error) => e.message === 'WSGATE_TEST_PIN: expected a whole number >= 1',
    );
    assert.equal(pin.show(1234), '(set)');
    assert.equal(pin.show(undefined), 'unset');
  });

  test('a flag takes what its setting takes, and says so naming the flag', async () => {
    for (const [args, line] of [
      [['execute', '--concurrency', 'abc'], '--concurrency abc: expected a whole number >= 1'],
      [['work', '--sleep', '0'], '--sleep 0: expected a number > 0'],
      [['execute', '--backoff', 'soon'], '--backoff soon: expected seconds (10), a list (10,60,300, the last repeating) or exponential[:SECONDS]'],
      [['work', '--queue', 'a b'], '--queue "a b": "a b" is not a queue name (letters, digits, _ . -, up to 64 characters)'],
    ] as [string[], string][]) {
      const r = await runCli(args, env());
      assert.equal(r.code, 2, shown(r));
      assert.equal(r.stderr.split('\n')[0], `wsgate ${args[0]}: ${line}`, shown(r));
      assert.match(r.stderr.split('\n')[1] ?? '', new RegExp(`^Usage: wsgate ${args[0]} `));
    }
  });

  test('each flag of the list is in the usage and help of execute and work, with its variable and default', async () => {
    const work = expectCli(await runCli(['work', '--help'], env()), 0).stdout;
    const execute = expectCli(await runCli(['execute', '--help'], env()), 0).stdout;
    const flagged = Object.values(settings).filter((s) => s.flag);
    assert.ok(flagged.length >= 7, 'the executor flags are declared in the list');
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const s of flagged) {
      const { name, arg } = s.flag ?? { name: '', arg: '' };
      assert.ok(work.includes(`[--${name} ${arg}]`), `work usage names --${name}`);
      assert.match(work, new RegExp(`^--${name} ${escaped(arg)} +${escaped(s.help.slice(0, 20))}`, 'm'));
      assert.ok(work.replace(/\s+/g, ' ').includes(`(${s.env}, ${s.default}).`), `work help gives ${s.env} and its default`);
      if (name !== 'sleep') assert.ok(execute.includes(`[--${name} ${arg}]`), `execute usage names --${name}`);
    }
  });

  test('wsgate config prints every setting of the list, in order, secrets only as (set)', async () => {
    const secrets = { WSGATE_CALLBACK_SECRET: 'cb-secret-not-shown', WSGATE_METRICS_TOKEN: 'metrics-token-not-shown' };
    const r = expectCli(await runCli(['config'], { ...env(), ...secrets, WSGATE_MAX_WORKERS: '7', WSGATE_HTTP_ALLOW: 'api.example.com' }), 0);
    const printed = [...r.stdout.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]);
    assert.deepEqual(
      printed,
      Object.values(settings).map((s) => s.env),
    );
    assert.match(r.stdout, /^WSGATE_MAX_WORKERS=7\n {4}Operations an executor runs at once.* \(--concurrency\)\.$/m);
    assert.match(r.stdout, /^WSGATE_HTTP_ALLOW=api\.example\.com$/m);
    assert.match(r.stdout, /^WSGATE_EXEC_ALLOW=none \(exec off\)$/m);
    assert.match(r.stdout, /^WSGATE_CALLBACK_SECRET=\(set\)$/m);
    assert.match(r.stdout, /^WSGATE_METRICS_TOKEN=\(set\)$/m);
    for (const secret of Object.values(secrets)) assert.ok(!r.stdout.includes(secret), secret);
    const unset = expectCli(await runCli(['config'], env()), 0);
    assert.match(unset.stdout, /^WSGATE_CALLBACK_SECRET=none \(callbacks refused\)$/m);
    assert.match(unset.stdout, /^WSGATE_CORS_ORIGINS=none \(no CORS headers\)$/m);
  });

  test('every default is a value its setting accepts', () => {
    for (const [name, s] of Object.entries(settings)) {
      assert.doesNotThrow(() => s.read(undefined), name);
      if (s.defaultIsValue) assert.doesNotThrow(() => s.kind.parse(s.default), name);
    }
    const config = loadConfig({});
    assert.equal(config.maxWorkers, 4);
    assert.deepEqual(config.backoff, { delays: [0], exponential: false });
    assert.equal(config.trustProxy, false);
    assert.equal(config.secret, undefined);
  });

  test('queued event scripts see no secret setting', () => {
    const shownToScripts = publicSettings(loadConfig({ ...env(), WSGATE_CALLBACK_SECRET: 'cb-secret', WSGATE_METRICS_TOKEN: 'metrics-token' }));
    for (const s of Object.values(settings).filter((s) => s.secret)) assert.ok(!(s.env in shownToScripts), s.env);
    assert.equal(shownToScripts.WSGATE_MAX_WORKERS, 4);
  });
});
