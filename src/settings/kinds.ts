// The kinds of value a setting takes: each parses the text of an environment variable (or of its CLI flag),
// says in a few words what it accepts, and shows a parsed value as it would be written.
import path from 'node:path';
import { cron } from '../cron.js';
import { parseBackoff, type BackoffPolicy } from '../backoff.js';
import { parseAllowList } from '../outbound/allow.js';

export interface Kind<T> {
  /** What the setting accepts, as its error says: "a whole number >= 1". */
  accepts: string;
  /** The value of a text; throws an Error whose message is the reason (by default "expected " + accepts). */
  parse(text: string): T;
  /** The value as it would be written (WSGATE_BACKOFF's policy as `exponential:5`). */
  show(value: T): string;
}

/** A value the kind refuses: its message says what was expected. */
export class KindError extends Error {}

const expected = (accepts: string) => new KindError(`expected ${accepts}`);

function kind<T>(accepts: string, parse: (text: string) => T, show: (value: T) => string = String): Kind<T> {
  return { accepts, parse, show };
}

export const text = kind('text', (t) => t);

/** A whole number from `min` (to `max`), written as JavaScript's Number() reads it. */
export function wholeNumber(min: number, max?: number): Kind<number> {
  const accepts = max === undefined ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
  return kind(accepts, (t) => {
    const n = Number(t);
    if (t.trim() === '' || !Number.isInteger(n) || n < min || (max !== undefined && n > max)) throw expected(accepts);
    return n;
  });
}

/** A number above 0 (or from 0 with `orZero`); with no bound, any finite number. */
export function number(bound: 'positive' | 'orZero' | 'any'): Kind<number> {
  const accepts = bound === 'positive' ? 'a number > 0' : bound === 'orZero' ? 'a number >= 0' : 'a number';
  return kind(accepts, (t) => {
    const n = Number(t);
    if (t.trim() === '' || !Number.isFinite(n) || (bound === 'positive' && n <= 0) || (bound === 'orZero' && n < 0)) throw expected(accepts);
    return n;
  });
}

/** One of a few words, each giving a value. */
export function oneOf<T>(values: Record<string, T>): Kind<T> {
  const words = Object.keys(values);
  const accepts = words.length === 2 ? `${words[0]} or ${words[1]}` : `one of ${words.join(', ')}`;
  return kind(
    accepts,
    (t) => {
      if (!Object.hasOwn(values, t)) throw expected(accepts);
      return values[t] as T;
    },
    (v) => words.find((w) => values[w] === v) ?? String(v),
  );
}

export const onOff = oneOf({ on: true, off: false });

/** A file or folder; a relative one is taken from `base` (the working directory by default). */
export function file(base?: string): Kind<string> {
  return kind('a path', (t) => (base === undefined ? path.resolve(t) : path.resolve(base, t)));
}

/** A size as raw-body reads it: bytes, or a number with kb, mb, gb (`1mb`). */
export const byteSize = kind('bytes, or a size such as 512kb or 1mb', (t) => {
  if (!/^\d+(\.\d+)? *(b|kb|mb|gb|tb|pb)?$/i.test(t.trim())) throw expected('bytes, or a size such as 512kb or 1mb');
  return t;
});

/** A node-cron expression (seconds first when it has six fields), or `off`. */
export const cronOrOff = kind('a node-cron expression (six fields with seconds first, or five) or off', (t) => {
  if (t !== 'off' && !cron().validate(t)) throw expected('a node-cron expression (six fields with seconds first, or five) or off');
  return t;
});

export const backoff: Kind<BackoffPolicy> = kind(
  'seconds (10), a list (10,60,300, the last repeating) or exponential[:SECONDS]',
  (t) => {
    try {
      return parseBackoff(t);
    } catch {
      throw expected('seconds (10), a list (10,60,300, the last repeating) or exponential[:SECONDS]');
    }
  },
  (p) => (p.exponential ? `exponential:${p.delays[0]}` : p.delays.join(',')),
);

const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export const isQueueName = (q: string) => QUEUE_NAME.test(q);

/** A comma-separated list of queue names (letters, digits, `_.-`, up to 64 characters), in priority order. */
export function parseQueues(text: string, what?: string): string[] {
  const queues = text.split(',').map((q) => q.trim());
  const bad = queues.find((q) => !QUEUE_NAME.test(q));
  if (bad !== undefined) throw new KindError(`${what ? `${what}: ` : ''}"${bad}" is not a queue name (letters, digits, _ . -, up to 64 characters)`);
  return [...new Set(queues)];
}

export const queueList = kind(
  'queue names, comma-separated (letters, digits, _ . -, up to 64 characters each)',
  (t) => parseQueues(t),
  (v) => v.join(','),
);

/** WSGATE_CORS_ORIGINS: `*`, or exact origins (scheme, host and port, no path). */
export function parseCorsOrigins(text: string): string[] {
  const origins = text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  if (origins.includes('*')) return ['*'];
  for (const o of origins) {
    let origin: string | undefined;
    try {
      origin = new URL(o).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== o) throw new KindError(`"${o}" is not an origin: write scheme, host and port only, e.g. https://app.example.com`);
  }
  return [...new Set(origins)];
}

export const originList = kind('origins, comma-separated (https://app.example.com), or *', parseCorsOrigins, (v) => v.join(','));

export const hostList = kind('host names, *.domain, *, addresses or CIDRs, comma-separated', parseAllowList, (v) => v.join(','));

/** A database URL as it may be shown: without its password. */
export const withoutPassword = (url: string) => url.replace(/^(\w+:\/\/[^:/@]*):[^@]*@/, '$1:***@');

export const databaseUrl = kind('file:PATH or postgresql://user@host:port/db', (t) => t, withoutPassword);
