/** The small pure pieces of the pusher, each checked against independently written expectations. */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { parseDestination } from '../../lib/cli/shared';
import { InputError, RetryableError, sanitize } from '../../lib/common/errors';
import { indexTar, TarSource } from '../../lib/image/archive';
import { type Blob, dockerManifest, MediaType, VerifyingStream } from '../../lib/image/image';
import { Authenticator, anonymous, ecrTargetOf, parseChallenge } from '../../lib/registry/authn';
import { HostSet, normalizeHost } from '../../lib/registry/host';
import { parseReference } from '../../lib/registry/reference';
import { withDigest } from '../../lib/registry/remote';
import { DEFAULT_RETRY_POLICY, RetryBudget, retryDelayMs } from '../../lib/registry/retry';
import { retryAfterSeconds, Transport } from '../../lib/registry/transport';
import { sha256 } from './fixtures';
import { tmpDir } from './helpers';

const sha = sha256;

describe('references', () => {
  test.each([
    ['127.0.0.1:5000/app', { registry: '127.0.0.1:5000', repository: 'app', tag: 'latest', digest: undefined }],
    [
      '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/team/app:v1.2',
      { registry: '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com', repository: 'team/app', tag: 'v1.2', digest: undefined },
    ],
    [`localhost:5000/a/b@sha256:${'a'.repeat(64)}`, { registry: 'localhost:5000', repository: 'a/b', tag: undefined, digest: `sha256:${'a'.repeat(64)}` }],
    ['registry:5000/x_y__z-w:t', { registry: 'registry:5000', repository: 'x_y__z-w', tag: 't', digest: undefined }],
  ])('%s', (input, expected) => expect(parseReference(input)).toEqual(expected));

  test.each([
    'app:v1',
    'Host.example.com/App:v1',
    'example.com/app:bad tag',
    'example.com/app@sha256:short',
    `example.com/app:v1@sha256:${'a'.repeat(64)}`,
    'example.com/',
  ])('refuses %s', (input) => {
    expect(() => parseReference(input)).toThrow(InputError);
  });

  test('--to REF=ROLE checks the role ARN and that it is in the registry partition', () => {
    expect(parseDestination('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1=arn:aws-cn:iam::123456789012:role/push').roleArn).toBe(
      'arn:aws-cn:iam::123456789012:role/push',
    );
    expect(() => parseDestination('123456789012.dkr.ecr.us-east-1.amazonaws.com/app=arn:aws-us-gov:iam::123456789012:role/push')).toThrow(
      /roles cannot cross partitions/,
    );
    expect(() => parseDestination('123456789012.dkr.ecr.us-east-1.amazonaws.com/app=not-an-arn')).toThrow(/not an IAM role ARN/);
  });
});

describe('ECR hosts in every supported partition', () => {
  test.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', 'us-east-1', false],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', 'us-gov-west-1', true],
    ['123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn', 'cn-northwest-1', false],
    ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', 'eusc-de-east-1', false],
  ])('%s', (host, region, fips) => expect(ecrTargetOf(host, {})).toEqual({ host, region, fips, roleArn: undefined }));

  test('AWS_ECR_ENDPOINT marks another host as ECR, in AWS_REGION; other hosts are not ECR', () => {
    const env = { AWS_ECR_ENDPOINT: 'https://registry.internal:8443', AWS_REGION: 'us-gov-east-1' };
    expect(ecrTargetOf('registry.internal:8443', env)).toMatchObject({ region: 'us-gov-east-1' });
    expect(ecrTargetOf('other.example.com', env)).toBeUndefined();
    expect(ecrTargetOf('123456789012.dkr.ecr.cn-north-1.amazonaws.com', {})).toBeUndefined();
  });
});

