/**
 * Validates emitted WorkflowTemplates and CronWorkflows against the openAPIV3Schema of the
 * vendored Argo CRDs (imports/argo/), once per supported Argo line, with ajv.
 *
 * No maintained cdk8s validation plugin exists, and `kubectl apply --dry-run=server` needs a
 * cluster, so the schema check is ours. It is stricter than the API server in one way on purpose:
 * an object schema that lists its properties rejects any other key (the server would silently
 * prune it, which is how a misspelled field such as `serviceAcountName` goes unnoticed).
 * CEL rules (`x-kubernetes-validations`) are not evaluated.
 *
 * Synth runs this on every call, and the CRDs are large (2.7 MB of YAML each, the container
 * schema repeated dozens of times): parsing them and compiling them with ajv took about nine
 * seconds. So `npm run import` writes, per Argo line, one JSON Schema (`ferry-schema.json`) with
 * both kinds and every repeated subtree stored once under $defs; loading and compiling it takes
 * well under a second, and a test checks that it still matches the CRDs.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const ARGO_DIR = path.resolve(__dirname, '..', '..', '..', 'imports', 'argo');

/** The Argo kinds ferry emits, and their CRD files. */
export const ARGO_KINDS = ['WorkflowTemplate', 'CronWorkflow'] as const;
export type ArgoKind = (typeof ARGO_KINDS)[number];

export interface ArgoCrd {
  /** The Argo Workflows release the CRD files come from. */
  readonly version: string;
  readonly files: Readonly<Record<ArgoKind, string>>;
  /** The compact schema generated from `files` (see compactSchema). */
  readonly schemaFile: string;
}

/** The newest first: imports/*argoproj.io.ts are generated from ARGO_CRDS[0] (bin/import-argo.ts). */
export const ARGO_CRDS: readonly ArgoCrd[] = ['v4.1.2', 'v3.7.18'].map((version) => ({
  version,
  files: {
    WorkflowTemplate: path.join(ARGO_DIR, version, 'argoproj.io_workflowtemplates.yaml'),
    CronWorkflow: path.join(ARGO_DIR, version, 'argoproj.io_cronworkflows.yaml'),
  },
  schemaFile: path.join(ARGO_DIR, version, 'ferry-schema.json'),
}));

export interface SchemaProblem {
  readonly version: string;
  /** JSON pointer into the object, e.g. /spec/templates/0/container/imagePullPolicy */
  readonly path: string;
  readonly message: string;
}

type Schema = { [key: string]: unknown };

/** Turns a structural schema into plain JSON Schema with the semantics described above. */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const source = node as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('x-kubernetes-') || key === 'format' || key === 'description') continue;
    out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, toJsonSchema(v)])) : toJsonSchema(value);
  }
  if (source['x-kubernetes-int-or-string']) {
    const pattern = out.pattern;
    delete out.pattern;
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string', ...(pattern ? { pattern } : {}) }];
  }
  const preserves = source['x-kubernetes-preserve-unknown-fields'] === true;
  if (source.properties && !preserves && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

/** Subtrees shorter than this stay inline: a $ref costs more than it saves. */
const MIN_SHARED_LENGTH = 200;

/**
 * One JSON Schema for an Argo line: `$defs.<Kind>` per kind, and every subtree that occurs more
 * than once stored once under `$defs.s<hash>` and referenced. Validation results are the same
 * (only schema paths change); ajv compiles each shared subtree once.
 */
export function compactSchema(crd: ArgoCrd): Schema {
  const roots = Object.fromEntries(
    ARGO_KINDS.map((kind) => {
      const doc = parse(fs.readFileSync(crd.files[kind], 'utf8'));
      return [kind, toJsonSchema(doc.spec.versions.find((v: { served: boolean }) => v.served).schema.openAPIV3Schema)];
    }),
  );
  const seen = new Map<string, number>();
  const count = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const text = JSON.stringify(node);
    if (!Array.isArray(node) && text.length >= MIN_SHARED_LENGTH) seen.set(text, (seen.get(text) ?? 0) + 1);
    for (const child of Object.values(node as Schema)) count(child);
  };
  Object.values(roots).forEach(count);
  const defs: Schema = {};
  const share = (node: unknown, root = false): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((n) => share(n));
    const text = JSON.stringify(node);
    if (!root && (seen.get(text) ?? 0) > 1) {
      const name = `s${crypto.createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
      if (!(name in defs)) defs[name] = inner(node as Schema);
      return { $ref: `#/$defs/${name}` };
    }
    return inner(node as Schema);
  };
  // `properties` maps field names to schemas: its values are shared, the map itself is not a schema.
  const inner = (node: Schema): Schema =>
    Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, share(s)])) : share(v)]));
  const kinds = Object.fromEntries(Object.entries(roots).map(([kind, schema]) => [kind, share(schema, true)]));
  return { $id: `ferry-argo-${crd.version}`, $defs: { ...kinds, ...defs } };
}

const compiled = new Map<string, ValidateFunction>();

/** Compiled once per process, from the generated compact schema. */
function validatorFor(crd: ArgoCrd, kind: ArgoKind): ValidateFunction {
  const key = `${crd.version}/${kind}`;
  let validate = compiled.get(key);
  if (!validate) {
    const schema = JSON.parse(fs.readFileSync(crd.schemaFile, 'utf8')) as Schema;
    // ajv's code optimizer would triple the compile time for no gain here.
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: false } });
    ajv.addSchema(schema);
    for (const k of ARGO_KINDS) compiled.set(`${crd.version}/${k}`, ajv.getSchema(`${schema.$id}#/$defs/${k}`)!);
    validate = compiled.get(key)!;
  }
  return validate;
}

/** Problems of one WorkflowTemplate against every supported Argo line's CRD; empty when valid. */
export function validateWorkflowTemplate(object: unknown, crds: readonly ArgoCrd[] = ARGO_CRDS): SchemaProblem[] {
  return validateArgoObject('WorkflowTemplate', object, crds);
}

/** Problems of one object of an Argo kind against every supported Argo line's CRD; empty when valid. */
export function validateArgoObject(kind: ArgoKind, object: unknown, crds: readonly ArgoCrd[] = ARGO_CRDS): SchemaProblem[] {
  return crds.flatMap((crd) => {
    const validate = validatorFor(crd, kind);
    return validate(object) ? [] : (validate.errors ?? []).filter(meaningful).map((e) => ({ version: crd.version, path: e.instancePath || '/', message: describe(e) }));
  });
}

/** anyOf branches repeat the real error once per branch; keep the summary line only. */
function meaningful(error: ErrorObject): boolean {
  return !error.schemaPath.includes('/anyOf/');
}

function describe(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`;
  if (error.keyword === 'enum') return `${error.message} (${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`;
  return error.message ?? error.keyword;
}
