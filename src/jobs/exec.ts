// exec: the Queue Server's ExecWorker as a queueable operation. It runs a command NAMED in the allow file
// (WSGATE_EXEC_ALLOW) with its fixed arguments and the caller's extra ones (an array; each must match the
// command's allowArgs), without a shell, in a process group of its own. It stores the exit code, stdout and
// stderr (each cut at WSGATE_EXEC_MAX_OUTPUT_BYTES); a non-zero exit is a failed attempt (EXEC_FAILED, tried
// again per --tries). The group is killed at the command's timeout, when the command exits (nothing it
// started outlives it), and with its worker (the executor's timeout, a shutdown). Always deferred.
import type { ChildProcess, spawn as Spawn } from 'node:child_process';
import { WsError } from '../errors.js';
import type { OperationContext, OperationDefinition, Params } from '../operations/types.js';
import { allowedCommand, type ExecCommand } from './execAllow.js';

/** Characters a shell would read: no shell runs the command, but arguments holding them are refused anyway. */
const SHELL_META = /[;&|`$<>(){}[\]*?!~'"\\\n\r\0#]/;
export const MAX_EXEC_ARGS = 100;

const bad = (message: string) => new WsError('INVALID_PARAMETER', `exec: ${message}`);

function jobOf(ctx: OperationContext, p: Params): { name: string; command: ExecCommand; args: string[] } {
  const name = p.name;
  if (typeof name !== 'string' || name === '') throw bad('name must name a command of the allow file');
  const raw = p.args ?? [];
  if (!Array.isArray(raw)) throw bad('args must be a JSON array of strings');
  if (raw.length > MAX_EXEC_ARGS) throw bad(`args: more than ${MAX_EXEC_ARGS} arguments`);
  const args = raw.map((a, i) => {
    if (typeof a !== 'string' && typeof a !== 'number') throw bad(`args[${i}] must be a string`);
    const text = String(a);
    const meta = SHELL_META.exec(text);
    if (meta) throw bad(`args[${i}] contains the shell metacharacter ${JSON.stringify(meta[0])}`);
    return text;
  });
  const command = allowedCommand(ctx.services.jobs.execAllowFile, name);
  args.forEach((a, i) => {
    if (!command.allowArgs) throw new WsError('ACCESS_DENIED', `exec: the command ${name} takes no extra arguments`);
    if (!command.allowArgs.test(a)) throw new WsError('ACCESS_DENIED', `exec: args[${i}] is not an argument the command ${name} allows`);
  });
  return { name, command, args };
}

/** Keeps the first `max` bytes of a stream. */
function capture(max: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  return {
    add(chunk: Buffer) {
      const room = max - size;
      if (chunk.length > room) truncated = true;
      if (room <= 0) return;
      chunks.push(chunk.subarray(0, room));
      size += Math.min(room, chunk.length);
    },
    get text() {
      return Buffer.concat(chunks).toString('utf8');
    },
    get truncated() {
      return truncated;
    },
  };
}

function killGroup(pid: number) {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

const spawnCommand = (spawn: typeof Spawn, command: ExecCommand, args: string[]) =>
  spawn(command.executable, [...command.args, ...args], {
    cwd: command.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...command.env },
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

export const exec: OperationDefinition = {
  name: 'exec',
  method: 'POST',
  prelogin: false,
  queueable: true,
  queued: true,
  external: true,
  summary:
    "A job that runs a command named in the allow file WSGATE_EXEC_ALLOW (the Queue Server's ExecWorker), without a shell, and stores {exitCode, stdout, stderr}. Always deferred.",
  params: [
    { name: 'name', type: 'string', required: true, description: 'The command, as the allow file names it' },
    { name: 'args', type: 'encoded', required: false, description: "JSON array of extra arguments, each matching the command's allowArgs" },
  ],
  precheck(ctx, p) {
    jobOf(ctx, p);
  },
  async run(ctx, p) {
    const { name, command, args } = jobOf(ctx, p);
    // Imported by the first command: a worker thread that runs none does not hold node:child_process.
    const { spawn } = await import('node:child_process');
    if (ctx.signal?.aborted) throw new WsError('OPERATION_CANCELLED', `exec: ${name} was cancelled before it started`);
    const max = ctx.services.jobs.execMaxOutputBytes;
    const stdout = capture(max);
    const stderr = capture(max);
    // The command may run (and be seen running) before spawn returns its pid: meanwhile the executor knows a
    // group is being started (-1) and, should it stop this worker then, waits for the pid rather than miss it.
    ctx.holdProcessGroup?.(-1);
    let child: ChildProcess;
    try {
      child = spawnCommand(spawn, command, args);
    } catch (error) {
      ctx.holdProcessGroup?.(0);
      throw new WsError('EXEC_FAILED', `exec: ${name} could not start (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const pid = child.pid;
    ctx.holdProcessGroup?.(pid ?? 0);
    child.stdout!.on('data', (d: Buffer) => stdout.add(d));
    child.stderr!.on('data', (d: Buffer) => stderr.add(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid) killGroup(pid);
    }, command.timeoutSeconds * 1000);
    // Its owner cancelled it: the whole group goes (the executor's worker kills it too).
    const cancel = () => pid && killGroup(pid);
    ctx.signal?.addEventListener('abort', cancel, { once: true });
    try {
      const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once('error', reject);
        // Whatever the command left running in its group goes with it, which also closes the pipes it held.
        child.once('exit', () => pid && killGroup(pid));
        child.once('close', (code, signal) => resolve({ code, signal }));
      });
      if (ctx.signal?.aborted) throw new WsError('OPERATION_CANCELLED', `exec: ${name} was cancelled; its process group was killed`);
      if (timedOut) throw new WsError('TIMEOUT', `exec: ${name} did not finish within ${command.timeoutSeconds} s; its process group was killed`);
      const result = {
        exitCode: ended.code,
        signal: ended.signal,
        stdout: stdout.text,
        stderr: stderr.text,
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
      };
      if (ended.code !== 0) {
        const tail = stderr.text.slice(-1000);
        throw new WsError(
          'EXEC_FAILED',
          `exec: ${name} ${ended.code === null ? `was killed (${ended.signal})` : `exited with code ${ended.code}`}${tail ? `; stderr: ${tail}` : ''}`,
        );
      }
      return result;
    } catch (error) {
      if (error instanceof WsError) throw error;
      throw new WsError('EXEC_FAILED', `exec: ${name} could not start (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', cancel);
      if (pid) killGroup(pid);
      ctx.holdProcessGroup?.(0);
    }
  },
};
