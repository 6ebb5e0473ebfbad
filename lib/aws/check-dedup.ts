/**
 * Checks that evaluate each resource by its own content run once per distinct ECR repository
 * instead of once per repository: a config of 1,000 repositories x 30 destinations has about
 * 31,000 repositories that differ only in their names, and the Control Tower rules and
 * CloudFormation's template validation cost time per resource.
 *
 * For each template, repositories that are equal in everything but their construct path and
 * `RepositoryName` (beyond its summary, see nameSummary) form one class; the check reads a copy of the template that keeps every other
 * resource, the first repository of each class, and whatever a kept resource references; each
 * finding on a kept repository is then reported for every repository of its class, under that
 * repository's own logical ID, so reports and acknowledgements stay per resource.
 *
 * Sound only for rules whose verdict on a repository depends on the repository alone, and not on
 * its name: the callers establish that for their rules (control-tower.ts reads the rule files,
 * cfn-validate.ts keeps the template-wide rules on the full template). A template with two
 * repositories of one name is never reduced, so a duplicate is still found where it is.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The resource type that is deduplicated: the only one ferry creates by the thousand. */
export const DEDUPLICATED_TYPE = 'AWS::ECR::Repository';
/** The one property that tells repositories of a class apart (besides the construct path metadata). */
export const NAME_PROPERTY = 'RepositoryName';
const PATH_METADATA = 'aws:cdk:path';

interface Resource {
  Type?: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  [key: string]: unknown;
}
interface Template {
  Resources?: Record<string, Resource>;
  [key: string]: unknown;
}

/** One template as a check reads it. */
export interface ReducedTemplate {
  /** The written template (in the cloud assembly). */
  readonly original: string;
  /** What the check reads: the reduced copy, or the original when nothing was left out. */
  readonly checked: string;
  /** Logical ID of a kept repository -> the logical IDs of its class (itself first). */
  readonly classes: ReadonlyMap<string, readonly string[]>;
  /** The resource types of the original. */
  readonly types: ReadonlySet<string>;
  /** The original's resources, and its size in bytes. */
  readonly resources: number;
  readonly bytes: number;
}

export interface Reduction {
  readonly templates: readonly ReducedTemplate[];
  /** Removes the reduced copies. */
  dispose(): void;
}

/**
 * What of a repository's name a check may read: nothing (the default), or a summary that is
 * equal for names the check cannot tell apart (see cfn-validate.ts).
 */
export type NameSummary = (name: unknown) => string;

/** The class of a repository: everything but its name (beyond its summary) and its construct path. */
function classKey(resource: Resource, nameSummary: NameSummary): string {
  const { [NAME_PROPERTY]: name, ...properties } = resource.Properties ?? {};
  const { [PATH_METADATA]: _path, ...metadata } = resource.Metadata ?? {};
  return JSON.stringify({ ...resource, Properties: properties, Metadata: metadata, name: nameSummary(name) });
}

/** Logical IDs a value names: Ref, Fn::GetAtt, DependsOn and `${X}` of Fn::Sub. */
function referencedIds(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) for (const v of value) referencedIds(v, into);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') into.add(v);
      else if (key === 'Fn::GetAtt') into.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      else if (key === 'DependsOn') for (const id of [v].flat()) into.add(String(id));
      else if (key === 'Fn::Sub') for (const m of JSON.stringify(v).matchAll(/\$\{([A-Za-z0-9]+)[.}]/g)) into.add(m[1]);
      referencedIds(v, into);
    }
  }
}

/**
 * The template with one repository per class, or undefined when it holds no two repositories of
 * a class or two repositories of one name.
 */
export function reduceTemplate(template: Template, nameSummary: NameSummary = () => ''): { template: Template; classes: Map<string, string[]> } | undefined {
  const resources = template.Resources ?? {};
  const byKey = new Map<string, string[]>();
  const names = new Set<string>();
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== DEDUPLICATED_TYPE) continue;
    const name = JSON.stringify(resource.Properties?.[NAME_PROPERTY] ?? null);
    if (resource.Properties?.[NAME_PROPERTY] !== undefined && names.has(name)) return undefined;
    names.add(name);
    const key = classKey(resource, nameSummary);
    byKey.set(key, [...(byKey.get(key) ?? []), id]);
  }
  const classes = new Map([...byKey.values()].map((ids) => [ids[0], ids] as const));
  const dropped = new Set([...classes.values()].flatMap((ids) => ids.slice(1)));
  if (dropped.size === 0) return undefined;
  // Whatever a kept resource names stays, so no reference dangles in the copy.
  const kept = new Set(Object.keys(resources).filter((id) => !dropped.has(id)));
  for (let queue = [...kept]; queue.length > 0; ) {
    const refs = new Set<string>();
    referencedIds(resources[queue.pop() as string], refs);
    for (const id of refs)
      if (dropped.has(id)) {
        dropped.delete(id);
        kept.add(id);
        queue.push(id);
      }
  }
  for (const [rep, ids] of classes) {
    const members = ids.filter((id) => id === rep || dropped.has(id));
    classes.set(rep, members);
    // A member kept for a reference is checked itself, as its own class.
    for (const id of ids) if (id !== rep && !dropped.has(id)) classes.set(id, [id]);
  }
  return { template: { ...template, Resources: Object.fromEntries(Object.entries(resources).filter(([id]) => kept.has(id))) }, classes };
}

