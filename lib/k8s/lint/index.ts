/**
 * An offline check of the emitted manifests for what `argo lint` (which needs a cluster) would
 * reject, and for the mistakes the hand-written seed pipeline made: a push that ran under the
 * wrong service account because spec.serviceAccountName does not travel with templateRef, a
 * notification that never ran because `depends` missed Errored, two names for one template,
 * missing executor RBAC.
 *
 * Input is plain JSON (a chart's toJson() or the parsed YAML files), so the same check runs on
 * what `npm run synth` wrote. Each finding names the object, where in it, and what to do.
 */
import type { UserProvidedObject } from '../constants';
import { validateWorkflowTemplate } from './crd-schema';

export type RuleId =
  | 'schema'
  | 'template-ref'
  | 'undeclared-input'
  | 'missing-argument'
  | 'unknown-argument'
  | 'undeclared-workflow-parameter'
  | 'depends'
  | 'task-reference'
  | 'service-account'
  | 'secret'
  | 'template-volume'
  | 'executor-rbac';

export interface Finding {
  readonly rule: RuleId;
  /** `Kind/name` */
  readonly object: string;
  /** Where in the object, e.g. `spec.templates[main].dag.tasks[verify].depends` */
  readonly path: string;
  readonly message: string;
}

export interface LintOptions {
  /** Objects the user creates; references to them are fine (see userProvidedObjects). */
  readonly userProvided: readonly UserProvidedObject[];
  /** Validate WorkflowTemplates against the vendored CRD schemas. Default: true. */
  readonly schema?: boolean;
}

/** The JSON shape of what the rules read. Everything is optional: the input is untrusted. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly [key: string]: unknown;
}

interface Parameter {
  readonly name: string;
  readonly value?: unknown;
  readonly default?: unknown;
  readonly valueFrom?: unknown;
}

interface Invocation {
  readonly name: string;
  readonly template?: string;
  readonly templateRef?: { readonly name?: string; readonly template?: string; readonly clusterScope?: boolean };
  readonly arguments?: { readonly parameters?: readonly Parameter[] };
  readonly depends?: string;
  readonly dependencies?: readonly string[];
}

interface Container {
  readonly volumeMounts?: readonly { readonly name: string }[];
}

interface Template {
  readonly name: string;
  readonly inputs?: { readonly parameters?: readonly Parameter[] };
  readonly outputs?: { readonly parameters?: readonly Parameter[] };
  readonly dag?: { readonly tasks?: readonly Invocation[] };
  readonly steps?: readonly (readonly Invocation[])[];
  readonly serviceAccountName?: string;
  readonly container?: Container;
  readonly script?: Container;
  readonly initContainers?: readonly Container[];
  readonly sidecars?: readonly Container[];
  readonly containerSet?: { readonly containers?: readonly Container[] };
  readonly resource?: unknown;
  readonly volumes?: readonly { readonly name: string }[];
}

interface WorkflowTemplateSpec {
  readonly entrypoint?: string;
  readonly onExit?: string;
  readonly serviceAccountName?: string;
  readonly arguments?: { readonly parameters?: readonly Parameter[] };
  readonly templates?: readonly Template[];
  readonly volumes?: readonly { readonly name: string }[];
  readonly volumeClaimTemplates?: readonly { readonly metadata?: { readonly name?: string } }[];
}

interface WorkflowTemplate extends KubeObject {
  readonly metadata: { readonly name: string };
  readonly spec: WorkflowTemplateSpec;
}

/** What `depends` may test (Argo's TaskResults). */
export const DEPENDS_RESULTS = ['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed'] as const;

