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
 * seconds. So `npm run import` turns them, per Argo line, into one JSON Schema with both kinds and
 * every repeated subtree stored once (compactSchema), and has ajv write its validation code for
 * it (`ferry-schema.js`, ajv's standalone mode). Synth loads that code in about 30 ms; a test
 * checks that it is still what the vendored CRDs give.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { parse } from 'yaml';

const ARGO_DIR = path.resolve(__dirname, '..', '..', '..', 'imports', 'argo');

/** The Argo kinds ferry emits, and their CRD files. */
export const ARGO_KINDS = ['WorkflowTemplate', 'CronWorkflow'] as const;
export type ArgoKind = (typeof ARGO_KINDS)[number];

export interface ArgoCrd {
  /** The Argo Workflows release the CRD files come from. */
  readonly version: string;
  readonly files: Readonly<Record<ArgoKind, string>>;
  /** The validation code generated from `files` by `npm run import` (see validatorCode). */
  readonly validatorFile: string;
}

/** The newest first: imports/*argoproj.io.ts are generated from ARGO_CRDS[0] (bin/import-argo.ts). */
export const ARGO_CRDS: readonly ArgoCrd[] = ['v4.1.2', 'v3.7.18'].map((version) => ({
  version,
  files: {
    WorkflowTemplate: path.join(ARGO_DIR, version, 'argoproj.io_workflowtemplates.yaml'),
    CronWorkflow: path.join(ARGO_DIR, version, 'argoproj.io_cronworkflows.yaml'),
  },
  validatorFile: path.join(ARGO_DIR, version, 'ferry-schema.js'),
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

/**
 * The CommonJS module `npm run import` writes to crd.validatorFile: one validate function per
 * kind, generated by ajv from compactSchema(crd). Deterministic, so a test can compare.
 */
export function validatorCode(crd: ArgoCrd): string {
  const schema = compactSchema(crd);
  // ajv's code optimizer only slows generation down here.
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: false, source: true } });
  ajv.addSchema(schema);
  const refs = Object.fromEntries(ARGO_KINDS.map((kind) => [kind, `${schema.$id}#/$defs/${kind}`]));
  const header = `// Generated by \`npm run import\` (bin/import-argo.ts) from the Argo ${crd.version} CRDs in this folder. Do not edit.\n`;
  return `${header}${standaloneCode(ajv, refs)}\n`;
}

const loaded = new Map<string, Readonly<Record<ArgoKind, ValidateFunction>>>();

function validatorFor(crd: ArgoCrd, kind: ArgoKind): ValidateFunction {
  let validators = loaded.get(crd.version);
  if (!validators) {
    // Generated code, not a module of ours: loaded by path, so tsc does not compile it.
    validators = require(crd.validatorFile) as Record<ArgoKind, ValidateFunction>;
    loaded.set(crd.version, validators);
  }
  return validators[kind];
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
