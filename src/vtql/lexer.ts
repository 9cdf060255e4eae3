// Splits a VTQL query into tokens: words (keywords, field and module names), numbers, quoted strings,
// operators and punctuation. Every token keeps its character offset for error messages.
import { WsError } from '../errors.js';

export type TokenKind = 'word' | 'number' | 'string' | 'symbol' | 'end';

export interface Token {
  kind: TokenKind;
  /** Source text for words, numbers and symbols; the decoded value for strings. */
  text: string;
  pos: number;
}

export const syntaxError = (pos: number, message: string) => new WsError('QUERY_SYNTAX_ERROR', `Syntax error at offset ${pos}: ${message}`);

const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[+-]?[0-9]+(\.[0-9]+)?/y;
// coreBOS also accepts a web-service id such as 12x5 unquoted.
const BARE_ID = /[0-9]+x[0-9]+/y;
const SYMBOL = /<=|>=|<>|!=|[=<>(),*;]/y;
const SPACE = /[ \t\r\n]+/y;

// MySQL's escapes in string literals: \% and \_ keep their backslash (they are LIKE escapes); any other
// escaped character stands for itself.
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '0': '\0', '%': '\\%', _: '\\_' };

function match(re: RegExp, input: string, pos: number): string | undefined {
  re.lastIndex = pos;
  return re.exec(input)?.[0];
}

function readString(input: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  while (i < input.length) {
    const c = input[i]!;
    if (c === "'") {
      if (input[i + 1] !== "'") {
        // PostgreSQL's text cannot hold NUL, and no stored value has one to match.
        if (value.includes('\0')) throw syntaxError(start, 'a string may not hold a NUL character (\\0)');
        return { value, end: i + 1 };
      }
      value += "'";
      i += 2;
    } else if (c === '\\' && i + 1 < input.length) {
      const next = input[i + 1]!;
      value += ESCAPES[next] ?? next;
      i += 2;
    } else {
      value += c;
      i += 1;
    }
  }
  throw syntaxError(start, "string is not terminated (strings are in single quotes; a quote inside is written '' or \\')");
}

export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < input.length) {
    const space = match(SPACE, input, pos);
    if (space) {
      pos += space.length;
      continue;
    }
    if (input[pos] === "'") {
      const { value, end } = readString(input, pos);
      tokens.push({ kind: 'string', text: value, pos });
      pos = end;
      continue;
    }
    const bareId = match(BARE_ID, input, pos);
    const number = bareId ? undefined : match(NUMBER, input, pos);
    const literal = bareId ?? number;
    if (literal) {
      const after = pos + literal.length;
      if (match(WORD, input, after) || input[after] === '.') {
        throw syntaxError(after, `unexpected '${input[after]}' after '${literal}' (quote text values: '...')`);
      }
      tokens.push({ kind: bareId ? 'string' : 'number', text: literal, pos });
      pos = after;
      continue;
    }
    const word = match(WORD, input, pos);
    if (word) {
      tokens.push({ kind: 'word', text: word, pos });
      pos += word.length;
      continue;
    }
    const symbol = match(SYMBOL, input, pos);
    if (symbol) {
      tokens.push({ kind: 'symbol', text: symbol, pos });
      pos += symbol.length;
      continue;
    }
    const hint = input[pos] === '"' ? ' (strings are in single quotes)' : '';
    throw syntaxError(pos, `unexpected character '${input[pos]}'${hint}`);
  }
  tokens.push({ kind: 'end', text: '', pos: input.length });
  return tokens;
}
