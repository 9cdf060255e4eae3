#!/usr/bin/env node
// The `wsgate` command: thin over the runtime. Each verb has --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, settings, type Config, type Setting } from './config.js';
import { addUser } from './auth/users.js';
import { purgeExpired } from './executor/maintenance.js';
import { formatSummary, runPass } from './executor/pass.js';
import { ensureAdmin, executorOf, openRuntime, type Runtime } from './runtime.js';
import { startServer } from './server.js';

interface Verb {
  usage: string;
  help: string;
  options?: ParseArgsConfig['options'];
  run(args: { values: Record<string, unknown>; positionals: string[] }, config: Config): Promise<number>;
}

async function withRuntime<T>(config: Config, fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const rt = await openRuntime(config);
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

const verbs: Record<string, Verb> = {
  serve: {
    usage: 'wsgate serve',
    help: `Serves the coreBOS web-service protocol on PORT (${settings.port.default}) at /webservice.php, creating and
migrating the database first, and the admin user on first start (its access key is printed once when
generated). Runs the executor in-process on WSGATE_EXECUTOR_SCHEDULE (${settings.executorSchedule.default}; "off"
to leave execution to cron or other processes). SIGTERM/SIGINT stop it.`,
    async run(_args, config) {
      const rt = await openRuntime(config);
      const generated = await ensureAdmin(rt);
      if (generated) process.stdout.write(`Created user admin. Its access key (shown only this once): ${generated}\n`);
      const server = await startServer(rt);
      rt.log.info({ url: `${server.url}/webservice.php`, database: rt.db.provider, executor: config.executorSchedule }, 'wsgate serving');
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await server.close();
      await rt.close();
      return 0;
    },
  },
  execute: {
    usage: 'wsgate execute',
    help: `Runs every due queued operation once, purges expired results, prints one summary line and exits
(what the OS cron runs as cron/executeOperationsFromQueue). Several may run at once (overlapping cron
runs; on PostgreSQL, several hosts): each operation is claimed by one of them with a lease (WSGATE_LEASE_SECONDS)
that is renewed as the operation starts; one whose executor died is run again once its lease has run out.
Exit code 0 unless the database fails (then the operations it could not finish run in a later pass).`,
    async run(_args, config) {
      return withRuntime(config, async (rt) => {
        const summary = await runPass(executorOf(rt));
        await purgeExpired(rt.db.prisma, rt.services.clock.now(), rt.services.sessionPolicy);
        process.stdout.write(formatSummary(summary) + '\n');
        return 0;
      });
    },
  },
  'user add': {
    usage: 'wsgate user add NAME [--admin] [--access-key KEY] [--password-stdin]',
    help: `Creates a user and prints its access key (generated unless --access-key is given).
--admin             the user is an administrator
--access-key KEY    use this access key (16 characters or more)
--password-stdin    also give the user a password, read from standard input (for the
                    token+password login variant)`,
    options: {
      admin: { type: 'boolean' },
      'access-key': { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
    async run({ values, positionals }, config) {
      const [userName] = positionals;
      if (!userName || positionals.length > 1) throw new UsageError('user add needs exactly one NAME');
      let password: string | undefined;
      if (values['password-stdin']) {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
        if (!password) throw new UsageError('--password-stdin: standard input was empty');
      }
      return withRuntime(config, async (rt) => {
        try {
          const { id, accessKey } = await addUser(
            rt.db.prisma,
            rt.services.secret,
            { userName, isAdmin: !!values.admin, accessKey: values['access-key'] as string | undefined, password },
            rt.services.clock.now(),
          );
          process.stdout.write(`user ${userName} (19x${id}) access key: ${accessKey}\n`);
          return 0;
        } catch (error) {
          if ((error as { code?: string }).code === 'P2002') throw new UsageError(`user ${userName} exists already`);
          throw error;
        }
      });
    },
  },
  config: {
    usage: 'wsgate config',
    help: 'Prints every setting: its environment variable, the value in force, and what it does. Secrets are\nnot shown, nor the password in DATABASE_URL.',
    async run(_args, config) {
      for (const [name, s] of Object.entries(settings) as [keyof Config, Setting][]) {
        process.stdout.write(`${s.env}=${shownValue(name, config)}\n    ${s.description}\n`);
      }
      return 0;
    },
  },
};

class UsageError extends Error {}

function shownValue(name: keyof Config, config: Config): string {
  const value = config[name];
  if (name === 'secret' || name === 'adminAccessKey') return value ? '(set)' : settings[name].default;
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (name === 'databaseUrl') return String(value).replace(/^(\w+:\/\/[^:/@]*):[^@]*@/, '$1:***@');
  return String(value);
}

function overview(): string {
  return `wsgate: a coreBOS web-service gateway with deferred operations.

Usage:
${Object.values(verbs).map((v) => `  ${v.usage}`).join('\n')}

Run "wsgate VERB --help" for a verb's help; settings come from the environment ("wsgate config").
`;
}

export async function main(argv: string[]): Promise<number> {
  const name = argv[0] === 'user' ? `user ${argv[1] ?? ''}`.trim() : (argv[0] ?? '');
  const rest = argv.slice(name.split(' ').length);
  const verb = verbs[name];
  if (!verb) {
    const asked = !name || name === '--help' || name === '-h' || name === 'help';
    (asked ? process.stdout : process.stderr).write(overview());
    return asked ? 0 : 2;
  }
  try {
    const args = parseArgs({ args: rest, options: { ...verb.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true }) as {
      values: Record<string, unknown>;
      positionals: string[];
    };
    if (args.values.help) {
      process.stdout.write(`Usage: ${verb.usage}\n\n${verb.help}\n`);
      return 0;
    }
    return await verb.run(args, loadConfig());
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`wsgate ${name}: ${(error as Error).message}\nUsage: ${verb.usage}\n`);
      return 2;
    }
    process.stderr.write(`wsgate ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