/**
 * Writes the reduced copies into a fresh temp directory (plugins must not write into the cloud
 * assembly), each under its original file name.
 */
export function reduceTemplates(templatePaths: readonly string[], summary?: NameSummary): Reduction {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-checks-'));
  const templates = templatePaths.map((original): ReducedTemplate => {
    const text = fs.readFileSync(original, 'utf8');
    const template = JSON.parse(text) as Template;
    const resources = Object.values(template.Resources ?? {});
    const measures = { types: new Set(resources.flatMap((r) => (r.Type ? [r.Type] : []))), resources: resources.length, bytes: Buffer.byteLength(text) };
    const reduced = reduceTemplate(template, summary);
    if (!reduced) return { original, checked: original, classes: new Map(), ...measures };
    const checked = path.join(dir, path.basename(original));
    fs.writeFileSync(checked, JSON.stringify(reduced.template, undefined, 1));
    return { original, checked, classes: reduced.classes, ...measures };
  });
  return { templates, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

let shared: { key: string; reduction: Reduction } | undefined;

/**
 * The reduction of one synth's templates, by name summary, shared by its checks
 * (control-tower.ts, cfn-validate.ts): reading, reducing and writing the 126 templates of
 * 1,000 x 30 costs about a second each time. Classes by name summary are finer than classes that
 * ignore the name, so they are sound for a check that reads no name too. Keyed by the templates'
 * paths, sizes and modification times, so another synth in the process (tests build many) gets its
 * own; the copies are removed when a synth ends (releaseSharedReduction), replaced, or at exit.
 */
export function sharedReduction(templatePaths: readonly string[]): Reduction {
  const key = JSON.stringify(
    templatePaths.map((p) => {
      const stat = fs.statSync(p);
      return [p, stat.size, stat.mtimeMs];
    }),
  );
  if (shared?.key !== key) {
    releaseSharedReduction();
    if (!shared) process.once('exit', releaseSharedReduction);
    shared = { key, reduction: reduceTemplates(templatePaths, nameSummary) };
  }
  return shared.reduction;
}

/** Removes the shared reduction's copies (synthAwsApp calls it once the checks have run). */
export function releaseSharedReduction(): void {
  shared?.reduction.dispose();
  shared = undefined;
}

/**
 * A repository name as the schema's pattern and length bounds see it: each run of lowercase
 * letters and digits becomes `a` (the pattern only ever matches such runs whole, between the
 * separators), and the length is only in or out of 2-256. `team-01/app` and `team-02/service`
 * share a summary; `Team/app`, `team//app` and a 300-character name each have their own.
 */
export function nameSummary(name: unknown): string {
  if (typeof name !== 'string') return JSON.stringify(name ?? null);
  const length = name.length >= 2 && name.length <= 256 ? 'fits' : String(name.length);
  return `${name.replace(/[a-z0-9]+/g, 'a')} ${length}`;
}

/** What a report says about one resource: the shape both plugin reports share. */
export interface ResourceFinding {
  readonly resourceLogicalId?: string;
  readonly templatePath?: string;
  readonly locations: string[];
  readonly constructPath?: string;
}

/**
 * A finding on a checked (possibly reduced) template, for every resource it stands for: the
 * original template path, and one entry per repository of the class, with the logical ID in the
 * locations replaced by the member's own.
 */
export function expandFinding<T extends ResourceFinding>(finding: T, templates: readonly ReducedTemplate[]): T[] {
  const { templatePath } = finding;
  if (templatePath === undefined) return [finding];
  const template = templates.find((t) => t.checked === templatePath || path.basename(t.checked) === path.basename(templatePath));
  if (!template) return [finding];
  const { resourceLogicalId: id } = finding;
  const members = id !== undefined ? (template.classes.get(id) ?? [id]) : [undefined];
  return members.map((member) => ({
    ...finding,
    templatePath: template.original,
    resourceLogicalId: member,
    locations: member && id ? finding.locations.map((l) => l.split(id).join(member)) : finding.locations,
  }));
}

/** A plugin's report on checked templates, every finding expanded to the resources it stands for (expandFinding). */
export function expandReport<R extends { readonly violations: readonly { readonly violatingResources: readonly ResourceFinding[] }[] }>(
  report: R,
  templates: readonly ReducedTemplate[],
): R {
  return {
    ...report,
    violations: report.violations.map((v) => ({ ...v, violatingResources: v.violatingResources.flatMap((r) => expandFinding(r, templates)) })),
  };
}
