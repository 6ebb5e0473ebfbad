/**
 * Referrers (signatures, SBOMs, attestations) of an image, found the three ways they are
 * stored, so `ferry copy` can take them along:
 *  1. the OCI 1.1 referrers API, `GET /v2/<repo>/referrers/<digest>`, when the registry has it;
 *  2. otherwise the referrers tag schema: an index tagged `sha256-<hex>` listing them;
 *  3. cosign's tags `sha256-<hex>.sig`, `.att`, `.sbom` (cosign before OCI 1.1 mode).
 * Referrers of referrers are not followed.
 *
 * Writing the tag schema's index follows the OCI distribution spec 1.1 ("Pushing Manifests
 * with Subject", "Referrers Tag Schema"): pull the `sha256-<hex>` index, start from an empty
 * one on 404, refuse anything that is not an image index, append only descriptors whose
 * digest is not listed yet, push. Entries are never removed or reordered, so a referrer
 * attached at the destination alone (a signature made there) stays discoverable.
 */
import { FatalError, PushError, sanitize } from '../common/errors';
import { type Descriptor, isDigest, MediaType, manifestOf } from '../image/image';
import { fetchManifest, manifestDigest, type PulledManifest, pullScopes } from './pull';
import type { Registry } from './registry';
import { type Destination, putManifest, scopes } from './remote';
import { header, unexpected } from './transport';

export const COSIGN_SUFFIXES = ['.sig', '.att', '.sbom'] as const;

/** `sha256-<hex>`, the tag schema's (and cosign's) tag for a subject digest. */
export function referrersTag(subject: string): string {
  return subject.replace(':', '-');
}

/** Tags that carry referrers rather than images: sync treats them with their subject. */
export const REFERRER_TAG = /^sha256-([a-f0-9]{64})(\.(?:sig|att|sbom))?$/;

/** The tag schema's own tag (no cosign suffix): an index that is merged into, never replaced. */
export const REFERRERS_INDEX_TAG = /^sha256-[a-f0-9]{64}$/;

/** A referrer descriptor as an index lists it (artifactType and annotations kept). */
export type ReferrerDescriptor = Descriptor & { readonly artifactType?: string; readonly annotations?: Record<string, string> };

export interface Referrer {
  readonly subject: string;
  /** Where to read it at the source: a digest (API) or a tag (tag schema, cosign). */
  readonly reference: string;
  /** The tag it gets at the destination; undefined: by digest only. */
  readonly tag?: string;
  /** Found through the referrers API: the destination must list it for its subject too. */
  readonly descriptor?: ReferrerDescriptor;
}

function referrersOfIndex(body: Buffer): ReferrerDescriptor[] | undefined {
  try {
    const doc = JSON.parse(body.toString('utf8')) as { manifests?: ReferrerDescriptor[] };
    if (!Array.isArray(doc.manifests)) return undefined;
    return doc.manifests.filter((d) => d && isDigest(d.digest) && typeof d.mediaType === 'string' && Number.isSafeInteger(d.size));
  } catch {
    return undefined;
  }
}

/**
 * The referrers API's list for a subject, or undefined when the registry has no such API
 * (distribution 2.8 answers 404 with its own error, not an OCI index).
 */
export async function referrersFromApi(
  registry: Registry,
  repository: string,
  subject: string,
  scopes = pullScopes(repository),
): Promise<ReferrerDescriptor[] | undefined> {
  const res = await registry.request({ method: 'GET', target: `/v2/${repository}/referrers/${subject}`, headers: { accept: MediaType.ociIndex }, scopes });
  if (res.status === 404 || res.status === 400 || res.status === 405) return undefined;
  if (res.status !== 200) throw unexpected(`GET ${registry.host}/v2/${repository}/referrers/${subject}`, res);
  if (!(header(res, 'content-type') ?? '').startsWith(MediaType.ociIndex)) return undefined;
  return referrersOfIndex(res.body);
}

/** Every referrer of these subjects at the source, API first, tags otherwise (cosign tags always). */
export async function discoverReferrers(registry: Registry, repository: string, subjects: readonly string[]): Promise<Referrer[]> {
  const perSubject = await Promise.all(
    subjects.map(async (subject): Promise<Referrer[]> => {
      const api = await referrersFromApi(registry, repository, subject);
      const tags = [...(api ? [] : ['']), ...COSIGN_SUFFIXES].map((suffix) => `${referrersTag(subject)}${suffix}`);
      const present = await Promise.all(tags.map(async (tag) => ((await manifestDigest(registry, repository, tag)) ? tag : undefined)));
      return [
        ...(api ?? []).map((d) => ({ subject, reference: d.digest, descriptor: d })),
        ...present.filter((t): t is string => t !== undefined).map((tag) => ({ subject, reference: tag, tag })),
      ];
    }),
  );
  return perSubject.flat();
}

