/**
 * DAG tasks and `depends`: every name a task waits for exists, every result it tests is one Argo
 * sets, and every `{{tasks.X.…}}` it reads has been decided when the task starts.
 */
import { type Context, type Finding, finding, type Invocation, list, parameterNames, type Template, templatePath, templatesOf, type Workflow } from './model';

/** What `depends` may test (Argo's TaskResults). */
export const DEPENDS_RESULTS = ['Succeeded', 'Failed', 'Errored', 'Skipped', 'Omitted', 'Daemoned', 'AnySucceeded', 'AllFailed'] as const;

export function dagFindings(context: Context): Finding[] {
  return context.workflows.flatMap((wt) =>
    templatesOf(wt).flatMap((t) => [...dependsFindings(wt, t), ...taskReferences(context, wt, t), ...unsafeOutputs(wt, t)]),
  );
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
      if (!names.includes(dependency))
        out.push(finding('depends', wt, `${path}.dependencies`, `names task "${dependency}", which this DAG does not have (tasks: ${list(names)})`));
    }
    if (task.depends === undefined) return out;
    const operands = dependsOperands(task.depends);
    if (!operands)
      return [
        ...out,
        finding('depends', wt, `${path}.depends`, `"${task.depends}" is not a depends expression (write e.g. "a && (b.Succeeded || b.Failed || b.Errored)")`),
      ];
    for (const { task: name, result } of operands) {
      if (!names.includes(name))
        out.push(finding('depends', wt, `${path}.depends`, `names task "${name}", which this DAG does not have (tasks: ${list(names)})`));
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
        return [
          finding(
            'task-reference',
            wt,
            path,
            `uses {{tasks.${name}.${rest}}}, but "${name}" is not a task this one depends on, so it is unresolved when this task starts (add it to depends)`,
          ),
        ];
      }
      const output = /^outputs\.parameters\.(.+)$/.exec(rest)?.[1];
      const target = output && context.resolve(wt, tasks.find((x) => x.name === name)!);
      if (output && target && !parameterNames(target.template.outputs?.parameters).includes(output)) {
        return [
          finding(
            'task-reference',
            wt,
            path,
            `uses {{tasks.${name}.${rest}}}, but ${target.wt.metadata.name}/${target.template.name} has no output "${output}" (it has: ${list(parameterNames(target.template.outputs?.parameters))})`,
          ),
        ];
      }
      return [];
    });
  });
}

/** A parsed depends expression. */
type DependsNode =
  | { readonly op: 'and' | 'or'; readonly left: DependsNode; readonly right: DependsNode }
  | { readonly op: 'not'; readonly operand: DependsNode }
  | { readonly op: 'task'; readonly task: string; readonly result?: string };

