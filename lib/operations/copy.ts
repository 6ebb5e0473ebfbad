/**
 * Registry to registry, byte for byte: the manifest bytes as stored (an index and every
 * manifest under it), every blob, and the image's referrers. Each blob is downloaded once
 * and streamed through a sha256 check into every destination that lacks it at once; a
 * blob that fails the check aborts the whole copy, so no destination gets a tag.
 *
 * Order per destination: blobs, child manifests by digest, the image by digest, its
 * referrers, and only then the tag, which is read back (by tag and by digest) before the
 * destination counts as done. A tag therefore never points at an incomplete image, nor
 * at one whose signatures are still missing.
 *
 * A tag-schema referrers index (`sha256-<hex>`) is merged into at a destination, never
 * replaced (referrers.ts mergeReferrersIndex): what the destination lists already stays.
 */

import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mapLimit } from '../common/concurrency';
import { errorMessage, InputError, isUnfixable, PushError, RetryableError, sanitize } from '../common/errors';
import { type Blob, BlobCheck, type Descriptor } from '../image/image';
import { type Deadline, withinDeadline } from '../registry/deadlines';
import type { Progress } from '../registry/progress';
import { openBlob, type PulledManifest, type RemoteImage, readImage } from '../registry/pull';
import { formatReference, type Reference } from '../registry/reference';
import { discoverReferrers, indexEntries, listForSubject, mergeReferrersIndex, REFERRERS_INDEX_TAG, type Referrer, referrersTag } from '../registry/referrers';
import type { Registry } from '../registry/registry';
import {
  type BlobCounts,
  blobExists,
  type Destination,
  type DestinationResult,
  putManifest,
  scopes,
  tryMount,
  upload,
  verifyManifest,
} from '../registry/remote';
import type { RetryBudget } from '../registry/retry';
import { AbandonedError, type Branch, Fanout } from './fanout';

/** A registry, a repository in it, and a tag or digest. */
export interface Endpoint {
  readonly registry: Registry;
  readonly ref: Reference;
  /** Referrer tags this copy must not set here (sync: tags in conflict at this destination). */
  readonly keep?: ReadonlySet<string>;
}

export interface CopyOptions {
  /** Blobs in flight at once (each to every destination that needs it). */
  readonly jobs: number;
  readonly progress: Progress;
  /** Copy signatures, SBOMs and attestations along (default true). */
  readonly referrers?: boolean;
  /** Refuse to copy unless the source manifest has this digest. */
  readonly expectDigest?: string;
  /** The run's overall deadline (--timeout): every destination not done by then fails. */
  readonly deadline?: Deadline;
}

/** Push's result of one destination, plus the referrers copied along. */
export interface CopyResult extends DestinationResult {
  /** How many referrers (signatures, SBOMs, attestations) were copied along. */
  readonly referrers: number;
}

export interface CopyOutcome {
  /** The source manifest's digest, when it could be read. */
  readonly digest?: string;
  readonly results: readonly CopyResult[];
}

/** One destination's state during a copy. */
class Target {
  readonly dest: Destination;
  readonly blobs: BlobCounts = { pushed: 0, skipped: 0, mounted: 0 };
  bytes = 0;
  referrers = 0;
  /** The tag named a referrers index, merged into rather than set: its read-back was the merge's own. */
  merged = false;
  error?: unknown;

  constructor(
    readonly endpoint: Endpoint,
    progress: Progress,
    deadline?: Deadline,
  ) {
    this.dest = { ref: endpoint.ref, registry: endpoint.registry, label: formatReference(endpoint.ref), progress, deadline };
  }

  get live(): boolean {
    return this.error === undefined;
  }
}

/** Thrown when the source itself is wrong: every destination stops. */
class SourceError extends Error {
  constructor(readonly cause: unknown) {
    super(errorMessage(cause));
  }
}

class CopyRun {
  readonly targets: Target[];

  constructor(
    readonly source: Endpoint,
    endpoints: readonly Endpoint[],
    readonly opts: CopyOptions,
  ) {
    this.targets = endpoints.map((e) => new Target(e, opts.progress, opts.deadline));
  }

  get live(): Target[] {
    return this.targets.filter((t) => t.live);
  }

  get sourceLabel(): string {
    return formatReference(this.source.ref);
  }

