// The whole corpus, in replay order (phase 0 first: cases that need a login before failed logins pile up).
import { findingCases } from './findings.js';
import { httpCases } from './http.js';
import { matrixCases } from './matrix.js';
import { optionsCases } from './options.js';
import type { Case } from './types.js';
import { vtqlCases } from './vtql.js';

export function corpus(): Case[] {
  const all = [...findingCases(), ...optionsCases(), ...vtqlCases(), ...httpCases(), ...matrixCases()];
  const names = new Set<string>();
  for (const c of all) {
    if (names.has(c.name)) throw new Error(`two corpus cases are named ${c.name}`);
    names.add(c.name);
  }
  return [...all.filter((c) => c.phase === 0), ...all.filter((c) => c.phase !== 0)];
}

export type { Case, Ctx } from './types.js';
