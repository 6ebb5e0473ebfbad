/**
 * Writes an image to one repository: every blob first (HEAD to skip, cross-repository
 * mount when another repository of the same registry got it this run, otherwise POST,
 * one streamed PATCH, PUT ?digest=), manifests last, so a tag only ever points at a
 * complete image; then reads the tag and the digest back and fails unless both hold it.
 *
 * pushBlob, putManifest and verifyManifest are the per-blob and per-manifest steps
 * `ferry copy` reuses; pushImage runs them for one destination under its deadline.
 */
import type { Readable } from 'node:stream';
import { deferred, mapLimit } from '../common/concurrency';
import { errorMessage, FatalError, InputError, isUnfixable, PushError, RetryableError, sanitize } from '../common/errors';
import { type Blob, type Image, type Manifest, openVerified } from '../image/image';
import { type Deadline, finalizeTimeoutMs, withinDeadline } from './deadlines';
import type { BlobOutcome, Progress } from './progress';
import { manifestDigest } from './pull';
import { formatReference, type Reference } from './reference';
import type { Registry } from './registry';
import type { RetryBudget } from './retry';
import { header, type Response, registryError, unexpected } from './transport';

export interface BlobCounts {
  pushed: number;
  skipped: number;
  mounted: number;
}

export interface DestinationResult {
  ref: string;
  /** The manifest digest the destination holds; null when it failed. */
  digest: string | null;
  ok: boolean;
  blobs: BlobCounts;
  /** Bytes uploaded (blobs pushed, not skipped or mounted). */
  bytes: number;
  seconds: number;
  error?: string;
  /** No retry can fix the failure (exit 2): bad input, TLS refusal, immutable tag conflict. */
  unfixable?: boolean;
}

/** One repository being written: where, through which Registry, reported how, by when. */
export interface Destination {
  readonly ref: Reference;
  readonly registry: Registry;
  readonly label: string;
  readonly progress: Progress;
  readonly deadline?: Deadline;
}

export function scopes(repository: string, mountFrom?: string): string[] {
  const push = `repository:${repository}:pull,push`;
  return mountFrom ? [push, `repository:${mountFrom}:pull`] : [push];
}

/** Location may be relative and may carry a query: resolve it, append with & when it has one. */
export function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.search = `${url.search ? `${url.search}&` : '?'}digest=${encodeURIComponent(digest)}`;
  return url;
}

function locationOf(res: Response, base: URL, what: string): URL {
  const location = header(res, 'location');
  if (!location) throw new PushError(`${what} answered ${res.status} without a Location header`);
  try {
    return new URL(location, base);
  } catch {
    throw new PushError(`${what} answered ${res.status} with an unusable Location header "${sanitize(location, 80)}"`);
  }
}

export async function blobExists(dest: Destination, digest: string, budget?: RetryBudget): Promise<boolean> {
  const { repository } = dest.ref;
  const res = await dest.registry.request({
    method: 'HEAD',
    target: `/v2/${repository}/blobs/${digest}`,
    scopes: scopes(repository),
    deadline: dest.deadline,
    budget,
  });
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw unexpected(`HEAD ${dest.registry.host}/v2/${repository}/blobs/${digest}`, res);
}

/** POST ?mount=&from=; true on 201. A 202 or an error means upload instead. */
export async function tryMount(dest: Destination, blob: Blob, from: string): Promise<boolean> {
  const { repository } = dest.ref;
  const query = `mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`;
  try {
    const res = await dest.registry.request({
      method: 'POST',
      target: `/v2/${repository}/blobs/uploads/?${query}`,
      headers: { 'content-length': '0' },
      scopes: scopes(repository, from),
      deadline: dest.deadline,
      retry: false,
    });
    return res.status === 201;
  } catch (err) {
    if (isUnfixable(err)) throw err;
    return false;
  }
}

/**
 * One upload attempt: POST, one streamed PATCH of `body` (default: the blob through the
 * digest verifier), PUT ?digest=. With a budget, a failed POST or PUT is repeated alone
 * from it; without one, every request is tried once. A PUT whose session the registry
 * no longer knows (an earlier PUT completed but its answer was lost) checks whether the
 * blob is there. A retryable failure of the attempt is thrown for the caller to spend.
 */
