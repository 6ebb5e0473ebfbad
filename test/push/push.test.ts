/**
 * ferry push against real registries (Debian's docker-registry on 127.0.0.1: TLS +
 * htpasswd, and plain HTTP), checked with skopeo. Only ferry is under test here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { dockerSaveTar, type Fixture, kanikoManifest, kanikoTar, makeFixture, ociLayoutDir, ociLayoutTar, SMALL_LAYERS, sha256 } from './fixtures';
import { dockerConfig, ferryPush, PASSWORD, registryGet, skopeo, tmpDir, USER } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let secure: TestRegistry;
let plain: TestRegistry;
let fixture: Fixture;
let work: string;
let kaniko: string;
let env: Record<string, string>;

beforeAll(async () => {
  work = tmpDir('push');
  [secure, plain] = await Promise.all([startRegistry({ users: { [USER]: PASSWORD } }), startRegistry()]);
  fixture = await makeFixture(path.join(work, 'image'), SMALL_LAYERS, [`${secure.host}/fixture/from-tags:t1`]);
  kaniko = kanikoTar(fixture);
  env = { DOCKER_CONFIG: dockerConfig(path.join(work, 'docker'), secure.host, USER, PASSWORD), HOME: work };
});

afterAll(async () => {
  await Promise.all([secure?.stop(), plain?.stop()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

const expectedKanikoManifest = kanikoManifest;

const tls = () => ['--ca-file', secure.caFile!];
const json = (stdout: string) =>
  JSON.parse(stdout) as {
    digest: string;
    destinations: { ref: string; digest: string | null; ok: boolean; blobs: Record<string, number>; bytes: number; error?: string }[];
  };

async function rawManifest(registry: TestRegistry, ref: string): Promise<Buffer> {
  const out = await skopeo(registry, ['inspect', '--raw', `docker://${registry.host}/${ref}`]);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  return out.stdout;
}

test('a Kaniko tarball lands with the manifest crane would write, byte for byte; skopeo copies the same blobs back out', async () => {
  const expected = expectedKanikoManifest(fixture);
  const digestFile = path.join(work, 'digest.txt');
  const run = await ferryPush([kaniko, '--to', `${secure.host}/fixture/kaniko:v1`, ...tls(), '--json', '--digest-file', digestFile], env);
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  const summary = json(run.stdout);
  expect(summary.digest).toBe(sha256(expected));
  expect(summary.destinations).toEqual([
    expect.objectContaining({ ref: `${secure.host}/fixture/kaniko:v1`, ok: true, digest: sha256(expected), blobs: { pushed: 4, skipped: 0, mounted: 0 } }),
  ]);
  expect(summary.destinations[0].bytes).toBe(fixture.config.length + fixture.layers.reduce((n, l) => n + l.size, 0));
  expect(fs.readFileSync(digestFile, 'utf8')).toBe(sha256(expected));

  expect((await rawManifest(secure, 'fixture/kaniko:v1')).toString('utf8')).toBe(expected);

  const out = path.join(work, 'copied-kaniko');
  const copy = await skopeo(secure, ['copy', `docker://${secure.host}/fixture/kaniko:v1`, `dir:${out}`]);
  expect(copy.stderr).toBe('');
  expect(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')).toBe(expected);
  expect(fs.readFileSync(path.join(out, fixture.configDigest.slice(7)))).toEqual(fixture.config);
  for (const layer of fixture.layers) expect(fs.readFileSync(path.join(out, layer.digest.slice(7)))).toEqual(fs.readFileSync(layer.gz));
});

test('a re-push of an unchanged image skips every blob and leaves the manifest alone', async () => {
  const ref = `${secure.host}/fixture/again:v1`;
  expect((await ferryPush([kaniko, '--to', ref, ...tls()], env)).code).toBe(0);
  const again = await ferryPush([kaniko, '--to', ref, ...tls(), '--json'], env);
  expect(again.code).toBe(0);
  expect(json(again.stdout).destinations[0]).toMatchObject({ ok: true, blobs: { pushed: 0, skipped: 4, mounted: 0 }, bytes: 0 });
  expect(again.stderr).toContain('already in place');
});

test('a docker save tarball is gzipped once, its diff_ids check out, and what lands decompresses to the original layers', async () => {
  const save = dockerSaveTar(fixture);
  const run = await ferryPush([save, '--to', `${secure.host}/fixture/saved:v1`, ...tls(), '--json'], env);
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  const manifestBytes = await rawManifest(secure, 'fixture/saved:v1');
  expect(sha256(manifestBytes)).toBe(json(run.stdout).digest);
  const manifest = JSON.parse(manifestBytes.toString('utf8'));
  expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
  expect(manifest.config).toEqual({ mediaType: 'application/vnd.docker.container.image.v1+json', size: fixture.config.length, digest: fixture.configDigest });
  expect(manifest.layers).toHaveLength(fixture.layers.length);

  const out = path.join(work, 'copied-save');
  expect((await skopeo(secure, ['copy', `docker://${secure.host}/fixture/saved:v1`, `dir:${out}`])).code).toBe(0);
  manifest.layers.forEach((layer: { digest: string; mediaType: string }, i: number) => {
    expect(layer.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
    const blob = fs.readFileSync(path.join(out, layer.digest.slice(7)));
    expect(sha256(blob)).toBe(layer.digest);
    expect(sha256(zlib.gunzipSync(blob))).toBe(fixture.layers[i].diffId);
  });
});

test('an OCI layout directory is pushed with its exact manifest bytes (plain-HTTP registry named insecure)', async () => {
  const layout = ociLayoutDir(fixture);
  const run = await ferryPush([layout.dir, '--to', `${plain.host}/fixture/oci-dir:v1`, '--insecure-registry', plain.host, '--json'], env);
  expect(run.code).toBe(0);
  expect(json(run.stdout).digest).toBe(layout.digest);
  expect(await rawManifest(plain, 'fixture/oci-dir:v1')).toEqual(layout.manifest);
});

test('an OCI layout tar is pushed with its exact manifest bytes and can be pinned by digest', async () => {
  const layout = ociLayoutTar(fixture);
  const run = await ferryPush(
    [layout.tar, '--to', `${secure.host}/fixture/oci-tar:v1`, '--to', `${secure.host}/fixture/oci-tar@${layout.digest}`, ...tls()],
    env,
  );
  expect(run.code).toBe(0);
  expect(await rawManifest(secure, 'fixture/oci-tar:v1')).toEqual(layout.manifest);
  expect(await rawManifest(secure, `fixture/oci-tar@${layout.digest}`)).toEqual(layout.manifest);
});

test('several destinations from one read: repositories of one registry mount from each other, another registry gets its own upload', async () => {
  const a = `${secure.host}/multi/a:v1`;
  const b = `${secure.host}/multi/b:v1`;
  const c = `${plain.host}/multi/c:v1`;
  const run = await ferryPush([kaniko, '--to', a, '--to', b, '--to', c, '--insecure-registry', plain.host, ...tls(), '--json'], env);
  expect(run.code).toBe(0);
  const [ra, rb, rc] = json(run.stdout).destinations;
  expect([ra.ok, rb.ok, rc.ok]).toEqual([true, true, true]);
  expect(ra.blobs.pushed + rb.blobs.pushed).toBe(4);
  expect(ra.blobs.mounted + rb.blobs.mounted).toBe(4);
  expect(rc.blobs).toEqual({ pushed: 4, skipped: 0, mounted: 0 });
  const expected = expectedKanikoManifest(fixture);
  expect((await rawManifest(secure, 'multi/a:v1')).toString()).toBe(expected);
  expect((await rawManifest(secure, 'multi/b:v1')).toString()).toBe(expected);
  expect((await rawManifest(plain, 'multi/c:v1')).toString()).toBe(expected);
});

test('with no --to, the RepoTags recorded in the tarball are the destinations', async () => {
  const run = await ferryPush([kaniko, ...tls()], env);
  expect(run.code).toBe(0);
  expect((await rawManifest(secure, 'fixture/from-tags:t1')).toString()).toBe(expectedKanikoManifest(fixture));
});

test('a wrong password: exit 1, one line naming the host, and the password is never printed', async () => {
  const wrong = 'not-the-password-77';
  const badEnv = { ...env, DOCKER_CONFIG: dockerConfig(path.join(work, 'docker-wrong'), secure.host, USER, wrong) };
  const run = await ferryPush([kaniko, '--to', `${secure.host}/fixture/denied:v1`, ...tls(), '--json'], badEnv);
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`authentication refused by ${secure.host}`);
  for (const secret of [wrong, Buffer.from(`${USER}:${wrong}`).toString('base64')]) {
    expect(run.stderr).not.toContain(secret);
    expect(run.stdout).not.toContain(secret);
  }
  expect(json(run.stdout).destinations[0]).toMatchObject({ ok: false, error: expect.stringContaining(secure.host) });
  expect((await registryGet(secure, '/v2/fixture/denied/manifests/v1')).status).toBe(404);
});

test('one destination failing does not stop the others; the failed one reports no digest', async () => {
  const good = `${secure.host}/partial/good:v1`;
  const unreachable = `${plain.host}/partial/bad:v1`; // plain HTTP, but not named insecure: refused, exit 2
  const run = await ferryPush([kaniko, '--to', good, '--to', unreachable, ...tls(), '--json'], env);
  expect(run.code).toBe(2);
  const [ok, bad] = json(run.stdout).destinations;
  expect(ok).toMatchObject({ ok: true, digest: sha256(expectedKanikoManifest(fixture)) });
  expect(bad).toMatchObject({ ok: false, digest: null, error: expect.stringContaining(`--insecure-registry ${plain.host}`) });
  expect((await rawManifest(secure, 'partial/good:v1')).toString()).toBe(expectedKanikoManifest(fixture));
  expect((await registryGet(plain, '/v2/partial/bad/tags/list')).status).toBe(404);
});

test('a corrupted layer aborts before the manifest: no tag exists and the bad blob was never committed', async () => {
  const corrupt = path.join(work, 'corrupt.tar');
  const bytes = fs.readFileSync(kaniko);
  const layer = fixture.layers[1];
  const at = bytes.indexOf(fs.readFileSync(layer.gz).subarray(0, 256));
  expect(at).toBeGreaterThan(0);
  bytes[at + Math.floor(layer.size / 2)] ^= 0xff;
  fs.writeFileSync(corrupt, bytes);
  const run = await ferryPush([corrupt, '--to', `${secure.host}/fixture/corrupt:v1`, ...tls(), '--json'], env);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(new RegExp(`digest mismatch for ${layer.digest}`));
  expect(run.stderr).toContain(corrupt);
  expect((await registryGet(secure, '/v2/fixture/corrupt/manifests/v1')).status).toBe(404);
  expect((await registryGet(secure, `/v2/fixture/corrupt/blobs/${layer.digest}`, 'HEAD')).status).toBe(404);
});

test('--expect-digest that differs refuses before anything is pushed', async () => {
  const other = `sha256:${'0'.repeat(64)}`;
  const run = await ferryPush([kaniko, '--to', `${secure.host}/fixture/expected:v1`, ...tls(), '--expect-digest', other], env);
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(`--expect-digest says ${other}`);
  expect((await registryGet(secure, '/v2/fixture/expected/tags/list')).status).toBe(404);
});

test.each([
  ['a missing file', (dir: string) => [path.join(dir, 'nope.tar')], /nope\.tar: no such file or directory/],
  [
    'a file that is not an image',
    (dir: string) => {
      const f = path.join(dir, 'junk.tar');
      fs.writeFileSync(f, Buffer.alloc(2048, 7));
      return [f];
    },
    /junk\.tar: not a tar archive/,
  ],
  ['a bad reference', () => [kaniko, '--to', 'no-registry-host:v1'], /bad image reference "no-registry-host:v1": no registry host/],
  [
    'a role in another partition',
    () => [kaniko, '--to', '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1=arn:aws:iam::123456789012:role/push'],
    /roles cannot cross partitions/,
  ],
  ['an unknown flag', () => [kaniko, '--frobnicate'], /Unknown option '--frobnicate'/],
  ['--jobs 0', () => [kaniko, '--to', `127.0.0.1:1/x:y`, '--jobs', '0'], /--jobs must be a whole number from 1 to 64/],
])('%s: exit 2 with one clear line, nothing pushed', async (_name, args, message) => {
  const run = await ferryPush([...args(work), '--json'], env);
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(message);
});

test('a docker save tar whose layer does not match the config diff_id is refused before pushing', async () => {
  const staging = path.join(work, 'bad-diffid');
  const bad = await makeFixture(staging, SMALL_LAYERS.slice(0, 1));
  const tampered = { ...bad, layers: [{ ...bad.layers[0], tar: (await makeFixture(path.join(staging, 'other'), SMALL_LAYERS.slice(2, 3))).layers[0].tar }] };
  const run = await ferryPush([dockerSaveTar(tampered), '--to', `${secure.host}/fixture/bad-diffid:v1`, ...tls()], env);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/layer .*layer\.tar hashes to sha256:[a-f0-9]{64} but the config's diff_id is/);
  expect((await registryGet(secure, '/v2/fixture/bad-diffid/tags/list')).status).toBe(404);
});
