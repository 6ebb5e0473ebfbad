/**
 * Writes an image to one repository: every blob first (HEAD to skip, cross-repository
 * mount when another repository of the same registry got it this run, otherwise POST,
 * one streamed PATCH, PUT ?digest=), manifests last, so a tag only ever points at a
 * complete image.
 */
import { Readable } from 'node:stream';
import { deferred, mapLimit } from './concurrency';
import { InputError, PushError, RetryableError, errorMessage } from './errors';
import { Blob, Image, Manifest, openVerified } from './image';
import { BlobOutcome, Progress } from './progress';
import { Reference, formatReference } from './reference';
import { Registry } from './registry';
import { Response, header, isRetryableStatus, registryError, retryAfterSeconds } from './transport';

export interface BlobCounts {
  pushed: number;
  skipped: number;
  mounted: number;
}

export interface DestinationResult {
  ref: string;
  digest: string;
  ok: boolean;
  blobs: BlobCounts;
  /** Bytes uploaded (blobs pushed, not skipped or mounted). */
  bytes: number;
  seconds: number;
  error?: string;
  /** The failure was the image's fault (a corrupt blob), not the destination's. */
  inputError?: boolean;
}

export interface Destination {
  readonly ref: Reference;
  readonly registry: Registry;
  readonly label: string;
  readonly progress: Progress;
}

export function scopes(repository: string, mountFrom?: string): string[] {
  const push = `repository:${repository}:pull,push`;
  return mountFrom ? [push, `repository:${mountFrom}:pull`] : [push];
}

/** Turns an unexpected answer into an error; transient ones become retryable. */
export function unexpected(what: string, res: Response): PushError {
  const message = `${what} answered ${registryError(res)}`;
  return isRetryableStatus(res.status) ? new RetryableError(message, retryAfterSeconds(header(res, 'retry-after'))) : new PushError(message);
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
  return new URL(location, base);
}

export async function blobExists(dest: Destination, digest: string): Promise<boolean> {
  const { repository } = dest.ref;
  const res = await dest.registry.request({ method: 'HEAD', target: `/v2/${repository}/blobs/${digest}`, scopes: scopes(repository) });
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw unexpected(`HEAD ${dest.registry.host}/v2/${repository}/blobs/${digest}`, res);
}

/** POST ?mount=&from=; true on 201. A 202 or an error means upload instead. */
export async function tryMount(dest: Destination, blob: Blob, from: string): Promise<boolean> {
  const { repository } = dest.ref;
  const query = `mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from)}`;
  try {
    const res = await dest.registry.request({ method: 'POST', target: `/v2/${repository}/blobs/uploads/?${query}`, headers: { 'content-length': '0' }, scopes: scopes(repository, from) });
    return res.status === 201;
  } catch {
    return false;
  }
}

/** One upload attempt; `body` defaults to the blob opened through the verifier (copy passes a tee branch). */
export async function upload(dest: Destination, blob: Blob, body: () => Readable = () => openVerified(blob, (n) => dest.progress.blobBytes(dest.label, blob.digest, n))): Promise<void> {
  const { registry, ref: { repository }, progress, label } = dest;
  const what = `${registry.host}/v2/${repository}/blobs/uploads/`;
  const base = await registry.ping();
  const sc = scopes(repository);
  const started = await registry.request({ method: 'POST', target: `/v2/${repository}/blobs/uploads/`, headers: { 'content-length': '0' }, scopes: sc });
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
  });
  if (![201, 202, 204].includes(patched.status)) throw unexpected(`PATCH ${what}`, patched);
  const committed = await registry.request({ method: 'PUT', target: withDigest(header(patched, 'location') ? locationOf(patched, session, `PATCH ${what}`) : session, blob.digest), headers: { 'content-length': '0' }, scopes: sc });
  if (committed.status !== 201 && committed.status !== 204) throw unexpected(`PUT ${what} (${blob.digest})`, committed);
}

