/**
 * DAG tasks and `depends`: every name a task waits for exists, every result it tests is one Argo
 * sets, and every `{{tasks.X.…}}` it reads has been decided when the task starts.
 */
import { Context, Finding, finding, Invocation, list, parameterNames, Template, templatePath, templatesOf, Workflow } from './model';

/** What `depends` may test (Argo's TaskResults). */
export const DEPENDS_RESULTS = ['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed'] as const;

export function dagFindings(context: Context): Finding[] {
  return context.workflows.flatMap((wt) => templatesOf(wt).flatMap((t) => [...dependsFindings(wt, t), ...taskReferences(context, wt, t)]));
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

function dependsFindings(wt: Workflow, t: Template): Finding[] {
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
function taskReferences(context: Context, wt: Workflow, t: Template): Finding[] {
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
