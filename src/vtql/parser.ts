// Recursive-descent parser for coreBOS's VTQL:
//   select <field>[, <field>...] | * | count(*) from <Module>
//     [where <condition>] [order by <field> [asc|desc][, ...]] [limit [<offset>,] <count>];
// condition := term (or term)*        term := factor (and factor)*
// factor    := ( condition ) | <field> (= | != | <> | < | > | <= | >=) value
//            | <field> [not] like value | <field> [not] in (value, ...) | <field> is [not] null
// value     := 'string' | number
// Keywords are case-insensitive; the closing semicolon is required, as coreBOS requires it.
// The limits of limits.ts are checked here, as the query is read.
import type { CompareOp, Condition, FieldRef, OrderItem, Query, SelectList, Value } from './ast.js';
import { syntaxError, tokenize, type Token } from './lexer.js';
import { DEFAULT_LIMITS, MAX_DEPTH, MAX_ORDER_TERMS, MAX_PATTERN_WILDCARDS, SETTING, withDefaults, type Limits } from './limits.js';
const COMPARE_OPS: Record<string, CompareOp> = { '=': '=', '!=': '!=', '<>': '!=', '<': '<', '>': '>', '<=': '<=', '>=': '>=' };

const oneOf = (options: string[]) => (options.length > 1 ? `${options.slice(0, -1).join(', ')} or ${options.at(-1)}` : options[0]!);

/** What may follow the clauses parsed so far, for the message when the semicolon is missing. */
function nextClauses(q: Query): string[] {
  const next: string[] = [];
  if (q.limit) return ["';'"];
  if (q.orderBy.length) next.push("','");
  else next.push(...(q.where ? ["'and'", "'or'"] : ["'where'"]), "'order by'");
  return [...next, "'limit'", "';'"];
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'end of query';
  if (t.kind === 'string') return `string '${t.text}'`;
  return `'${t.text}'`;
}