  /** Runs `fn` for every live destination (of `among`) at once; a failure takes only that destination out. */
  async each(fn: (t: Target) => Promise<void>, among: readonly Target[] = this.targets): Promise<void> {
    await Promise.all(
      among
        .filter((t) => t.live)
        .map(async (t) => {
          try {
            await fn(t);
          } catch (err) {
            if (err instanceof SourceError) throw err;
            t.error ??= err;
          }
        }),
    );
  }

  failAll(err: unknown): void {
    for (const t of this.live) t.error = err;
  }

  /**
   * Every blob of an image into every live destination (of `among`); a corrupt source blob
   * throws SourceError. Largest first: the config and small layers come first in a manifest,
   * and in front they would hold --jobs slots while the big layers wait; behind them they
   * fill the gaps as big layers finish, so the copy ends when the bytes do.
   */
  async blobs(descriptors: readonly Descriptor[], among: readonly Target[] = this.targets): Promise<void> {
    await mapLimit(largestFirst(descriptors), this.opts.jobs, (d) => this.blob(d, among));
  }

  private async blob(d: Descriptor, among: readonly Target[]): Promise<void> {
    const blob: Blob = {
      ...d,
      origin: `${this.sourceLabel} blob`,
      open: () => {
        throw new Error('copy streams blobs through a fan-out');
      },
    };
    const needed: Target[] = [];
    await this.each(async (t) => {
      if (await blobExists(t.dest, d.digest)) {
        t.blobs.skipped++;
        t.dest.progress.blobDone(t.dest.label, d.digest, d.size, 'skipped');
      } else if (this.sameRegistry(t) && (await tryMount(t.dest, blob, this.source.ref.repository))) {
        t.blobs.mounted++;
        t.dest.progress.blobDone(t.dest.label, d.digest, d.size, 'mounted');
      } else {
        needed.push(t);
      }
    }, among);
    // One retry budget per destination for this blob (push's upload operation): a failed
    // transfer starts over with a fresh read, as a failed PATCH does in push.
    const budgets = new Map(needed.map((t) => [t, t.dest.registry.transport.budget(`upload of ${d.digest} to ${t.dest.label}`, t.dest.deadline)]));
    for (let pending = needed.filter((t) => t.live); pending.length > 0; pending = pending.filter((t) => t.live)) {
      const failures = await this.transfer(blob, pending);
      for (const t of pending) {
        if (!failures.has(t)) {
          t.blobs.pushed++;
          t.bytes += d.size;
          t.dest.progress.blobDone(t.dest.label, d.digest, d.size, 'pushed');
        }
      }
      pending = pending.filter((t) => failures.has(t));
      await Promise.all(pending.map((t) => spendOrFail(t, budgets.get(t)!, failures.get(t))));
    }
  }

  private sameRegistry(t: Target): boolean {
    return t.endpoint.registry === this.source.registry && t.endpoint.ref.repository !== this.source.ref.repository;
  }

  /**
   * One download of the blob, checked as it passes, into one upload per target. Returns
   * the targets whose upload failed and why; a download failure counts for all of them.
   */
  private async transfer(blob: Blob, targets: readonly Target[]): Promise<Map<Target, unknown>> {
    const onBytes = (n: number) => targets.forEach((t) => t.dest.progress.blobBytes(t.dest.label, blob.digest, n));
    const fan = new Fanout(new BlobCheck(blob, onBytes));
    // pipeline() reports the fan-out's errors once attached; before that, every upload may
    // already have failed and abandoned it, which must not be an unhandled 'error'.
    fan.on('error', () => undefined);
    const branches = targets.map(() => fan.branch());
    let sourceFailure: unknown;
    const uploads = targets.map(async (t, i): Promise<unknown> => {
      t.dest.progress.blobStart(t.dest.label, blob.digest, blob.size);
      try {
        await upload(
          t.dest,
          blob,
          branchBody(branches[i], () => sourceFailure),
        );
        return undefined;
      } catch (err) {
        return err instanceof ReplayRefused ? new RetryableError(`upload of ${blob.digest} to ${t.dest.label} broke off`) : err;
      } finally {
        branches[i].destroy();
      }
    });
    const download = (async () => {
      try {
        const body = await openBlob(this.source.registry, this.source.ref.repository, blob.digest);
        if (fan.destroyed) {
          // Every destination gave up while the download was being opened: nothing to read for.
          body.destroy();
          return;
        }
        await pipeline(body, fan);
      } catch (err) {
        if (err instanceof AbandonedError) return;
        sourceFailure = sourceError(err, this.sourceLabel, blob.digest);
        fan.destroy(sourceFailure as Error);
      }
    })();
    const outcomes = await Promise.all(uploads);
    await download;
    if (sourceFailure instanceof InputError) throw new SourceError(sourceFailure);
    const failures = new Map<Target, unknown>();
    targets.forEach((t, i) => {
      if (sourceFailure || outcomes[i]) failures.set(t, sourceFailure ?? outcomes[i]);
    });
    return failures;
  }

