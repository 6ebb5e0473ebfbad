/**
 * For the copy and sync tests: images written straight into a plain-HTTP docker-registry
 * with raw HTTP (independent of ferry's own upload code), and a forwarding proxy in front
 * of a real registry that logs every request, can drop the Link header of tag lists, and
 * can stand in for the OCI 1.1 referrers API (which distribution 2.8 lacks).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { registryHttp } from '../support/registry-http';
import type { TestRegistry } from './registry-server';

export const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
  cosign: 'application/vnd.dev.cosign.simplesigning.v1+json',
  sbom: 'application/spdx+json',
};

async function call(host: string, method: string, urlPath: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Response> {
  const url = urlPath.startsWith('http') ? urlPath : `http://${host}${urlPath}`;
  return fetch(url, { method, body, headers, redirect: 'manual' });
}

/** Monolithic upload: POST, then PUT ?digest= with the bytes. */
export async function storeBlob(host: string, repo: string, bytes: Buffer): Promise<{ mediaType: string; digest: string; size: number }> {
  const digest = sha256(bytes);
  const started = await call(host, 'POST', `/v2/${repo}/blobs/uploads/`);
  if (started.status !== 202) throw new Error(`storing: POST answered ${started.status}`);
  const location = new URL(started.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await call(host, 'PUT', location.toString(), bytes, { 'content-type': 'application/octet-stream' });
  if (put.status !== 201) throw new Error(`storing: blob PUT answered ${put.status}: ${await put.text()}`);
  return { mediaType: MT.layer, digest, size: bytes.length };
}

export async function storeManifest(host: string, repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
  const res = await call(host, 'PUT', `/v2/${repo}/manifests/${reference}`, bytes, { 'content-type': mediaType });
  if (res.status !== 201) throw new Error(`storing: manifest PUT ${reference} answered ${res.status}: ${await res.text()}`);
  return sha256(bytes);
}

export interface StoredImage {
  readonly manifest: Buffer;
  readonly digest: string;
  readonly blobs: string[];
}

/** An OCI image manifest, pretty-printed (bytes no re-serializer reproduces); by digest only when no tag. */
export async function storeImage(host: string, repo: string, tag: string | undefined, label: string, layerBytes = 4096): Promise<StoredImage> {
  const config = Buffer.from(JSON.stringify({ architecture: label, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = randomBytes(layerBytes);
  const c = await storeBlob(host, repo, config);
  const l = await storeBlob(host, repo, layer);
  const manifest = Buffer.from(
    `${JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MT.manifest,
        config: { mediaType: MT.config, digest: c.digest, size: c.size },
        layers: [{ mediaType: MT.layer, digest: l.digest, size: l.size }],
        annotations: { 'org.example.label': label },
      },
      null,
      3,
    )}\n`,
  );
  const digest = await storeManifest(host, repo, tag ?? sha256(manifest), manifest, MT.manifest);
  return { manifest, digest, blobs: [c.digest, l.digest] };
}

export interface StoredIndex {
  readonly index: Buffer;
  readonly digest: string;
  readonly platforms: StoredImage[];
}

/** An OCI index of two platforms (amd64, arm64), tagged `tag`. */
export async function storeIndex(host: string, repo: string, tag: string): Promise<StoredIndex> {
  const platforms = [];
  for (const arch of ['amd64', 'arm64']) {
    const image = await storeImage(host, repo, undefined, `${arch} ${tag}`);
    platforms.push(image);
  }
  const index = Buffer.from(
    `${JSON.stringify(
      {
        schemaVersion: 2,
        mediaType: MT.index,
        manifests: platforms.map((p, i) => ({
          mediaType: MT.manifest,
          digest: p.digest,
          size: p.manifest.length,
          platform: { architecture: ['amd64', 'arm64'][i], os: 'linux' },
        })),
      },
      null,
      2,
    )}\n`,
  );
  const digest = await storeManifest(host, repo, tag, index, MT.index);
  return { index, digest, platforms };
}

/** A cosign-style signature: a manifest tagged `sha256-<hex>.sig` whose layer is the signed payload. */
export async function storeCosignSignature(host: string, repo: string, subject: string): Promise<string> {
  const payload = Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': repo }, image: { 'docker-manifest-digest': subject }, type: 'cosign container image signature' },
    }),
  );
  const config = Buffer.from('{}');
  const p = await storeBlob(host, repo, payload);
  const c = await storeBlob(host, repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: c.digest, size: c.size },
      layers: [{ mediaType: MT.cosign, digest: p.digest, size: p.size, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQDtest' } }],
    }),
  );
  return storeManifest(host, repo, `${subject.replace(':', '-')}.sig`, manifest, MT.manifest);
}

/** An OCI 1.1 artifact with `subject`, pushed by digest only (no tag). */
export async function storeArtifact(
  host: string,
  repo: string,
  subject: { digest: string; size: number; mediaType: string },
  label?: string,
): Promise<{ digest: string; descriptor: Record<string, unknown> }> {
  const sbom = await storeBlob(host, repo, Buffer.from(label ? `{"spdxVersion":"SPDX-2.3","name":${JSON.stringify(label)}}` : '{"spdxVersion":"SPDX-2.3"}'));
  const empty = await storeBlob(host, repo, Buffer.from('{}'));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      artifactType: MT.sbom,
      config: { mediaType: MT.empty, digest: empty.digest, size: empty.size },
      layers: [{ mediaType: MT.sbom, digest: sbom.digest, size: sbom.size }],
      subject,
    }),
  );
  const digest = await storeManifest(host, repo, sha256(manifest), manifest, MT.manifest);
  return { digest, descriptor: { mediaType: MT.manifest, digest, size: manifest.length, artifactType: MT.sbom } };
}

