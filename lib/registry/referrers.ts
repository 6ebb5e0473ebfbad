/**
 * Referrers (signatures, SBOMs, attestations) of an image, found the three ways they are
 * stored, so `ferry copy` can take them along:
 *  1. the OCI 1.1 referrers API, `GET /v2/<repo>/referrers/<digest>`, when the registry has it;
 *  2. otherwise the referrers tag schema: an index tagged `sha256-<hex>` listing them;
 *  3. cosign's tags `sha256-<hex>.sig`, `.att`, `.sbom` (cosign before OCI 1.1 mode).
 * Referrers of referrers are not followed.
 */
import { type Descriptor, isDigest, MediaType, manifestOf } from '../image/image';
import { fetchManifest, manifestDigest, type PulledManifest, pullScopes } from './pull';
import type { Registry } from './registry';
import { type Destination, putManifest } from './remote';
import { header, unexpected } from './transport';

export const COSIGN_SUFFIXES = ['.sig', '.att', '.sbom'] as const;

/** `sha256-<hex>`, the tag schema's (and cosign's) tag for a subject digest. */
export function referrersTag(subject: string): string {
  return subject.replace(':', '-');
}

/** Tags that carry referrers rather than images: sync treats them with their subject. */
export const REFERRER_TAG = /^sha256-([a-f0-9]{64})(\.(?:sig|att|sbom))?$/;

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
 * After a referrer landed by digest: a destination without the referrers API learns of it
 * only through the tag schema, so add it to the `sha256-<hex>` index there (kept, not replaced).
 */
export async function listForSubject(dest: Destination, referrer: Referrer, scopes: readonly string[]): Promise<'api' | 'listed' | 'present'> {
  const {
    registry,
    ref: { repository },
  } = dest;
  if (!referrer.descriptor) return 'present';
  if (await referrersFromApi(registry, repository, referrer.subject, [...scopes])) return 'api';
  const tag = referrersTag(referrer.subject);
  const existing: PulledManifest | undefined = await fetchManifest(registry, repository, tag, [...scopes]);
  const listed = existing ? ((JSON.parse(existing.bytes.toString('utf8')).manifests ?? []) as ReferrerDescriptor[]) : [];
  if (listed.some((d) => d.digest === referrer.descriptor!.digest)) return 'present';
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...listed, referrer.descriptor] }));
  await putManifest(dest, tag, manifestOf(index, MediaType.ociIndex));
  return 'listed';
}