  /** Manifests under the top one, by digest, children first. */
  async children(image: RemoteImage, among: readonly Target[] = this.targets): Promise<void> {
    await this.each(async (t) => {
      for (const child of image.children) await putManifest(t.dest, child.digest, child);
    }, among);
  }

  async put(manifest: PulledManifest, reference: (t: Target) => string, among: readonly Target[] = this.targets): Promise<void> {
    await this.each(async (t) => {
      await putManifest(t.dest, reference(t), manifest);
    }, among);
  }

  /**
   * Sets `tag` to `manifest` at each target, except that a tag-schema referrers index is
   * merged into what the target holds (added to, never replaced).
   */
  async tag(manifest: PulledManifest, tag: (t: Target) => string, among: readonly Target[] = this.targets): Promise<boolean[]> {
    const entries = indexEntries(manifest);
    const merged = new Map<Target, boolean>();
    await this.each(async (t) => {
      const name = tag(t);
      const merge = entries !== undefined && REFERRERS_INDEX_TAG.test(name);
      if (merge) await mergeReferrersIndex(t.dest, name, entries, manifest);
      else await putManifest(t.dest, name, manifest);
      merged.set(t, merge);
    }, among);
    return among.map((t) => merged.get(t) ?? false);
  }

  /**
   * Copies each referrer (its blobs, manifests, its tag) to the targets that may receive it
   * (not where sync keeps a tag in conflict), and lists it for its subject where the API is missing.
   */
  async referrers(found: readonly Referrer[]): Promise<void> {
    for (const referrer of found) {
      const among = this.live.filter((t) => !(referrer.tag && t.endpoint.keep?.has(referrer.tag)));
      if (among.length === 0) continue;
      const image = await readImage(this.source.registry, this.source.ref.repository, referrer.reference).catch((err) => {
        throw new SourceError(err);
      });
      await this.blobs(image.blobs, among);
      await this.children(image, among);
      if (referrer.tag === referrersTag(referrer.subject)) await this.tag(image.manifest, () => referrer.tag!, among);
      else await this.put(image.manifest, () => referrer.tag ?? image.manifest.digest, among);
      await this.each(async (t) => {
        await listForSubject(t.dest, referrer, scopes(t.dest.ref.repository));
        t.referrers++;
      }, among);
      this.opts.progress.log(`referrer ${referrer.reference} of ${referrer.subject} copied`);
    }
  }

  /**
   * The destination must hold the digest both under the tag and by digest (push's read-back);
   * a merged referrers index was read back by the merge itself (it lists every source entry).
   */
  async readBack(manifest: PulledManifest): Promise<void> {
    await this.each(async (t) => {
      if (!t.merged) await verifyManifest(t.dest, manifest, t.endpoint.ref.tag);
    });
  }

  result(t: Target, digest: string | undefined, started: number): CopyResult {
    const base = { ref: t.dest.label, blobs: t.blobs, bytes: t.bytes, referrers: t.referrers, seconds: Math.round(performance.now() - started) / 1000 };
    if (t.live) return { ...base, ok: true, digest: digest ?? null };
    return { ...base, ok: false, digest: null, error: sanitize(errorMessage(t.error), 1000), unfixable: isUnfixable(t.error) };
  }
}

/**
 * An upload body for one branch of the fan-out. The branch can be read once: a second
 * call (an upload retrying its PATCH inside push's upload) gets a stream that fails at
 * once with ReplayRefused, and copy retries that destination itself with a fresh read.
 */
function branchBody(branch: Branch, sourceFailure: () => unknown): () => Readable {
  let used = false;
  return () => {
    const first = !used && !branch.destroyed;
    used = true;
    if (first) return branch;
    const failed = new PassThrough();
    process.nextTick(() => failed.destroy((sourceFailure() as Error | undefined) ?? new ReplayRefused()));
    return failed;
  };
}

