/**
 * `ferry sync`: every destination repository ends up holding every matching tag of the
 * source repository. Tags are compared by digest; only missing ones move (through
 * copyImage, one source read per image for all destinations that lack it). A tag that
 * exists with another digest is a conflict: reported, never overwritten.
 *
 * Referrer tags (`sha256-<hex>` and cosign's `.sig`/`.att`/`.sbom`) are not matched
 * against the glob: they follow the images they refer to.
 */
import { mapLimit } from '../common/concurrency';
import { errorMessage, InputError, isUnfixable, sanitize } from '../common/errors';
import { listTags, manifestDigest } from '../registry/pull';
import { REFERRER_TAG } from '../registry/referrers';
import type { Registry } from '../registry/registry';
import { scopes } from '../registry/remote';
import { type CopyOptions, type CopyResult, copyImage, type Endpoint } from './copy';

/** A repository, no tag. */
export interface Repository {
  readonly registry: Registry;
  readonly repository: string;
}

export interface TagDigest {
  readonly tag: string;
  readonly digest: string;
}

export interface Conflict {
  readonly tag: string;
  readonly source: string;
  readonly destination: string;
}

export interface DestinationPlan {
  readonly repository: string;
  /** Tags to copy (missing at the destination), image tags before referrer tags. */
  readonly missing: TagDigest[];
  readonly present: string[];
  readonly conflicts: Conflict[];
  /** Set when the destination could not even be read. */
  error?: string;
  /** No retry can fix the error (exit 2). */
  errorUnfixable?: boolean;
}

export interface SyncPlan {
  readonly source: string;
  /** Matching source tags (images, then referrer tags). */
  readonly tags: readonly TagDigest[];
  readonly destinations: DestinationPlan[];
}

export interface DestinationOutcome extends DestinationPlan {
  readonly copied: TagDigest[];
  readonly failed: { tag: string; error: string; unfixable: boolean }[];
}

const label = (r: Repository) => `${r.registry.host}/${r.repository}`;

/**
 * A tag glob: `*` any run of characters, `?` one, `[...]` a class; everything else literal.
 * Written here because tags have no path separators and minimatch/picomatch would add a
 * dependency for three wildcards.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw new InputError(`--tags "${glob}": "[" without a closing "]"`);
      const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Tag lookups are single small requests: more of them in flight than blob transfers. */
const LOOKUPS_PER_JOB = 4;

/** The digest each of `tags` points at in `repo`; a tag that is not there is left out. */
export async function tagDigests(repo: Repository, tags: readonly string[], jobs: number, sc?: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  await mapLimit(tags, jobs * LOOKUPS_PER_JOB, async (tag) => {
    const digest = await manifestDigest(repo.registry, repo.repository, tag, sc);
    if (digest) found.set(tag, digest);
  });
  return found;
}

/** The source's matching tags with their digests, and the referrer tags of those images. */
async function sourceTags(source: Repository, glob: RegExp, jobs: number): Promise<TagDigest[]> {
  const all = await listTags(source.registry, source.repository);
  if (!all) throw new InputError(`${label(source)}: the source registry has no such repository`);
  const images = await tagDigests(source, all.filter((t) => !REFERRER_TAG.test(t) && glob.test(t)).sort(), jobs);
  const subjects = new Set([...images.values()].map((d) => d.slice('sha256:'.length)));
  const referrerTags = all.filter((t) => subjects.has(REFERRER_TAG.exec(t)?.[1] ?? '')).sort();
  const referrers = await tagDigests(source, referrerTags, jobs);
  return [...images, ...referrers].map(([tag, digest]) => ({ tag, digest }));
}

async function planDestination(dest: Repository, tags: readonly TagDigest[], jobs: number): Promise<DestinationPlan> {
  const plan: DestinationPlan = { repository: label(dest), missing: [], present: [], conflicts: [] };
  try {
    const existing = new Set((await listTags(dest.registry, dest.repository, undefined, scopes(dest.repository))) ?? []);
    const held = await tagDigests(
      dest,
      tags.map((t) => t.tag).filter((t) => existing.has(t)),
      jobs,
      scopes(dest.repository),
    );
    for (const { tag, digest } of tags) {
      const there = held.get(tag);
      if (there === undefined) plan.missing.push({ tag, digest });
      else if (there === digest) plan.present.push(tag);
      else plan.conflicts.push({ tag, source: digest, destination: there });
    }
  } catch (err) {
    plan.error = sanitize(errorMessage(err), 1000);
    plan.errorUnfixable = isUnfixable(err);
  }
  return plan;
}

export async function planSync(source: Repository, destinations: readonly Repository[], glob: RegExp, jobs: number): Promise<SyncPlan> {
  const tags = await sourceTags(source, glob, jobs);
  const plans = await Promise.all(destinations.map((d) => planDestination(d, tags, jobs)));
  return { source: label(source), tags, destinations: plans };
}

/**
 * Carries out a plan: each missing image once per digest to every destination missing
 * it (its referrers come along), then referrer tags whose image was already in place.
 */
export async function runSync(source: Repository, destinations: readonly Repository[], plan: SyncPlan, opts: CopyOptions): Promise<DestinationOutcome[]> {
  const outcomes: DestinationOutcome[] = plan.destinations.map((p) => ({ ...p, copied: [], failed: [] }));
  const referrerTag = (t: TagDigest) => REFERRER_TAG.test(t.tag);
  const subjectsCopied = outcomes.map(() => new Set<string>());
  const record = (i: number, item: TagDigest, result: CopyResult) => {
    if (result.ok) outcomes[i].copied.push(item);
    else outcomes[i].failed.push({ tag: item.tag, error: result.error ?? 'failed', unfixable: result.unfixable ?? false });
  };
  const byDigest = new Map<string, { dest: number; item: TagDigest }[]>();
  outcomes.forEach((o, i) =>
    o.missing
      .filter((t) => !referrerTag(t))
      .forEach((item) => {
        byDigest.set(item.digest, [...(byDigest.get(item.digest) ?? []), { dest: i, item }]);
      }),
  );
  for (const [digest, wanted] of byDigest) {
    const srcRef: Endpoint = { registry: source.registry, ref: { registry: source.registry.host, repository: source.repository, digest } };
    const targets = wanted.map(({ dest, item }) => ({
      registry: destinations[dest].registry,
      ref: { registry: destinations[dest].registry.host, repository: destinations[dest].repository, tag: item.tag },
    }));
    const { results } = await copyImage(srcRef, targets, opts);
    wanted.forEach(({ dest, item }, k) => {
      record(dest, item, results[k]);
      if (results[k].ok && opts.referrers !== false) subjectsCopied[dest].add(digest.slice('sha256:'.length));
    });
  }
  for (const [i, o] of outcomes.entries()) {
    for (const item of o.missing.filter(referrerTag)) {
      if (subjectsCopied[i].has(REFERRER_TAG.exec(item.tag)![1])) {
        o.copied.push(item);
        continue;
      }
      const srcRef: Endpoint = { registry: source.registry, ref: { registry: source.registry.host, repository: source.repository, tag: item.tag } };
      const target = {
        registry: destinations[i].registry,
        ref: { registry: destinations[i].registry.host, repository: destinations[i].repository, tag: item.tag },
      };
      const { results } = await copyImage(srcRef, [target], { ...opts, referrers: false, expectDigest: item.digest });
      record(i, item, results[0]);
    }
  }
  return outcomes;
}