export function lint(objects: readonly KubeObject[], options: LintOptions): Finding[] {
  const context = new Context(objects, options);
  return [
    ...(options.schema === false ? [] : schemaFindings(context)),
    ...context.workflowTemplates.flatMap((wt) => [
      ...entryReferences(wt),
      ...templatesOf(wt).flatMap((t) => [
        ...undeclaredInputs(wt, t),
        ...invocations(t).flatMap(({ invocation, path }) => invocationFindings(context, wt, t, invocation, path)),
        ...dependsFindings(wt, t),
        ...taskReferences(context, wt, t),
        ...templateVolumes(wt, t),
      ]),
      ...undeclaredWorkflowParameters(context, wt),
    ]),
    ...serviceAccountFindings(context),
    ...secretFindings(context),
    ...executorRbacFindings(context),
  ];
}

class Context {
  readonly workflowTemplates: WorkflowTemplate[];
  private readonly byName: Map<string, WorkflowTemplate>;
  readonly emitted: (kind: string) => Set<string>;

  constructor(
    readonly objects: readonly KubeObject[],
    readonly options: LintOptions,
  ) {
    this.workflowTemplates = objects.filter((o): o is WorkflowTemplate => o.kind === 'WorkflowTemplate' && typeof o.metadata?.name === 'string');
    this.byName = new Map(this.workflowTemplates.map((wt) => [wt.metadata.name, wt]));
    this.emitted = (kind) => new Set(objects.filter((o) => o.kind === kind).map((o) => o.metadata?.name ?? ''));
  }

  workflowTemplate(name: string | undefined): WorkflowTemplate | undefined {
    return name === undefined ? undefined : this.byName.get(name);
  }

  /** The template an invocation runs, with the WorkflowTemplate it lives in; undefined when it does not resolve. */
  resolve(from: WorkflowTemplate, invocation: Invocation): { wt: WorkflowTemplate; template: Template } | undefined {
    const wt = invocation.templateRef ? (invocation.templateRef.clusterScope ? undefined : this.workflowTemplate(invocation.templateRef.name)) : from;
    const name = invocation.templateRef ? invocation.templateRef.template : invocation.template;
    const template = wt && templatesOf(wt).find((t) => t.name === name);
    return wt && template ? { wt, template } : undefined;
  }

  names(kind: 'ServiceAccount' | 'Secret'): Set<string> {
    return new Set([...this.emitted(kind), ...this.options.userProvided.filter((o) => o.kind === kind).map((o) => o.name)]);
  }
}

function templatesOf(wt: WorkflowTemplate): readonly Template[] {
  return wt.spec?.templates ?? [];
}