/** Not retryable where it is thrown (so an upload gives up at once); copy retries the blob. */
class ReplayRefused extends PushError {
  constructor() {
    super('the shared download of this blob cannot be replayed for one destination');
  }
}

function sourceError(err: unknown, source: string, digest: string): unknown {
  if (err instanceof InputError) {
    return new InputError(
      `${source}: the source registry's blob ${digest} is corrupt (${err.message.replace(/^.*?digest mismatch for \S+: /, '').replace(/; the image file is corrupt$/, '')}); nothing was tagged`,
    );
  }
  if (err instanceof PushError) return err;
  return new RetryableError(`download of ${digest} from ${source}: ${errorMessage(err)}`);
}

/** Blobs by size, largest first; equal sizes keep the manifest's order. */
export function largestFirst(descriptors: readonly Descriptor[]): Descriptor[] {
  return [...descriptors].sort((a, b) => b.size - a.size);
}

/** After a failed transfer: a retryable failure spends from the destination's budget; anything else, or an empty budget, fails it. */
async function spendOrFail(t: Target, budget: RetryBudget, failure: unknown): Promise<void> {
  try {
    if (!(failure instanceof RetryableError)) throw failure;
    await budget.spend(failure);
  } catch (err) {
    t.error = err;
  }
}

/**
 * Copies the image at `source` to every target. Targets name a tag, or the digest itself
 * (then nothing is tagged). Never throws: each target's outcome is in the results.
 */
export async function copyImage(source: Endpoint, targets: readonly Endpoint[], opts: CopyOptions): Promise<CopyOutcome> {
  const started = performance.now();
  const run = new CopyRun(source, targets, opts);
  let digest: string | undefined;
  const results = () => run.targets.map((t) => run.result(t, digest, started));
  if (opts.deadline?.signal.aborted) {
    run.failAll(opts.deadline.signal.reason);
    return { digest, results: results() };
  }
  const work = copyInto(run, source, opts, (d) => {
    digest = d;
  });
  // Past the deadline the work is abandoned; its later failures must not surface as unhandled.
  work.catch(() => undefined);
  try {
    await withinDeadline(work, opts.deadline);
  } catch (err) {
    run.failAll(err instanceof SourceError ? err.cause : err);
  }
  return { digest, results: results() };
}

async function copyInto(run: CopyRun, source: Endpoint, opts: CopyOptions, learned: (digest: string) => void): Promise<void> {
  // Reading the source and reaching the destinations overlap: each costs round trips only.
  const reading = source.registry
    .ping()
    .then(() => readImage(source.registry, source.ref.repository, source.ref.digest ?? source.ref.tag!))
    .catch((err) => {
      throw new SourceError(err);
    });
  const [image] = await Promise.all([
    reading,
    run.each(async (t) => {
      await t.endpoint.registry.ping();
    }),
  ]);
  const digest = image.manifest.digest;
  learned(digest);
  if (opts.expectDigest && opts.expectDigest !== digest) {
    throw new SourceError(new InputError(`${run.sourceLabel} is ${digest}, but --expect-digest says ${opts.expectDigest}; nothing copied`));
  }
  for (const t of run.targets) {
    if (t.endpoint.ref.digest && t.endpoint.ref.digest !== digest) t.error = new InputError(`${t.dest.label}: the source image is ${digest}`);
  }
  opts.progress.log(`copying ${run.sourceLabel} (${digest}) to ${run.live.map((t) => t.dest.label).join(', ')}`);
  const discovering =
    opts.referrers === false
      ? Promise.resolve([])
      : discoverReferrers(source.registry, source.ref.repository, [digest, ...image.children.map((c) => c.digest)]);
  discovering.catch(() => undefined);
  await run.blobs(image.blobs);
  await run.children(image);
  const found = await discovering.catch((err) => {
    throw new SourceError(err);
  });
  if (found.length) {
    await run.put(image.manifest, () => digest);
    await run.referrers(found);
  }
  const merged = await run.tag(image.manifest, (t) => t.endpoint.ref.tag ?? digest);
  run.targets.forEach((t, i) => {
    t.merged = merged[i];
  });
  await run.readBack(image.manifest);
}