/** The tag schema's `sha256-<hex>` index listing these referrers. */
/** The descriptors a registry serves in a `sha256-<hex>` referrers index, in order. */
export async function referrersListed(host: string, repo: string, subject: string): Promise<{ digest: string }[] | undefined> {
  const res = await call(host, 'GET', `/v2/${repo}/manifests/${subject.replace(':', '-')}`, undefined, { accept: MT.index });
  if (res.status === 404) return undefined;
  return ((await res.json()) as { manifests: { digest: string }[] }).manifests;
}

export async function storeReferrersTag(host: string, repo: string, subject: string, descriptors: Record<string, unknown>[]): Promise<string> {
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests: descriptors }));
  return storeManifest(host, repo, subject.replace(':', '-'), index, MT.index);
}

function blobFile(registry: TestRegistry, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return path.join(registry.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}

export function blobBytes(registry: TestRegistry, digest: string): Buffer {
  return fs.readFileSync(blobFile(registry, digest));
}

/** Overwrites a stored blob in place with other bytes of the same length (the registry does not re-check on read). */
export function corruptBlob(registry: TestRegistry, digest: string): void {
  const file = blobFile(registry, digest);
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 1] ^= 0xff;
  fs.writeFileSync(file, bytes);
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly userAgent?: string;
}

export interface RegistryProxy {
  readonly host: string;
  readonly log: LoggedRequest[];
  /** Requests that change the registry (anything but GET and HEAD). */
  writes(): LoggedRequest[];
  blobGets(digest?: string): LoggedRequest[];
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /**
   * Serve tag lists in pages of at most this many, sorted, by `n` and `last` as the
   * distribution spec (and ECR) do; distribution 2.8 itself ignores `n`.
   */
  readonly tagPageSize?: number;
  /** With tagPageSize: send no Link header, so the client must page with n and last itself. */
  readonly stripLink?: boolean;
  /** Answer every manifest read (HEAD, GET) by tag with 404: a registry that accepts a PUT but does not serve it back. */
  readonly forgetTags?: boolean;
  /** Stand in for `GET /v2/<repo>/referrers/<digest>`: an OCI index of these descriptors. */
  readonly referrers?: (repo: string, digest: string) => Record<string, unknown>[] | undefined;
}

async function paginatedTags(upstreamHost: string, url: string, max: number, withLink: boolean): Promise<{ body: string; link?: string }> {
  const u = new URL(url, `http://${upstreamHost}`);
  const all = (await (await fetch(`http://${upstreamHost}${u.pathname}`)).json()) as { name: string; tags: string[] };
  const n = Math.min(max, Number(u.searchParams.get('n') ?? max));
  const last = u.searchParams.get('last');
  const sorted = [...all.tags].sort();
  const page = sorted.filter((t) => last === null || t > last).slice(0, n);
  const more = page.length > 0 && sorted.indexOf(page[page.length - 1]) < sorted.length - 1;
  const link = withLink && more ? `<${u.pathname}?n=${n}&last=${encodeURIComponent(page[page.length - 1])}>; rel="next"` : undefined;
  return { body: JSON.stringify({ name: all.name, tags: page }), link };
}

/** A logging forwarder in front of a plain-HTTP registry. */
export async function startRegistryProxy(upstreamHost: string, opts: ProxyOptions = {}): Promise<RegistryProxy> {
  const log: LoggedRequest[] = [];
  const [upHost, upPort] = upstreamHost.split(':');
  const server = http.createServer((req, res) => {
    const urlPath = req.url!.split('?')[0];
    log.push({ method: req.method!, path: urlPath, userAgent: req.headers['user-agent'] });
    const referrers = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(urlPath);
    if (referrers && opts.referrers && req.method === 'GET') {
      req.resume();
      const manifests = opts.referrers(referrers[1], referrers[2]) ?? [];
      res.writeHead(200, { 'content-type': MT.index });
      res.end(JSON.stringify({ schemaVersion: 2, mediaType: MT.index, manifests }));
      return;
    }
    if (opts.forgetTags && (req.method === 'GET' || req.method === 'HEAD') && /\/manifests\/(?!sha256:)[^/]+$/.test(urlPath)) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      return;
    }
    if (opts.tagPageSize && req.method === 'GET' && urlPath.endsWith('/tags/list')) {
      req.resume();
      void paginatedTags(upstreamHost, req.url!, opts.tagPageSize, !opts.stripLink).then(
        ({ body, link }) => {
          res.writeHead(200, { 'content-type': 'application/json', ...(link ? { link } : {}) });
          res.end(body);
        },
        () => res.destroy(),
      );
      return;
    }
    const upstream = http.request(
      { host: upHost, port: Number(upPort), method: req.method, path: req.url, headers: { ...req.headers, host: upstreamHost } },
      (up) => {
        const headers = { ...up.headers };
        if (headers.location)
          headers.location = headers.location.replace(
            `http://${upstreamHost}`,
            `http://${server.address() && `127.0.0.1:${(server.address() as AddressInfo).port}`}`,
          );
        res.writeHead(up.statusCode!, headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    writes: () => log.filter((r) => r.method !== 'GET' && r.method !== 'HEAD'),
    blobGets: (digest) => log.filter((r) => r.method === 'GET' && /\/blobs\/sha256:/.test(r.path) && (!digest || r.path.endsWith(digest))),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** HEAD (or GET) with every manifest type accepted, the test user's Basic auth on TLS registries. */
export function registryRequest(
  registry: TestRegistry,
  urlPath: string,
  method = 'HEAD',
  auth?: string,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const headers: Record<string, string> = {
    accept: [MT.manifest, MT.index, 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(
      ', ',
    ),
  };
  if (auth) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  return registryHttp(registry, urlPath, method, headers);
}