describe('protocol details', () => {
  test('the digest is appended to upload locations with or without a query', () => {
    expect(withDigest(new URL('https://r/v2/a/blobs/uploads/u1?_state=x%3D'), 'sha256:ab').href).toBe(
      'https://r/v2/a/blobs/uploads/u1?_state=x%3D&digest=sha256%3Aab',
    );
    expect(withDigest(new URL('/v2/a/blobs/uploads/u1', 'http://r:5000'), 'sha256:ab').href).toBe('http://r:5000/v2/a/blobs/uploads/u1?digest=sha256%3Aab');
  });

  test('Retry-After in seconds or as a date; backoff doubles with jitter, capped; Retry-After lengthens, never shortens, capped', () => {
    expect(retryAfterSeconds('7')).toBe(7);
    expect(retryAfterSeconds(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(30);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    const policy = { ...DEFAULT_RETRY_POLICY, retries: 20 };
    expect([0, 1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n, undefined, () => 1))).toEqual([1000, 2000, 4000, 8000, 16000, 30000]);
    expect(retryDelayMs(policy, 1, undefined, () => 0)).toBe(1000);
    expect(retryDelayMs(policy, 1, 0, () => 1)).toBe(2000);
    expect(retryDelayMs(policy, 0, 7, () => 1)).toBe(7000);
    expect(retryDelayMs(policy, 0, 86_400, () => 1)).toBe(60_000);
  });

  test('Bearer and Basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a:pull' },
    });
    expect(parseChallenge('Basic realm="ferry"')).toEqual({ scheme: 'basic', params: { realm: 'ferry' } });
    expect(parseChallenge(undefined)).toBeUndefined();
  });

  test('the Docker manifest is compact JSON in go-containerregistry field order', () => {
    const config = { mediaType: MediaType.dockerConfig, size: 2, digest: sha('{}') };
    const layer = { mediaType: MediaType.dockerLayerGzip, size: 3, digest: sha('abc') };
    expect(dockerManifest(config, [layer]).toString()).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"${sha('{}')}"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":3,"digest":"${sha('abc')}"}]}`,
    );
  });
});

describe('streams and archives', () => {
  const blobOf = (claimed: Buffer, actual: Buffer[]): Blob => ({
    mediaType: 'x',
    size: claimed.length,
    digest: sha(claimed),
    origin: 'test blob',
    open: () => Readable.from(actual),
  });

  test('a corrupt blob fails before its last chunk is passed on', async () => {
    const run = async (claimed: Buffer, chunks: Buffer[]) => {
      const verifier = new VerifyingStream(blobOf(claimed, chunks));
      const passed: Buffer[] = [];
      verifier.on('data', (c: Buffer) => passed.push(c));
      const settled = new Promise<Error | undefined>((resolve) => {
        verifier.on('error', resolve);
        verifier.on('end', () => resolve(undefined));
      });
      chunks.forEach((c) => verifier.write(c));
      verifier.end();
      return { error: await settled, passed: Buffer.concat(passed).toString() };
    };
    const good = [Buffer.from('aaaa'), Buffer.from('bbbb'), Buffer.from('cccc')];
    expect(await run(Buffer.concat(good), good)).toEqual({ error: undefined, passed: 'aaaabbbbcccc' });
    const bad = await run(Buffer.concat(good), [Buffer.from('aaaa'), Buffer.from('bbbb'), Buffer.from('cccX')]);
    expect(bad.error?.message).toMatch(/test blob: digest mismatch/);
    expect(bad.passed).toBe('aaaabbbb');
    const short = await run(Buffer.concat(good), [Buffer.from('aaaa'), Buffer.from('bbbb')]);
    expect(short.error?.message).toMatch(/8 bytes, expected 12/);
    expect(short.passed).toBe('aaaa');
  });

  test.each(['ustar', 'pax', 'gnu'])('the tar index reads %s archives with long names and symlinks from GNU tar', (format) => {
    const dir = tmpDir(`tar-${format}`);
    try {
      checkTarFormat(dir, format);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});

/** GNU tar writes the archive; ferry's index must find every file, long names and links included. */
function checkTarFormat(dir: string, format: string): void {
  const longName = `${'d'.repeat(60)}/${'f'.repeat(90)}.json`;
  fs.mkdirSync(path.join(dir, 'src', path.dirname(longName)), { recursive: true });
  fs.writeFileSync(path.join(dir, 'src', longName), '{"long":true}');
  fs.writeFileSync(path.join(dir, 'src', 'manifest.json'), '[]');
  fs.symlinkSync('manifest.json', path.join(dir, 'src', 'link.json'));
  execFileSync('tar', [`--format=${format}`, '-cf', path.join(dir, 'a.tar'), '-C', path.join(dir, 'src'), '.']);
  const source = new TarSource(path.join(dir, 'a.tar'));
  expect(source.read(longName).toString()).toBe('{"long":true}');
  expect(source.read('link.json').toString()).toBe('[]');
  expect(indexTar(path.join(dir, 'a.tar')).get('manifest.json')?.size).toBe(2);
}

describe('plain HTTP', () => {
  const listening = () =>
    new Promise<{ server: http.Server; host: string; seen: http.IncomingHttpHeaders[] }>((resolve) => {
      const seen: http.IncomingHttpHeaders[] = [];
      const server = http.createServer((req, res) => {
        seen.push(req.headers);
        res.end('{}');
      });
      server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as { port: number }).port}`, seen }));
    });

  test('is refused, before connecting, to a host not named insecure (a Location or realm cannot downgrade TLS)', async () => {
    const { server, host, seen } = await listening();
    const transport = new Transport({ retries: 0, insecureHosts: new Set() });
    try {
      await expect(transport.once({ method: 'GET', url: new URL(`http://${host}/token`), headers: { authorization: 'Basic c2VjcmV0' } })).rejects.toThrow(
        `refusing plain HTTP to ${host} (GET /token); name it with --insecure-registry ${host} to allow it`,
      );
      expect(seen).toEqual([]);
    } finally {
      transport.close();
      server.close();
    }
  });

  test('is allowed to a host named insecure', async () => {
    const { server, host, seen } = await listening();
    const transport = new Transport({ retries: 0, insecureHosts: new Set([host]) });
    try {
      expect((await transport.once({ method: 'GET', url: new URL(`http://${host}/v2/`), headers: {} })).status).toBe(200);
      expect(seen).toHaveLength(1);
    } finally {
      transport.close();
      server.close();
    }
  });
});

