/**
 * The offline check of what the cdk8s app emits, run on every synth (lib/synth.ts, bin/k8s.ts):
 * what Argo would reject when a workflow is submitted or runs, and the mistakes the hand-written
 * original pipeline made (a push under the wrong account because spec.serviceAccountName does not
 * travel with templateRef, a notification that never ran because `depends` missed Errored, two
 * names for one template, missing executor RBAC).
 *
 * `argo lint --offline` checks some of this without a cluster, but it is a Go binary that these
 * build machines do not have, and it knows nothing of ferry's identities; so the check is ours.
 * Input is plain JSON (a chart's toJson() or the parsed YAML files), so the same check runs on
 * what synth wrote. Each finding names the object, where in it, the rule and what to do.
 */
import { UserFacingError } from '../../cli-errors';
import { dagFindings } from './dag';
import { identityFindings } from './identity';
import { Context, type Finding, finding, type KubeObject, type ValidateOptions } from './model';
import { referenceFindings } from './references';
import { retryFindings } from './retry';
import { type ArgoKind, validateArgoObject } from './schema';

export { DEPENDS_RESULTS, dependsOperands } from './dag';
export type { Finding, KubeObject, RuleId, UserProvidedObject, ValidateOptions } from './model';
export { RULES } from './model';

export function validate(objects: readonly KubeObject[], options: ValidateOptions): Finding[] {
  const context = new Context(objects, options);
  return [
    ...(options.schema === false ? [] : schemaFindings(context)),
    ...referenceFindings(context),
    ...dagFindings(context),
    ...identityFindings(context),
    ...retryFindings(context),
  ];
}

const SCHEMA_KINDS: readonly ArgoKind[] = ['WorkflowTemplate', 'CronWorkflow'];

function schemaFindings(context: Context): Finding[] {
  return context.objects
    .filter((o): o is KubeObject & { kind: ArgoKind } => (SCHEMA_KINDS as readonly (string | undefined)[]).includes(o.kind))
    .flatMap((o) =>
      validateArgoObject(o.kind, o).map((p) => finding('schema', o, p.path, `does not match the Argo ${p.version} ${o.kind} schema: ${p.message}`)),
    );
}

/** One line per finding, the way cdk-nag reports: where, which rule, what to do. */
export function formatFinding(f: Finding): string {
  return `[Error at ${f.object} ${f.path}] Argo-${f.rule}: ${f.message}`;
}

/** Thrown by synth when the emitted objects have findings; its message is one line per finding. */
export class ArgoValidationError extends UserFacingError {
  override readonly name = 'ArgoValidationError';
  constructor(readonly findings: readonly Finding[]) {
    super(findings.map(formatFinding).join('\n'));
  }
}

/** Throws ArgoValidationError unless the objects have no findings. */
export function assertValid(objects: readonly KubeObject[], options: ValidateOptions): void {
  const findings = validate(objects, options);
  if (findings.length > 0) throw new ArgoValidationError(findings);
}
