// The bounds of one query, checked while it is parsed, before any SQL exists: a query beyond one is
// QUERY_SYNTAX_ERROR naming the limit (and its setting), never a database error. Without them, SQLite
// fails on about 997 and/or terms (its expression depth limit, 1000) and on 2,000 order by terms, and a
// long like pattern costs time per character of every value it is matched against (a 1,000-character
// '%aaa...b' takes ~100 ms per 65,000-character value).
import { settings } from '../config.js';

export interface Limits {
  /** Rows answered when the query has no limit clause. */
  defaultLimit: number;
  /** The most rows one query answers: a larger limit is lowered to it. */
  maxLimit: number;
  /** The longest query text, in characters. */
  maxLength?: number;
  /** The most conditions (comparisons, like, in, is null) in the where clause. */
  maxTerms?: number;
  /** The most values in the query, those of in-lists included. */
  maxValues?: number;
  /** The longest like pattern, in characters. */
  maxPatternLength?: number;
}

export const DEFAULT_LIMITS: Required<Limits> = {
  defaultLimit: 100,
  maxLimit: 100,
  maxLength: 100_000,
  maxTerms: 1000,
  maxValues: 1000,
  maxPatternLength: 1000,
};

/** Parentheses nested deeper than this are refused. */
export const MAX_DEPTH = 32;
/** The most order by terms (SQLite refuses 2,000; a module has far fewer fields). */
export const MAX_ORDER_TERMS = 32;
/** The most % wildcards in one like pattern. */
export const MAX_PATTERN_WILDCARDS = 10;

export const withDefaults = (limits: Limits): Required<Limits> => ({
  defaultLimit: limits.defaultLimit,
  maxLimit: limits.maxLimit,
  maxLength: limits.maxLength ?? DEFAULT_LIMITS.maxLength,
  maxTerms: limits.maxTerms ?? DEFAULT_LIMITS.maxTerms,
  maxValues: limits.maxValues ?? DEFAULT_LIMITS.maxValues,
  maxPatternLength: limits.maxPatternLength ?? DEFAULT_LIMITS.maxPatternLength,
});

/** The setting a limit comes from, for messages. */
export const SETTING = {
  maxLength: settings.queryMaxLength.env,
  maxTerms: settings.queryMaxTerms.env,
  maxValues: settings.queryMaxValues.env,
  maxPatternLength: settings.queryMaxPatternLength.env,
} as const;
