// Tracking IDs made before the time-ordered ones (src/queue/tracking-id.ts, which start with a
// digit) are nanoids, whose alphabet has "-": one in 64 starts with it, and parseArgs took
// `wsgate forget -Uk3...` for an unknown option. For the verbs that take IDs (forget, retry, run: no option
// takes a value), a word shaped like a tracking ID that is not one of the verb's options is moved after
// "--", where parseArgs reads it as a positional.
import type { ParseArgsConfig } from 'node:util';

const TRACKING_ID = /^-[A-Za-z0-9_-]{20}$/;

export function idsAsPositionals(args: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const end = args.indexOf('--');
  const head = end === -1 ? args : args.slice(0, end);
  const tail = end === -1 ? [] : args.slice(end + 1);
  const option = (word: string) => word.startsWith('--') && Object.hasOwn(options, word.slice(2).split('=')[0]!);
  const ids = head.filter((word) => TRACKING_ID.test(word) && !option(word));
  if (ids.length === 0) return args;
  return [...head.filter((word) => !ids.includes(word)), '--', ...ids, ...tail];
}
