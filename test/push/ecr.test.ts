/**
 * The ECR auth path against a local STAND-IN for the ECR and STS APIs (reached through
 * AWS_ENDPOINT_URL_ECR / AWS_ENDPOINT_URL_STS); the registry behind it is the real one,
 * whose htpasswd knows user AWS with the password the stand-in hands out. ferry runs as
 * a child process so the AWS SDK sees exactly the environment a pod would give it.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { version } from '../../package.json';
import { childOutput } from '../support/child-output';
import { imageEnv, imageInstruction } from '../support/dockerfile';
import { type AwsApiStandIn, startAwsApiStandIn } from './aws-api-stand-in';
import { kanikoTar, makeFixture, SMALL_LAYERS } from './fixtures';
import { ECR_PASSWORD, ferryProcess, PASSWORD, REPO_ROOT, registryGet, skopeo, tmpDir, USER } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let registry: TestRegistry;
let standIn: AwsApiStandIn;
let work: string;
let image: string;
let tokenFile: string;
const WEB_IDENTITY_TOKEN = 'eyJstand-in-web-identity-token';

beforeAll(async () => {
  work = tmpDir('ecr');
  [registry, standIn] = await Promise.all([startRegistry({ users: { [USER]: PASSWORD, AWS: ECR_PASSWORD } }), startAwsApiStandIn([ECR_PASSWORD])]);
  image = kanikoTar(await makeFixture(path.join(work, 'image'), SMALL_LAYERS.slice(0, 2)));
  tokenFile = path.join(work, 'token');
  fs.writeFileSync(tokenFile, `${WEB_IDENTITY_TOKEN}\n`);
});

afterAll(async () => {
  await Promise.all([registry?.stop(), standIn?.stop()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  standIn.calls.length = 0;
  standIn.passwords = [ECR_PASSWORD];
});

/** What a pod has: no credentials on disk, AWS endpoints pointed at the stand-in. */
function podEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH!,
    HOME: work,
    AWS_ENDPOINT_URL_ECR: standIn.url,
    AWS_ENDPOINT_URL_STS: standIn.url,
    AWS_ECR_ENDPOINT: registry.host,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

function expectNoSecrets(text: string): void {
  for (const secret of [ECR_PASSWORD, 'stand-in-secret', 'stand-in-session', WEB_IDENTITY_TOKEN, Buffer.from(`AWS:${ECR_PASSWORD}`).toString('base64')]) {
    expect(text).not.toContain(secret);
  }
}

test('stand-in ECR/STS: --to REF=ROLE assumes the role with the web identity token, in the registry partition region, and pushes', async () => {
  const role = 'arn:aws-us-gov:iam::123456789012:role/ferry-push';
  const run = await ferryProcess(
    ['push', image, '--to', `${registry.host}/ecr/app:v1=${role}`, '--ca-file', registry.caFile!, '--json'],
    podEnv({ AWS_REGION: 'us-gov-west-1', AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile }),
  );
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  expect(standIn.calls).toEqual([
    { api: 'sts:AssumeRoleWithWebIdentity', roleArn: role, webIdentityToken: WEB_IDENTITY_TOKEN },
    { api: 'ecr:GetAuthorizationToken', region: 'us-gov-west-1', accessKeyId: standIn.assumedAccessKeyId },
  ]);
  const inspect = await skopeo(registry, ['inspect', '--raw', `docker://${registry.host}/ecr/app:v1`], `AWS:${ECR_PASSWORD}`);
  expect(inspect.code).toBe(0);
  expect(JSON.parse(run.stdout).digest).toMatch(/^sha256:/);
  expectNoSecrets(run.stderr + run.stdout);
});

