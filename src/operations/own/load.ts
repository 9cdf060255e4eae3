// A deployment's own operations: every `.js`/`.mjs` file of WSGATE_OPERATIONS_DIR, loaded and checked at
// start (a broken file stops the start, naming the file and why), then turned into operation definitions
// that run like the built-in ones: synchronously in a call worker (its timeout and memory limit), deferred
// in the executor's workers (leases, retries, the failed store).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { newAjv } from '../../ajv.js';
import { WsError } from '../../errors.js';
import type { OperationDefinition, ParamSpec } from '../types.js';
import type { OwnOperationDefinition } from './define.js';
import { queueSettingsOf } from './settings.js';
import { scriptContext } from './context.js';

/** Finds a registered operation by name, for ctx.api.call (the registry, once it is built). */
export type Lookup = (name: string) => OperationDefinition | undefined;

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const KEYS = new Set([
  'name',
  'summary',
  'params',
  'queueable',
  'idempotent',
  'access',
  'queued',
  'handle',
  'queue',
  'delay',
  'priority',
  'timeout',
  'tries',
  'backoff',
]);
const ROLES = new Set(['admin', 'user']);

/** A file that cannot be loaded: the start stops with this message. */
export class OperationFileError extends Error {
  override name = 'OperationFileError';
}

// One per thread, required with the first own operation: a thread without any holds no ajv. A worker
// thread's schemas were checked against the meta-schema by the main thread, which accepted their files:
// it compiles them without (half the ~70 ms an ajv takes to compile its first schema in a thread).
let ajv: Ajv | undefined;
const ajvOf = (checked: boolean) => (ajv ??= newAjv({ allErrors: false, coerceTypes: true, useDefaults: true, strict: true, validateSchema: !checked }));

const describeError = (e: ErrorObject) => {
  const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : (e.params as { missingProperty?: string }).missingProperty;
  return field ? `parameter ${field} ${e.message}` : `parameters ${e.message}`;
};

function toDefinition(file: string, def: OwnOperationDefinition, lookup: Lookup, checked: boolean): OperationDefinition {
  const fail = (why: string) => new OperationFileError(`${file}: ${why}`);
  if (typeof def !== 'object' || def === null) throw fail('it exports no operation (export default defineOperation({...}))');
  for (const key of Object.keys(def)) if (!KEYS.has(key)) throw fail(`unknown key "${key}" (known: ${[...KEYS].join(', ')})`);
  if (typeof def.name !== 'string' || !NAME.test(def.name)) throw fail('name must be letters, digits and _, starting with a letter (up to 64)');
  if (typeof def.handle !== 'function') throw fail(`operation ${def.name} has no handle(params, ctx) function`);
  if (def.access !== undefined && (!Array.isArray(def.access) || def.access.some((r) => !ROLES.has(r))))
    throw fail('access must be a list of roles: admin, user');
  const schema = def.params ?? { type: 'object', properties: {} };
  if (schema.type !== undefined && schema.type !== 'object') throw fail('params must be an object schema (type: object, properties: {...})');
  const validate = ((): ValidateFunction => {
    try {
      return ajvOf(checked).compile({ type: 'object', ...schema });
    } catch (error) {
      throw fail(`params is not a valid JSON Schema: ${(error as Error).message}`);
    }
  })();
  const required = new Set(schema.required ?? []);
  const params: ParamSpec[] = Object.entries(schema.properties ?? {}).map(([name, prop]) => ({
    name,
    // Objects and lists arrive as JSON text (as coreBOS's element does); everything else as text, which
    // ajv converts to the declared number or boolean.
    type: prop.type === 'object' || prop.type === 'array' ? 'encoded' : 'string',
    required: required.has(name),
    description: typeof prop.description === 'string' ? prop.description : '',
  }));
  const { queueDefaults, policy } = queueSettingsOf(def, fail);
  const access = def.access ? new Set(def.access) : null;
  const handle = def.handle.bind(def);
  const queueable = def.queueable ?? true;
  const check = (user: { isAdmin: boolean } | null, p: Record<string, unknown>) => {
    if (!user) throw new WsError('AUTHENTICATION_REQUIRED', 'Authentication required: log in and send sessionName');
    if (access && !access.has(user.isAdmin ? 'admin' : 'user')) {
      throw new WsError('ACCESS_DENIED', `Permission to perform the operation is denied: ${def.name} is not open to your role`);
    }
    if (!validate(p)) throw new WsError('INVALID_PARAMETER', `${def.name}: ${describeError(validate.errors![0]!)}`);
  };
  return {
    name: def.name,
    method: 'POST',
    prelogin: false,
    queueable,
    queued: queueable && def.queued === true,
    idempotent: def.idempotent === true,
    isolated: true,
    own: true,
    file,
    queueDefaults,
    policy,
    summary: def.summary ?? `${def.name} (${path.basename(file)})`,
    params,
    paramsSchema: schema,
    precheck: (ctx, p) => check(ctx.user, { ...p }),
    async run(ctx, p) {
      const values = { ...p };
      check(ctx.user, values);
      return handle(values, scriptContext(ctx, lookup));
    },
  };
}

/**
 * The file's URL with its modification time and size: an unchanged file is the module already loaded, a
 * changed one (a reload after an edit) is imported afresh, as ESM caches modules by URL for good.
 */
export function versionedUrl(file: string): string {
  const { mtimeMs, size } = fs.statSync(file);
  return `${pathToFileURL(file).href}?v=${mtimeMs}-${size}`;
}

/**
 * The operations of `dir` (none when it does not exist), checked against each other and against the
 * built-in names. Throws OperationFileError naming the file for anything wrong. `only`: the files to load
 * (worker threads load those the main thread accepted, not a file added since). `checked`: the main thread
 * accepted these files (a worker thread's load). The schemas are compiled here, not at an operation's first
 * run: a worker's first batch does not wait for them.
 */
export async function loadOwnOperations(
  dir: string,
  builtIn: string[],
  lookup: Lookup = () => undefined,
  { only, checked = false }: { only?: string[]; checked?: boolean } = {},
): Promise<OperationDefinition[]> {
  if (!fs.existsSync(dir)) return [];
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))
    .filter((f) => !only || only.includes(path.join(dir, f)))
    .sort();
  const taken = new Map(builtIn.map((n) => [n.toLowerCase(), 'a built-in operation']));
  const out: OperationDefinition[] = [];
  for (const name of files) {
    const file = path.join(dir, name);
    let module: Record<string, unknown>;
    try {
      module = (await import(versionedUrl(file))) as Record<string, unknown>;
    } catch (error) {
      throw new OperationFileError(`${file}: it cannot be loaded: ${(error as Error).message}`);
    }
    const def = toDefinition(file, module.default as OwnOperationDefinition, lookup, checked);
    const other = taken.get(def.name.toLowerCase());
    if (other) throw new OperationFileError(`${file}: operation ${def.name} has the name of ${other}`);
    taken.set(def.name.toLowerCase(), file);
    out.push(def);
  }
  return out;
}
