/**
 * Comparing what is deployed with what synth wrote: JSON by path (the first difference named),
 * and IAM policy documents by meaning (statement order, a single string vs a one-element list,
 * the order of actions and resources do not matter to IAM, so they do not matter here).
 */

// biome-ignore lint/suspicious/noExplicitAny: templates and policies are untyped JSON
export type Json = any;

export interface Difference {
  /** JSON path of the first difference, e.g. `Statement[0].Condition.StringEquals["x:sub"]`. */
  readonly path: string;
  readonly expected: string;
  readonly found: string;
}

const IDENTIFIER = /^[A-Za-z_][\w]*$/;

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/** Short, one-line rendering of a JSON value for a finding. */
export function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** The first difference between two JSON values (objects by key, arrays by index), or undefined when equal. */
export function firstDifference(expected: Json, found: Json, path = ''): Difference | undefined {
  if (Array.isArray(expected) && Array.isArray(found)) {
    for (let i = 0; i < Math.max(expected.length, found.length); i++) {
      const d = firstDifference(expected[i], found[i], join(path, i));
      if (d) return d;
    }
    return undefined;
  }
  if (isObject(expected) && isObject(found)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(found)])].sort();
    for (const key of keys) {
      const d = firstDifference(expected[key], found[key], join(path, key));
      if (d) return d;
    }
    return undefined;
  }
  if (expected === found) return undefined;
  return { path: path || '(document)', expected: show(expected), found: show(found) };
}

function isObject(v: unknown): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const LIST_ELEMENTS = new Set(['Action', 'NotAction', 'Resource', 'NotResource']);

/** A policy document in one canonical shape: lists sorted, single values as lists, statements sorted. */
export function canonicalPolicy(document: Json): Json {
  if (!isObject(document)) return document;
  const statements = [document.Statement ?? []].flat().map(canonicalStatement);
  statements.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return { ...document, Statement: statements };
}

function canonicalStatement(statement: Json): Json {
  if (!isObject(statement)) return statement;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(statement)) {
    if (LIST_ELEMENTS.has(key)) out[key] = sortedList(value);
    else if ((key === 'Principal' || key === 'NotPrincipal') && isObject(value))
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sortedList(k === 'AWS' ? [v].flat().map(accountPrincipal) : v)]));
    else if (key === 'Condition' && isObject(value))
      out[key] = Object.fromEntries(
        Object.entries(value).map(([op, block]) => [
          op,
          isObject(block) ? Object.fromEntries(Object.entries(block).map(([k, v]) => [k, sortedList(v)])) : block,
        ]),
      );
    else out[key] = value;
  }
  return out;
}

/**
 * IAM stores an account given by its ID as the account's root ARN (GetRole returns
 * `arn:<partition>:iam::<id>:root` for a trust that said `<id>`): both are the same principal.
 */
function accountPrincipal(value: Json): Json {
  const root = typeof value === 'string' ? /^arn:[a-z-]+:iam::(\d{12}):root$/.exec(value) : null;
  return root ? root[1] : value;
}

function sortedList(value: Json): Json {
  return [value]
    .flat()
    .map((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v))
    .sort();
}

/**
 * The first difference between two policy documents by meaning. Statements are matched by Sid when
 * both have one, so a changed condition is reported inside its statement, not as a reordering.
 */
export function policyDifference(expected: Json, found: Json): Difference | undefined {
  const e = canonicalPolicy(expected);
  const f = canonicalPolicy(found);
  if (!isObject(e) || !isObject(f)) return firstDifference(e, f);
  const unmatchedExpected = e.Statement.filter((s: Json) => !f.Statement.some((t: Json) => firstDifference(s, t) === undefined));
  const unmatchedFound = f.Statement.filter((s: Json) => !e.Statement.some((t: Json) => firstDifference(s, t) === undefined));
  if (unmatchedExpected.length === 0 && unmatchedFound.length === 0) {
    const { Statement: _e, ...restE } = e;
    const { Statement: _f, ...restF } = f;
    return firstDifference(restE, restF);
  }
  for (const [i, s] of unmatchedExpected.entries()) {
    const partner =
      unmatchedFound.find((t: Json) => s.Sid !== undefined && t.Sid === s.Sid) ?? (unmatchedExpected.length === 1 ? unmatchedFound[0] : undefined);
    const label = `Statement[${s.Sid !== undefined ? JSON.stringify(s.Sid) : i}]`;
    if (partner) return firstDifference(s, partner, label);
    return { path: label, expected: show(s), found: '(no such statement)' };
  }
  return { path: 'Statement', expected: '(no such statement)', found: show(unmatchedFound[0]) };
}

/** IAM returns policy documents URL-encoded (RFC 3986) JSON. */
export function decodePolicy(text: string | undefined): Json {
  if (text === undefined) return undefined;
  const decoded = /^\s*[{[]/.test(text) ? text : decodeURIComponent(text);
  return JSON.parse(decoded);
}