describe('retry budget', () => {
  test('a budget allows --retries waits, then throws the last failure', async () => {
    const budget = new RetryBudget({ ...DEFAULT_RETRY_POLICY, baseMs: 1, retries: 2 }, 'op');
    const failure = new RetryableError('503');
    await budget.spend(failure);
    await budget.spend(failure);
    await expect(budget.spend(failure)).rejects.toBe(failure);
    expect(budget.spent).toBe(2);
  });

  test('the total waiting of one operation is capped', async () => {
    const budget = new RetryBudget({ ...DEFAULT_RETRY_POLICY, baseMs: 10, maxTotalMs: 1, retries: 20 }, 'op');
    await expect(budget.spend(new RetryableError('503'))).rejects.toThrow(/503 \(retries stopped: op waited 0s already\)/);
  });
});

describe('hosts and registry text', () => {
  test('host normalisation and --insecure-registry matching: host:port names one port, a bare host every port', () => {
    expect(normalizeHost('https://Registry.Example.com:5000/v2/')).toBe('registry.example.com:5000');
    const hosts = new HostSet(['127.0.0.1', 'reg.example.com:5000']);
    expect(hosts.has('127.0.0.1:5000')).toBe(true);
    expect(hosts.has('127.0.0.1:443')).toBe(true);
    expect(hosts.has('reg.example.com:5000')).toBe(true);
    expect(hosts.has('reg.example.com:5001')).toBe(false);
    expect(hosts.has('reg.example.com')).toBe(false);
    expect(hosts.has('127.0.0.2:5000')).toBe(false);
  });

  test('sanitize strips control characters and caps the length', () => {
    expect(sanitize('a\nb\r\x1b[2Jc\u0085d\u2028e')).toBe('a b [2Jc d e');
    expect(sanitize('x'.repeat(400))).toHaveLength(301);
  });

  test('a token service answering with something that is not JSON: the message never quotes the body', async () => {
    const secret = 'access_token=SECRET-TOKEN-123';
    const server = http.createServer((_req, res) => {
      res.writeHead(200);
      res.end(`${secret}&expires=60`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    const transport = new Transport({ retries: 0, insecureHosts: new HostSet(['127.0.0.1']) });
    try {
      const auth = new Authenticator(host, transport, anonymous);
      auth.setChallenge(`Bearer realm="http://${host}/token",service="s"`);
      const error = await auth.authorization(['repository:a:pull']).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(/answered with a body that is not JSON/);
      expect(error?.message).not.toMatch(/SECRET|access_tok/);
    } finally {
      transport.close();
      server.close();
    }
  });
});
