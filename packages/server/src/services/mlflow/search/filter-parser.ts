/**
 * MLflow's `filter_string` grammar (`metrics.loss < 0.5 AND params.lr = '0.1'`), read into a
 * small clause tree that each search (runs, experiments) compiles to Larder's query language.
 * MLflow's rules: an identifier is `<entity>.<key>` (a bare key is an attribute), the key
 * may be quoted with backticks or quotes, string values are quoted with ' or ", numbers are
 * bare, `IN`/`NOT IN` take a parenthesised list. Beyond MLflow: `OR`, parentheses for
 * grouping, and `IS [NOT] NULL`. Every mistake is an INVALID_PARAMETER_VALUE sentence.
 */
import { MlflowError } from '../mlflow-errors.js';

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

/** A literal: a string (quoted in the filter) or a number (bare). */
export type FilterValue = { kind: 'string'; text: string } | { kind: 'number'; text: string; number: number };

export interface Identifier {
  /** The entity as written (`metrics`, `params`, `tag`…), or `attributes` for a bare key. */
  entity: string;
  key: string;
}

export type Clause =
  | { kind: 'and' | 'or'; clauses: Clause[] }
  | { kind: 'compare'; identifier: Identifier; comparator: Comparator; value: FilterValue }
  | { kind: 'in'; identifier: Identifier; negated: boolean; values: FilterValue[] }
  | { kind: 'null'; identifier: Identifier; negated: boolean };

type Token =
  | { type: 'word'; text: string; at: number }
  | { type: 'quoted'; quote: string; text: string; at: number }
  | { type: 'number'; text: string; at: number }
  | { type: 'op'; text: string; at: number }
  | { type: 'dot' | 'open' | 'close' | 'comma'; text: string; at: number };

const MAX_FILTER_LENGTH = 100_000;
const MAX_DEPTH = 50;

export function invalidFilter(message: string): MlflowError {
  return new MlflowError('INVALID_PARAMETER_VALUE', message);
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < filter.length) {
    const char = filter[at] as string;
    if (/\s/.test(char)) {
      at += 1;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') {
      let end = at + 1;
      let text = '';
      for (;;) {
        if (end >= filter.length) throw invalidFilter(`Unclosed ${char} quote at position ${at} of the filter`);
        const next = filter[end] as string;
        if (next === char) {
          // A doubled quote stands for itself, as in SQL.
          if (filter[end + 1] === char) {
            text += char;
            end += 2;
            continue;
          }
          break;
        }
        text += next;
        end += 1;
      }
      tokens.push({ type: 'quoted', quote: char, text, at });
      at = end + 1;
      continue;
    }
    const number = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(filter.slice(at));
    const previous = tokens.at(-1);
    if (number && previous?.type !== 'word' && previous?.type !== 'dot') {
      tokens.push({ type: 'number', text: number[0], at });
      at += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(filter.slice(at)) ?? /^[0-9]+/.exec(filter.slice(at));
    if (word) {
      tokens.push({ type: 'word', text: word[0], at });
      at += word[0].length;
      continue;
    }
    const op = /^(<=|>=|!=|<>|==|=|<|>)/.exec(filter.slice(at));
    if (op) {
      tokens.push({ type: 'op', text: op[0] === '<>' ? '!=' : op[0] === '==' ? '=' : op[0], at });
      at += op[0].length;
      continue;
    }
    const single = { '.': 'dot', '(': 'open', ')': 'close', ',': 'comma' } as const;
    const type = single[char as keyof typeof single];
    if (!type) throw invalidFilter(`Unexpected character '${char}' at position ${at} of the filter`);
    tokens.push({ type, text: char, at });
    at += 1;
  }
  return tokens;
}

const isKeyword = (token: Token | undefined, word: string) =>
  token?.type === 'word' && token.text.toUpperCase() === word;

