/**
 * ferry sync between real registries (docker-registry on 127.0.0.1, one with TLS and
 * htpasswd), checked with skopeo; logging proxies show what a run read and wrote.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as copyMain } from '../../lib/cli/copy';
import { main as syncMain } from '../../lib/cli/sync';
import { Authenticator, anonymous } from '../../lib/registry/authn';
import { listTags } from '../../lib/registry/pull';
import { Registry } from '../../lib/registry/registry';
import { Transport } from '../../lib/registry/transport';
import {
  MT,
  type RegistryProxy,
  referrersListed,
  registryRequest,
  type StoredImage,
  sha256,
  startRegistryProxy,
  storeArtifact,
  storeCosignSignature,
  storeImage,
  storeIndex,
  storeManifest,
  storeReferrersTag,
} from './copy-support';
import { dockerConfig, PASSWORD, skopeo, tmpDir, USER } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let src: TestRegistry;
let secure: TestRegistry;
let plain: TestRegistry;
let srcProxy: RegistryProxy;
let dstProxy: RegistryProxy;
let work: string;
let env: Record<string, string>;
const tags: Record<string, string> = {};
let signatureTag: string;
let v1: StoredImage;

beforeAll(async () => {
  work = tmpDir('sync');
  [src, secure, plain] = await Promise.all([startRegistry(), startRegistry({ users: { [USER]: PASSWORD } }), startRegistry()]);
  [srcProxy, dstProxy] = await Promise.all([startRegistryProxy(src.host), startRegistryProxy(plain.host)]);
  env = { DOCKER_CONFIG: dockerConfig(path.join(work, 'docker'), secure.host, USER, PASSWORD), HOME: work };
  v1 = await storeImage(src.host, 'team/app', 'v1', 'v1');
  tags.v1 = v1.digest;
  tags.v2 = (await storeImage(src.host, 'team/app', 'v2', 'v2')).digest;
  tags.v3 = (await storeImage(src.host, 'team/app', 'v3', 'v3')).digest;
  tags.multi = (await storeIndex(src.host, 'team/app', 'multi')).digest;
  const v3Manifest = Buffer.from((await registryRequest(src, '/v2/team/app/manifests/v3', 'GET')).body);
  tags.latest = await storeManifest(src.host, 'team/app', 'latest', v3Manifest, MT.manifest);
  const sig = await storeCosignSignature(src.host, 'team/app', v1.digest);
  signatureTag = `${v1.digest.replace(':', '-')}.sig`;
  tags[signatureTag] = sig;
});

afterAll(async () => {
  await Promise.all([srcProxy?.stop(), dstProxy?.stop()]);
  await Promise.all([src?.stop(), secure?.stop(), plain?.stop()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function ferrySync(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const insecure = [srcProxy.host, dstProxy.host, src.host, plain.host].flatMap((h) => ['--insecure-registry', h]);
  const code = await syncMain([...args, ...insecure, '--ca-file', secure.caFile!], { env, stdout: out, stderr: err });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

/** `ferry copy --no-referrers`: puts an image at a destination without its referrers. */
async function copyImageOnly(from: string, to: string): Promise<void> {
  const sink = new PassThrough().resume();
  const insecure = [src.host, plain.host, srcProxy.host].flatMap((h) => ['--insecure-registry', h]);
  expect(await copyMain([from, '--to', to, '--no-referrers', ...insecure], { env, stdout: sink, stderr: sink })).toBe(0);
}

async function digestAt(registry: TestRegistry, ref: string): Promise<string | undefined> {
  const out = await skopeo(registry, ['inspect', '--raw', `docker://${registry.host}/${ref}`]);
  return out.code === 0 ? sha256(out.stdout) : undefined;
}

test('sync backfills an empty registry with every tag and signature; the second run moves nothing and says so', async () => {
  const first = await ferrySync([`${srcProxy.host}/team/app`, '--to', `${secure.host}/team/app`, '--to', `${dstProxy.host}/mirror/app`, '--json']);
  expect(first.stderr).not.toContain('FAILED');
  expect(first.code).toBe(0);
  const summary = JSON.parse(first.stdout);
  for (const d of summary.destinations) {
    expect(d.upToDate).toBe(true);
    expect(d.copied.map((c: { tag: string }) => c.tag).sort()).toEqual(Object.keys(tags).sort());
  }
  for (const [tag, digest] of Object.entries(tags)) {
    expect(await digestAt(secure, `team/app:${tag}`)).toBe(digest);
    expect(await digestAt(plain, `mirror/app:${tag}`)).toBe(digest);
  }
  // v3 and latest are one image: its blobs were read once for both tags and both destinations.
  for (const d of srcProxy.log.filter((r) => r.method === 'GET' && r.path.includes('/blobs/'))) {
    expect(srcProxy.blobGets(d.path.split('/').pop())).toHaveLength(1);
  }

  srcProxy.log.length = 0;
  dstProxy.log.length = 0;
  const second = await ferrySync([`${srcProxy.host}/team/app`, '--to', `${secure.host}/team/app`, '--to', `${dstProxy.host}/mirror/app`, '--json']);
  expect(second.code).toBe(0);
  expect(second.stderr).toContain(`${secure.host}/team/app: nothing to do, ${Object.keys(tags).length} tags already in place`);
  expect(second.stderr).toContain(`${dstProxy.host}/mirror/app: nothing to do`);
  const again = JSON.parse(second.stdout);
  for (const d of again.destinations) {
    expect(d.copied).toEqual([]);
    expect(d.missing).toEqual([]);
  }
  expect(dstProxy.writes()).toEqual([]);
  expect(srcProxy.blobGets()).toEqual([]);
});