/**
 * The entries of a tag-schema referrers index, or undefined when the manifest is not an
 * OCI image index (then it is not the tag schema's, and nothing may be merged into it).
 */
export function indexEntries(manifest: Pick<PulledManifest, 'bytes' | 'mediaType'>): ReferrerDescriptor[] | undefined {
  if (manifest.mediaType !== MediaType.ociIndex) return undefined;
  return referrersOfIndex(manifest.bytes);
}

/** Whether every entry of `wanted` is listed (by digest) in `held`. */
export function listsAll(held: readonly ReferrerDescriptor[], wanted: readonly ReferrerDescriptor[]): boolean {
  const digests = new Set(held.map((d) => d.digest));
  return wanted.every((d) => digests.has(d.digest));
}

/** How often a merge is redone when a concurrent writer replaced the index between our PUT and its read-back. */
const MERGE_ATTEMPTS = 3;

export type MergeOutcome = 'created' | 'merged' | 'present';

/**
 * Adds `additions` to the destination's referrers index at `tag` (`sha256-<hex>`):
 *  - no index there (404): `base` (the source's index, pushed byte for byte, so its digest
 *    is kept) when given, else a new index of the additions;
 *  - an index that lists every addition already: nothing is written;
 *  - otherwise the destination's document with the missing descriptors appended, its own
 *    entries and their order kept (a new manifest, so a new digest: expected for the schema);
 *  - anything else at the tag: FatalError, nothing written (no retry turns it into an index).
 * The index is read back after the PUT; if another writer replaced it meanwhile (the tag
 * schema has no locking: the last writer wins), the merge is redone on what is there now.
 */
export async function mergeReferrersIndex(
  dest: Destination,
  tag: string,
  additions: readonly ReferrerDescriptor[],
  base?: PulledManifest,
): Promise<MergeOutcome> {
  const { registry } = dest;
  const { repository } = dest.ref;
  const sc = scopes(repository);
  for (let attempt = 1; ; attempt++) {
    const existing = await fetchManifest(registry, repository, tag, sc);
    const held = existing ? indexEntries(existing) : [];
    if (!held) {
      throw new FatalError(
        `${dest.label}: tag ${tag} holds a ${sanitize(existing!.mediaType, 100)}, not the OCI image index the referrers tag schema keeps there; not overwritten`,
      );
    }
    if (existing && listsAll(held, additions)) return 'present';
    const next = existing ? appended(existing, held, additions) : (base ?? newIndex(additions));
    await putManifest(dest, tag, next);
    const stored = await fetchManifest(registry, repository, tag, sc);
    const storedEntries = stored && indexEntries(stored);
    if (storedEntries && listsAll(storedEntries, additions)) return existing ? 'merged' : 'created';
    if (attempt >= MERGE_ATTEMPTS)
      throw new PushError(`${dest.label}: the referrers index ${tag} kept changing under ferry (another writer); its referrers are not all listed`);
  }
}

function newIndex(entries: readonly ReferrerDescriptor[]): PulledManifest {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries }));
  return { ...manifestOf(bytes, MediaType.ociIndex), manifests: entries, blobs: [] };
}

/** The destination's own document (annotations and all) with the missing descriptors appended. */
function appended(existing: PulledManifest, held: readonly ReferrerDescriptor[], additions: readonly ReferrerDescriptor[]): PulledManifest {
  const doc = JSON.parse(existing.bytes.toString('utf8')) as Record<string, unknown> & { manifests?: unknown[] };
  const listed = new Set(held.map((d) => d.digest));
  const added: ReferrerDescriptor[] = [];
  for (const d of additions) {
    if (listed.has(d.digest)) continue;
    listed.add(d.digest);
    added.push(d);
  }
  const bytes = Buffer.from(JSON.stringify({ ...doc, manifests: [...(doc.manifests ?? []), ...added] }));
  return { ...manifestOf(bytes, MediaType.ociIndex), manifests: [...held, ...added], blobs: [] };
}

/**
 * After a referrer landed by digest: a destination without the referrers API learns of it
 * only through the tag schema, so it is merged into the `sha256-<hex>` index there.
 */
export async function listForSubject(dest: Destination, referrer: Referrer, sc: readonly string[]): Promise<'api' | MergeOutcome> {
  const {
    registry,
    ref: { repository },
  } = dest;
  if (!referrer.descriptor) return 'present';
  if (await referrersFromApi(registry, repository, referrer.subject, [...sc])) return 'api';
  return mergeReferrersIndex(dest, referrersTag(referrer.subject), [referrer.descriptor]);
}
