/**
 * The object model the rules read: loose JSON shapes of what cdk8s emits (everything optional,
 * the input is untrusted), the findings they report, and the lookups they share.
 */

/** Every rule, by the id a finding names. */
export const RULES = [
  'schema',
  'template-ref',
  'undeclared-input',
  'missing-argument',
  'unknown-argument',
  'undeclared-workflow-parameter',
  'depends',
  'task-reference',
  'unsafe-output',
  'service-account',
  'secret',
  'template-volume',
  'push-volume',
  'executor-rbac',
  'push-identity',
  'retry-deadline',
] as const;

export type RuleId = (typeof RULES)[number];

export interface Finding {
  readonly rule: RuleId;
  /** `Kind/name` */
  readonly object: string;
  /** Where in the object, e.g. `spec.templates[main].dag.tasks[verify].depends` */
  readonly path: string;
  readonly message: string;
}

/** An object the templates reference that ferry does not emit: the user creates it. */
export interface UserProvidedObject {
  readonly kind: 'Secret' | 'ServiceAccount';
  readonly name: string;
  /** Whether the pipeline runs without it. */
  readonly optional: boolean;
  readonly purpose: string;
}

export interface ValidateOptions {
  /** Objects the user creates; references to them are fine. */
  readonly userProvided: readonly UserProvidedObject[];
  /**
   * What each push ServiceAccount must carry (ServiceAccount name → IRSA role and audience):
   * the destination's SOURCE role in the build account. Default: not checked.
   */
  readonly pushIdentities?: Readonly<Record<string, PushIdentity>>;
  /** Validate WorkflowTemplates against the vendored CRD schemas. Default: true. */
  readonly schema?: boolean;
}

export interface PushIdentity {
  readonly roleArn: string;
  readonly audience: string;
}

/** Template components (the `app.kubernetes.io/component` label) of the steps that deliver to a destination. */
export const DELIVERY_COMPONENTS = ['push', 'sync'] as const;

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [key: string]: unknown;
}

export interface Parameter {
  readonly name: string;
  readonly value?: unknown;
  readonly default?: unknown;
  readonly valueFrom?: unknown;
}

export interface Invocation {
  readonly name: string;
  readonly template?: string;
  readonly templateRef?: { readonly name?: string; readonly template?: string; readonly clusterScope?: boolean };
  readonly arguments?: { readonly parameters?: readonly Parameter[] };
  readonly depends?: string;
  readonly dependencies?: readonly string[];
  readonly when?: string;
}

export interface Container {
  readonly volumeMounts?: readonly { readonly name: string }[];
}

export interface Template {
  readonly name: string;
  readonly metadata?: { readonly labels?: Record<string, string> };
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
  readonly volumes?: readonly { readonly name: string; readonly persistentVolumeClaim?: unknown }[];
}

export interface WorkflowSpec {
  readonly entrypoint?: string;
  readonly onExit?: string;
  readonly serviceAccountName?: string;
  readonly arguments?: { readonly parameters?: readonly Parameter[] };
  readonly templates?: readonly Template[];
  readonly volumes?: readonly { readonly name: string }[];
  readonly volumeClaimTemplates?: readonly { readonly metadata?: { readonly name?: string } }[];
  readonly workflowTemplateRef?: { readonly name?: string };
}

/**
 * A WorkflowTemplate, or a CronWorkflow through its `spec.workflowSpec`: both are specs of
 * workflows that Argo submits, and the rules read them alike.
 */
export interface Workflow extends KubeObject {
  readonly metadata: { readonly name: string; readonly labels?: Record<string, string> };
  readonly spec: WorkflowSpec;
}

export class Context {
  /** WorkflowTemplates, and the workflow spec of each CronWorkflow. */
  readonly workflows: Workflow[];
  readonly workflowTemplates: Workflow[];
  private readonly byName: Map<string, Workflow>;