class Parser {
  private i = 0;
  private depth = 0;
  private values = 0;
  private terms = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly limits: Required<Limits>,
  ) {}

  private get peek(): Token {
    return this.tokens[this.i]!;
  }

  private fail(expected: string, t: Token = this.peek): never {
    throw syntaxError(t.pos, `expected ${expected}, found ${describe(t)}`);
  }

  private isKeyword(word: string, t: Token = this.peek): boolean {
    return t.kind === 'word' && t.text.toLowerCase() === word;
  }

  private isSymbol(symbol: string): boolean {
    return this.peek.kind === 'symbol' && this.peek.text === symbol;
  }

  private acceptSymbol(symbol: string): boolean {
    if (!this.isSymbol(symbol)) return false;
    this.i++;
    return true;
  }

  private accept(keyword: string): boolean {
    if (!this.isKeyword(keyword)) return false;
    this.i++;
    return true;
  }

  private expectKeyword(keyword: string, expected = `'${keyword}'`): void {
    if (!this.accept(keyword)) this.fail(expected);
  }

  private expectSymbol(symbol: string, expected = `'${symbol}'`): Token {
    if (!this.isSymbol(symbol)) this.fail(expected);
    return this.tokens[this.i++]!;
  }

  private name(expected: string): FieldRef {
    const t = this.peek;
    if (t.kind !== 'word') this.fail(expected);
    this.i++;
    return { name: t.text, pos: t.pos };
  }

  query(): Query {
    this.expectKeyword('select');
    const select = this.selectList();
    this.expectKeyword('from');
    const module = this.name('a module name');
    const query: Query = { select, module, orderBy: [] };
    if (this.accept('where')) query.where = this.condition();
    if (this.accept('order')) {
      this.expectKeyword('by');
      query.orderBy = this.orderList();
    }
    if (this.accept('limit')) query.limit = this.limit();
    this.expectSymbol(';', oneOf(nextClauses(query)));
    if (this.peek.kind !== 'end') this.fail("end of query after ';'");
    return query;
  }

  private selectList(): SelectList {
    if (this.isSymbol('*')) {
      this.i++;
      return { kind: 'all' };
    }
    const next = this.tokens[this.i + 1]!;
    if (this.isKeyword('count') && next.kind === 'symbol' && next.text === '(') {
      this.i += 2;
      this.expectSymbol('*');
      this.expectSymbol(')');
      return { kind: 'count' };
    }
    const fields: FieldRef[] = [];
    do {
      if (this.isKeyword('from')) this.fail(fields.length ? 'a field name' : "a field name, '*' or count(*)");
      fields.push(this.name(fields.length ? 'a field name' : "a field name, '*' or count(*)"));
    } while (this.acceptSymbol(','));
    if (!this.isKeyword('from')) this.fail("',' or 'from'");
    return { kind: 'fields', fields };
  }

  private condition(): Condition {
    const items = [this.term()];
    while (this.accept('or')) items.push(this.term());
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private term(): Condition {
    const items = [this.factor()];
    while (this.accept('and')) items.push(this.factor());
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private factor(): Condition {
    if (this.isSymbol('(')) {
      const open = this.tokens[this.i++]!;
      if (++this.depth > MAX_DEPTH) throw syntaxError(open.pos, `parentheses nested deeper than ${MAX_DEPTH}`);
      const inner = this.condition();
      this.expectSymbol(')', "'and', 'or' or ')'");
      this.depth--;
      return inner;
    }
    const field = this.name("a field name or '('");
    if (++this.terms > this.limits.maxTerms) {
      throw syntaxError(field.pos, `more than ${this.limits.maxTerms} conditions in one query (limit ${SETTING.maxTerms})`);
    }
    const t = this.peek;
    if (t.kind === 'symbol' && COMPARE_OPS[t.text]) {
      this.i++;
      return { kind: 'compare', field, op: COMPARE_OPS[t.text]!, value: this.value() };
    }
    if (this.accept('is')) {
      const negated = this.accept('not');
      this.expectKeyword('null', negated ? "'null'" : "'null' or 'not'");
      return { kind: 'null', field, negated };
    }
    const negated = this.accept('not');
    if (this.accept('like')) return { kind: 'like', field, negated, pattern: this.pattern() };
    if (this.accept('in')) return { kind: 'in', field, negated, values: this.valueList() };
    this.fail(negated ? "'like' or 'in'" : "a comparison operator, 'like', 'in', 'not' or 'is'");
  }

  private value(): Value {
    const t = this.peek;
    const boolean = t.kind === 'word' && /^(true|false)$/i.test(t.text);
    if (t.kind !== 'string' && t.kind !== 'number' && !boolean) this.fail("a value (a 'quoted string', a number, true or false)");
    if (++this.values > this.limits.maxValues) {
      throw syntaxError(t.pos, `more than ${this.limits.maxValues} values in one query (limit ${SETTING.maxValues})`);
    }
    this.i++;
    if (boolean) return { kind: 'boolean', value: t.text.toLowerCase(), pos: t.pos };
    return { kind: t.kind as 'string' | 'number', value: t.text, pos: t.pos };
  }

  private pattern(): Value {
    const pattern = this.value();
    if (pattern.kind === 'boolean') throw syntaxError(pattern.pos, "a like pattern is a 'quoted string'");
    const length = [...pattern.value].length;
    if (length > this.limits.maxPatternLength) {
      throw syntaxError(pattern.pos, `like pattern of ${length} characters, more than ${this.limits.maxPatternLength} (limit ${SETTING.maxPatternLength})`);
    }
    if (wildcards(pattern.value) > MAX_PATTERN_WILDCARDS) {
      throw syntaxError(pattern.pos, `like pattern with more than ${MAX_PATTERN_WILDCARDS} % wildcards`);
    }
    return pattern;
  }

  private valueList(): Value[] {
    this.expectSymbol('(');
    const values = [this.value()];
    while (this.acceptSymbol(',')) values.push(this.value());
    this.expectSymbol(')', "',' or ')'");
    return values;
  }

  private orderList(): OrderItem[] {
    const items: OrderItem[] = [];
    do {
      if (items.length === MAX_ORDER_TERMS) throw syntaxError(this.peek.pos, `more than ${MAX_ORDER_TERMS} order by terms`);
      const field = this.name('a field name');
      const desc = this.accept('desc');
      if (!desc) this.accept('asc');
      items.push({ field, direction: desc ? 'desc' : 'asc' });
    } while (this.acceptSymbol(','));
    return items;
  }

  private integer(): number {
    const t = this.peek;
    const n = t.kind === 'number' && /^[0-9]+$/.test(t.text) ? Number(t.text) : NaN;
    if (!Number.isSafeInteger(n)) this.fail('a non-negative integer');
    this.i++;
    return n;
  }

  private limit(): { offset: number; count: number } {
    const first = this.integer();
    if (!this.acceptSymbol(',')) return { offset: 0, count: first };
    return { offset: first, count: this.integer() };
  }
}

/** How many % of a like pattern are wildcards (\% is a literal %: the lexer keeps the backslash). */
function wildcards(pattern: string): number {
  let n = 0;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === '%') n++;
  }
  return n;
}

/**
 * Parses a VTQL query; syntax errors, and queries beyond a limit, are WsError QUERY_SYNTAX_ERROR naming
 * the offset (and the limit).
 */
export function parseQuery(text: string, limits: Limits = DEFAULT_LIMITS): Query {
  const bounds = withDefaults(limits);
  if (text.length > bounds.maxLength) {
    throw syntaxError(bounds.maxLength, `query of ${text.length} characters, longer than ${bounds.maxLength} (limit ${SETTING.maxLength})`);
  }
  return new Parser(tokenize(text), bounds).query();
}
