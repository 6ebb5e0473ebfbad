/**
 * The read side of a registry, for `ferry copy` and `ferry sync`: manifests by tag or
 * digest (bytes kept exactly as served, digest checked), an image's whole tree (index,
 * platform manifests, blobs), tag listing with pagination, and blob downloads as streams.
 */
import type { Readable } from 'node:stream';
import { InputError, PushError } from '../common/errors';
import { type Descriptor, INDEX_MEDIA_TYPES, isDigest, type Manifest, MediaType, sha256 } from '../image/image';
import type { Deadline } from './deadlines';
import type { Registry } from './registry';
import { header, type Response, type StreamResponse, unexpected } from './transport';

/** Every manifest kind ferry moves; registries pick the stored one, never convert. */
export const MANIFEST_ACCEPT = [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].join(', ');

/** Foreign (non-distributable) layers live at their `urls`, not in the registry. */
const FOREIGN_LAYER = /\.foreign\.|nondistributable/;

const MAX_REDIRECTS = 5;
const MAX_TAG_PAGES = 10_000;

export function pullScopes(repository: string): string[] {
  return [`repository:${repository}:pull`];
}

/** A manifest as the registry stored it, and what it points at. */
export interface PulledManifest extends Manifest {
  /** Platform manifests of an index. */
  readonly manifests: readonly Descriptor[];
  /** Config and layers of an image manifest (foreign layers left out). */
  readonly blobs: readonly Descriptor[];
  /** The OCI 1.1 `subject` (set on referrers). */
  readonly subject?: Descriptor;
}

/** An image as read from a registry: what is tagged, every manifest under it (children first), every blob once. */
export interface RemoteImage {
  readonly manifest: PulledManifest;
  readonly children: readonly PulledManifest[];
  readonly blobs: readonly Descriptor[];
}

function descriptor(value: unknown, where: string): Descriptor {
  const d = value as Partial<Descriptor> | undefined;
  if (!d || typeof d.mediaType !== 'string' || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size! < 0) {
    throw new InputError(`${where}: a descriptor without a valid mediaType, sha256 digest and size`);
  }
  return { mediaType: d.mediaType, digest: d.digest, size: d.size! };
}

/** Reads the parts of a manifest ferry needs; the bytes themselves are never re-serialized. */
export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string): PulledManifest {
  let doc: { mediaType?: string; manifests?: unknown[]; config?: unknown; layers?: (Descriptor & { urls?: string[] })[]; subject?: unknown };
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InputError(`${where}: the manifest is not JSON`);
  }
  const mediaType = doc.mediaType ?? contentType?.split(';')[0].trim() ?? '';
  const isIndex = INDEX_MEDIA_TYPES.includes(mediaType) || (!doc.config && Array.isArray(doc.manifests));
  if (!isIndex && !doc.config) throw new InputError(`${where}: media type "${mediaType}" is neither an image manifest nor an index`);
  const manifests = isIndex ? (doc.manifests ?? []).map((m) => descriptor(m, where)) : [];
  const layers = isIndex ? [] : (doc.layers ?? []).filter((l) => !(l.urls?.length && FOREIGN_LAYER.test(l.mediaType ?? '')));
  const blobs = isIndex ? [] : [descriptor(doc.config, where), ...layers.map((l) => descriptor(l, where))];
  return {
    bytes,
    digest: sha256(bytes),
    mediaType: mediaType || (isIndex ? MediaType.ociIndex : MediaType.ociManifest),
    manifests,
    blobs,
    subject: doc.subject ? descriptor(doc.subject, where) : undefined,
  };
}

