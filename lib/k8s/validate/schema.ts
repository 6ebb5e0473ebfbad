/**
 * Validates emitted WorkflowTemplates and CronWorkflows against the openAPIV3Schema of the vendored Argo CRDs
 * (imports/argo/), once per supported Argo line, with ajv.
 *
 * No maintained cdk8s validation plugin exists, and `kubectl apply --dry-run=server` needs a
 * cluster, so the schema check is ours. It is stricter than the API server in one way on purpose:
 * an object schema that lists its properties rejects any other key (the server would silently
 * prune it, which is how a misspelled field such as `serviceAcountName` goes unnoticed).
 * CEL rules (`x-kubernetes-validations`) are not evaluated.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const ARGO_DIR = path.resolve(__dirname, '..', '..', '..', 'imports', 'argo');

/** The Argo kinds ferry emits, and their CRD files. */
export type ArgoKind = 'WorkflowTemplate' | 'CronWorkflow';

export interface ArgoCrd {
  /** The Argo Workflows release the CRD files come from. */
  readonly version: string;
  readonly files: Readonly<Record<ArgoKind, string>>;
}

/** The newest first: imports/*argoproj.io.ts are generated from ARGO_CRDS[0] (bin/import-argo.ts). */
export const ARGO_CRDS: readonly ArgoCrd[] = ['v4.1.2', 'v3.7.18'].map((version) => ({
  version,
  files: {
    WorkflowTemplate: path.join(ARGO_DIR, version, 'argoproj.io_workflowtemplates.yaml'),
    CronWorkflow: path.join(ARGO_DIR, version, 'argoproj.io_cronworkflows.yaml'),
  },
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

const validators = new Map<string, ValidateFunction>();

/** Compiled once per process: parsing and compiling a 2.7 MB CRD takes about two seconds (ajv's code optimizer would triple that). */
function validatorFor(crd: ArgoCrd, kind: ArgoKind): ValidateFunction {
  const key = `${crd.version}/${kind}`;
  let validate = validators.get(key);
  if (!validate) {
    const doc = parse(fs.readFileSync(crd.files[kind], 'utf8'));
    const version = doc.spec.versions.find((v: { served: boolean }) => v.served);
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { optimize: false } });
    validate = ajv.compile(toJsonSchema(version.schema.openAPIV3Schema) as Schema);
    validators.set(key, validate);
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