function objectId(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.name}`;
}

function templatePath(t: Template): string {
  return `spec.templates[${t.name}]`;
}

function finding(rule: RuleId, object: KubeObject, path: string, message: string): Finding {
  return { rule, object: objectId(object), path, message };
}

/** Every `{{prefix.NAME}}` in a value, e.g. refs(t, 'inputs.parameters') → ['repo', ...]. */
function refs(value: unknown, prefix: string): string[] {
  const pattern = new RegExp(`\\{\\{\\s*${prefix.replace(/\./g, '\\.')}\\.([A-Za-z0-9_-]+)\\s*\\}\\}`, 'g');
  return [...JSON.stringify(value ?? null).matchAll(pattern)].map((m) => m[1]);
}

function parameterNames(parameters: readonly Parameter[] | undefined): string[] {
  return (parameters ?? []).map((p) => p.name);
}

function list(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

function schemaFindings(context: Context): Finding[] {
  return context.workflowTemplates.flatMap((wt) =>
    validateWorkflowTemplate(wt).map((p) => finding('schema', wt, p.path, `does not match the Argo ${p.version} WorkflowTemplate schema: ${p.message}`)),
  );
}

function entryReferences(wt: WorkflowTemplate): Finding[] {
  const names = templatesOf(wt).map((t) => t.name);
  return (['entrypoint', 'onExit'] as const)
    .filter((field) => wt.spec?.[field] !== undefined && !names.includes(wt.spec[field]!))
    .map((field) => finding('template-ref', wt, `spec.${field}`, `names template "${wt.spec[field]}", which this WorkflowTemplate does not have (it has: ${list(names)})`));
}

function undeclaredInputs(wt: WorkflowTemplate, t: Template): Finding[] {
  const declared = parameterNames(t.inputs?.parameters);
  return [...new Set(refs(t, 'inputs.parameters'))]
    .filter((name) => !declared.includes(name))
    .map((name) =>
      finding('undeclared-input', wt, templatePath(t), `uses {{inputs.parameters.${name}}} but declares no input "${name}" (declare it under inputs.parameters or fix the name; declared: ${list(declared)})`),
    );
}

function invocations(t: Template): { invocation: Invocation; path: string }[] {
  const tasks = (t.dag?.tasks ?? []).map((invocation) => ({ invocation, path: `${templatePath(t)}.dag.tasks[${invocation.name}]` }));
  const steps = (t.steps ?? []).flatMap((group, i) => group.map((invocation) => ({ invocation, path: `${templatePath(t)}.steps[${i}][${invocation.name}]` })));
  return [...tasks, ...steps];
}

function invocationFindings(context: Context, wt: WorkflowTemplate, _t: Template, invocation: Invocation, path: string): Finding[] {
  const resolved = context.resolve(wt, invocation);
  if (!resolved) return [unresolved(context, wt, invocation, path)];
  const inputs = resolved.template.inputs?.parameters ?? [];
  const supplied = parameterNames(invocation.arguments?.parameters);
  const target = `${resolved.wt.metadata.name}/${resolved.template.name}`;
  const missing = inputs.filter((p) => p.value === undefined && p.default === undefined && p.valueFrom === undefined && !supplied.includes(p.name));
  const unknown = supplied.filter((name) => !inputs.some((p) => p.name === name));
  return [
    ...missing.map((p) => finding('missing-argument', wt, `${path}.arguments`, `calls ${target} without its required input "${p.name}" (pass it under arguments.parameters, or give the input a default)`)),
    ...unknown.map((name) => finding('unknown-argument', wt, `${path}.arguments`, `passes "${name}", which ${target} does not declare (it takes: ${list(parameterNames(inputs))})`)),
  ];
}

function unresolved(context: Context, wt: WorkflowTemplate, invocation: Invocation, path: string): Finding {
  const ref = invocation.templateRef;
  if (!ref) {
    return finding('template-ref', wt, `${path}.template`, `names template "${invocation.template}", which this WorkflowTemplate does not have (it has: ${list(templatesOf(wt).map((t) => t.name))})`);
  }
  if (ref.clusterScope) return finding('template-ref', wt, `${path}.templateRef`, `refers to ClusterWorkflowTemplate "${ref.name}", which ferry does not emit (use a WorkflowTemplate)`);
  const target = context.workflowTemplate(ref.name);
  if (!target) {
    return finding('template-ref', wt, `${path}.templateRef`, `refers to WorkflowTemplate "${ref.name}", which is not emitted (emitted: ${list(context.workflowTemplates.map((w) => w.metadata.name))})`);
  }
  return finding('template-ref', wt, `${path}.templateRef`, `refers to template "${ref.template}" in ${ref.name}, which has no such template (it has: ${list(templatesOf(target).map((t) => t.name))})`);
}

/** Splits a depends expression into operands; undefined when it is not well formed. */
export function dependsOperands(expression: string): { task: string; result?: string }[] | undefined {
  const token = /\s*(&&|\|\||!|\(|\)|[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z]+)?)\s*/y;
  const operands: { task: string; result?: string }[] = [];
  let depth = 0;
  let expectOperand = true;
  while (token.lastIndex < expression.length) {
    const start = token.lastIndex;
    const match = token.exec(expression);
    if (!match) return undefined;
    const t = match[1];
    if (t === '(' || t === '!') {
      if (!expectOperand) return undefined;
      depth += t === '(' ? 1 : 0;
    } else if (t === ')') {
      if (expectOperand || --depth < 0) return undefined;
    } else if (t === '&&' || t === '||') {
      if (expectOperand) return undefined;
      expectOperand = true;
    } else {
      if (!expectOperand) return undefined;
      const [task, result] = t.split('.');
      operands.push({ task, result });
      expectOperand = false;
    }
    if (token.lastIndex === start) return undefined;
  }
  return depth === 0 && !expectOperand ? operands : undefined;
}

function dependsFindings(wt: WorkflowTemplate, t: Template): Finding[] {
  const tasks = t.dag?.tasks ?? [];
  const names = tasks.map((task) => task.name);
  return tasks.flatMap((task) => {
    const path = `${templatePath(t)}.dag.tasks[${task.name}]`;
    const out: Finding[] = [];
    for (const dependency of task.dependencies ?? []) {
      if (!names.includes(dependency)) out.push(finding('depends', wt, `${path}.dependencies`, `names task "${dependency}", which this DAG does not have (tasks: ${list(names)})`));
    }
    if (task.depends === undefined) return out;
    const operands = dependsOperands(task.depends);
    if (!operands) return [...out, finding('depends', wt, `${path}.depends`, `"${task.depends}" is not a depends expression (write e.g. "a && (b.Succeeded || b.Failed || b.Errored)")`)];
    for (const { task: name, result } of operands) {
      if (!names.includes(name)) out.push(finding('depends', wt, `${path}.depends`, `names task "${name}", which this DAG does not have (tasks: ${list(names)})`));
      if (result !== undefined && !(DEPENDS_RESULTS as readonly string[]).includes(result)) {
        out.push(finding('depends', wt, `${path}.depends`, `tests "${name}.${result}", which is not a task result (use one of ${DEPENDS_RESULTS.join(', ')})`));
      }
    }
    return out;
  });
}

/** The tasks a task runs after, directly or not. */
function ancestors(tasks: readonly Invocation[], name: string): Set<string> {
  const direct = (task: Invocation | undefined) => [...(task?.dependencies ?? []), ...(dependsOperands(task?.depends ?? '') ?? []).map((o) => o.task)];
  const seen = new Set<string>();
  const queue = direct(tasks.find((t) => t.name === name));
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...direct(tasks.find((t) => t.name === next)));
  }
  return seen;
}

/** `{{tasks.X.…}}` only resolves for a task that has already ended, and `outputs.parameters.P` only when X declares P. */
function taskReferences(context: Context, wt: WorkflowTemplate, t: Template): Finding[] {
  const tasks = t.dag?.tasks ?? [];
  const pattern = /\{\{\s*tasks\.([A-Za-z0-9-]+)\.([A-Za-z0-9_.-]+)\s*\}\}/g;
  return tasks.flatMap((task) => {
    const before = ancestors(tasks, task.name);
    const path = `${templatePath(t)}.dag.tasks[${task.name}]`;
    return [...JSON.stringify(task).matchAll(pattern)].flatMap(([, name, rest]) => {
      if (!before.has(name)) {
        return [finding('task-reference', wt, path, `uses {{tasks.${name}.${rest}}}, but "${name}" is not a task this one depends on, so it is unresolved when this task starts (add it to depends)`)];
      }
      const output = /^outputs\.parameters\.(.+)$/.exec(rest)?.[1];
      const target = output && context.resolve(wt, tasks.find((x) => x.name === name)!);
      if (output && target && !parameterNames(target.template.outputs?.parameters).includes(output)) {
        return [finding('task-reference', wt, path, `uses {{tasks.${name}.${rest}}}, but ${target.wt.metadata.name}/${target.template.name} has no output "${output}" (it has: ${list(parameterNames(target.template.outputs?.parameters))})`)];
      }
      return [];
    });
  });
}

/**
 * An entry WorkflowTemplate runs as the workflow; every `{{workflow.parameters.X}}` in a template
 * it reaches, through templateRef too, reads that workflow's arguments. So each must be declared
 * in the entry's spec.arguments.
 */
function undeclaredWorkflowParameters(context: Context, entry: WorkflowTemplate): Finding[] {
  if (!entry.spec?.entrypoint) return [];
  const declared = parameterNames(entry.spec.arguments?.parameters);
  const out: Finding[] = [];
  const seen = new Set<string>();
  const queue: { wt: WorkflowTemplate; name: string | undefined }[] = [entry.spec.entrypoint, entry.spec.onExit].map((name) => ({ wt: entry, name }));
  while (queue.length > 0) {
    const { wt, name } = queue.shift()!;
    const template = templatesOf(wt).find((t) => t.name === name);
    const key = `${wt.metadata.name}/${name}`;
    if (!template || seen.has(key)) continue;
    seen.add(key);
    for (const parameter of new Set(refs(template, 'workflow.parameters'))) {
      if (declared.includes(parameter)) continue;
      const where = wt === entry ? templatePath(template) : `${templatePath(template)} of ${wt.metadata.name}`;
      out.push(
        finding('undeclared-workflow-parameter', entry, where, `uses {{workflow.parameters.${parameter}}}, which this entry does not declare (add it to spec.arguments.parameters; declared: ${list(declared)})`),
      );
    }
    for (const { invocation } of invocations(template)) {
      const resolved = context.resolve(wt, invocation);
      if (resolved) queue.push({ wt: resolved.wt, name: resolved.template.name });
    }
  }
  return out;
}

function containersOf(t: Template): Container[] {
  return [t.container, t.script, ...(t.initContainers ?? []), ...(t.sidecars ?? []), ...(t.containerSet?.containers ?? [])].filter((c): c is Container => c !== undefined);
}

function runsPod(t: Template): boolean {
  return containersOf(t).length > 0 || t.resource !== undefined;
}

/** spec.volumes and volumeClaimTemplates reach pods only when this WorkflowTemplate is the one submitted. */
function templateVolumes(wt: WorkflowTemplate, t: Template): Finding[] {
  const own = (t.volumes ?? []).map((v) => v.name);
  const workflowLevel = [...(wt.spec?.volumes ?? []).map((v) => v.name), ...(wt.spec?.volumeClaimTemplates ?? []).map((v) => v.metadata?.name ?? '')];
  return containersOf(t).flatMap((c) =>
    (c.volumeMounts ?? [])
      .filter((m) => !own.includes(m.name))
      .map((m) =>
        workflowLevel.includes(m.name)
          ? finding('template-volume', wt, templatePath(t), `mounts "${m.name}" from spec-level volumes, which are ignored when the template is reached through templateRef (declare it under the template's volumes)`)
          : finding('template-volume', wt, templatePath(t), `mounts "${m.name}", which no volume declares (declare it under the template's volumes)`),
      ),
  );
}

