// The system under test: a real wsgate runtime (and gateway) in this process, configured as the test suite
// configures it (executor schedule off, logging silent), over a fresh database.
import { createHash } from 'node:crypto';
import { loadConfig, type Config } from '../src/config.js';
import { createLogger, ensureAdmin, openRuntime, syncIndexes, type Runtime } from '../src/runtime.js';
import { startServer, type RunningServer } from '../src/server.js';

export const ADMIN_KEY = 'b1b2c3d4e5f60718293a4b5c6d7e8f90';

export function benchConfig(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: databaseUrl,
    WSGATE_DATA_DIR: dataDir,
    WSGATE_SECRET: 'bench-secret-bench-secret',
    WSGATE_ADMIN_ACCESSKEY: ADMIN_KEY,
    WSGATE_EXECUTOR_SCHEDULE: 'off',
    WSGATE_LOG_LEVEL: 'silent',
    // The submit bench queues far more than a user's default quota (10,000 entries) as admin.
    WSGATE_QUOTA_QUEUED: '2147483647',
    WSGATE_QUOTA_QUEUED_BYTES: '2147483647',
    PORT: '0',
    WSGATE_HOST: '127.0.0.1',
    ...extra,
  });
}

/** A migrated runtime with the admin user. */
export async function openBenchRuntime(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Promise<Runtime> {
  const config = benchConfig(databaseUrl, dataDir, extra);
  const rt = await openRuntime(config, createLogger(config.logLevel));
  await syncIndexes(rt);
  await ensureAdmin(rt);
  return rt;
}

export interface Gateway {
  url: string;
  rt: Runtime;
  server: RunningServer;
  close(): Promise<void>;
}

export async function startGateway(databaseUrl: string, dataDir: string, extra: Record<string, string> = {}): Promise<Gateway> {
  const rt = await openBenchRuntime(databaseUrl, dataDir, extra);
  const server = await startServer(rt);
  return {
    url: `${server.url}/webservice.php`,
    rt,
    server,
    async close() {
      await server.close();
      await rt.close();
    },
  };
}

type Envelope = { success: boolean; result?: any; error?: { code: string; message: string } };

/** getchallenge + login as admin over HTTP; returns the session name. */
export async function login(url: string): Promise<string> {
  const challenge = (await (await fetch(`${url}?operation=getchallenge&username=admin`)).json()) as Envelope;
  if (!challenge.success) throw new Error(`getchallenge failed: ${JSON.stringify(challenge)}`);
  const accessKey = createHash('md5')
    .update(challenge.result.token + ADMIN_KEY)
    .digest('hex');
  const res = (await (
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `operation=login&username=admin&accessKey=${accessKey}`,
    })
  ).json()) as Envelope;
  if (!res.success) throw new Error(`login failed: ${JSON.stringify(res)}`);
  return res.result.sessionName as string;
}
