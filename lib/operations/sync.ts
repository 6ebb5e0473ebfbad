/**
 * `ferry sync`: every destination repository ends up holding every matching tag of the
 * source repository. Tags are compared by digest; only missing ones move (through
 * copyImage, one source read per image for all destinations that lack it). A tag that
 * exists with another digest is a conflict: reported, never overwritten.
 *
 * Referrer tags (`sha256-<hex>` and cosign's `.sig`/`.att`/`.sbom`) are not matched
 * against the glob: they follow the images they refer to. A tag-schema index
 * (`sha256-<hex>`) that differs at a destination is no conflict: it is merged into, and is
 * in place once it lists every entry of the source's.
 */
import { mapLimit } from '../common/concurrency';
import { errorMessage, InputError, isUnfixable, sanitize } from '../common/errors';
import { fetchManifest, listTags, manifestDigest, type PulledManifest } from '../registry/pull';
import { indexEntries, listsAll, REFERRER_TAG, REFERRERS_INDEX_TAG } from '../registry/referrers';
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

/** Fetches each source manifest once however many destinations ask (the referrers indexes a plan compares). */
function sourceManifests(source: Repository): (tag: string) => Promise<PulledManifest | undefined> {
  const cache = new Map<string, Promise<PulledManifest | undefined>>();
  return (tag) => {
    let m = cache.get(tag);
    if (!m) {
      m = fetchManifest(source.registry, source.repository, tag);
      cache.set(tag, m);
    }
    return m;
  };
}

/**
 * A referrers index that differs at the destination: in place when it lists every entry of
 * the source's (a merge already happened), missing (to merge) when it lacks some, and a
 * conflict only when the destination's tag is not an index at all.
 */
async function compareIndex(dest: Repository, tag: string, source: PulledManifest | undefined): Promise<'present' | 'missing' | 'conflict'> {
  const there = await fetchManifest(dest.registry, dest.repository, tag, scopes(dest.repository));
  const held = there && indexEntries(there);
  const wanted = source && indexEntries(source);
  if (!held || !wanted) return 'conflict';
  return listsAll(held, wanted) ? 'present' : 'missing';
}

async function planDestination(
  dest: Repository,
  tags: readonly TagDigest[],
  jobs: number,
  source: (tag: string) => Promise<PulledManifest | undefined>,
): Promise<DestinationPlan> {
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
      const state =
        there === undefined
          ? 'missing'
          : there === digest
            ? 'present'
            : REFERRERS_INDEX_TAG.test(tag)
              ? await compareIndex(dest, tag, await source(tag))
              : 'conflict';
      if (state === 'missing') plan.missing.push({ tag, digest });
      else if (state === 'present') plan.present.push(tag);
      else plan.conflicts.push({ tag, source: digest, destination: there! });
    }
  } catch (err) {
    plan.error = sanitize(errorMessage(err), 1000);
    plan.errorUnfixable = isUnfixable(err);
  }
  return plan;
}

export async function planSync(source: Repository, destinations: readonly Repository[], glob: RegExp, jobs: number): Promise<SyncPlan> {
  const tags = await sourceTags(source, glob, jobs);
  const indexes = sourceManifests(source);
  const plans = await Promise.all(destinations.map((d) => planDestination(d, tags, jobs, indexes)));
  return { source: label(source), tags, destinations: plans };
}

/** One copyImage of a source image or referrer tag: who receives it, and which plan entries it settles. */
interface CopyGroup {
  readonly targets: Endpoint[];
  /** Per target: its destination and the plan entry it delivers (none: it comes for the referrers only). */
  readonly settles: { dest: number; item?: TagDigest }[];
}

const subjectOf = (t: TagDigest) => REFERRER_TAG.exec(t.tag)?.[1];

