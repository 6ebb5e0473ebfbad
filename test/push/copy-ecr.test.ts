/**
 * Source credentials of ferry copy through the ECR path: a local STAND-IN for the ECR and
 * STS APIs (AWS_ENDPOINT_URL_ECR / _STS) in front of the real docker-registry, whose
 * htpasswd knows user AWS with the password the stand-in hands out. ferry runs as a child
 * process, so the AWS SDK sees exactly the environment a pod would give it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type AwsApiStandIn, startAwsApiStandIn } from './aws-api-stand-in';
import { kanikoTar, makeFixture, SMALL_LAYERS } from './fixtures';
import { dockerConfig, ECR_PASSWORD, ferryProcess, ferryPush, PASSWORD, skopeo, tmpDir, USER } from './helpers';
import { startRegistry, type TestRegistry } from './registry-server';

let ecr: TestRegistry;
let plain: TestRegistry;
let standIn: AwsApiStandIn;
let work: string;
let tokenFile: string;
let digest: string;
const WEB_IDENTITY_TOKEN = 'eyJstand-in-web-identity-token-copy';

beforeAll(async () => {
  work = tmpDir('copy-ecr');
  [ecr, plain, standIn] = await Promise.all([
    startRegistry({ users: { [USER]: PASSWORD, AWS: ECR_PASSWORD } }),
    startRegistry(),
    startAwsApiStandIn([ECR_PASSWORD]),
  ]);
  const image = kanikoTar(await makeFixture(path.join(work, 'image'), SMALL_LAYERS.slice(0, 2)));
  const stored = await ferryPush([image, '--to', `${ecr.host}/build/app:v1`, '--ca-file', ecr.caFile!, '--json'], {
    DOCKER_CONFIG: dockerConfig(path.join(work, 'docker'), ecr.host, USER, PASSWORD),
    HOME: work,
  });
  expect(stored.code).toBe(0);
  digest = JSON.parse(stored.stdout).digest;
  tokenFile = path.join(work, 'token');
  fs.writeFileSync(tokenFile, `${WEB_IDENTITY_TOKEN}\n`);
});

afterAll(async () => {
  await Promise.all([ecr?.stop(), plain?.stop(), standIn?.stop()]);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('a source REF=ROLE gets its ECR token through the role, assumed with the web identity token, and copies by digest', async () => {
  const role = 'arn:aws-us-gov:iam::123456789012:role/ferry-pusher-govcloud';
  const run = await ferryProcess(
    [
      'copy',
      `${ecr.host}/build/app@${digest}=${role}`,
      '--to',
      `${plain.host}/delivered/app:v1`,
      '--expect-digest',
      digest,
      '--ca-file',
      ecr.caFile!,
      '--insecure-registry',
      plain.host,
      '--json',
    ],
    {
      PATH: process.env.PATH!,
      HOME: work,
      AWS_ENDPOINT_URL_ECR: standIn.url,
      AWS_ENDPOINT_URL_STS: standIn.url,
      AWS_ECR_ENDPOINT: ecr.host,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'us-gov-west-1',
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    },
  );
  expect(run.stderr).not.toContain('FAILED');
  expect(run.code).toBe(0);
  expect(standIn.calls).toEqual([
    { api: 'sts:AssumeRoleWithWebIdentity', roleArn: role, webIdentityToken: WEB_IDENTITY_TOKEN },
    { api: 'ecr:GetAuthorizationToken', region: 'us-gov-west-1', accessKeyId: standIn.assumedAccessKeyId },
  ]);
  expect(JSON.parse(run.stdout).destinations[0]).toEqual(expect.objectContaining({ ok: true, digest }));
  const landed = await skopeo(plain, ['inspect', '--raw', `docker://${plain.host}/delivered/app:v1`]);
  expect(landed.code).toBe(0);
  for (const secret of [ECR_PASSWORD, WEB_IDENTITY_TOKEN, 'stand-in-secret', 'stand-in-session']) expect(run.stderr + run.stdout).not.toContain(secret);
});
