/**
 * The stage the end-to-end tests play on (proof.test.ts for the push steps, doctor.test.ts for
 * the in-cluster doctor): one config synthesized into cdk.out/ and dist/, the cluster's and the
 * outbound issuers, one real docker-registry per registry host, the STS and ECR stand-ins judging
 * every call by the synthesized templates, and an image Kaniko "built" into the build registry.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as ferryPush } from '../../lib/cli/push';
import type { FerryConfig } from '../../lib/config/model';
import { registryHost } from '../../lib/config/naming';
import { synthesize } from '../../lib/synth';
import { makeFixture, ociLayoutDir, SMALL_LAYERS } from '../push/fixtures';
import { startRegistry, type TestRegistry } from '../push/registry-server';
import { tempDir } from '../support/config-fixture';
import { requireTool } from '../support/tools';
import { AwsFront } from './aws-front';
import { IamWorld, readCloudAssembly, type StackTemplate } from './iam-world';
import { TestIssuer } from './issuers';
import { readDist, type StepResult } from './push-step';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Regions beyond the config's whose endpoints the stand-ins' certificate covers: a step that
 * calls a wrong region or partition then reaches a stand-in that refuses it, not a TLS error.
 */
const EXTRA_REGIONS = ['us-east-1', 'us-west-2', 'us-gov-west-1', 'us-gov-east-1', 'cn-north-1', 'cn-northwest-1', 'eusc-de-east-1'];

export interface Stage {
  readonly root: string;
  readonly config: FerryConfig;
  readonly stacks: StackTemplate[];
  readonly dist: Json[];
  readonly clusterIssuer: TestIssuer;
  /** Another cluster's issuer: the one the pod's token would carry if build.yaml named the wrong cluster. */
  readonly otherClusterIssuer: TestIssuer;
  readonly outboundIssuer?: TestIssuer;
  /** Another account's outbound issuer: the one a wrong issuerUrl would point at. */
  readonly otherOutboundIssuer: TestIssuer;
  readonly registries: Map<string, TestRegistry>;
  readonly front: AwsFront;
  /** The image in the build registry under `<repository>:build`. */
  readonly image: { dir: string; digest: string };
  /** The first configured repository: every destination has it. */
  readonly repository: string;
  /** IAM as these templates say, with the build account's outbound issuer (or the ones given). */
  worldOf(templates: readonly StackTemplate[], outboundIssuers?: Record<string, string>): IamWorld;
}

async function fillBuildRegistry(config: FerryConfig, registries: Map<string, TestRegistry>, image: { dir: string }, repository: string): Promise<void> {
  // Kaniko's part: the image is in the build registry before any push step runs.
  const out = new PassThrough();
  const err = new PassThrough();
  let stderr = '';
  err.on('data', (d) => {
    stderr += d;
  });
  out.resume();
  const build = registries.get(registryHost(config.build))!;
  const code = await ferryPush([image.dir, '--to', `${build.host}/${repository}:build`, '--insecure-registry', build.host], {
    env: {},
    stdout: out,
    stderr: err,
  });
  if (code !== 0) throw new Error(`filling the build registry failed: ${stderr}`);
}

export async function startStage(configDir: string, prefix: string): Promise<Stage> {
  const root = tempDir(prefix);
  const { config } = synthesize({ configDir, outRoot: path.join(root, 'out') });
  const stacks = readCloudAssembly(path.join(root, 'out', 'cdk.out'));
  const dist = readDist(path.join(root, 'out', 'dist'));
  const clusterIssuer = await TestIssuer.create(config.cluster.issuerUrl);
  const otherClusterIssuer = await TestIssuer.create(config.cluster.issuerUrl.replace(/[^/]+$/, 'OTHERCLUSTER00000000000000000000'));
  const outboundIssuer = config.outboundFederation ? await TestIssuer.create(config.outboundFederation.issuerUrl, ['RS256', 'ES384']) : undefined;
  const otherOutboundIssuer = await TestIssuer.create('https://ffffffff-0000-4000-8000-999999999999.tokens.sts.global.api.aws', ['RS256', 'ES384']);
  const registries = new Map<string, TestRegistry>();
  for (const target of [config.build, ...config.destinations]) registries.set(registryHost(target), await startRegistry());
  const worldOf = (templates: readonly StackTemplate[], outboundIssuers = outboundIssuer ? { [config.build.account]: outboundIssuer.url } : {}) =>
    new IamWorld(templates, { outboundIssuers });
  const regions = [...new Set([...[config.build, ...config.destinations].map((t) => t.region), ...EXTRA_REGIONS])];
  const front = await AwsFront.start({
    dir: path.join(root, 'front'),
    regions,
    issuers: [clusterIssuer, otherClusterIssuer, otherOutboundIssuer, ...(outboundIssuer ? [outboundIssuer] : [])],
    outboundIssuers: [otherOutboundIssuer, ...(outboundIssuer ? [outboundIssuer] : [])],
    backends: new Map([...registries].map(([host, r]) => [host, r.host])),
    world: worldOf(stacks),
  });
  const repository = config.repositories[0].name;
  const image = ociLayoutDir(await makeFixture(path.join(root, 'image'), SMALL_LAYERS));
  await fillBuildRegistry(config, registries, image, repository);
  return { root, config, stacks, dist, clusterIssuer, otherClusterIssuer, outboundIssuer, otherOutboundIssuer, registries, front, image, repository, worldOf };
}

export async function stopStage(stage: Stage | undefined): Promise<void> {
  await stage?.front.stop();
  for (const r of stage?.registries.values() ?? []) await r.stop();
  if (stage?.root) fs.rmSync(stage.root, { recursive: true, force: true });
}

/** Back to the synthesized world, with no calls recorded: call before each test. */
export function resetStage(stage: Stage): void {
  stage.front.world = stage.worldOf(stage.stacks);
  stage.front.sts.calls.length = 0;
  stage.front.ecr.calls.length = 0;
}

/** skopeo against the docker-registry behind a destination: what really landed. */
export function skopeoRaw(registry: TestRegistry, ref: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  requireTool('skopeo', 'skopeo');
  const home = tempDir('ferry-skopeo-home-');
  return new Promise((resolve) => {
    execFile(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/${ref}`],
      { env: { PATH: process.env.PATH, HOME: home }, encoding: 'buffer', timeout: 60_000 },
      (err, stdout, stderr) => {
        fs.rmSync(home, { recursive: true, force: true });
        resolve({ code: err ? 1 : 0, stdout, stderr: stderr.toString() });
      },
    );
  });
}

/** A step's exit, command, output and every call the stand-ins saw: what a failing assertion should show. */
export function failure(stage: Stage, result: StepResult): string {
  const { front } = stage;
  return `exit ${result.code}\n${result.command.join(' ')}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\nSTS calls:\n${front.sts.calls.map((c) => JSON.stringify(c)).join('\n')}\nECR calls:\n${front.ecr.calls
    .filter((c) => !c.ok)
    .map((c) => JSON.stringify(c))
    .join('\n')}`;
}

/** No token, key or password the stand-ins handed out may reach a step's output. */
export function leakedSecrets(stage: Stage, output: string): string[] {
  const jwt = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/.exec(output);
  return [...(jwt ? ['a JWT'] : []), ...[...stage.front.sessions.secrets(), ...stage.front.ecr.passwords()].filter((s) => output.includes(s))];
}
