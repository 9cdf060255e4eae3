// What one setting is: its environment variable, its CLI flag if it has one, the kind of value it takes,
// its default and its help line. src/config.ts declares every setting once with `setting` or `optional`.
import type { Kind } from './kinds.js';

/** The CLI flag that overrides a setting for one run (`--concurrency N`). */
export interface Flag {
  name: string;
  /** The value's placeholder in usage lines: N, S, MB, Q1,Q2. */
  arg: string;
}

export interface Setting<T = unknown> {
  env: string;
  /** The default as README and `wsgate config` show it. */
  default: string;
  /** The default is a value as it would be written (`4`), not words about it (`none (exec off)`). */
  defaultIsValue: boolean;
  /** One line (or a few sentences) on what it does. */
  help: string;
  kind: Kind<unknown>;
  flag?: Flag;
  /** Its value is never shown (`wsgate config` says "(set)") nor given to event scripts. */
  secret?: boolean;
  /** The value of the variable's text (unset or empty: the default); throws a SettingValueError naming it. */
  read(text: string | undefined): T;
  /** The value given to its flag; throws a SettingValueError naming the flag. */
  readFlag(text: string): T;
  /** A value in force as `wsgate config` shows it. */
  show(value: T): string;
}

/** A setting's text that its kind refuses: one line naming the setting, the value and what it accepts. */
export class SettingValueError extends Error {}

interface Spec<T> {
  env: string;
  kind: Kind<T>;
  help: string;
  flag?: Flag;
  secret?: boolean;
}

/** A value as an error may quote it: as written when it is short and plain, else quoted, and cut short. */
function quoted(text: string): string {
  const cut = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  return /^[\x21-\x7e]*$/.test(cut) && cut !== '' ? cut : JSON.stringify(cut);
}

function parsed<T>(spec: Spec<T>, text: string, where: string): T {
  try {
    return spec.kind.parse(text);
  } catch (error) {
    throw new SettingValueError(`${where}: ${(error as Error).message}`);
  }
}

function build<T, V>(spec: Spec<T>, shownDefault: string, defaultIsValue: boolean, fallback: () => V): Setting<T | V> {
  return {
    env: spec.env,
    default: shownDefault,
    defaultIsValue,
    help: spec.help,
    kind: spec.kind as Kind<unknown>,
    flag: spec.flag,
    secret: spec.secret,
    read(text) {
      if (text === undefined || text === '') return fallback();
      return parsed(spec, text, spec.secret ? spec.env : `${spec.env}=${quoted(text)}`);
    },
    readFlag(text) {
      return parsed(spec, text, `--${spec.flag?.name ?? spec.env} ${quoted(text)}`);
    },
    show(value) {
      if (value === undefined) return shownDefault;
      if (spec.secret) return '(set)';
      const shown = spec.kind.show(value as T);
      return shown === '' ? shownDefault : shown;
    },
  };
}

/**
 * A setting with a default value, written as its variable would be (`'4'`); `shown` is how the docs say
 * the default when the written value does not (`none (no CORS headers)` for an empty list).
 */
export function setting<T>(spec: Spec<T> & { default: string; shown?: string }): Setting<T> {
  return build<T, T>(spec, spec.shown ?? spec.default, spec.shown === undefined, () => spec.kind.parse(spec.default)) as Setting<T>;
}

/** A setting that may be left unset (its value is then undefined); `unset` says what that means. */
export function optional<T>(spec: Spec<T> & { unset: string }): Setting<T | undefined> {
  return build<T, undefined>(spec, spec.unset, false, () => undefined);
}

/** The type of a setting's value. */
export type ValueOf<S> = S extends Setting<infer T> ? T : never;