/**
 * Another destination in this registry may be uploading the same blob right now. The
 * first to get here claims it and uploads; later ones wait and mount from it. Claims are
 * taken only by a worker that uploads at once, so waiting can never deadlock.
 */
async function pushBlob(dest: Destination, blob: Blob): Promise<BlobOutcome> {
  const { registry, ref: { repository }, progress, label } = dest;
  if (await blobExists(dest, blob.digest)) return 'skipped';
  const holder = registry.landed.get(blob.digest);
  const claim = holder ? undefined : deferred<string | undefined>();
  if (claim) registry.landed.set(blob.digest, claim.promise);
  const from = await holder;
  if (from === repository) return 'skipped';
  if (from && (await tryMount(dest, blob, from))) return 'mounted';
  progress.blobStart(label, blob.digest, blob.size);
  try {
    await registry.transport.retry(`upload of ${blob.digest} to ${label}`, () => upload(dest, blob));
    claim?.resolve(repository);
    return 'pushed';
  } catch (err) {
    claim?.resolve(undefined);
    throw err;
  }
}

async function manifestPresent(dest: Destination, reference: string, manifest: Manifest): Promise<boolean> {
  const { repository } = dest.ref;
  const res = await dest.registry.request({ method: 'HEAD', target: `/v2/${repository}/manifests/${reference}`, headers: { accept: manifest.mediaType }, scopes: scopes(repository) });
  return res.status === 200 && header(res, 'docker-content-digest') === manifest.digest;
}

export async function putManifest(dest: Destination, reference: string, manifest: Manifest): Promise<'written' | 'present'> {
  if (await manifestPresent(dest, reference, manifest)) return 'present';
  const { repository } = dest.ref;
  const what = `PUT ${dest.registry.host}/v2/${repository}/manifests/${reference}`;
  const res = await dest.registry.request({
    method: 'PUT',
    target: `/v2/${repository}/manifests/${reference}`,
    headers: { 'content-type': manifest.mediaType, 'content-length': String(manifest.bytes.length) },
    body: manifest.bytes,
    scopes: scopes(repository),
  });
  if (res.status !== 201 && res.status !== 200) throw unexpected(what, res);
  const stored = header(res, 'docker-content-digest');
  if (stored && stored !== manifest.digest) throw new PushError(`${what}: the registry stored the manifest as ${stored}, not ${manifest.digest}`);
  return 'written';
}

export interface PushOptions {
  readonly jobs: number;
  readonly progress: Progress;
}

export async function pushImage(image: Image, ref: Reference, registry: Registry, opts: PushOptions): Promise<DestinationResult> {
  const label = formatReference(ref);
  const dest: Destination = { ref, registry, label, progress: opts.progress };
  const started = performance.now();
  const blobs: BlobCounts = { pushed: 0, skipped: 0, mounted: 0 };
  let bytes = 0;
  const result = (extra: Partial<DestinationResult>): DestinationResult => ({
    ref: label, digest: image.manifest.digest, ok: false, blobs, bytes, seconds: Math.round(performance.now() - started) / 1000, ...extra,
  });
  try {
    if (ref.digest && ref.digest !== image.manifest.digest) throw new InputError(`${label}: the image's digest is ${image.manifest.digest}`);
    await registry.ping();
    await mapLimit(image.blobs, opts.jobs, async (blob) => {
      const outcome = await pushBlob(dest, blob);
      blobs[outcome]++;
      if (outcome === 'pushed') bytes += blob.size;
      opts.progress.blobDone(label, blob.digest, blob.size, outcome);
    });
    for (const child of image.children) await putManifest(dest, child.digest, child);
    const tagged = await putManifest(dest, ref.tag ?? image.manifest.digest, image.manifest);
    opts.progress.log(`${label}: manifest ${image.manifest.digest} ${tagged === 'present' ? 'already in place' : 'written'}`);
    return result({ ok: true });
  } catch (err) {
    return result({ error: errorMessage(err), inputError: err instanceof InputError });
  }
}
