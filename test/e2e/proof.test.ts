/**
 * The proof of issue 10: one run from config to image, for both trust paths.
 *
 * config/ (the example) → `npm run synth`'s library function → cdk.out/ (trust and permission
 * policies) and dist/ (ServiceAccount annotations, push steps) → each destination's push step
 * run with its own command, args and env → tokens from the stand-in issuers → STS and ECR
 * stand-ins that judge every call by the synthesized policies → an image in a real
 * docker-registry, checked with skopeo.
 *
 * Then, one mistake at a time (in memory, on a copy of what synth wrote): the step must fail,
 * at the hop the mistake belongs to, and say so.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { synthesize } from '../../lib/synth';
import type { FerryConfig, Target } from '../../lib/config/model';
import { pushTaskName, registryHost, roleArn, serviceAccountName, sourceRoleArn } from '../../lib/config/naming';
import { main as ferryPush } from '../../lib/push/cli';
import { PassThrough } from 'node:stream';
import { EXAMPLE_CONFIG, tempDir } from '../support/config-fixture';
import { makeFixture, ociLayoutDir, SMALL_LAYERS } from '../push/fixtures';
import { requireTool, startRegistry, TestRegistry } from '../push/registry-server';
import { AwsFront } from './aws-front';
import { IamWorld, readCloudAssembly, StackTemplate } from './iam-world';
import { TestIssuer } from './issuers';
import { findStep, readDist, runStep, StepResult } from './push-step';
import { execFile } from 'node:child_process';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const REPOSITORY = 'ferry/demo-app';
const WORKFLOW = 'ferry-e2e-run';
/** Regions beyond the config's whose endpoints the stand-ins answer, for the wrong-region cases. */
const EXTRA_REGIONS = ['us-east-1', 'us-west-2', 'us-gov-west-1', 'us-gov-east-1', 'cn-north-1', 'cn-northwest-1', 'eusc-de-east-1'];

let root: string;
let config: FerryConfig;
let stacks: StackTemplate[];
let dist: Json[];
let clusterIssuer: TestIssuer;
let outboundIssuer: TestIssuer | undefined;
let registries: Map<string, TestRegistry>;
let front: AwsFront;
let image: { dir: string; digest: string };
let runs = 0;

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

function worldOf(templates: readonly StackTemplate[], outboundIssuers = outboundIssuer ? { [config.build.account]: outboundIssuer.url } : {}): IamWorld {
  return new IamWorld(templates, { outboundIssuers });
}

/** skopeo against the docker-registry behind a destination: what really landed. */
function skopeoRaw(registry: TestRegistry, ref: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  requireTool('skopeo', 'skopeo');
  const home = tempDir('ferry-skopeo-home-');
  return new Promise((resolve) => {
    execFile('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${ref}`], { env: { PATH: process.env.PATH, HOME: home }, encoding: 'buffer', timeout: 60_000 }, (err, stdout, stderr) => {
      fs.rmSync(home, { recursive: true, force: true });
      resolve({ code: err ? 1 : 0, stdout, stderr: stderr.toString() });
    });
  });
}

async function seedBuildRegistry(): Promise<void> {
  // Kaniko's part: the image is in the build registry before any push step runs.
  const out = new PassThrough();
  const err = new PassThrough();
  let stderr = '';
  err.on('data', (d) => { stderr += d; });
  out.resume();
  const build = registries.get(registryHost(config.build))!;
  const code = await ferryPush([image.dir, '--to', `${build.host}/${REPOSITORY}:build`, '--insecure-registry', build.host], { env: {}, stdout: out, stderr: err });
  if (code !== 0) throw new Error(`seeding the build registry failed: ${stderr}`);
}

interface DestinationRun {
  readonly result: StepResult;
  readonly tag: string;
}

/** Runs destination D's push step from dist/ (optionally a mutated copy) against the stand-ins. */
async function pushStep(destination: Target, objects: Json[] = dist, mutateEnv?: (env: Json[]) => void): Promise<DestinationRun> {
  const step = findStep(objects, pushTaskName(destination));
  if (mutateEnv) {
    step.template.container.env = clone(step.template.container.env ?? []);
    mutateEnv(step.template.container.env);
  }
  const tag = `e2e-${++runs}`;
  const imageTar = (step.template.container.env ?? []).find((e: Json) => e.name === 'IMAGE_TAR')?.value as string | undefined;
  const result = await runStep(step, {
    parameters: { workspace_claim: `${WORKFLOW}-workspace`, image_repository: REPOSITORY, image_tag: tag, expected_digest: image.digest },
    workflowName: WORKFLOW,
    clusterIssuer,
    clusterRegion: config.build.region,
    dir: path.join(root, 'steps', tag),
    extraEnv: front.processEnv(),
    // Where Kaniko left its OCI layout, for a step that reads it from the run volume.
    files: imageTar ? { [imageTar]: (hostPath) => fs.cpSync(image.dir, hostPath, { recursive: true }) } : {},
  });
  return { result, tag };
}