test('--tags picks tags by glob; referrer tags follow their image', async () => {
  const run = await ferrySync([`${src.host}/team/app`, '--to', `${plain.host}/globbed/app`, '--tags', 'v[12]']);
  expect(run.code).toBe(0);
  expect(await digestAt(plain, 'globbed/app:v1')).toBe(tags.v1);
  expect(await digestAt(plain, 'globbed/app:v2')).toBe(tags.v2);
  expect(await digestAt(plain, `globbed/app:${signatureTag}`)).toBe(tags[signatureTag]);
  expect(await digestAt(plain, 'globbed/app:v3')).toBeUndefined();
  expect(await digestAt(plain, 'globbed/app:multi')).toBeUndefined();
});

test('--dry-run prints the plan and writes nothing', async () => {
  dstProxy.log.length = 0;
  const run = await ferrySync([`${src.host}/team/app`, '--to', `${dstProxy.host}/dry/app`, '--dry-run']);
  expect(run.code).toBe(0);
  expect(run.stderr).toContain(`${dstProxy.host}/dry/app: ${Object.keys(tags).length} to copy, 0 in place, 0 in conflict`);
  // The plan names full digests, as the JSON summary does.
  expect(run.stderr).toContain(`${dstProxy.host}/dry/app: would copy v1 (${tags.v1})\n`);
  expect(dstProxy.writes()).toEqual([]);
});

test('a tag that exists with another digest is reported with both digests, not overwritten, exit 2; the rest is copied', async () => {
  const other = await storeImage(plain.host, 'conflict/app', 'v2', 'someone else');
  const run = await ferrySync([`${src.host}/team/app`, '--to', `${plain.host}/conflict/app`, '--json']);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`${plain.host}/conflict/app: CONFLICT: tag v2 is ${other.digest} there but ${tags.v2} in the source; not overwritten`);
  expect(await digestAt(plain, 'conflict/app:v2')).toBe(other.digest);
  expect(await digestAt(plain, 'conflict/app:v1')).toBe(tags.v1);
  expect(await digestAt(plain, 'conflict/app:v3')).toBe(tags.v3);
  const summary = JSON.parse(run.stdout);
  expect(summary.destinations[0].conflicts).toEqual([{ tag: 'v2', source: tags.v2, destination: other.digest }]);
  const again = await ferrySync([`${src.host}/team/app`, '--to', `${plain.host}/conflict/app`]);
  expect(again.code).toBe(2);
  expect(await digestAt(plain, 'conflict/app:v2')).toBe(other.digest);
  // --dry-run exits as the run would: a plan with a conflict is exit 2 (documented in --help).
  const dry = await ferrySync([`${src.host}/team/app`, '--to', `${plain.host}/conflict/app`, '--dry-run']);
  expect(dry.code).toBe(2);
  expect(dry.stderr).toContain(`CONFLICT: tag v2 is ${other.digest} there but ${tags.v2} in the source`);
});

test('a source tag or digest instead of a repository is refused with exit 2', async () => {
  const run = await ferrySync([`${src.host}/team/app:v1`, '--to', `${plain.host}/x/app`]);
  expect(run.code).toBe(2);
  expect(run.stderr.trim()).toBe(`ferry sync: source ${src.host}/team/app:v1: name a repository (host[:port]/repository), without a tag or digest`);
});

test('a source repository that does not exist is an error (exit 2), not an empty sync', async () => {
  const run = await ferrySync([`${src.host}/no/such-repo`, '--to', `${plain.host}/x/app`]);
  expect(run.code).toBe(2);
  expect(run.stderr.trim()).toBe(`ferry sync: ${src.host}/no/such-repo: the source registry has no such repository`);
});