/** The manifest at a tag or digest; undefined when the registry has none there. */
export async function fetchManifest(
  registry: Registry,
  repository: string,
  reference: string,
  scopes = pullScopes(repository),
): Promise<PulledManifest | undefined> {
  const where = `${registry.host}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
  const res = await registry.request({ method: 'GET', target: `/v2/${repository}/manifests/${reference}`, headers: { accept: MANIFEST_ACCEPT }, scopes });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw unexpected(`GET ${where}`, res);
  const manifest = parseManifest(res.body, header(res, 'content-type'), where);
  const claimed = isDigest(reference) ? reference : header(res, 'docker-content-digest');
  // A registry that serves other bytes than the digest names is corrupt: nothing a retry fixes.
  if (claimed && claimed !== manifest.digest)
    throw new InputError(`${where}: the registry served a manifest that hashes to ${manifest.digest}, not ${claimed}`);
  return manifest;
}

/**
 * The digest a tag or digest resolves to (HEAD), or undefined when there is none: the
 * source lookups of copy and sync, and the read-back of push and copy after a manifest PUT.
 */
export async function manifestDigest(
  registry: Registry,
  repository: string,
  reference: string,
  scopes = pullScopes(repository),
  deadline?: Deadline,
): Promise<string | undefined> {
  const res = await registry.request({
    method: 'HEAD',
    target: `/v2/${repository}/manifests/${reference}`,
    headers: { accept: MANIFEST_ACCEPT },
    scopes,
    deadline,
  });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw unexpected(`HEAD ${registry.host}/${repository}:${reference}`, res);
  const digest = header(res, 'docker-content-digest');
  if (isDigest(digest)) return digest;
  // Some registries leave the header off a HEAD: the bytes decide.
  return (await fetchManifest(registry, repository, reference, scopes))?.digest;
}

/** Reads an image and everything under it: nested indexes are walked, children come before their parents. */
export async function readImage(registry: Registry, repository: string, reference: string): Promise<RemoteImage> {
  const top = await fetchManifest(registry, repository, reference);
  if (!top) throw new InputError(`${registry.host}/${repository}${isDigest(reference) ? '@' : ':'}${reference}: no such manifest in the source registry`);
  const children: PulledManifest[] = [];
  const blobs = new Map<string, Descriptor>();
  const seen = new Set<string>([top.digest]);
  const walk = async (m: PulledManifest): Promise<void> => {
    m.blobs.forEach((b) => blobs.set(b.digest, b));
    for (const d of m.manifests) {
      if (seen.has(d.digest)) continue;
      seen.add(d.digest);
      const child = await fetchManifest(registry, repository, d.digest);
      if (!child) throw new InputError(`${registry.host}/${repository}@${m.digest} lists ${d.digest}, which the source registry does not have`);
      await walk(child);
      children.push(child);
    }
  };
  await walk(top);
  return { manifest: top, children, blobs: [...blobs.values()] };
}

/** `<url>; rel="next"` from a Link header, resolved against the request. */
function nextLink(res: Response, base: URL): URL | undefined {
  const link = header(res, 'link');
  const m = link && /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link);
  return m ? new URL(m[1], base) : undefined;
}

/**
 * Every tag of a repository, following pagination: the Link header when the registry
 * sends one, otherwise `?n=&last=` from the last tag while full pages come back.
 * Undefined when the repository does not exist.
 */
export async function listTags(registry: Registry, repository: string, pageSize = 1000, sc = pullScopes(repository)): Promise<string[] | undefined> {
  const base = await registry.ping();
  const tags: string[] = [];
  const seen = new Set<string>();
  let target: URL | undefined = new URL(`/v2/${repository}/tags/list?n=${pageSize}`, base);
  for (let page = 0; target && page < MAX_TAG_PAGES; page++) {
    const res = await registry.request({ method: 'GET', target, scopes: sc });
    if (res.status === 404) return page === 0 ? undefined : tags;
    if (res.status !== 200) throw unexpected(`GET ${registry.host}/v2/${repository}/tags/list`, res);
    let body: { tags?: unknown };
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new PushError(`${registry.host}/v2/${repository}/tags/list answered something that is not JSON`);
    }
    const fresh = (Array.isArray(body.tags) ? body.tags : []).filter((t): t is string => typeof t === 'string' && !seen.has(t));
    fresh.forEach((t) => {
      seen.add(t);
      tags.push(t);
    });
    const link = nextLink(res, target);
    if (link) target = link;
    else if (fresh.length >= pageSize) target = new URL(`/v2/${repository}/tags/list?n=${pageSize}&last=${encodeURIComponent(fresh[fresh.length - 1])}`, base);
    else target = undefined;
    if (fresh.length === 0) target = undefined;
  }
  return tags;
}

/**
 * A blob download, unverified (the caller checks the digest as bytes pass). Redirects
 * (ECR and S3-backed registries answer 307 to storage) are followed without this
 * registry's credentials.
 */
export async function openBlob(registry: Registry, repository: string, digest: string): Promise<Readable> {
  let target: string | URL = `/v2/${repository}/blobs/${digest}`;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res: StreamResponse = await registry.open({ method: 'GET', target, scopes: pullScopes(repository) });
    const location = header(res, 'location');
    if ([301, 302, 303, 307, 308].includes(res.status) && location) {
      res.body.resume();
      target = new URL(location, target instanceof URL ? target : await registry.ping());
      continue;
    }
    if (res.status === 200) return res.body;
    const body = await drain(res.body);
    const what = `GET ${registry.host}/v2/${repository}/blobs/${digest}`;
    if (res.status === 404) throw new InputError(`${what}: the source registry does not have this blob`);
    throw unexpected(what, { status: res.status, headers: res.headers, body });
  }
  throw new PushError(`GET ${registry.host}/v2/${repository}/blobs/${digest}: more than ${MAX_REDIRECTS} redirects`);
}

function drain(stream: Readable): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: Buffer) => {
      size += c.length;
      if (size < 65536) chunks.push(c);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', () => resolve(Buffer.concat(chunks)));
  });
}
