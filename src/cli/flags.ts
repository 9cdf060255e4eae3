// The CLI flags that override a setting for one run (`--concurrency N` for WSGATE_MAX_WORKERS): their
// parseArgs options, usage and help come from the settings list, and their values are checked by it.
import type { ParseArgsConfig } from 'node:util';
import { settings, type Config, type SettingName } from '../config.js';
import { UsageError } from './verb.js';

const flagOf = (name: SettingName) => {
  const flag = settings[name].flag;
  if (!flag) throw new Error(`setting ${name} has no flag`);
  return flag;
};

export function flagOptions(names: SettingName[]): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(names.map((name) => [flagOf(name).name, { type: 'string' as const }]));
}

/** `[--queue Q1,Q2] [--concurrency N] ...` for a usage line. */
export const flagUsage = (names: SettingName[]) => names.map((name) => `[--${flagOf(name).name} ${flagOf(name).arg}]`).join(' ');

/** Words of `text` in lines of at most `width` characters. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** One help entry per flag: `--concurrency N` then the setting's help, its variable and its default. */
export function flagHelp(names: SettingName[]): string {
  return names
    .map((name) => {
      const s = settings[name];
      const head = `--${flagOf(name).name} ${flagOf(name).arg}`.padEnd(20);
      const lines = wrap(`${s.help.replace(/\.$/, '')} (${s.env}, ${s.default}).`, 90);
      return [head + lines[0], ...lines.slice(1).map((l) => ' '.repeat(20) + l)].join('\n');
    })
    .join('\n');
}

/** The configuration with the flags given on the command line in place of their settings. */
export function withFlags(config: Config, names: SettingName[], values: Record<string, unknown>): Config {
  const out: Record<string, unknown> = { ...config };
  for (const name of names) {
    const given = values[flagOf(name).name];
    if (given === undefined) continue;
    try {
      out[name] = settings[name].readFlag(String(given));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return out as Config;
}
