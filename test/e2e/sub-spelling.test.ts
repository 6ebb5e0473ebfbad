/**
 * Issue 16 item 10: the outbound trust's `sub` and the role path, end to end.
 *
 * AWS documents the `sub` of a GetWebIdentityToken token as the calling role's ARN, but shows it
 * only for a role without a path; whether STS keeps the path is not documented. ferry's destination
 * role therefore trusts both spellings of its one source role. Here the build target has a role
 * path, the STS stand-in mints each spelling in turn, and the China push step (from dist/, judged
 * by the synthesized trust policy) must deliver with either, and fail with a third.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as ferryPush } from '../../lib/cli/push';
import type { FerryConfig, Target } from '../../lib/config/model';
import { outboundTokenSubjects, pushTaskName, registryHost, roleArn, sourceRoleArn } from '../../lib/config/naming';
import { synthesize } from '../../lib/synth';
import { makeFixture, ociLayoutDir, SMALL_LAYERS } from '../push/fixtures';
import { startRegistry, type TestRegistry } from '../push/registry-server';
import { copyExampleConfig, editConfig, tempDir } from '../support/config-fixture';
import { AwsFront } from './aws-front';
import { IamWorld, readCloudAssembly } from './iam-world';
import { TestIssuer } from './issuers';
import { findStep, readDist, runStep } from './push-step';
import { type OutboundSubject, SUB_WITH_PATH, SUB_WITHOUT_PATH } from './sts-stand-in';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ROLE_PATH = '/delivery/team-a/';
const WORKFLOW = 'ferry-e2e-sub';

let root: string;
let config: FerryConfig;
let china: Target;
let clusterIssuer: TestIssuer;
let dist: Json[];
let registries: Map<string, TestRegistry>;
let front: AwsFront;
let image: { dir: string; digest: string };
let runs = 0;

beforeAll(async () => {
  root = tempDir('ferry-e2e-sub-');
  const configDir = copyExampleConfig();
  editConfig(configDir, 'build.yaml', /^region: us-east-1$/m, `region: us-east-1\nrolePath: ${ROLE_PATH}`);
  ({ config } = synthesize({ configDir, outRoot: path.join(root, 'out') }));
  china = config.destinations.find((d) => d.trust === 'outbound-federation')!;
  dist = readDist(path.join(root, 'out', 'dist'));
  clusterIssuer = await TestIssuer.create(config.cluster.issuerUrl);
  const outboundIssuer = await TestIssuer.create(config.outboundFederation!.issuerUrl, ['RS256']);
  registries = new Map();
  for (const target of [config.build, china]) registries.set(registryHost(target), await startRegistry());
  front = await AwsFront.start({
    dir: path.join(root, 'front'),
    regions: [config.build.region, china.region],
    issuers: [clusterIssuer, outboundIssuer],
    outboundIssuers: [outboundIssuer],
    backends: new Map([...registries].map(([host, r]) => [host, r.host])),
    world: new IamWorld(readCloudAssembly(path.join(root, 'out', 'cdk.out')), {
      outboundIssuers: { [config.build.account]: outboundIssuer.url },
    }),
  });
  image = ociLayoutDir(await makeFixture(path.join(root, 'image'), SMALL_LAYERS));
  // Kaniko's part: the image is in the build registry before the push step runs.
  const build = registries.get(registryHost(config.build))!;
  const err = new PassThrough();
  let stderr = '';
  err.on('data', (d) => {
    stderr += d;
  });
  const out = new PassThrough().resume();
  const code = await ferryPush([image.dir, '--to', `${build.host}/${config.repositories[0].name}:build`, '--insecure-registry', build.host], {
    env: {},
    stdout: out,
    stderr: err,
  });
  if (code !== 0) throw new Error(`filling the build registry failed: ${stderr}`);
}, 180_000);

afterAll(async () => {
  await front?.stop();
  for (const r of registries?.values() ?? []) await r.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function pushChina(subject: OutboundSubject) {
  front.sts.outboundSubject = subject;
  front.sts.calls.length = 0;
  front.ecr.calls.length = 0;
  const step = findStep(dist, pushTaskName(china));
  const tag = `sub-${++runs}`;
  const result = await runStep(step, {
    parameters: { workspace_claim: `${WORKFLOW}-workspace`, image_repository: config.repositories[0].name, image_tag: tag, expected_digest: image.digest },
    workflowName: WORKFLOW,
    clusterIssuer,
    clusterRegion: config.build.region,
    dir: path.join(root, 'steps', tag),
    extraEnv: front.processEnv(),
    files: {},
  });
  const assume = front.sts.calls.find((c) => c.action === 'AssumeRoleWithWebIdentity' && c.roleArn === roleArn(china));
  return { result, assume, why: `exit ${result.code}\n${result.stderr}\n${front.sts.calls.map((c) => JSON.stringify(c)).join('\n')}` };
}

test('the build role path is not /, so the two spellings differ, and the trust lists exactly both', () => {
  const source = sourceRoleArn(config, china);
  expect(source).toBe(`arn:aws:iam::${config.build.account}:role${ROLE_PATH}ferry-pusher-${china.name}`);
  expect(outboundTokenSubjects(config, china)).toEqual([source, `arn:aws:iam::${config.build.account}:role/ferry-pusher-${china.name}`]);
  const role = front.world.roles.get(roleArn(china))!;
  const subKey = Object.keys(role.trust[0].Condition!.StringEquals).find((k) => k.endsWith(':sub'))!;
  expect(role.trust[0].Condition!.StringEquals[subKey]).toEqual(outboundTokenSubjects(config, china));
});

test.each([
  ['with the path', SUB_WITH_PATH],
  ['without the path', SUB_WITHOUT_PATH],
])('STS spells sub %s: the outbound push step delivers the built digest', async (_name, subject) => {
  const run = await pushChina(subject);
  expect({ code: run.result.code, why: run.result.code === 0 ? '' : run.why }).toEqual({ code: 0, why: '' });
  const expected = subject === SUB_WITH_PATH ? sourceRoleArn(config, china) : outboundTokenSubjects(config, china)[1];
  expect(run.assume).toMatchObject({ ok: true, sub: expected, iss: config.outboundFederation!.issuerUrl, region: china.region });
  expect(front.ecr.calls.find((c) => c.api.startsWith('PUT') && c.api.includes('/manifests/'))).toMatchObject({ ok: true, roleArn: roleArn(china) });
});

test('a third sub (the same role name under another path) is refused at the destination role, and nothing lands', async () => {
  const other = `arn:aws:iam::${config.build.account}:role/another/path/ferry-pusher-${china.name}`;
  const run = await pushChina(() => other);
  expect(run.result.code).not.toBe(0);
  expect(run.assume).toMatchObject({ ok: false, sub: other });
  expect(run.assume!.error).toMatch(/AccessDenied.*:sub/);
  expect(run.result.stderr).toMatch(/assuming the destination role .*failed/);
  expect(front.ecr.calls.filter((c) => c.api.startsWith('PUT') && c.ok)).toEqual([]);
});