function podServiceAccounts(context: Context): { wt: WorkflowTemplate; template: Template; serviceAccount?: string }[] {
  return context.workflowTemplates.flatMap((wt) => templatesOf(wt).filter(runsPod).map((template) => ({ wt, template, serviceAccount: template.serviceAccountName })));
}

function serviceAccountFindings(context: Context): Finding[] {
  const known = context.names('ServiceAccount');
  const unknown = (name: string) => `names ServiceAccount "${name}", which is neither emitted nor user-provided (emitted and user-provided: ${list([...known])})`;
  const out: Finding[] = [];
  for (const wt of context.workflowTemplates) {
    if (wt.spec?.serviceAccountName !== undefined && !known.has(wt.spec.serviceAccountName)) out.push(finding('service-account', wt, 'spec.serviceAccountName', unknown(wt.spec.serviceAccountName)));
  }
  for (const { wt, template, serviceAccount } of podServiceAccounts(context)) {
    if (serviceAccount === undefined) {
      out.push(
        finding('service-account', wt, templatePath(template), 'runs a pod without serviceAccountName; under templateRef the WorkflowTemplate spec.serviceAccountName is ignored and the pod runs as the caller\'s account (set it on the template)'),
      );
    } else if (!known.has(serviceAccount)) {
      out.push(finding('service-account', wt, `${templatePath(template)}.serviceAccountName`, unknown(serviceAccount)));
    }
  }
  for (const binding of context.objects.filter((o) => o.kind === 'RoleBinding')) {
    const subjects = (binding.subjects ?? []) as { kind?: string; name?: string }[];
    subjects.forEach((s, i) => {
      if (s.kind === 'ServiceAccount' && s.name !== undefined && !known.has(s.name)) out.push(finding('service-account', binding, `subjects[${i}]`, unknown(s.name)));
    });
  }
  return out;
}