/** Parses a well-formed depends expression (see dependsOperands); undefined otherwise. */
export function parseDepends(expression: string): DependsNode | undefined {
  if (!dependsOperands(expression)) return undefined;
  const tokens = expression.match(/&&|\|\||!|\(|\)|[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z]+)?/g) ?? [];
  let i = 0;
  const or = (): DependsNode => {
    let left = and();
    while (tokens[i] === '||') {
      i++;
      left = { op: 'or', left, right: and() };
    }
    return left;
  };
  const and = (): DependsNode => {
    let left = unary();
    while (tokens[i] === '&&') {
      i++;
      left = { op: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): DependsNode => {
    const token = tokens[i++];
    if (token === '!') return { op: 'not', operand: unary() };
    if (token === '(') {
      const inner = or();
      i++; // ')'
      return inner;
    }
    const [task, result] = token.split('.');
    return { op: 'task', task, result };
  };
  return or();
}

/** Kleene three-valued logic: undefined is "either". */
function evaluate(node: DependsNode, operand: (task: string, result?: string) => boolean | undefined): boolean | undefined {
  switch (node.op) {
    case 'task':
      return operand(node.task, node.result);
    case 'not': {
      const value = evaluate(node.operand, operand);
      return value === undefined ? undefined : !value;
    }
    case 'and': {
      const [l, r] = [evaluate(node.left, operand), evaluate(node.right, operand)];
      return l === false || r === false ? false : l === true && r === true ? true : undefined;
    }
    case 'or': {
      const [l, r] = [evaluate(node.left, operand), evaluate(node.right, operand)];
      return l === true || r === true ? true : l === false && r === false ? false : undefined;
    }
  }
}

/** How a task can end without outputs to read: its pod failed, never ran, or it never started. */
const NOT_SUCCEEDED = ['Failed', 'Errored', 'Omitted'] as const;

/**
 * True when `depends` can only hold if `task` Succeeded (or was Skipped or Daemoned, which Argo
 * gives its declared outputs' defaults): false for every way the task can end without outputs,
 * whatever the other tasks did. A bare task name means Succeeded, Skipped or Daemoned.
 */
export function dependsGuaranteesSuccess(expression: string, task: string): boolean {
  const tree = parseDepends(expression);
  if (!tree) return false;
  return NOT_SUCCEEDED.every(
    (ended) =>
      evaluate(tree, (name, result) =>
        name !== task
          ? undefined
          : result === undefined
            ? false
            : result === ended
              ? true
              : result === 'AnySucceeded' || result === 'AllFailed'
                ? undefined
                : false,
      ) === false,
  );
}

/** The tasks that must have Succeeded for this one to run: through depends, dependencies, a `when` on their status, and transitively. */
function guaranteedSucceeded(tasks: readonly Invocation[], name: string, seen = new Set<string>()): Set<string> {
  const task = tasks.find((t) => t.name === name);
  const out = new Set<string>();
  if (!task || seen.has(name)) return out;
  seen.add(name);
  const direct = new Set<string>(task.dependencies ?? []);
  for (const { task: other } of dependsOperands(task.depends ?? '') ?? []) if (dependsGuaranteesSuccess(task.depends!, other)) direct.add(other);
  // Only a `when` that is exactly this one comparison: anything around it could make it true otherwise.
  const when = /^\s*['"]?\{\{\s*tasks\.([A-Za-z0-9-]+)\.status\s*\}\}['"]?\s*==\s*['"]?Succeeded['"]?\s*$/.exec(task.when ?? '');
  if (when) direct.add(when[1]);
  for (const other of direct) {
    out.add(other);
    for (const further of guaranteedSucceeded(tasks, other, seen)) out.add(further);
  }
  return out;
}

/**
 * `{{tasks.X.outputs…}}` only when this task cannot run unless X Succeeded. A task that Errored
 * (its pod never ran) or Failed may have no outputs; a task reading them then never resolves, and
 * open Argo bugs leave the run hanging past its deadline (argo-workflows#12869, #14337).
 */
function unsafeOutputs(wt: Workflow, t: Template): Finding[] {
  const tasks = t.dag?.tasks ?? [];
  const pattern = /\{\{\s*tasks\.([A-Za-z0-9-]+)\.outputs\.([A-Za-z0-9_.-]+)\s*\}\}/g;
  return tasks.flatMap((task) => {
    const safe = guaranteedSucceeded(tasks, task.name);
    const unsafe = new Set(
      [...JSON.stringify({ ...task, depends: undefined }).matchAll(pattern)]
        .map(([, name, rest]) => `${name}.outputs.${rest}`)
        .filter((ref) => !safe.has(ref.split('.')[0])),
    );
    return [...unsafe].map((ref) =>
      finding(
        'unsafe-output',
        wt,
        `${templatePath(t)}.dag.tasks[${task.name}]`,
        `reads {{tasks.${ref}}}, but its depends lets it run when "${ref.split('.')[0]}" did not succeed, and then there may be no outputs to read (read {{tasks.${ref.split('.')[0]}.status}} instead, or depend on "${ref.split('.')[0]}" succeeding)`,
      ),
    );
  });
}