class FilterParser {
  private index = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly source: string,
  ) {}

  parse(): Clause {
    const clause = this.or(0);
    const rest = this.tokens[this.index];
    if (rest) throw invalidFilter(`Invalid clause in filter '${this.source}' near '${this.source.slice(rest.at)}'`);
    return clause;
  }

  identifierAlone(): Identifier {
    const identifier = this.identifier();
    if (this.peek()) throw invalidFilter(`Invalid order_by clause '${this.source}'. Could not be parsed.`);
    return identifier;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private next(what: string): Token {
    const token = this.tokens[this.index];
    if (!token) throw invalidFilter(`Filter '${this.source}' ends where ${what} was expected`);
    this.index += 1;
    return token;
  }

  private or(depth: number): Clause {
    if (depth > MAX_DEPTH) throw invalidFilter(`The filter nests more than ${MAX_DEPTH} parentheses deep`);
    const clauses = [this.and(depth)];
    while (isKeyword(this.peek(), 'OR')) {
      this.index += 1;
      clauses.push(this.and(depth));
    }
    return clauses.length === 1 ? (clauses[0] as Clause) : { kind: 'or', clauses };
  }

  private and(depth: number): Clause {
    const clauses = [this.primary(depth)];
    while (isKeyword(this.peek(), 'AND')) {
      this.index += 1;
      clauses.push(this.primary(depth));
    }
    return clauses.length === 1 ? (clauses[0] as Clause) : { kind: 'and', clauses };
  }

  private primary(depth: number): Clause {
    if (this.peek()?.type === 'open') {
      this.index += 1;
      const inner = this.or(depth + 1);
      if (this.next("')'").type !== 'close') throw invalidFilter(`Unbalanced parentheses in filter '${this.source}'`);
      return inner;
    }
    return this.comparison();
  }

  private identifier(): Identifier {
    const first = this.next('an identifier such as metrics.loss');
    if (first.type !== 'word' && !(first.type === 'quoted' && first.quote === '`')) {
      throw invalidFilter(
        `Invalid clause in filter '${this.source}': expected an identifier such as metrics.<key>, params.<key>, tags.<key>, attributes.<key> or datasets.<key>, found '${first.text}'`,
      );
    }
    if (this.peek()?.type !== 'dot') return { entity: 'attributes', key: first.text };
    this.index += 1;
    // The key: a quoted name, or words and dots up to the comparator (`tags.mlflow.runName`).
    const keyStart = this.next('a key after the entity');
    if (keyStart.type === 'quoted') return { entity: first.text, key: keyStart.text };
    if (keyStart.type !== 'word' && keyStart.type !== 'number') {
      throw invalidFilter(`Invalid identifier in filter '${this.source}' at position ${keyStart.at}`);
    }
    let key = keyStart.text;
    while (this.peek()?.type === 'dot') {
      this.index += 1;
      const part = this.next('a key segment');
      if (part.type !== 'word' && part.type !== 'number') {
        throw invalidFilter(`Invalid identifier in filter '${this.source}' at position ${part.at}`);
      }
      key += `.${part.text}`;
    }
    return { entity: first.text, key };
  }

  private comparison(): Clause {
    const identifier = this.identifier();
    const token = this.next('a comparator');
    const word = token.type === 'word' ? token.text.toUpperCase() : undefined;
    if (word === 'IS') {
      const negated = isKeyword(this.peek(), 'NOT');
      if (negated) this.index += 1;
      if (!isKeyword(this.next("'NULL'"), 'NULL')) throw invalidFilter(`Expected NULL after IS in '${this.source}'`);
      return { kind: 'null', identifier, negated };
    }
    if (word === 'IN' || (word === 'NOT' && isKeyword(this.peek(), 'IN'))) {
      if (word === 'NOT') this.index += 1;
      return { kind: 'in', identifier, negated: word === 'NOT', values: this.list() };
    }
    let comparator: Comparator;
    if (token.type === 'op') comparator = token.text as Comparator;
    else if (word === 'LIKE' || word === 'ILIKE') comparator = word;
    else
      throw invalidFilter(
        `Invalid comparison in filter '${this.source}': expected a comparator, found '${token.text}'`,
      );
    return { kind: 'compare', identifier, comparator, value: this.value() };
  }

  private value(): FilterValue {
    const token = this.next('a value');
    if (token.type === 'quoted' && token.quote !== '`') return { kind: 'string', text: token.text };
    if (token.type === 'number') return { kind: 'number', text: token.text, number: Number(token.text) };
    throw invalidFilter(
      `Invalid value '${token.text}' in filter '${this.source}': quote strings with ' or ", write numbers bare`,
    );
  }

  private list(): FilterValue[] {
    if (this.next("'('").type !== 'open') {
      throw invalidFilter(`IN needs a parenthesised list of quoted values, e.g. ('a', 'b'), in '${this.source}'`);
    }
    const values: FilterValue[] = [];
    for (;;) {
      values.push(this.value());
      const token = this.next("',' or ')'");
      if (token.type === 'close') return values;
      if (token.type !== 'comma') throw invalidFilter(`Invalid list in filter '${this.source}'`);
    }
  }
}

/** The clause tree of a filter string; `undefined` for an empty filter (everything). */
export function parseFilterString(filter: string | undefined): Clause | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  if (filter.length > MAX_FILTER_LENGTH) throw invalidFilter(`A filter is at most ${MAX_FILTER_LENGTH} characters`);
  return new FilterParser(tokenize(filter), filter).parse();
}

/** One identifier alone (an `order_by` key such as `metrics.loss` or `` tags.`a b` ``). */
export function parseIdentifier(text: string): Identifier {
  if (text.length > MAX_FILTER_LENGTH)
    throw invalidFilter(`An order_by key is at most ${MAX_FILTER_LENGTH} characters`);
  const parser = new FilterParser(tokenize(text), text);
  return parser.identifierAlone();
}
