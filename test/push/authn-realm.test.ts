/**
 * The realm rule: a registry's credentials go to the registry and to the Bearer realm its
 * OWN challenge named, nowhere else; token-service bodies never reach the output.
 *
 * These registries are small hand-made HTTPS servers that misbehave on purpose (a real
 * docker-registry never names a foreign realm or sends an upload elsewhere). Each records
 * every request with its Authorization header, so the tests can show who saw what.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { selfSignedCa } from '../support/certificates';
import { kanikoTar, makeFixture, SMALL_LAYERS } from './fixtures';
import { dockerConfig, ferryPush, type RunResult, tmpDir } from './helpers';

const REGISTRY_USER = 'realm-user';
const REGISTRY_PASSWORD = 'realm-password-never-elsewhere';
const GOOD_TOKEN = 'good-bearer-token-from-the-named-realm';
const BASIC = `Basic ${Buffer.from(`${REGISTRY_USER}:${REGISTRY_PASSWORD}`).toString('base64')}`;

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly authorization?: string;
}

interface Server {
  readonly origin: string;
  readonly host: string;
  readonly seen: Seen[];
  stop(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, self: Server, body: Buffer) => void;

let work: string;
let image: string;
let cert: { cert: Buffer; key: Buffer; file: string };
const servers: Server[] = [];

beforeAll(async () => {
  work = tmpDir('authn-realm');
  image = kanikoTar(await makeFixture(path.join(work, 'image'), SMALL_LAYERS.slice(0, 1)));
  const certFile = path.join(work, 'cert.pem');
  const keyFile = path.join(work, 'key.pem');
  selfSignedCa({ keyFile, certFile, subject: '/CN=ferry realm test', altNames: ['IP:127.0.0.1', 'DNS:localhost'] });
  cert = { cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile), file: certFile };
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** An HTTPS (or plain HTTP) server on 127.0.0.1, addressed as `name` (127.0.0.1 or localhost: two hosts). */
async function serve(name: '127.0.0.1' | 'localhost', handler: Handler, plain = false): Promise<Server> {
  const seen: Seen[] = [];
  let self: Server;
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
      handler(req, res, self, Buffer.concat(chunks));
    });
  };
  const server = plain ? http.createServer(listener) : https.createServer({ cert: cert.cert, key: cert.key }, listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `${name}:${(server.address() as AddressInfo).port}`;
  self = {
    origin: `${plain ? 'http' : 'https'}://${host}`,
    host,
    seen,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(self);
  return self;
}

/**
 * A registry that challenges with `challenge` and accepts GOOD_TOKEN: every blob is
 * already there (HEAD 200) unless `upload` says where to send uploads. Manifests it was
 * given it serves back (HEAD, by tag and by digest), as push's read-back asks.
 */
function registry(challenge: () => string, upload?: () => string): Handler {
  const manifests = new Map<string, string>();
  return (req, res, _self, body) => {
    if (req.headers.authorization !== `Bearer ${GOOD_TOKEN}`) {
      res.writeHead(401, { 'www-authenticate': challenge(), 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (req.method === 'HEAD' && req.url!.includes('/blobs/')) {
      res.writeHead(upload ? 404 : 200, { 'content-length': '0' }).end();
    } else if (req.method === 'POST' && upload) {
      res.writeHead(202, { location: upload(), 'content-length': '0' }).end();
    } else if (req.method === 'PUT' && req.url!.includes('/manifests/')) {
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      manifests.set(req.url!.split('/manifests/')[1], digest).set(digest, digest);
      res.writeHead(201, { 'docker-content-digest': digest, 'content-length': '0' }).end();
    } else if (req.method === 'HEAD' && req.url!.includes('/manifests/')) {
      const digest = manifests.get(req.url!.split('/manifests/')[1]);
      res.writeHead(digest ? 200 : 404, { ...(digest ? { 'docker-content-digest': digest } : {}), 'content-length': '0' }).end();
    } else {
      res.writeHead(200, { 'content-length': '0' }).end();
    }
  };
}

/** A token service that hands out GOOD_TOKEN for the registry's Basic credentials. */
const tokenService: Handler = (req, res) => {
  if (req.headers.authorization !== BASIC) {
    res.writeHead(401).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: GOOD_TOKEN, expires_in: 300 }));
};

function push(reg: Server, extra: string[] = []): Promise<RunResult> {
  const dir = dockerConfig(path.join(work, `docker-${reg.host.replace(':', '-')}`), reg.host, REGISTRY_USER, REGISTRY_PASSWORD);
  return ferryPush([image, '--to', `${reg.host}/team/app:v1`, '--ca-file', cert.file, '--retries', '0', ...extra], { HOME: work, DOCKER_CONFIG: dir });
}

/** Every request any server but `allowed` saw carried no credentials of the registry. */
function expectCredentialsOnlyAt(allowed: readonly Server[]): void {
  for (const s of servers.filter((x) => !allowed.includes(x))) {
    for (const r of s.seen) expect([s.host, r.authorization]).toEqual([s.host, undefined]);
  }
}

beforeEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

test("a realm on another host gets the credentials when the registry's own challenge names it", async () => {
  const realm = await serve('localhost', tokenService);
  const reg = await serve(
    '127.0.0.1',
    registry(() => `Bearer realm="${realm.origin}/token",service="test-registry"`),
  );
  const run = await push(reg);
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  expect(realm.seen.length).toBeGreaterThan(0);
  expect(realm.seen.every((r) => r.authorization === BASIC && r.url.startsWith('/token?service=test-registry&scope=repository%3Ateam%2Fapp'))).toBe(true);
  expect(reg.seen.filter((r) => r.authorization).every((r) => r.authorization === `Bearer ${GOOD_TOKEN}`)).toBe(true);
});

test('a challenge from another host (an upload Location elsewhere) gets nothing: no credentials, no token request', async () => {
  const realm = await serve('localhost', tokenService);
  const foreignRealm = await serve('localhost', tokenService);
  const foreign = await serve('localhost', (_req, res) => {
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${foreignRealm.origin}/token",service="evil"` }).end();
  });
  const reg = await serve(
    '127.0.0.1',
    registry(
      () => `Bearer realm="${realm.origin}/token",service="test-registry"`,
      () => `${foreign.origin}/upload/1?state=x`,
    ),
  );
  const run = await push(reg);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain(`is not the registry ${reg.host}; ferry sends ${reg.host}'s credentials to no other host`);
  expect(foreign.seen.length).toBeGreaterThan(0);
  expect(foreignRealm.seen).toEqual([]);
  expectCredentialsOnlyAt([reg, realm]);
});

test('a realm over plain HTTP gets no credentials unless its host is named insecure', async () => {
  const plainRealm = await serve('localhost', tokenService, true);
  const reg = await serve(
    '127.0.0.1',
    registry(() => `Bearer realm="${plainRealm.origin}/token",service="test-registry"`),
  );
  const run = await push(reg);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain(`named the Bearer realm ${plainRealm.origin}/token, which is not HTTPS`);
  expect(plainRealm.seen).toEqual([]);
  const allowed = await push(reg, ['--insecure-registry', plainRealm.host]);
  expect(allowed.stderr).not.toContain('FAILED');
  expect(allowed.code).toBe(0);
  expect(plainRealm.seen.every((r) => r.authorization === BASIC)).toBe(true);
});

test('a token service that redirects is not followed: the redirect target sees nothing', async () => {
  const elsewhere = await serve('localhost', tokenService);
  const realm = await serve('localhost', (_req, res) => {
    res.writeHead(302, { location: `${elsewhere.origin}/token` }).end();
  });
  const reg = await serve(
    '127.0.0.1',
    registry(() => `Bearer realm="${realm.origin}/token",service="test-registry"`),
  );
  const run = await push(reg);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain(`token service ${realm.origin}/token for ${reg.host} answered 302`);
  expect(elsewhere.seen).toEqual([]);
});

test.each([
  [
    'an error status',
    500,
    'application/json',
    '{"token":"leaked-token-text","errors":[{"code":"DENIED","message":"leaked-token-text"}]}',
    'answered 500 Internal Server Error',
  ],
  // JSON.parse quotes the start of such a body in its message ("access_tok"...).
  ['a body that is not JSON', 200, 'text/plain', 'access_token=leaked-token-text&expires_in=300', 'answered with a body that is not JSON'],
  ['no token in the JSON', 200, 'application/json', '{"tokn":"leaked-token-text"}', 'returned no token'],
])('a token response with %s never reaches the output', async (_name, status, type, body, message) => {
  const realm = await serve('localhost', (_req, res) => {
    res.writeHead(status, { 'content-type': type }).end(body);
  });
  const reg = await serve(
    '127.0.0.1',
    registry(() => `Bearer realm="${realm.origin}/token",service="test-registry"`),
  );
  const run = await push(reg, ['--json']);
  expect(run.code).not.toBe(0);
  expect(run.stderr).toContain(message);
  expect(run.stdout + run.stderr).not.toContain('leaked-token-text');
  expect(run.stdout + run.stderr).not.toContain('access_tok');
});