export async function upload(
  dest: Destination,
  blob: Blob,
  body: () => Readable = () => openVerified(blob, (n) => dest.progress.blobBytes(dest.label, blob.digest, n)),
  budget?: RetryBudget,
): Promise<void> {
  const {
    registry,
    ref: { repository },
    progress,
    label,
    deadline,
  } = dest;
  const what = `${registry.host}/v2/${repository}/blobs/uploads/`;
  const base = await registry.ping(deadline);
  const sc = scopes(repository);
  const retry = budget !== undefined;
  const started = await registry.request({
    method: 'POST',
    target: `/v2/${repository}/blobs/uploads/`,
    headers: { 'content-length': '0' },
    scopes: sc,
    budget,
    retry,
    deadline,
  });
  if (started.status !== 202) throw unexpected(`POST ${what}`, started);
  const session = locationOf(started, base, `POST ${what}`);
  progress.blobRestart(label, blob.digest);
  const patched = await registry.request({
    method: 'PATCH',
    target: session,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body,
    scopes: sc,
    retry: false,
    deadline,
  });
  if (![201, 202, 204].includes(patched.status)) throw unexpected(`PATCH ${what}`, patched);
  const next = header(patched, 'location') ? locationOf(patched, session, `PATCH ${what}`) : session;
  const committed = await registry.request({
    method: 'PUT',
    target: withDigest(next, blob.digest),
    headers: { 'content-length': '0' },
    scopes: sc,
    budget,
    retry,
    deadline,
    firstByteTimeoutMs: finalizeTimeoutMs(registry.transport.timeouts, blob.size),
  });
  if (committed.status === 201 || committed.status === 204) return;
  if (committed.status === 404 && (await blobExists(dest, blob.digest, budget))) return;
  throw unexpected(`PUT ${what} (${blob.digest})`, committed);
}

/**
 * Upload attempts under ONE retry budget: whichever request fails spends from it, a
 * failed PATCH (its body is gone) starts over with a new POST, and nothing retries
 * inside a retry.
 */
export async function uploadWithRetries(dest: Destination, blob: Blob): Promise<void> {
  const budget = dest.registry.transport.budget(`upload of ${blob.digest} to ${dest.label}`, dest.deadline);
  for (;;) {
    try {
      return await upload(dest, blob, undefined, budget);
    } catch (err) {
      if (!(err instanceof RetryableError)) throw err;
      await budget.spend(err);
    }
  }
}

/**
 * Another destination in this registry may be uploading the same blob right now. The
 * first to get here claims it and uploads; later ones wait and mount from it. Claims are
 * taken only by a worker that uploads at once, so waiting can never deadlock.
 */
export async function pushBlob(dest: Destination, blob: Blob): Promise<BlobOutcome> {
  const {
    registry,
    ref: { repository },
    progress,
    label,
  } = dest;
  if (await blobExists(dest, blob.digest)) return 'skipped';
  const holder = registry.landed.get(blob.digest);
  const claim = holder ? undefined : deferred<string | undefined>();
  if (claim) registry.landed.set(blob.digest, claim.promise);
  const from = await holder;
  if (from === repository) return 'skipped';
  if (from && (await tryMount(dest, blob, from))) return 'mounted';
  progress.blobStart(label, blob.digest, blob.size);
  try {
    await uploadWithRetries(dest, blob);
    claim?.resolve(repository);
    return 'pushed';
  } catch (err) {
    claim?.resolve(undefined);
    throw err;
  }
}

/** The digest the destination serves for a tag or digest; undefined when absent. */
function heldDigest(dest: Destination, reference: string): Promise<string | undefined> {
  return manifestDigest(dest.registry, dest.ref.repository, reference, scopes(dest.ref.repository), dest.deadline);
}

/**
 * A tag the registry refuses to move (ECR IMMUTABLE repositories answer 400 TAG_INVALID,
 * others 409): if the tag already holds this digest that is success, otherwise an
 * unfixable conflict naming both digests.
 */
