/**
 * Checks that evaluate each resource by its own content run once per distinct ECR repository
 * instead of once per repository: a config of 1,000 repositories x 30 destinations has about
 * 31,000 repositories that differ only in their names, and the Control Tower rules and
 * CloudFormation's template validation cost time per resource.
 *
 * For each template, repositories that are equal in everything but `RepositoryName` (or all but
 * what the check reads of it) and their construct path form one class; the check reads a copy of the template that keeps every other
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
export function reduceTemplates(templatePaths: readonly string[], nameSummary?: NameSummary): Reduction {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-checks-'));
  const templates = templatePaths.map((original): ReducedTemplate => {
    const template = JSON.parse(fs.readFileSync(original, 'utf8')) as Template;
    const reduced = reduceTemplate(template, nameSummary);
    if (!reduced) return { original, checked: original, classes: new Map() };
    const checked = path.join(dir, path.basename(original));
    fs.writeFileSync(checked, JSON.stringify(reduced.template, undefined, 1));
    return { original, checked, classes: reduced.classes };
  });
  return { templates, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
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