test('stand-in ECR: the default credential chain is used without a role, and a token the registry refuses is refreshed once on 401', async () => {
  standIn.passwords = ['stale-password', ECR_PASSWORD];
  const run = await ferryProcess(
    ['push', image, '--to', `${registry.host}/ecr/refreshed:v1`, '--ca-file', registry.caFile!],
    podEnv({ AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIASTANDINDEFAULT01', AWS_SECRET_ACCESS_KEY: 'stand-in-secret' }),
  );
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  const ecrCalls = standIn.calls.filter((c) => c.api === 'ecr:GetAuthorizationToken');
  expect(ecrCalls.length).toBeGreaterThanOrEqual(2);
  expect(ecrCalls[0]).toEqual({ api: 'ecr:GetAuthorizationToken', region: 'eu-west-1', accessKeyId: 'AKIASTANDINDEFAULT01' });
  expect(standIn.calls.some((c) => c.api === 'sts:AssumeRoleWithWebIdentity')).toBe(false);
  expect((await registryGet(registry, '/v2/ecr/refreshed/manifests/v1')).status).toBe(200);
  expectNoSecrets(run.stderr + run.stdout);
});

test('stand-in ECR: a token the registry keeps refusing ends in exit 1 naming the host and the credential source', async () => {
  standIn.passwords = ['wrong-every-time'];
  const run = await ferryProcess(
    ['push', image, '--to', `${registry.host}/ecr/refused:v1`, '--ca-file', registry.caFile!],
    podEnv({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIASTANDINDEFAULT01', AWS_SECRET_ACCESS_KEY: 'stand-in-secret' }),
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toContain(`authentication refused by ${registry.host} (credentials: ECR token from the default AWS credentials in us-east-1)`);
  expect(run.stderr).not.toContain('wrong-every-time');
  expect((await registryGet(registry, '/v2/ecr/refused/tags/list')).status).toBe(404);
});

/**
 * The pusher image's own argv, as a container runtime builds it: the Dockerfile's ENTRYPOINT
 * followed by its CMD (both JSON exec form), `ferry` resolved to the compiled bin/ferry the
 * image links onto its PATH.
 */
function imageArgv(): string[] {
  const [program, ...args] = [...imageInstruction('ENTRYPOINT'), ...imageInstruction('CMD')];
  expect(program).toBe('ferry');
  return [path.join(REPO_ROOT, 'bin', 'ferry'), ...args];
}

test('the pusher image run with no arguments pushes IMAGE_TAR to IMAGE_URI through AWS_ECR_ENDPOINT (the wrapper it replaces), naming ferry in every AWS call', async () => {
  const [program, ...args] = imageArgv();
  // The wrapper's three variables, and what the pod and this test's stand-ins add: IRSA's
  // role and token, the region of an ECR host whose name shows none, the stand-in's URLs, the CA.
  const env = {
    // What the image's ENV sets (NODE_ENV, the allocator's tunables), as the container has it.
    ...imageEnv(),
    IMAGE_TAR: image,
    IMAGE_URI: `${registry.host}/ecr/from-image:v1`,
    AWS_ECR_ENDPOINT: `https://${registry.host}`,
    AWS_REGION: 'us-east-1',
    AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/ferry-build',
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    AWS_ENDPOINT_URL_ECR: standIn.url,
    AWS_ENDPOINT_URL_STS: standIn.url,
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_EXTRA_CA_CERTS: registry.caFile!,
    HOME: work,
  };
  standIn.userAgents.length = 0;
  const run = await childOutput(spawn(process.execPath, [program, ...args], { env, cwd: work }));
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  const inspect = await skopeo(registry, ['inspect', '--raw', `docker://${registry.host}/ecr/from-image:v1`], `AWS:${ECR_PASSWORD}`);
  expect(inspect.code).toBe(0);
  expect(standIn.calls.map((c) => c.api)).toEqual(['sts:AssumeRoleWithWebIdentity', 'ecr:GetAuthorizationToken']);
  expect(standIn.userAgents).toHaveLength(2);
  for (const ua of standIn.userAgents) expect(ua.split(' ')).toContain(`ferry/${version}`);
  expectNoSecrets(run.stderr);
});

// The Argo push step's own command, args and env (now `ferry copy` from the build registry) are
// run from dist/ against trust-checking STS and ECR stand-ins in test/e2e/proof.test.ts.
