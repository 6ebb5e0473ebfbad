/**
 * Registries that misbehave on purpose, each in front of a real docker-registry: the
 * rules that keep credentials with their host, keep registry text out of the terminal,
 * refuse what no retry can fix with exit 2, and never call a push done that did not land.
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { type Fault, type FaultyProxy, startFaultyProxy } from './faulty-proxy';
import { type Fixture, kanikoManifest, kanikoTar, makeFixture, SMALL_LAYERS, sha256 } from './fixtures';
import { dockerConfig, ferryPush, PASSWORD, registryGet, tmpDir, USER } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let secure: TestRegistry;
let plain: TestRegistry;
let work: string;
let fixture: Fixture;
let image: string;
let other: string;
const proxies: FaultyProxy[] = [];

beforeAll(async () => {
  work = tmpDir('hostile');
  [secure, plain] = await Promise.all([startRegistry({ users: { [USER]: PASSWORD } }), startRegistry()]);
  fixture = await makeFixture(path.join(work, 'image'), SMALL_LAYERS);
  image = kanikoTar(fixture);
  other = kanikoTar(await makeFixture(path.join(work, 'other'), SMALL_LAYERS.slice(0, 1)));
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  await Promise.all([secure?.stop(), plain?.stop()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function proxy(...args: Parameters<typeof startFaultyProxy>): Promise<FaultyProxy> {
  const p = await startFaultyProxy(...args);
  proxies.push(p);
  return p;
}

interface Foreign {
  readonly host: string;
  readonly seen: { method: string; url: string; authorization?: string }[];
  stop(): Promise<void>;
}

/**
 * Another HTTPS host on 127.0.0.1 (the registry's certificate, so TLS is trusted): it
 * asks every request for Bearer credentials at its own realm and hands out a token.
 */