function failure(run: DestinationRun): string {
  return `exit ${run.result.code}\n${run.result.command.join(' ')}\nstderr:\n${run.result.stderr}\nSTS calls:\n${front.sts.calls.map((c) => JSON.stringify(c)).join('\n')}\nECR calls:\n${front.ecr.calls.filter((c) => !c.ok).map((c) => JSON.stringify(c)).join('\n')}`;
}

beforeAll(async () => {
  root = tempDir('ferry-e2e-');
  config = synthesize({ configDir: EXAMPLE_CONFIG, outRoot: path.join(root, 'out') });
  stacks = readCloudAssembly(path.join(root, 'out', 'cdk.out'));
  dist = readDist(path.join(root, 'out', 'dist'));
  clusterIssuer = await TestIssuer.create(config.cluster.issuerUrl);
  outboundIssuer = config.outboundFederation ? await TestIssuer.create(config.outboundFederation.issuerUrl, ['RS256', 'ES384']) : undefined;
  registries = new Map();
  for (const target of [config.build, ...config.destinations]) registries.set(registryHost(target), await startRegistry());
  const regions = [...new Set([...[config.build, ...config.destinations].map((t) => t.region), ...EXTRA_REGIONS])];
  front = await AwsFront.start({
    dir: path.join(root, 'front'),
    regions,
    issuers: [clusterIssuer, ...(outboundIssuer ? [outboundIssuer] : [])],
    outboundIssuers: outboundIssuer ? [outboundIssuer] : [],
    backends: new Map([...registries].map(([host, r]) => [host, r.host])),
    world: worldOf(stacks),
  });
  const fixture = await makeFixture(path.join(root, 'image'), SMALL_LAYERS);
  image = ociLayoutDir(fixture);
  await seedBuildRegistry();
}, 120_000);

afterAll(async () => {
  await front?.stop();
  for (const r of registries?.values() ?? []) await r.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  front.world = worldOf(stacks);
  front.sts.calls.length = 0;
  front.ecr.calls.length = 0;
});

describe('config → policies → ServiceAccount → push step → tokens → image', () => {
  test('the example config has a destination on each trust path', () => {
    expect(config.destinations.map((d) => d.trust).sort()).toEqual(['cluster-oidc', 'outbound-federation']);
  });

  test.each(['cluster-oidc', 'outbound-federation'])('%s: the push step delivers the built digest, by the synthesized trust', async (trust) => {
    const destination = config.destinations.find((d) => d.trust === trust)!;
    const run = await pushStep(destination);
    expect({ code: run.result.code, why: run.result.code === 0 ? '' : failure(run) }).toEqual({ code: 0, why: '' });

    // What landed, read by skopeo from the real registry behind the destination.
    const landed = await skopeoRaw(registries.get(registryHost(destination))!, `${REPOSITORY}:${run.tag}`);
    expect(landed.code).toBe(0);
    expect(`sha256:${createHash('sha256').update(landed.stdout).digest('hex')}`).toBe(image.digest);

    // The tokens took the path the config asked for.
    const sa = `system:serviceaccount:${findStep(dist, pushTaskName(destination)).namespace}:${serviceAccountName(destination)}`;
    const assumed = front.sts.calls.filter((c) => c.ok && c.action === 'AssumeRoleWithWebIdentity');
    const destinationAssume = assumed.find((c) => c.roleArn === roleArn(destination));
    expect(destinationAssume).toMatchObject({ region: destination.region });
    if (trust === 'cluster-oidc') {
      expect(destinationAssume).toMatchObject({ iss: config.cluster.issuerUrl, sub: sa });
    } else {
      const source = sourceRoleArn(config, destination);
      expect(assumed.find((c) => c.roleArn === source)).toMatchObject({ iss: config.cluster.issuerUrl, sub: sa, region: config.build.region });
      expect(front.sts.calls.find((c) => c.action === 'GetWebIdentityToken')).toMatchObject({ ok: true, roleArn: source, region: config.build.region, iss: outboundIssuer!.url });
      expect(destinationAssume).toMatchObject({ iss: config.outboundFederation!.issuerUrl, sub: source });
    }
    expect(front.ecr.calls.find((c) => c.api === 'ecr:GetAuthorizationToken' && c.region === destination.region)).toMatchObject({ ok: true, roleArn: roleArn(destination) });
    expect(front.ecr.calls.find((c) => c.api.startsWith('PUT') && c.api.includes('/manifests/'))).toMatchObject({ ok: true, roleArn: roleArn(destination), host: registryHost(destination) });
  });
});
