/**
 * Which AWS hosts a push really calls, per trust path and FIPS setting. ferry runs as a
 * child process with the pod's environment and NO AWS_ENDPOINT_URL_*: the SDK picks the
 * host names itself. aws-hosts-hook.cjs sends every AWS name to the AWS stand-in, whose
 * certificate lists ONLY the names expected, so a call to any other host fails TLS; the
 * registry's ECR name goes to the real docker-registry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AwsApiStandIn, type StandInOptions, startAwsApiStandIn } from './aws-api-stand-in';
import { kanikoTar, makeFixture, SMALL_LAYERS } from './fixtures';
import { ECR_PASSWORD, ferryProcess, PASSWORD, type RunResult, registryGet, tmpDir, USER } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

const HOOK = path.join(__dirname, 'aws-hosts-hook.cjs');
const POD_TOKEN = 'eyJwb2Qtc2VydmljZWFjY291bnQtdG9rZW4.eyJzdWIiOiJwb2QifQ.c2ln';
const ISSUER = 'https://0f3c2a10-stand-in.tokens.sts.global.api.aws';
const SOURCE_ROLE = 'arn:aws:iam::111111111111:role/ferry/ferry-pusher-china';

let registry: TestRegistry;
let work: string;
let image: string;
let podTokenFile: string;
const standIns: AwsApiStandIn[] = [];

beforeAll(async () => {
  work = tmpDir('authn-endpoints');
  registry = await startRegistry({ users: { [USER]: PASSWORD, AWS: ECR_PASSWORD } });
  image = kanikoTar(await makeFixture(path.join(work, 'image'), SMALL_LAYERS.slice(0, 2)));
  podTokenFile = path.join(work, 'pod-token');
  fs.writeFileSync(podTokenFile, POD_TOKEN);
});

afterAll(async () => {
  await Promise.all([registry?.stop(), ...standIns.map((s) => s.stop())]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function standIn(options: StandInOptions, passwords = [ECR_PASSWORD]): Promise<AwsApiStandIn> {
  const s = await startAwsApiStandIn(passwords, options);
  standIns.push(s);
  return s;
}

const registryPort = () => registry.host.split(':')[1];

/** A push as the pod runs it: IRSA environment, real AWS names, no endpoint overrides. */
function push(aws: AwsApiStandIn, ecrHost: string, to: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  return ferry(aws, [ecrHost], ['push', image, '--to', to, ...args], env);
}

/** Any ferry command as the pod runs it; every name in `ecrHosts` reaches the test registry. */
function ferry(aws: AwsApiStandIn, ecrHosts: readonly string[], args: string[], env: Record<string, string>): Promise<RunResult> {
  return ferryProcess([...args, '--ca-file', registry.caFile!], {
    PATH: process.env.PATH!,
    HOME: work,
    NODE_OPTIONS: `--require ${HOOK}`,
    FERRY_TEST_AWS_STAND_IN: String(aws.port),
    FERRY_TEST_REGISTRY: ecrHosts.map((h) => `${h}=${registryPort()}`).join(','),
    NODE_EXTRA_CA_CERTS: aws.caFile!,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_WEB_IDENTITY_TOKEN_FILE: podTokenFile,
    ...env,
  });
}

/** The AWS hosts ferry says it called, from its own log lines. */
function loggedHosts(stderr: string): string[] {
  return [...new Set([...stderr.matchAll(/^aws endpoint: (\S+) /gm)].map((m) => m[1]))].sort();
}

function expectNoSecrets(run: RunResult, aws: AwsApiStandIn): void {
  const text = run.stdout + run.stderr;
  for (const secret of [ECR_PASSWORD, 'stand-in-secret', 'stand-in-session', POD_TOKEN, ...aws.mintedTokens]) expect(text).not.toContain(secret);
}

function expectNoNodeWarning(run: RunResult): void {
  // The image's Node (see the Dockerfile) is one the SDK supports: it must not warn there.
  if (Number(process.versions.node.split('.')[0]) >= 22) expect(run.stderr).not.toContain('NodeVersionSupportWarning');
}

