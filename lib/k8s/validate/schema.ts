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
 * it (`ferry-schema.js`, ajv's standalone mode; schema-gen.ts). Synth loads that code in about
 * 30 ms, and this module loads neither ajv's compiler nor a YAML parser; a test checks that the
 * generated code is still what the vendored CRDs give.
 */
import * as path from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';

const ARGO_DIR = path.resolve(__dirname, '..', '..', '..', 'imports', 'argo');

/** The Argo kinds ferry emits, and their CRD files. */
export const ARGO_KINDS = ['WorkflowTemplate', 'CronWorkflow'] as const;
export type ArgoKind = (typeof ARGO_KINDS)[number];

export interface ArgoCrd {
  /** The Argo Workflows release the CRD files come from. */
  readonly version: string;
  readonly files: Readonly<Record<ArgoKind, string>>;
  /** The validation code generated from `files` by `npm run import` (schema-gen.ts). */
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
    return validate(object)
      ? []
      : (validate.errors ?? []).filter(meaningful).map((e) => ({ version: crd.version, path: e.instancePath || '/', message: describe(e) }));
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
