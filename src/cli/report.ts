// How the `wsgate` command reports a failure: one line on stderr (with the verb's usage for a mistake in
// how it was called), or, when the verb was asked for --json, one JSON object on stdout. A stack trace is
// printed only for what nobody foresaw (a bug).
import { OperationFileError } from '../operations/own/load.js';
import { ScheduleFileError } from '../schedule/file.js';
import { DatabaseOpenError, Refusal, UsageError } from './verb.js';

/** A setting with a value wsgate cannot use (WSGATE_MAX_WORKERS=abc): exit code 2, like a usage mistake. */
export class SettingError extends Error {}

export interface Failure {
  /** usage: how the command was called; refused: it cannot be done as asked; setting; database; internal. */
  code: 'usage' | 'refused' | 'setting' | 'operations-file' | 'schedule-file' | 'database' | 'internal';
  message: string;
  exitCode: number;
}

export function failureOf(error: unknown): Failure {
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof Refusal) return { code: 'refused', message, exitCode: 2 };
  if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith?.('ERR_PARSE_ARGS')) return { code: 'usage', message, exitCode: 2 };
  if (error instanceof SettingError) return { code: 'setting', message, exitCode: 2 };
  if (error instanceof OperationFileError) return { code: 'operations-file', message, exitCode: 2 };
  if (error instanceof ScheduleFileError) return { code: 'schedule-file', message, exitCode: 2 };
  if (error instanceof DatabaseOpenError) return { code: 'database', message, exitCode: 1 };
  return { code: 'internal', message: (error as Error)?.stack ?? String(error), exitCode: 1 };
}

/** Writes the failure as the verb's caller reads it; returns the exit code. */
export function report(verb: string, usage: string | undefined, error: unknown, json: boolean): number {
  const f = failureOf(error);
  if (json) process.stdout.write(`${JSON.stringify({ error: { code: f.code, message: f.message } })}\n`);
  else process.stderr.write(`wsgate${verb ? ` ${verb}` : ''}: ${f.message}\n${f.code === 'usage' && usage ? `Usage: ${usage}\n` : ''}`);
  return f.exitCode;
}