/** Every Secret name an object refers to, with where. */
function secretReferences(value: unknown, path: string): { name: string; path: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretReferences(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) => {
    const here = path ? `${path}.${key}` : key;
    const named = v as { name?: string; secretName?: string } | undefined;
    const direct =
      (key === 'secretKeyRef' || key === 'secretRef') && typeof named?.name === 'string'
        ? [{ name: named.name, path: here }]
        : key === 'secret' && typeof named?.secretName === 'string'
          ? [{ name: named.secretName, path: here }]
          : key === 'imagePullSecrets' && Array.isArray(v)
            ? v.map((s: { name?: string }, i) => ({ name: s.name ?? '', path: `${here}[${i}]` }))
            : [];
    return [...direct, ...secretReferences(v, here)];
  });
}

function secretFindings(context: Context): Finding[] {
  const known = context.names('Secret');
  return context.objects.flatMap((o) =>
    secretReferences(o, '')
      .filter((ref) => !known.has(ref.name))
      .map((ref) => finding('secret', o, ref.path, `refers to Secret "${ref.name}", which is neither emitted nor documented as user-provided (add it to userProvidedObjects and the docs, or fix the name)`)),
  );
}

/** Service accounts bound to a Role that lets Argo's executor write WorkflowTaskResults. */
function executorAccounts(context: Context): Set<string> {
  const grants = (rules: unknown) =>
    ((rules ?? []) as { apiGroups?: string[]; resources?: string[]; verbs?: string[] }[]).some(
      (r) => r.apiGroups?.includes('argoproj.io') && r.resources?.includes('workflowtaskresults') && ['create', 'patch'].every((v) => r.verbs?.includes(v)),
    );
  const roles = new Set(context.objects.filter((o) => o.kind === 'Role' && grants(o.rules)).map((o) => o.metadata?.name));
  const accounts = new Set<string>();
  for (const binding of context.objects.filter((o) => o.kind === 'RoleBinding')) {
    const roleRef = binding.roleRef as { kind?: string; name?: string } | undefined;
    if (roleRef?.kind !== 'Role' || !roles.has(roleRef.name)) continue;
    for (const s of (binding.subjects ?? []) as { kind?: string; name?: string }[]) if (s.kind === 'ServiceAccount' && s.name) accounts.add(s.name);
  }
  return accounts;
}

function executorRbacFindings(context: Context): Finding[] {
  const bound = executorAccounts(context);
  const runAs = [
    ...podServiceAccounts(context).map(({ wt, template, serviceAccount }) => ({ object: wt as KubeObject, path: `${templatePath(template)}.serviceAccountName`, name: serviceAccount })),
    ...context.workflowTemplates.map((wt) => ({ object: wt as KubeObject, path: 'spec.serviceAccountName', name: wt.spec?.serviceAccountName })),
  ];
  return runAs
    .filter((r): r is { object: KubeObject; path: string; name: string } => r.name !== undefined && !bound.has(r.name))
    .map((r) =>
      finding('executor-rbac', r.object, r.path, `pods run as "${r.name}", which no RoleBinding grants argoproj.io workflowtaskresults create+patch; since Argo 3.6 its wait container exits 64 (add it to the executor RoleBinding)`),
    );
}
