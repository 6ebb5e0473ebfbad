/**
 * References between objects and inside them: templateRef and template names, inputs and
 * arguments, workflow parameters, volumes, Secrets. `argo lint` resolves these against a cluster;
 * here they resolve against what synth emits plus the objects the user is documented to create.
 */
import {
  type Context,
  containersOf,
  type Finding,
  finding,
  type Invocation,
  invocations,
  list,
  parameterNames,
  refs,
  type Template,
  templatePath,
  templatesOf,
  type Workflow,
} from './model';

export function referenceFindings(context: Context): Finding[] {
  return [
    ...context.workflows.flatMap((wt) => [
      ...entryReferences(wt),
      ...templatesOf(wt).flatMap((t) => [
        ...undeclaredInputs(wt, t),
        ...invocations(t).flatMap(({ invocation, path }) => invocationFindings(context, wt, invocation, path)),
        ...templateVolumes(wt, t),
      ]),
      ...undeclaredWorkflowParameters(context, wt),
      ...workflowTemplateRefFindings(context, wt),
    ]),
    ...secretFindings(context),
  ];
}

function entryReferences(wt: Workflow): Finding[] {
  const names = templatesOf(wt).map((t) => t.name);
  // A workflow that runs a WorkflowTemplate by reference takes its entrypoint from there.
  if (wt.spec?.workflowTemplateRef) return [];
  return (['entrypoint', 'onExit'] as const)
    .filter((field) => wt.spec?.[field] !== undefined && !names.includes(wt.spec[field]!))
    .map((field) =>
      finding('template-ref', wt, `spec.${field}`, `names template "${wt.spec[field]}", which this WorkflowTemplate does not have (it has: ${list(names)})`),
    );
}

/**
 * A workflow that runs a WorkflowTemplate by reference (the CronWorkflow): the template must be
 * emitted, and every argument it passes must be one of that template's parameters (Argo would
 * silently ignore a misspelled one and run with the default).
 */
function workflowTemplateRefFindings(context: Context, wt: Workflow): Finding[] {
  const ref = wt.spec?.workflowTemplateRef;
  if (!ref) return [];
  const target = context.workflowTemplate(ref.name);
  if (!target) {
    return [
      finding(
        'template-ref',
        wt,
        'spec.workflowTemplateRef',
        `refers to WorkflowTemplate "${ref.name}", which is not emitted (emitted: ${list(context.workflowTemplates.map((w) => w.metadata.name))})`,
      ),
    ];
  }
  const declared = parameterNames(target.spec?.arguments?.parameters);
  return parameterNames(wt.spec.arguments?.parameters)
    .filter((name) => !declared.includes(name))
    .map((name) => finding('unknown-argument', wt, 'spec.arguments', `passes "${name}", which ${ref.name} does not declare (it takes: ${list(declared)})`));
}

function undeclaredInputs(wt: Workflow, t: Template): Finding[] {
  const declared = parameterNames(t.inputs?.parameters);
  return [...new Set(refs(t, 'inputs.parameters'))]
    .filter((name) => !declared.includes(name))
    .map((name) =>
      finding(
        'undeclared-input',
        wt,
        templatePath(t),
        `uses {{inputs.parameters.${name}}} but declares no input "${name}" (declare it under inputs.parameters or fix the name; declared: ${list(declared)})`,
      ),
    );
}

function invocationFindings(context: Context, wt: Workflow, invocation: Invocation, path: string): Finding[] {
  const resolved = context.resolve(wt, invocation);
  if (!resolved) return [unresolved(context, wt, invocation, path)];
  const inputs = resolved.template.inputs?.parameters ?? [];
  const supplied = parameterNames(invocation.arguments?.parameters);
  const target = `${resolved.wt.metadata.name}/${resolved.template.name}`;
  const missing = inputs.filter((p) => p.value === undefined && p.default === undefined && p.valueFrom === undefined && !supplied.includes(p.name));
  const unknown = supplied.filter((name) => !inputs.some((p) => p.name === name));
  return [
    ...missing.map((p) =>
      finding(
        'missing-argument',
        wt,
        `${path}.arguments`,
        `calls ${target} without its required input "${p.name}" (pass it under arguments.parameters, or give the input a default)`,
      ),
    ),
    ...unknown.map((name) =>
      finding('unknown-argument', wt, `${path}.arguments`, `passes "${name}", which ${target} does not declare (it takes: ${list(parameterNames(inputs))})`),
    ),
  ];
}