describe('tag listing follows pagination', () => {
  const registryAt = (host: string) => {
    const transport = new Transport({ retries: 0, insecureHosts: new Set([host]) });
    return { registry: new Registry(host, transport, new Authenticator(host, transport, anonymous)), transport };
  };
  const expected = () => Object.keys(tags).sort();

  // A server page (2) smaller than what ferry asks for (1000): ferry must not stop at the first page.
  for (const stripLink of [false, true]) {
    test(stripLink ? 'by n and last when the registry sends no Link' : 'by the Link header', async () => {
      const paging = await startRegistryProxy(src.host, { tagPageSize: 2, stripLink });
      const { registry, transport } = registryAt(paging.host);
      try {
        expect((await listTags(registry, 'team/app', 2))?.sort()).toEqual(expected());
        expect(paging.log.filter((r) => r.path.endsWith('/tags/list')).length).toBeGreaterThanOrEqual(Math.ceil(expected().length / 2));
      } finally {
        transport.close();
        await paging.stop();
      }
    });
  }

  test('a whole sync through a registry that pages its tag list by two', async () => {
    const paging = await startRegistryProxy(src.host, { tagPageSize: 2 });
    try {
      const run = await ferrySync([`${paging.host}/team/app`, '--to', `${plain.host}/paged/app`, '--insecure-registry', paging.host, '--json']);
      expect(run.code).toBe(0);
      expect(
        JSON.parse(run.stdout)
          .destinations[0].copied.map((c: { tag: string }) => c.tag)
          .sort(),
      ).toEqual(expected());
    } finally {
      await paging.stop();
    }
  });
});

test('a referrers index the destination holds with its own entries is merged, not a conflict; nothing is removed; the second run is a no-op', async () => {
  const image = await storeImage(src.host, 'merge/app', 'v1', 'merge');
  const subject = { mediaType: MT.manifest, digest: image.digest, size: image.manifest.length };
  const fromSource = await storeArtifact(src.host, 'merge/app', subject, 'made at the source');
  await storeReferrersTag(src.host, 'merge/app', image.digest, [fromSource.descriptor]);
  await copyImageOnly(`${src.host}/merge/app:v1`, `${plain.host}/merge/app:v1`);
  const own = await storeArtifact(plain.host, 'merge/app', subject, 'signed at the destination');
  expect(own.digest).not.toBe(fromSource.digest);
  await storeReferrersTag(plain.host, 'merge/app', image.digest, [own.descriptor]);
  const run = await ferrySync([`${src.host}/merge/app`, '--to', `${dstProxy.host}/merge/app`, '--json']);
  expect(run.stderr).not.toContain('CONFLICT');
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout).destinations[0].copied).toEqual([{ tag: image.digest.replace(':', '-'), digest: expect.any(String) }]);
  expect((await referrersListed(plain.host, 'merge/app', image.digest))?.map((d) => d.digest)).toEqual([own.digest, fromSource.digest]);
  expect(await digestAt(plain, `merge/app@${fromSource.digest}`)).toBe(fromSource.digest);
  expect(await digestAt(plain, `merge/app@${own.digest}`)).toBe(own.digest);
  dstProxy.log.length = 0;
  const again = await ferrySync([`${src.host}/merge/app`, '--to', `${dstProxy.host}/merge/app`]);
  expect(again.code).toBe(0);
  expect(again.stderr).toContain(`${dstProxy.host}/merge/app: nothing to do, 2 tags already in place`);
  expect(dstProxy.writes()).toEqual([]);
});

test('one signature is read from the source once when one destination gets it with its image and another, holding the image, gets it alone', async () => {
  const image = await storeImage(src.host, 'once/app', 'v1', 'once');
  const sig = await storeCosignSignature(src.host, 'once/app', image.digest);
  const sigManifest = JSON.parse((await registryRequest(src, `/v2/once/app/manifests/${sig}`, 'GET')).body);
  const sigBlobs = [sigManifest.config.digest, ...sigManifest.layers.map((l: { digest: string }) => l.digest)];
  await copyImageOnly(`${src.host}/once/app:v1`, `${plain.host}/once-b/app:v1`);
  srcProxy.log.length = 0;
  const run = await ferrySync([`${srcProxy.host}/once/app`, '--to', `${plain.host}/once-a/app`, '--to', `${plain.host}/once-b/app`, '--json']);
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  const sigTag = `${image.digest.replace(':', '-')}.sig`;
  for (const repo of ['once-a/app', 'once-b/app']) expect(await digestAt(plain, `${repo}:${sigTag}`)).toBe(sig);
  expect(await digestAt(plain, 'once-a/app:v1')).toBe(image.digest);
  for (const digest of [...sigBlobs, ...image.blobs]) expect(srcProxy.blobGets(digest)).toHaveLength(1);
});