describe('a fips: true destination calls only FIPS endpoints', () => {
  test('commercial us-east-1: STS at sts-fips, ECR at ecr-fips (cluster-oidc role)', async () => {
    const ecrHost = '123456789012.dkr.ecr-fips.us-east-1.amazonaws.com';
    const role = 'arn:aws:iam::123456789012:role/ferry-pusher-fips';
    const hosts = ['sts-fips.us-east-1.amazonaws.com', 'ecr-fips.us-east-1.amazonaws.com'];
    const aws = await standIn({ hosts, roles: { [role]: { token: POD_TOKEN } } });
    const run = await push(aws, ecrHost, `${ecrHost}/fips/app:v1=${role}`, [], {});
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    expect(aws.unexpectedHosts).toEqual([]);
    expect(aws.calls.map((c) => [c.api, c.host])).toEqual([
      ['sts:AssumeRoleWithWebIdentity', 'sts-fips.us-east-1.amazonaws.com'],
      ['ecr:GetAuthorizationToken', 'ecr-fips.us-east-1.amazonaws.com'],
    ]);
    expect(aws.calls[1]).toMatchObject({ region: 'us-east-1', accessKeyId: aws.assumedAccessKeyId });
    expect(loggedHosts(run.stderr)).toEqual([...hosts].sort());
    expect((await registryGet(registry, '/v2/fips/app/manifests/v1')).status).toBe(200);
    expectNoSecrets(run, aws);
    expectNoNodeWarning(run);
  });

  test('GovCloud us-gov-west-1: the regional STS (FIPS there) and ecr-fips', async () => {
    const ecrHost = '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com';
    const role = 'arn:aws-us-gov:iam::123456789012:role/ferry-pusher-gov';
    const hosts = ['sts.us-gov-west-1.amazonaws.com', 'ecr-fips.us-gov-west-1.amazonaws.com'];
    const aws = await standIn({ hosts, roles: { [role]: { token: POD_TOKEN } } });
    const run = await push(aws, ecrHost, `${ecrHost}/gov/app:v1=${role}`, [], {});
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    expect(aws.unexpectedHosts).toEqual([]);
    expect(aws.calls.map((c) => c.host)).toEqual(hosts);
    expect(aws.calls[1]).toMatchObject({ api: 'ecr:GetAuthorizationToken', region: 'us-gov-west-1' });
    expect(loggedHosts(run.stderr)).toEqual([...hosts].sort());
    expectNoSecrets(run, aws);
  });

  test('a non-FIPS destination keeps the plain endpoints, and the registry host alone decides the region (no AWS_REGION)', async () => {
    const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const role = 'arn:aws:iam::123456789012:role/ferry-pusher-eu';
    const hosts = ['sts.eu-west-1.amazonaws.com', 'api.ecr.eu-west-1.amazonaws.com'];
    const aws = await standIn({ hosts, roles: { [role]: { token: POD_TOKEN } } });
    const run = await push(aws, ecrHost, `${ecrHost}/eu/app:v1=${role}`, [], {});
    expect(run.code).toBe(0);
    expect(aws.calls.map((c) => c.host)).toEqual(hosts);
    expect(loggedHosts(run.stderr)).toEqual([...hosts].sort());
  });

  test('dkr.ecr-fips in a region without an ECR FIPS endpoint is refused before any call (exit 2)', async () => {
    const ecrHost = '123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com';
    const aws = await standIn({ hosts: ['sts.eu-west-1.amazonaws.com'] });
    const run = await push(aws, ecrHost, `${ecrHost}/eu/app:v1=arn:aws:iam::123456789012:role/x`, [], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('AWS runs no ECR FIPS endpoint in eu-west-1');
    expect(aws.calls).toEqual([]);
  });
});

describe('outbound federation: mint in the build region, assume in the destination region', () => {
  const chinaHost = '222222222222.dkr.ecr.cn-north-1.amazonaws.com.cn';
  const chinaRole = 'arn:aws-cn:iam::222222222222:role/ferry/ferry-pusher-china';
  const roles = (sub = SOURCE_ROLE, aud = 'sts.amazonaws.com') => ({
    [SOURCE_ROLE]: { token: POD_TOKEN },
    [chinaRole]: { issuer: ISSUER, sub, aud },
  });
  const irsa = { AWS_ROLE_ARN: SOURCE_ROLE, AWS_REGION: 'us-east-1' };
  const chinaHosts = ['sts.us-east-1.amazonaws.com', 'sts.cn-north-1.amazonaws.com.cn', 'api.ecr.cn-north-1.amazonaws.com.cn'];

  test('IRSA source role mints at sts.us-east-1, the China role is assumed at sts.cn-north-1, ECR login in cn-north-1', async () => {
    const aws = await standIn({ hosts: chinaHosts, roles: roles(), federation: { issuer: ISSUER, enabled: true } });
    const run = await push(aws, chinaHost, `${chinaHost}/cn/app:v1=${chinaRole}`, ['--trust', 'outbound-federation', '--json'], irsa);
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    expect(aws.calls.map((c) => [c.api, c.host, c.roleArn])).toEqual([
      ['sts:AssumeRoleWithWebIdentity', 'sts.us-east-1.amazonaws.com', SOURCE_ROLE],
      ['sts:GetWebIdentityToken', 'sts.us-east-1.amazonaws.com', SOURCE_ROLE],
      ['sts:AssumeRoleWithWebIdentity', 'sts.cn-north-1.amazonaws.com.cn', chinaRole],
      ['ecr:GetAuthorizationToken', 'api.ecr.cn-north-1.amazonaws.com.cn', undefined],
    ]);
    expect(aws.calls[1].region).toBe('us-east-1');
    expect(aws.calls[2].webIdentityToken).toBe(aws.mintedTokens[0]);
    expect(aws.calls[3].region).toBe('cn-north-1');
    expect(loggedHosts(run.stderr)).toEqual([...chinaHosts].sort());
    expect(JSON.parse(run.stdout).destinations[0].ok).toBe(true);
    expectNoSecrets(run, aws);
  });

  test('--token-fips mints at sts-fips of the build region; a FIPS GovCloud destination stays on FIPS hosts', async () => {
    const govHost = '333333333333.dkr.ecr-fips.us-gov-west-1.amazonaws.com';
    const govRole = 'arn:aws-us-gov:iam::333333333333:role/ferry-pusher-gov';
    const hosts = ['sts-fips.us-east-1.amazonaws.com', 'sts.us-gov-west-1.amazonaws.com', 'ecr-fips.us-gov-west-1.amazonaws.com'];
    const aws = await standIn({
      hosts,
      roles: { [SOURCE_ROLE]: { token: POD_TOKEN }, [govRole]: { issuer: ISSUER, sub: SOURCE_ROLE, aud: 'sts.amazonaws.com' } },
      federation: { issuer: ISSUER, enabled: true },
    });
    const run = await push(aws, govHost, `${govHost}/gov/app:v1=${govRole}`, [], { ...irsa, FERRY_TRUST: 'outbound-federation', FERRY_TOKEN_FIPS: 'true' });
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    expect(aws.unexpectedHosts).toEqual([]);
    expect(aws.calls.map((c) => c.host)).toEqual([hosts[0], hosts[0], hosts[1], hosts[2]]);
    expect(loggedHosts(run.stderr)).toEqual([...hosts].sort());
  });

  test.each([
    ['us-east-1', 'sts-fips.us-east-1.amazonaws.com'],
    // AWS runs no FIPS STS in eu-west-1: the mint stays on the regular endpoint, and is not refused.
    ['eu-west-1', 'sts.eu-west-1.amazonaws.com'],
  ])("a FIPS destination's token, minted in build region %s without --token-fips, comes from %s (FIPS wherever AWS has it)", async (buildRegion, mintHost) => {
    const govHost = '333333333333.dkr.ecr-fips.us-gov-west-1.amazonaws.com';
    const govRole = 'arn:aws-us-gov:iam::333333333333:role/ferry-pusher-gov';
    const hosts = [mintHost, 'sts.us-gov-west-1.amazonaws.com', 'ecr-fips.us-gov-west-1.amazonaws.com'];
    const aws = await standIn({
      hosts,
      roles: { [SOURCE_ROLE]: { token: POD_TOKEN }, [govRole]: { issuer: ISSUER, sub: SOURCE_ROLE, aud: 'sts.amazonaws.com' } },
      federation: { issuer: ISSUER, enabled: true },
    });
    const run = await push(aws, govHost, `${govHost}/gov/mint-${buildRegion}:v1=${govRole}`, ['--trust', 'outbound-federation'], {
      ...irsa,
      AWS_REGION: buildRegion,
    });
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    expect(aws.unexpectedHosts).toEqual([]);
    expect(aws.calls.map((c) => [c.api, c.host])).toEqual([
      ['sts:AssumeRoleWithWebIdentity', mintHost],
      ['sts:GetWebIdentityToken', mintHost],
      ['sts:AssumeRoleWithWebIdentity', 'sts.us-gov-west-1.amazonaws.com'],
      ['ecr:GetAuthorizationToken', 'ecr-fips.us-gov-west-1.amazonaws.com'],
    ]);
    expect(run.stderr).toContain(`aws endpoint: ${mintHost} (STS GetWebIdentityToken)`);
  });

  test('a session about to expire is refreshed: a second ECR login mints and assumes again', async () => {
    // 120 s sessions are inside the 5-minute refresh margin, so every use refreshes.
    const aws = await standIn({ hosts: chinaHosts, roles: roles(), federation: { issuer: ISSUER, enabled: true }, sessionSeconds: 120 }, [
      'stale-password',
      ECR_PASSWORD,
    ]);
    const run = await push(aws, chinaHost, `${chinaHost}/cn/refresh:v1=${chinaRole}`, ['--trust', 'outbound-federation'], irsa);
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    const count = (api: string) => aws.calls.filter((c) => c.api === api).length;
    // The stale password makes ferry log in again (once per request that met the 401).
    const logins = count('ecr:GetAuthorizationToken');
    expect(logins).toBeGreaterThanOrEqual(2);
    // Every login found the session inside the margin: none reused it; each new session
    // came from a newly minted token (a token is never presented twice).
    const assumes = aws.calls.filter((c) => c.roleArn === chinaRole && c.api === 'sts:AssumeRoleWithWebIdentity');
    expect(assumes.length).toBeGreaterThanOrEqual(logins);
    expect(count('sts:GetWebIdentityToken')).toBe(assumes.length);
    expect(new Set(assumes.map((c) => c.webIdentityToken)).size).toBe(assumes.length);
    expectNoSecrets(run, aws);
  });

  test.each([
    [
      'federation not enabled in the build account',
      { enabled: false },
      {},
      /minting the outbound web identity token .*failed .*partition aws, region us-east-1.*likely fix: outbound identity federation is not enabled in the build account: run `aws iam enable-outbound-web-identity-federation`/,
    ],
    [
      'the role does not trust this source role',
      { enabled: true },
      { sub: 'arn:aws:iam::111111111111:role/someone-else' },
      new RegExp(
        `assuming the destination role .*failed .*role ${chinaRole.replace(/[/]/g, '\\/')}, partition aws-cn, region cn-north-1.*likely fix: role .* does not trust issuer ${ISSUER.replace(/[.]/g, '\\.')} with sub ${SOURCE_ROLE.replace(/[/]/g, '\\/')}`,
      ),
    ],
    [
      'the audience differs',
      { enabled: true },
      { aud: 'ferry.example' },
      /assuming the destination role .*likely fix: the audience differs: the token is for "sts\.amazonaws\.com"/,
    ],
  ])('an error names the hop, role, partition and region, and the likely fix: %s', async (_name, federation, trust, message) => {
    const t = trust as { sub?: string; aud?: string };
    const aws = await standIn({ hosts: chinaHosts, roles: roles(t.sub, t.aud), federation: { issuer: ISSUER, ...federation } });
    const run = await push(aws, chinaHost, `${chinaHost}/cn/fail:v1=${chinaRole}`, ['--trust', 'outbound-federation'], irsa);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expectNoSecrets(run, aws);
  });

  test("ferry copy as the Argo push step runs it: the build registry with the pod's default chain, the China role by outbound federation", async () => {
    const buildHost = '111111111111.dkr.ecr.us-east-1.amazonaws.com';
    const hosts = [...chinaHosts, 'api.ecr.us-east-1.amazonaws.com'];
    const aws = await standIn({ hosts, roles: roles(), federation: { issuer: ISSUER, enabled: true } });
    const built = await push(aws, buildHost, `${buildHost}/build/app:v1`, ['--json'], irsa);
    expect(built.code).toBe(0);
    const digest = JSON.parse(built.stdout).digest as string;
    const before = aws.calls.length;
    const run = await ferry(
      aws,
      [buildHost, chinaHost],
      [
        'copy',
        `${buildHost}/build/app@${digest}`,
        '--to',
        `${chinaHost}/cn/copied:v1=${chinaRole}`,
        '--expect-digest',
        digest,
        '--trust',
        'outbound-federation',
        '--json',
      ],
      irsa,
    );
    expect(run.stderr).not.toContain('FAILED');
    expect(run.code).toBe(0);
    expect(aws.unexpectedHosts).toEqual([]);
    const calls = aws.calls.slice(before).map((c) => [c.api, c.host, c.roleArn ?? '', c.region]);
    expect(calls.sort()).toEqual(
      [
        // The source: IRSA's source role, ECR login in the build region.
        ['ecr:GetAuthorizationToken', 'api.ecr.us-east-1.amazonaws.com', '', 'us-east-1'],
        // The destination: mint with the source role in the build region, assume the China role in China.
        ['ecr:GetAuthorizationToken', 'api.ecr.cn-north-1.amazonaws.com.cn', '', 'cn-north-1'],
        // AssumeRoleWithWebIdentity is unsigned: its host alone names the region.
        ['sts:AssumeRoleWithWebIdentity', 'sts.cn-north-1.amazonaws.com.cn', chinaRole, undefined],
        ['sts:AssumeRoleWithWebIdentity', 'sts.us-east-1.amazonaws.com', SOURCE_ROLE, undefined],
        ['sts:AssumeRoleWithWebIdentity', 'sts.us-east-1.amazonaws.com', SOURCE_ROLE, undefined],
        ['sts:GetWebIdentityToken', 'sts.us-east-1.amazonaws.com', SOURCE_ROLE, 'us-east-1'],
      ].sort(),
    );
    expect(JSON.parse(run.stdout).destinations[0]).toMatchObject({ ok: true, digest });
    expect((await registryGet(registry, '/v2/cn/copied/manifests/v1')).status).toBe(200);
    expectNoSecrets(run, aws);
  });

  test('a pod role (IRSA) of another partition fails at its own hop, named as such, not as an ECR login', async () => {
    const buildHost = '111111111111.dkr.ecr.us-east-1.amazonaws.com';
    const aws = await standIn({ hosts: ['sts.us-east-1.amazonaws.com', 'api.ecr.us-east-1.amazonaws.com'], roles: roles() });
    const wrong = SOURCE_ROLE.replace('arn:aws:', 'arn:aws-us-gov:');
    const run = await push(aws, buildHost, `${buildHost}/build/wrong:v1`, [], { ...irsa, AWS_ROLE_ARN: wrong });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `assuming the pod's own role (IRSA: STS AssumeRoleWithWebIdentity of AWS_ROLE_ARN) failed for ${buildHost} (role ${wrong}, partition aws, region us-east-1, trust IRSA)`,
    );
    expect(run.stderr).toContain(`likely fix: role ${wrong} is in partition aws-us-gov, but STS in us-east-1 serves partition aws`);
    expect(aws.calls.filter((c) => c.api === 'ecr:GetAuthorizationToken')).toEqual([]);
    expectNoSecrets(run, aws);
  });

  test('outbound federation inside one partition is refused before any call (exit 2)', async () => {
    const aws = await standIn({ hosts: chinaHosts });
    const host = '222222222222.dkr.ecr.us-west-2.amazonaws.com';
    const run = await push(aws, host, `${host}/x:v1=arn:aws:iam::222222222222:role/r`, ['--trust', 'outbound-federation'], irsa);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('STS rejects outbound-federation tokens inside one partition');
    expect(aws.calls).toEqual([]);
  });
});
