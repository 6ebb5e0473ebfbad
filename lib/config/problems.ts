/**
 * One line per bad value: `file:line: field.path = value: what is wrong (what would be valid)`.
 * Config errors are collected, not thrown one at a time, so a user fixes a file in one pass.
 */
import { type Document, isMap, isNode, isPair, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';

export type FieldPath = readonly (string | number)[];

export interface Problem {
  readonly file: string;
  readonly path: FieldPath;
  /** The value as written in the file, or undefined when it is missing. */
  readonly value?: string;
  readonly message: string;
  readonly line?: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatPath(path: FieldPath): string {
  // Keys that are not plain words (tag keys such as "aws:owner") are quoted, so the field reads unambiguously.
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : !/^[\w-]+$/.test(p) ? `[${JSON.stringify(p)}]` : i === 0 ? p : `.${p}`)).join('');
}

export function formatProblem(p: Problem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  const value = p.value !== undefined ? ` = ${shorten(p.value)}` : '';
  // A problem with the file as a whole (a list instead of a map) names the file's top level as its field.
  if (p.path.length === 0) return value ? `${where}: (top level)${value}: ${p.message}` : `${where}: ${p.message}`;
  return `${where}: ${formatPath(p.path)}${value}: ${p.message}`;
}

/** Long values are cut so that the line stays readable; the file and line point at the whole. */
function shorten(value: string, max = 120): string {
  return value.length <= max ? value : `${value.slice(0, max)}…`;
}

/** A parsed YAML file that can say where a field is and how its value was written. */
export class SourceFile {
  private readonly lines = new LineCounter();
  readonly doc: Document;

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
  }

  /** The nearest node that exists along the path (the parent map when a key is missing). */
  private nearest(path: FieldPath): Node | undefined {
    let node: unknown = this.doc.contents;
    for (const key of path) {
      if (!isNode(node) || !('get' in node)) break;
      const next = (node as { get(k: unknown, keepScalar: boolean): unknown }).get(key, true);
      if (!isNode(next)) break;
      node = next;
    }
    return isNode(node) ? node : undefined;
  }

  lineAt(offset: number): number {
    return this.lines.linePos(offset).line;
  }

  line(path: FieldPath, key?: string): number | undefined {
    const node = this.nearest(path);
    let offset = node?.range?.[0];
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
      if (pair && isScalar(pair.key)) offset = pair.key.range?.[0];
    }
    return offset === undefined ? undefined : this.lineAt(offset);
  }

  /** The value as the user wrote it (so an unquoted 012345678901 shows as such, not 12345678901). */
  written(path: FieldPath): string | undefined {
    const node = this.doc.getIn(path, true);
    if (node === undefined) return undefined;
    if (isScalar(node) && node.range) {
      const raw = this.text.slice(node.range[0], node.range[1]).trim();
      // A value written over several lines is shown as one JSON string: one problem, one line.
      return typeof node.value === 'string' && (!/^["']/.test(raw) || raw.includes('\n')) ? JSON.stringify(node.value) : raw;
    }
    return JSON.stringify((node as Node).toJSON?.() ?? node);
  }

  problem(path: FieldPath, message: string, opts: { key?: string; showValue?: boolean } = {}): Problem {
    const fullPath = opts.key !== undefined ? [...path, opts.key] : path;
    return {
      file: this.file,
      path: fullPath,
      line: this.line(path, opts.key),
      value: opts.showValue === false ? undefined : this.written(fullPath),
      message,
    };
  }
}

/**
 * The message of every zod issue a schema did not word itself, in the user's words: passed to
 * each parse (not set globally), so no raw zod text ("Invalid input: ...", "Too small: ...") or
 * regex ever reaches a user. Schemas word their own messages where they know more (a hint, an example).
 */
export function userMessage(issue: z.core.$ZodRawIssue): string {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? `a ${issue.expected}`;
      if (input === undefined) return `missing (required: ${expected})`;
      return `wrong type: is ${describeValue(input)} (expected ${expected})`;
    }
    case 'too_small':
      return issue.origin === 'string' && Number(issue.minimum) === 1 ? 'is empty (expected some text)' : `is too small (expected ${bound('at least', issue)})`;
    case 'too_big':
      return `is too large (expected ${bound('at most', issue)})`;
    case 'invalid_value':
      return `is not one of the allowed values (expected one of ${issue.values.map((v) => String(v)).join(', ')})`;
    case 'invalid_format':
      return 'is not in the form this field needs (see the config reference)';
    default:
      return 'is not valid here (see the config reference)';
  }
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a map of fields',
  array: 'a list',
  record: 'a map',
};

function describeValue(input: unknown): string {
  if (input === null) return 'empty';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a map';
  if (typeof input === 'string') return 'text';
  if (typeof input === 'boolean') return `${input}`;
  return `a ${typeof input}`;
}

function bound(word: string, issue: { origin?: string; minimum?: unknown; maximum?: unknown }): string {
  const limit = String(issue.minimum ?? issue.maximum);
  if (issue.origin === 'string') return `${word} ${limit} characters`;
  if (issue.origin === 'array' || issue.origin === 'set') return `${word} ${limit} entries`;
  return `${word} ${limit}`;
}

/** The problems of one zod issue, in the user's words. */
export function issueProblems(source: SourceFile, schema: z.ZodType, issue: z.core.$ZodIssue): Problem[] {
  const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, at);
    return issue.keys.map((key) => source.problem(at, `unknown key${suggest(key, known)}`, { key, showValue: false }));
  }
  if (at.length === 0 && issue.code === 'invalid_type') {
    const found = describeValue(source.doc.toJS());
    return [
      source.problem(
        at,
        `is ${found}, but a config file must be a map of fields at the top level (field: value lines; see the example files in config/ of the ferry repository)`,
        { showValue: true },
      ),
    ];
  }
  return [source.problem(at, issue.message)];
}

/** The keys the schema allows at a path, for "did you mean". */
function keysAt(schema: z.ZodType, at: FieldPath): string[] {
  let node = unwrap(schema);
  for (const step of at) {
    if (node instanceof z.ZodArray && typeof step === 'number') node = unwrap(node.element as z.ZodType);
    else if (node instanceof z.ZodObject && typeof step === 'string') node = unwrap(node.shape[step] as z.ZodType);
    else return [];
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/** The schema inside optional and default wrappers. */
function unwrap(node: z.ZodType): z.ZodType {
  if (node instanceof z.ZodOptional || node instanceof z.ZodDefault || node instanceof z.ZodPrefault) return unwrap(node.unwrap() as z.ZodType);
  return node;
}

function suggest(key: string, known: string[]): string {
  const best = known.map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best.k}"?)` : ' (remove it; see docs/configuration.md)';
}

/** Levenshtein distance, for every did-you-mean: small enough to write here rather than add a dependency. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