function unresolved(context: Context, wt: Workflow, invocation: Invocation, path: string): Finding {
  const ref = invocation.templateRef;
  if (!ref) {
    return finding(
      'template-ref',
      wt,
      `${path}.template`,
      `names template "${invocation.template}", which this WorkflowTemplate does not have (it has: ${list(templatesOf(wt).map((t) => t.name))})`,
    );
  }
  if (ref.clusterScope)
    return finding(
      'template-ref',
      wt,
      `${path}.templateRef`,
      `refers to ClusterWorkflowTemplate "${ref.name}", which ferry does not emit (use a WorkflowTemplate)`,
    );
  const target = context.workflowTemplate(ref.name);
  if (!target) {
    return finding(
      'template-ref',
      wt,
      `${path}.templateRef`,
      `refers to WorkflowTemplate "${ref.name}", which is not emitted (emitted: ${list(context.workflowTemplates.map((w) => w.metadata.name))})`,
    );
  }
  return finding(
    'template-ref',
    wt,
    `${path}.templateRef`,
    `refers to template "${ref.template}" in ${ref.name}, which has no such template (it has: ${list(templatesOf(target).map((t) => t.name))})`,
  );
}

/**
 * An entry WorkflowTemplate runs as the workflow; every `{{workflow.parameters.X}}` in a template
 * it reaches, through templateRef too, reads that workflow's arguments. So each must be declared
 * in the entry's spec.arguments.
 */
function undeclaredWorkflowParameters(context: Context, entry: Workflow): Finding[] {
  if (!entry.spec?.entrypoint) return [];
  const declared = parameterNames(entry.spec.arguments?.parameters);
  const out: Finding[] = [];
  const seen = new Set<string>();
  const queue: { wt: Workflow; name: string | undefined }[] = [entry.spec.entrypoint, entry.spec.onExit].map((name) => ({ wt: entry, name }));
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
        finding(
          'undeclared-workflow-parameter',
          entry,
          where,
          `uses {{workflow.parameters.${parameter}}}, which this entry does not declare (add it to spec.arguments.parameters; declared: ${list(declared)})`,
        ),
      );
    }
    for (const { invocation } of invocations(template)) {
      const resolved = context.resolve(wt, invocation);
      if (resolved) queue.push({ wt: resolved.wt, name: resolved.template.name });
    }
  }
  return out;
}

/** spec.volumes and volumeClaimTemplates reach pods only when this WorkflowTemplate is the one submitted. */
function templateVolumes(wt: Workflow, t: Template): Finding[] {
  const own = (t.volumes ?? []).map((v) => v.name);
  const workflowLevel = [...(wt.spec?.volumes ?? []).map((v) => v.name), ...(wt.spec?.volumeClaimTemplates ?? []).map((v) => v.metadata?.name ?? '')];
  return containersOf(t).flatMap((c) =>
    (c.volumeMounts ?? [])
      .filter((m) => !own.includes(m.name))
      .map((m) =>
        workflowLevel.includes(m.name)
          ? finding(
              'template-volume',
              wt,
              templatePath(t),
              `mounts "${m.name}" from spec-level volumes, which are ignored when the template is reached through templateRef (declare it under the template's volumes)`,
            )
          : finding('template-volume', wt, templatePath(t), `mounts "${m.name}", which no volume declares (declare it under the template's volumes)`),
      ),
  );
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
      .map((ref) =>
        finding(
          'secret',
          o,
          ref.path,
          `refers to Secret "${ref.name}", which is neither emitted nor documented as user-provided (add it to userProvidedObjects and the docs, or fix the name)`,
        ),
      ),
  );
}