async function foreignHost(): Promise<Foreign> {
  const seen: Foreign['seen'] = [];
  const server = https.createServer({ cert: fs.readFileSync(secure.caFile!), key: fs.readFileSync(secure.keyFile!) }, (req, res) => {
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    req.resume();
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (req.url!.startsWith('/token')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"token":"attacker-token"}');
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="https://${host}/token",service="evil"`, 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A plain-HTTP proxy (named insecure) in front of the TLS registry, with the test user's credentials for the proxy host. */
async function securedProxy(faults: Parameters<typeof startFaultyProxy>[1]) {
  const p = await proxy({ host: secure.host, tls: true, ca: secure.ca }, faults);
  const env = { DOCKER_CONFIG: dockerConfig(path.join(work, `docker-${p.host.replace(':', '-')}`), p.host, USER, PASSWORD), HOME: work };
  const args = ['--insecure-registry', p.host, '--ca-file', secure.caFile!, '--json'];
  return { p, env, args };
}

/** Every manifest PUT (to paths containing `pathIncludes`) answered 400 with `body`. */
const refuseManifestPuts = (body: string, pathIncludes = '/manifests/'): Fault => ({
  method: 'PUT',
  pathIncludes,
  times: 100,
  kind: 'status',
  status: 400,
  body,
});

const basic = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

describe('credentials stay with the host that asked for them', () => {
  test('an upload Location on another host whose 401 names its own realm: nothing sent there, exit 2, no tag', async () => {
    const foreign = await foreignHost();
    try {
      const { p, env, args } = await securedProxy([{ method: 'POST', pathIncludes: '/blobs/uploads/', times: 100, kind: 'location', toHost: foreign.host }]);
      const run = await ferryPush([image, '--to', `${p.host}/leak/app:v1`, ...args], env);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`${foreign.host} is not the registry ${p.host}`);
      expect(foreign.seen.length).toBeGreaterThan(0);
      expect(foreign.seen.filter((r) => r.authorization !== undefined)).toEqual([]);
      expect(foreign.seen.filter((r) => r.url.startsWith('/token'))).toEqual([]);
      expect(p.seen.filter((r) => r.authorization && r.authorization !== basic)).toEqual([]);
      expect(p.seen.some((r) => r.authorization === basic)).toBe(true);
      expect((await registryGet(secure, '/v2/leak/app/manifests/v1')).status).toBe(404);
    } finally {
      await foreign.stop();
    }
  });

  test('a redirect to another host is not followed: that host sees no request at all', async () => {
    const foreign = await foreignHost();
    try {
      const { p, env, args } = await securedProxy([
        { method: 'HEAD', pathIncludes: '/blobs/', times: 100, kind: 'redirect', toHost: foreign.host },
        { method: 'PATCH', pathIncludes: '/blobs/uploads/', times: 100, kind: 'redirect', toHost: foreign.host },
      ]);
      const run = await ferryPush([image, '--to', `${p.host}/redirect/app:v1`, ...args, '--retries', '0'], env);
      expect(run.code).not.toBe(0);
      expect(JSON.parse(run.stdout).destinations[0]).toMatchObject({ ok: false, digest: null, error: expect.stringContaining('307') });
      expect(foreign.seen).toEqual([]);
    } finally {
      await foreign.stop();
    }
  });
});

describe('registry text is sanitised', () => {
  test('control characters, forged lines and escapes in an error message never reach stderr or --json; length is capped', async () => {
    const forged = `nope\n${plain.host}/x:v1: done, sha256:${'0'.repeat(64)} (4 pushed)\r\x1b[2J\x1b]0;owned\x07${'A'.repeat(5000)}`;
    const p = await proxy(plain.host, [refuseManifestPuts(JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: forged }] }))]);
    const run = await ferryPush([image, '--to', `${p.host}/sanitised/app:v1`, '--insecure-registry', p.host, '--json'], {});
    expect(run.code).toBe(1);
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u0009\u000b-\u001f\u007f]/;
    expect(run.stderr).not.toMatch(control);
    expect(run.stderr.split('\n').filter((l) => l.startsWith(`${plain.host}/x:v1`))).toEqual([]);
    const error: string = JSON.parse(run.stdout).destinations[0].error;
    expect(error).not.toMatch(/[\u0000-\u001f]/);
    expect(error).toContain('MANIFEST_INVALID: nope');
    expect(error.length).toBeLessThan(600);
  });
});

describe('what no retry can fix exits 2', () => {
  test('an immutable tag already at another digest: exit 2 naming both digests, the tag is untouched', async () => {
    const first = await ferryPush([other, '--to', `${plain.host}/immutable/app:v1`, '--insecure-registry', plain.host, '--json'], {});
    expect(first.code).toBe(0);
    const held = JSON.parse(first.stdout).digest as string;
    const ecrAnswer = JSON.stringify({
      errors: [
        {
          code: 'TAG_INVALID',
          message: "The image tag 'v1' already exists in the 'immutable/app' repository and cannot be overwritten because the repository is immutable.",
        },
      ],
    });
    const p = await proxy(plain.host, [refuseManifestPuts(ecrAnswer, '/manifests/v1')]);
    const run = await ferryPush([image, '--to', `${p.host}/immutable/app:v1`, '--insecure-registry', p.host, '--json'], {});
    expect(run.code).toBe(2);
    const ours = sha256(kanikoManifest(fixture));
    const { error } = JSON.parse(run.stdout).destinations[0];
    expect(error).toContain(held);
    expect(error).toContain(ours);
    expect(error).toMatch(/immutable/);
    expect((await registryGet(plain, '/v2/immutable/app/manifests/v1', 'HEAD')).headers['docker-content-digest']).toBe(held);
  });

  test('a tag already at this digest is success even when the registry refuses every manifest PUT', async () => {
    expect((await ferryPush([image, '--to', `${plain.host}/immutable/same:v1`, '--insecure-registry', plain.host], {})).code).toBe(0);
    const p = await proxy(plain.host, [refuseManifestPuts('{"errors":[{"code":"TAG_INVALID","message":"immutable"}]}')]);
    const run = await ferryPush([image, '--to', `${p.host}/immutable/same:v1`, '--insecure-registry', p.host, '--json'], {});
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).destinations[0]).toMatchObject({ ok: true, digest: sha256(kanikoManifest(fixture)) });
  });

  test('a plain-HTTP registry not named insecure: one line naming the flag, at once, no retries', async () => {
    const started = Date.now();
    const run = await ferryPush([image, '--to', `${plain.host}/plain/app:v1`, '--retries', '5'], {});
    expect(run.code).toBe(2);
    expect(Date.now() - started).toBeLessThan(1500);
    const lines = run.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('pushing '));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`FAILED: ${plain.host} answered TLS with plain HTTP.*--insecure-registry ${plain.host}$`))]);
  });

  test('--insecure-registry HOST without a port applies to every port of that host', async () => {
    const run = await ferryPush([image, '--to', `${plain.host}/any-port/app:v1`, '--insecure-registry', '127.0.0.1'], {});
    expect(run.code).toBe(0);
  });

  test.each([
    ['a --digest-file in a missing directory', () => ['--digest-file', path.join(work, 'missing', 'digest')], /--digest-file .*does not exist/],
    [
      'a --ca-file that is not PEM',
      () => {
        const f = path.join(work, 'not.pem');
        fs.writeFileSync(f, 'hello');
        return ['--ca-file', f];
      },
      /--ca-file .*no PEM certificate/,
    ],
    [
      'a --ca-file with a broken certificate',
      () => {
        const f = path.join(work, 'broken.pem');
        fs.writeFileSync(f, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
        return ['--ca-file', f];
      },
      /certificate 1 does not parse/,
    ],
    ['a --timeout of 0', () => ['--timeout', '0'], /--timeout must be a whole number from 1/],
    ['a bad --insecure-registry', () => ['--insecure-registry', 'a b'], /--insecure-registry "a b" is not a host/],
    [
      'a role ARN on a registry that is not ECR',
      () => ['--to', `${plain.host}/x:v1=arn:aws:iam::123456789012:role/push`],
      /a role ARN only works with an ECR registry/,
    ],
  ])('%s: exit 2 before anything is pushed', async (_name, extra, message) => {
    const repo = `preflight/${_name.replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '')}`;
    const run = await ferryPush([image, '--to', `${plain.host}/${repo}:v1`, '--insecure-registry', plain.host, ...extra(), '--json'], {});
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect((await registryGet(plain, `/v2/${repo}/tags/list`)).status).toBe(404);
  });

  test('FERRY_TIMEOUT is validated like --timeout', async () => {
    const run = await ferryPush([image, '--to', `${plain.host}/x:v1`, '--insecure-registry', plain.host], { FERRY_TIMEOUT: 'soon' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('FERRY_TIMEOUT must be a whole number');
  });

  test('an invalid config.json: exit 2 naming the file', async () => {
    const dir = path.join(work, 'bad-docker');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'config.json'), '{"auths": ');
    const run = await ferryPush([image, '--to', `${plain.host}/x:v1`, '--insecure-registry', plain.host], { DOCKER_CONFIG: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(path.join(dir, 'config.json'));
  });
});

describe('a push is done only when the destination reads back', () => {
  test('a registry that answers the manifest PUT with 201 but keeps nothing: the destination fails', async () => {
    const p = await proxy(plain.host, [{ method: 'PUT', pathIncludes: '/manifests/', times: 100, kind: 'swallow' }]);
    const run = await ferryPush([image, '--to', `${p.host}/liar/app:v1`, '--insecure-registry', p.host, '--json'], {});
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).destinations[0]).toMatchObject({
      ok: false,
      digest: null,
      error: expect.stringMatching(/read back after the push, .* is missing/),
    });
  });
});