/**
 * Carries out a plan with one source read per image and per referrer for the whole run:
 *  - each missing image once per digest, to every destination missing one of its tags; its
 *    referrers come along;
 *  - a destination that holds the image but lacks some of its referrer tags joins that same
 *    copy by digest (nothing of the image moves there, HEADs say so), so a signature going to
 *    one destination with its image and to another on its own is still read once;
 *  - referrer tags whose image is nowhere being copied, nor held, once per tag to every
 *    destination lacking it.
 * A tag in conflict at a destination is never set there, referrer tags included.
 */
export async function runSync(source: Repository, destinations: readonly Repository[], plan: SyncPlan, opts: CopyOptions): Promise<DestinationOutcome[]> {
  const outcomes: DestinationOutcome[] = plan.destinations.map((p) => ({ ...p, copied: [], failed: [] }));
  const withReferrers = opts.referrers !== false;
  const keep = outcomes.map((o) => new Set(o.conflicts.map((c) => c.tag)));
  const endpoint = (i: number, reference: { tag: string } | { digest: string }): Endpoint => ({
    registry: destinations[i].registry,
    ref: { registry: destinations[i].registry.host, repository: destinations[i].repository, ...reference },
    keep: keep[i],
  });
  const sourceRef = (reference: { tag: string } | { digest: string }): Endpoint => ({
    registry: source.registry,
    ref: { registry: source.registry.host, repository: source.repository, ...reference },
  });
  const digestOf = new Map(plan.tags.map((t) => [t.tag, t.digest]));

  const images = new Map<string, CopyGroup>();
  const group = (digest: string) => images.get(digest) ?? images.set(digest, { targets: [], settles: [] }).get(digest)!;
  outcomes.forEach((o, i) => {
    for (const item of o.missing.filter((t) => !subjectOf(t))) {
      group(item.digest).targets.push(endpoint(i, { tag: item.tag }));
      group(item.digest).settles.push({ dest: i, item });
    }
  });
  const alone = new Map<string, CopyGroup>();
  outcomes.forEach((o, i) => {
    const held = new Set(o.present.map((t) => digestOf.get(t)));
    for (const item of o.missing.filter((t) => subjectOf(t))) {
      const subject = `sha256:${subjectOf(item)}`;
      const carried = images.get(subject);
      if (withReferrers && carried?.settles.some((s) => s.dest === i)) continue;
      if (withReferrers && held.has(subject)) {
        group(subject).targets.push(endpoint(i, { digest: subject }));
        group(subject).settles.push({ dest: i });
        continue;
      }
      const g = alone.get(item.tag) ?? alone.set(item.tag, { targets: [], settles: [] }).get(item.tag)!;
      g.targets.push(endpoint(i, { tag: item.tag }));
      g.settles.push({ dest: i, item });
    }
  });

  const record = (i: number, item: TagDigest, result: CopyResult) => {
    if (result.ok) outcomes[i].copied.push(item);
    else outcomes[i].failed.push({ tag: item.tag, error: result.error ?? 'failed', unfixable: result.unfixable ?? false });
  };
  for (const [digest, g] of images) {
    const { results } = await copyImage(sourceRef({ digest }), g.targets, opts);
    // A destination's referrer tags of this image came along when its copy succeeded.
    const delivered = new Map<number, CopyResult>();
    g.settles.forEach(({ dest, item }, k) => {
      if (item) record(dest, item, results[k]);
      if (!delivered.has(dest) || !results[k].ok) delivered.set(dest, results[k]);
    });
    if (!withReferrers) continue;
    for (const [dest, result] of delivered) {
      for (const item of outcomes[dest].missing.filter((t) => subjectOf(t) === digest.slice('sha256:'.length))) record(dest, item, result);
    }
  }
  for (const [tag, g] of alone) {
    const { results } = await copyImage(sourceRef({ tag }), g.targets, { ...opts, referrers: false, expectDigest: g.settles[0].item!.digest });
    g.settles.forEach(({ dest, item }, k) => record(dest, item!, results[k]));
  }
  return outcomes;
}