  constructor(
    readonly objects: readonly KubeObject[],
    readonly options: ValidateOptions,
  ) {
    const named = (o: KubeObject) => typeof o.metadata?.name === 'string';
    this.workflowTemplates = objects.filter((o): o is Workflow => o.kind === 'WorkflowTemplate' && named(o));
    const crons = objects
      .filter((o) => o.kind === 'CronWorkflow' && named(o))
      .map((o) => ({ ...o, spec: (o.spec as { workflowSpec?: WorkflowSpec } | undefined)?.workflowSpec ?? {} }) as Workflow);
    this.workflows = [...this.workflowTemplates, ...crons];
    this.byName = new Map(this.workflowTemplates.map((wt) => [wt.metadata.name, wt]));
  }

  emitted(kind: string): Set<string> {
    return new Set(this.objects.filter((o) => o.kind === kind).map((o) => o.metadata?.name ?? ''));
  }

  workflowTemplate(name: string | undefined): Workflow | undefined {
    return name === undefined ? undefined : this.byName.get(name);
  }

  /** The template an invocation runs, with the WorkflowTemplate it lives in; undefined when it does not resolve. */
  resolve(from: Workflow, invocation: Invocation): { wt: Workflow; template: Template } | undefined {
    const wt = invocation.templateRef ? (invocation.templateRef.clusterScope ? undefined : this.workflowTemplate(invocation.templateRef.name)) : from;
    const name = invocation.templateRef ? invocation.templateRef.template : invocation.template;
    const template = wt && templatesOf(wt).find((t) => t.name === name);
    return wt && template ? { wt, template } : undefined;
  }

  names(kind: 'ServiceAccount' | 'Secret'): Set<string> {
    return new Set([...this.emitted(kind), ...this.options.userProvided.filter((o) => o.kind === kind).map((o) => o.name)]);
  }
}

export function templatesOf(wt: Workflow): readonly Template[] {
  return wt.spec?.templates ?? [];
}

export function objectId(o: KubeObject): string {
  return `${o.kind}/${o.metadata?.name}`;
}

export function templatePath(t: Template): string {
  return `spec.templates[${t.name}]`;
}

export function finding(rule: RuleId, object: KubeObject, path: string, message: string): Finding {
  return { rule, object: objectId(object), path, message };
}

/** Every `{{prefix.NAME}}` in a value, e.g. refs(t, 'inputs.parameters') → ['repo', ...]. */
export function refs(value: unknown, prefix: string): string[] {
  const pattern = new RegExp(`\\{\\{\\s*${prefix.replace(/\./g, '\\.')}\\.([A-Za-z0-9_-]+)\\s*\\}\\}`, 'g');
  return [...JSON.stringify(value ?? null).matchAll(pattern)].map((m) => m[1]);
}

export function parameterNames(parameters: readonly Parameter[] | undefined): string[] {
  return (parameters ?? []).map((p) => p.name);
}

export function list(names: readonly string[]): string {
  return names.length > 0 ? names.join(', ') : 'none';
}

/** The DAG tasks and steps a template calls, each with its path. */
export function invocations(t: Template): { invocation: Invocation; path: string }[] {
  const tasks = (t.dag?.tasks ?? []).map((invocation) => ({ invocation, path: `${templatePath(t)}.dag.tasks[${invocation.name}]` }));
  const steps = (t.steps ?? []).flatMap((group, i) => group.map((invocation) => ({ invocation, path: `${templatePath(t)}.steps[${i}][${invocation.name}]` })));
  return [...tasks, ...steps];
}

export function containersOf(t: Template): Container[] {
  return [t.container, t.script, ...(t.initContainers ?? []), ...(t.sidecars ?? []), ...(t.containerSet?.containers ?? [])].filter(
    (c): c is Container => c !== undefined,
  );
}

export function runsPod(t: Template): boolean {
  return containersOf(t).length > 0 || t.resource !== undefined;
}

/** Every template that runs a pod, with the account it names. */
export function podTemplates(context: Context): { wt: Workflow; template: Template }[] {
  return context.workflows.flatMap((wt) =>
    templatesOf(wt)
      .filter(runsPod)
      .map((template) => ({ wt, template })),
  );
}