async function tagConflict(dest: Destination, reference: string, manifest: Manifest, res: Response): Promise<'present' | FatalError | undefined> {
  if (reference === manifest.digest || ![400, 409].includes(res.status)) return undefined;
  const current = await heldDigest(dest, reference).catch(() => undefined);
  if (current === manifest.digest) return 'present';
  if (current === undefined) return undefined;
  return new FatalError(
    `${dest.label}: tag ${reference} already points at ${sanitize(current, 80)} and the registry will not move it to ${manifest.digest} (${registryError(res)}); ` +
      'the repository keeps tags immutable: push under a new tag',
  );
}

export async function putManifest(dest: Destination, reference: string, manifest: Manifest): Promise<'written' | 'present'> {
  if ((await heldDigest(dest, reference)) === manifest.digest) return 'present';
  const { repository } = dest.ref;
  const what = `PUT ${dest.registry.host}/v2/${repository}/manifests/${reference}`;
  const res = await dest.registry.request({
    method: 'PUT',
    target: `/v2/${repository}/manifests/${reference}`,
    headers: { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.length) },
    body: manifest.bytes,
    scopes: scopes(repository),
    deadline: dest.deadline,
  });
  if (res.status !== 201 && res.status !== 200) {
    const conflict = await tagConflict(dest, reference, manifest, res);
    if (conflict === 'present') return 'present';
    throw conflict ?? unexpected(what, res);
  }
  const stored = header(res, 'docker-content-digest');
  if (stored && stored !== manifest.digest) throw new PushError(`${what}: the registry stored the manifest as ${sanitize(stored, 80)}, not ${manifest.digest}`);
  return 'written';
}

/** Reads the destination back by digest and by tag: it must serve this digest for both. */
export async function verifyManifest(dest: Destination, manifest: Manifest, tag?: string): Promise<void> {
  for (const reference of tag ? [manifest.digest, tag] : [manifest.digest]) {
    const held = await heldDigest(dest, reference);
    if (held !== manifest.digest) {
      throw new PushError(
        `${dest.label}: read back after the push, ${reference} ${held ? `resolves to ${sanitize(held, 80)}` : 'is missing'}, not ${manifest.digest}; the registry does not hold the image`,
      );
    }
  }
}

export interface PushOptions {
  readonly jobs: number;
  readonly progress: Progress;
  /** The destination's overall deadline (--timeout). */
  readonly deadline?: Deadline;
}

export async function pushImage(image: Image, ref: Reference, registry: Registry, opts: PushOptions): Promise<DestinationResult> {
  const label = formatReference(ref);
  const dest: Destination = { ref, registry, label, progress: opts.progress, deadline: opts.deadline };
  const started = performance.now();
  const blobs: BlobCounts = { pushed: 0, skipped: 0, mounted: 0 };
  let bytes = 0;
  const result = (extra: Partial<DestinationResult>): DestinationResult => ({
    ref: label,
    digest: null,
    ok: false,
    blobs,
    bytes,
    seconds: Math.round(performance.now() - started) / 1000,
    ...extra,
  });
  try {
    if (ref.digest && ref.digest !== image.manifest.digest) throw new InputError(`${label}: the image's digest is ${image.manifest.digest}`);
    await withinDeadline(
      (async () => {
        await registry.ping(opts.deadline);
        await mapLimit(image.blobs, opts.jobs, async (blob) => {
          const outcome = await pushBlob(dest, blob);
          blobs[outcome]++;
          if (outcome === 'pushed') bytes += blob.size;
          opts.progress.blobDone(label, blob.digest, blob.size, outcome);
        });
        for (const child of image.children) await putManifest(dest, child.digest, child);
        const tagged = await putManifest(dest, ref.tag ?? image.manifest.digest, image.manifest);
        await verifyManifest(dest, image.manifest, ref.tag);
        opts.progress.log(`${label}: manifest ${image.manifest.digest} ${tagged === 'present' ? 'already in place' : 'written'}, read back`);
      })(),
      opts.deadline,
    );
    return result({ ok: true, digest: image.manifest.digest });
  } catch (err) {
    return result({ error: sanitize(errorMessage(err), 1000), unfixable: isUnfixable(err) });
  }
}
