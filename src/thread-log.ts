// The logger of a worker thread (executor and call workers): each line it lets through its level goes to the
// thread that started the worker, which writes it with its own pino (log.ts: the same redaction, the same
// stdout), so a worker does not load pino (~2.5 MB a thread, BENCHMARKS.md). It has what wsgate calls of a
// pino logger: a method per level, child and isLevelEnabled.
import type { Level, Logger } from 'pino';

export interface LogLine {
  level: Level;
  /** The logger's bindings and the line's fields (an error as pino's serializer shows one, under `err`). */
  fields: Record<string, unknown>;
  msg?: string;
}

const LEVELS: Record<Level, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/** An error's fields as pino's err serializer gives them: a structured clone would drop its own properties (code, say). */
function errorFields(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.constructor?.name ?? 'Error', message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) if (value === null || typeof value !== 'object' || Array.isArray(value)) out[key] = value;
  if (error.cause instanceof Error) out.cause = errorFields(error.cause);
  return out;
}

function fieldsOf(obj: unknown): Record<string, unknown> {
  if (obj instanceof Error) return { err: errorFields(obj) };
  if (typeof obj !== 'object' || obj === null) return {};
  const out: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
  if (out.err instanceof Error) out.err = errorFields(out.err);
  return out;
}

export function threadLogger(level: string, send: (line: LogLine) => void, bindings: Record<string, unknown> = {}): Logger {
  const threshold = level === 'silent' ? Number.POSITIVE_INFINITY : (LEVELS[level as Level] ?? LEVELS.info);
  const at =
    (name: Level) =>
    (objOrMsg?: unknown, msg?: string): void => {
      if (LEVELS[name] < threshold) return;
      if (typeof objOrMsg === 'string') send({ level: name, fields: { ...bindings }, msg: objOrMsg });
      else send({ level: name, fields: { ...bindings, ...fieldsOf(objOrMsg) }, msg });
    };
  const logger = {
    level,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    silent: () => undefined,
    child: (more: Record<string, unknown>) => threadLogger(level, send, { ...bindings, ...more }),
    isLevelEnabled: (name: string) => (LEVELS[name as Level] ?? Number.POSITIVE_INFINITY) >= threshold,
  };
  // Only the methods above exist: wsgate's code calls no other of a logger (error, warn, info, debug, child
  // and isLevelEnabled are all it uses).
  return logger as unknown as Logger;
}

/** An error again from its fields, of a class of its name, so that pino's err serializer shows it as the worker's was. */
function revived(fields: Record<string, unknown>): Error {
  const type = typeof fields.type === 'string' && fields.type ? fields.type : 'Error';
  const Named = { [type]: class extends Error {} }[type]!;
  const { type: _type, message, stack, cause, ...own } = fields;
  const error = Object.assign(new Named(String(message ?? '')), own);
  error.stack = typeof stack === 'string' ? stack : undefined;
  if (cause && typeof cause === 'object') error.cause = revived(cause as Record<string, unknown>);
  return error;
}

/** Writes a worker's line with this thread's logger. */
export function writeLogLine(log: Logger, line: LogLine): void {
  const { err, ...fields } = line.fields;
  if (err && typeof err === 'object') log[line.level]({ ...fields, err: revived(err as Record<string, unknown>) }, line.msg);
  else log[line.level](line.fields, line.msg);
}
