// WSGATE_EXEC_ALLOW: the commands `exec` may run, by name. Read at every submit and run, so an edit applies
// at once and a removed entry stops queued jobs from running it. Without the file, exec is off.
import fs from 'node:fs';
import path from 'node:path';
import { WsError } from '../errors.js';

export interface ExecCommand {
  /** Absolute path of the program (no shell runs it). */
  executable: string;
  /** Arguments always given first. */
  args: string[];
  /** Extra arguments the caller may add: each must match this pattern as a whole; none when absent. */
  allowArgs: RegExp | null;
  cwd: string | undefined;
  /** The command's environment besides PATH (wsgate's own environment is not passed on). */
  env: Record<string, string>;
  timeoutSeconds: number;
}

export const DEFAULT_EXEC_TIMEOUT_SECONDS = 60;
const KEYS = new Set(['executable', 'args', 'allowArgs', 'cwd', 'env', 'timeout']);

const off = (why: string) => new WsError('ACCESS_DENIED', `exec: ${why}`);

function commandOf(name: string, raw: unknown): ExecCommand {
  const broken = (why: string) => off(`the server's exec allow file is not valid (command ${name}: ${why})`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw broken('not an object');
  const c = raw as Record<string, unknown>;
  for (const key of Object.keys(c)) if (!KEYS.has(key)) throw broken(`unknown key ${key}`);
  if (typeof c.executable !== 'string' || !path.isAbsolute(c.executable)) throw broken('executable must be an absolute path');
  const args = c.args ?? [];
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw broken('args must be a list of strings');
  let allowArgs: RegExp | null = null;
  if (c.allowArgs !== undefined) {
    if (typeof c.allowArgs !== 'string') throw broken('allowArgs must be a regular expression (text)');
    try {
      allowArgs = new RegExp(`^(?:${c.allowArgs})$`, 'u');
    } catch {
      throw broken('allowArgs is not a valid regular expression');
    }
  }
  if (c.cwd !== undefined && (typeof c.cwd !== 'string' || !path.isAbsolute(c.cwd))) throw broken('cwd must be an absolute path');
  const env = c.env ?? {};
  if (typeof env !== 'object' || env === null || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string')) {
    throw broken('env must be an object of strings');
  }
  const timeout = c.timeout ?? DEFAULT_EXEC_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !(timeout > 0)) throw broken('timeout must be a positive number of seconds');
  return {
    executable: c.executable,
    args: args as string[],
    allowArgs,
    cwd: c.cwd as string | undefined,
    env: env as Record<string, string>,
    timeoutSeconds: timeout,
  };
}

/** The command named `name`; ACCESS_DENIED when exec is off or the name is not in the file. */
export function allowedCommand(file: string | undefined, name: string): ExecCommand {
  if (!file) throw off('running commands is off on this server (WSGATE_EXEC_ALLOW is not set)');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw off('running commands is off on this server (its allow file does not exist)');
  }
  let all: unknown;
  try {
    all = JSON.parse(text);
  } catch {
    throw off("the server's exec allow file is not valid JSON");
  }
  if (typeof all !== 'object' || all === null || Array.isArray(all)) throw off("the server's exec allow file is not a JSON object of commands");
  if (!Object.hasOwn(all, name)) throw off(`the command ${name} is not allowed`);
  return commandOf(name, (all as Record<string, unknown>)[name]);
}
