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
 *
 * FERRY_E2E_SHOW=1 prints ferry's failure line of each mistake, to read what a user would see.
 * FERRY_E2E_CONFIG=<dir> runs the same proof on another config (every destination, and the
 * mistakes on the first destination of each trust path it uses).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig, Target } from '../../lib/config/model';
import { pushTaskName, registryHost, roleArn, serviceAccountName, sourceRoleArn } from '../../lib/config/naming';
import { EXAMPLE_CONFIG } from '../support/config-fixture';
import { type MistakeName, mistake } from './mistakes';
import { findStep, runStep, type StepResult } from './push-step';
import { failure as describeFailure, leakedSecrets, resetStage, type Stage, skopeoRaw, startStage, stopStage } from './stage';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const WORKFLOW = 'ferry-e2e-run';

/** Read up front only to name the tests: one per destination of the config. */
const CONFIG_DIR = process.env.FERRY_E2E_CONFIG ?? EXAMPLE_CONFIG;
const EXAMPLE = loadConfig(CONFIG_DIR);
const DESTINATIONS = EXAMPLE.destinations.map((d) => [d.name, d.trust] as const);
const TRUST_PATHS = [...new Set(EXAMPLE.destinations.map((d) => d.trust))];
/** The first configured repository: every destination has it. */
const REPOSITORY = EXAMPLE.repositories[0].name;

let stage: Stage;
let config: FerryConfig;
let dist: Json[];
let runs = 0;

interface DestinationRun {
  readonly result: StepResult;
  readonly tag: string;
}

/** Runs destination D's push step from dist/ (optionally a mutated copy) against the stand-ins. */
async function pushStep(destination: Target, objects: Json[] = dist, clusterIssuer = stage.clusterIssuer): Promise<DestinationRun> {
  const step = findStep(objects, pushTaskName(destination));
  const tag = `e2e-${++runs}`;
  const imageTar = (step.template.container.env ?? []).find((e: Json) => e.name === 'IMAGE_TAR')?.value as string | undefined;
  const result = await runStep(step, {
    parameters: { workspace_claim: `${WORKFLOW}-workspace`, image_repository: REPOSITORY, image_tag: tag, expected_digest: stage.image.digest },
    workflowName: WORKFLOW,
    clusterIssuer,
    clusterRegion: config.build.region,
    dir: path.join(stage.root, 'steps', tag),
    extraEnv: stage.front.processEnv(),
    // Where Kaniko left its OCI layout, for a step that reads it from the run volume.
    files: imageTar ? { [imageTar]: (hostPath) => fs.cpSync(stage.image.dir, hostPath, { recursive: true }) } : {},
  });
  return { result, tag };
}

function failure(run: DestinationRun): string {
  return describeFailure(stage, run.result);
}

beforeAll(async () => {
  stage = await startStage(CONFIG_DIR, 'ferry-e2e-');
  ({ config, dist } = stage);
}, 120_000);

afterAll(() => stopStage(stage));

beforeEach(() => resetStage(stage));

describe('config → policies → ServiceAccount → push step → tokens → image', () => {
  (CONFIG_DIR === EXAMPLE_CONFIG ? test : test.skip)('the example config has a destination on each trust path', () => {
    expect(new Set(config.destinations.map((d) => d.trust))).toEqual(new Set(['cluster-oidc', 'outbound-federation']));
  });

  test.each(DESTINATIONS)('%s (%s): the push step runs as the ServiceAccount of the source role', (name) => {
    const destination = config.destinations.find((d) => d.name === name)!;
    const step = findStep(dist, pushTaskName(destination));
    expect(step.serviceAccount.metadata.name).toBe(serviceAccountName(destination));
    expect(step.serviceAccount.metadata.annotations).toMatchObject({
      'eks.amazonaws.com/role-arn': sourceRoleArn(config, destination),
      'eks.amazonaws.com/audience': config.cluster.audience,
      'eks.amazonaws.com/sts-regional-endpoints': 'true',
    });
  });

  test.each(DESTINATIONS)('%s (%s): the push step delivers the built digest, by the synthesized trust', async (name, trust) => {
    const destination = config.destinations.find((d) => d.name === name)!;
    const run = await pushStep(destination);
    expect({ code: run.result.code, why: run.result.code === 0 ? '' : failure(run) }).toEqual({ code: 0, why: '' });

    // What landed, read by skopeo from the real registry behind the destination.
    const landed = await skopeoRaw(stage.registries.get(registryHost(destination))!, `${REPOSITORY}:${run.tag}`);
    expect(landed.code).toBe(0);
    expect(`sha256:${createHash('sha256').update(landed.stdout).digest('hex')}`).toBe(stage.image.digest);

    // The tokens took the path the config asked for.
    const sa = `system:serviceaccount:${findStep(dist, pushTaskName(destination)).namespace}:${serviceAccountName(destination)}`;
    const assumed = stage.front.sts.calls.filter((c) => c.ok && c.action === 'AssumeRoleWithWebIdentity');
    // In the destination's own region (a destination in the build account may also be the step's own role, assumed in the build region).
    const destinationAssume = assumed.find((c) => c.roleArn === roleArn(destination) && c.region === destination.region);
    expect(destinationAssume ?? assumed.map((c) => `${c.roleArn} in ${c.region}`)).toMatchObject({ region: destination.region });
    if (trust === 'cluster-oidc') {
      expect(destinationAssume).toMatchObject({ iss: config.cluster.issuerUrl, sub: sa });
    } else {
      const source = sourceRoleArn(config, destination);
      expect(assumed.find((c) => c.roleArn === source)).toMatchObject({ iss: config.cluster.issuerUrl, sub: sa, region: config.build.region });
      expect(stage.front.sts.calls.find((c) => c.action === 'GetWebIdentityToken')).toMatchObject({
        ok: true,
        roleArn: source,
        region: config.build.region,
        iss: stage.outboundIssuer!.url,
      });
      expect(destinationAssume).toMatchObject({ iss: config.outboundFederation!.issuerUrl, sub: source });
    }
    expect(stage.front.ecr.calls.find((c) => c.api === 'ecr:GetAuthorizationToken' && c.region === destination.region)).toMatchObject({
      ok: true,
      roleArn: roleArn(destination),
    });
    expect(stage.front.ecr.calls.find((c) => c.api.startsWith('PUT') && c.api.includes('/manifests/'))).toMatchObject({
      ok: true,
      roleArn: roleArn(destination),
      host: registryHost(destination),
    });

    // A step that starts from a source role (the ServiceAccount's) reads the build registry with it.
    const stepRole = findStep(dist, pushTaskName(destination)).serviceAccount.metadata.annotations['eks.amazonaws.com/role-arn'];
    const buildReads = stage.front.ecr.calls.filter((c) => c.host === registryHost(config.build) && c.roleArn);
    if (stepRole !== roleArn(destination) && buildReads.length > 0) {
      expect(buildReads.filter((c) => c.roleArn !== stepRole || c.error)).toEqual([]);
    }

    // No token, key or password reached the step's output.
    expect(leakedSecrets(stage, run.result.stdout + run.result.stderr)).toEqual([]);
  });
});

// ---------- One mistake at a time ----------

const MISTAKES: MistakeName[] = ['wrong sub', 'wrong aud', 'wrong issuer', 'wrong partition', 'repository outside the policy'];

describe.each(
  (
    [
      ['cluster-oidc', MISTAKES],
      ['outbound-federation', [...MISTAKES, 'mint audience outside the source role policy']],
    ] as [string, MistakeName[]][]
  ).filter(([trust]) => TRUST_PATHS.includes(trust as never)),
)('%s: each single mistake fails the push step at its hop', (trust, mistakes) => {
  test.each(mistakes)('%s', async (name) => {
    const destination = config.destinations.find((d) => d.trust === trust)!;
    const m = mistake(stage, destination, name, pushTaskName(destination));
    stage.front.world = stage.worldOf(m.stacks ?? stage.stacks, m.outboundIssuers);
    const run = await pushStep(destination, m.dist ?? dist, m.clusterIssuer);
    const why = failure(run);
    expect({ failed: run.result.code !== 0, why }).toMatchObject({ failed: true });
    const refusals = [
      ...stage.front.sts.calls.filter((c) => !c.ok).map((c) => ({ api: `${c.action} ${c.roleArn}`, error: c.error ?? '' })),
      ...stage.front.ecr.calls.filter((c) => !c.ok).map((c) => ({ api: c.api.startsWith('ecr:') ? c.api : 'registry', error: c.error ?? '' })),
    ];
    expect(refusals.some((r) => r.api === m.refused.api && m.refused.error.test(r.error)) ? 'refused at the right hop' : why).toBe('refused at the right hop');
    // Nothing landed, and ferry's failure line, in its own words (the AWS message it quotes
    // removed), names the hop; a log line about an earlier call does not count.
    const landed = await skopeoRaw(stage.registries.get(registryHost(destination))!, `${REPOSITORY}:${run.tag}`);
    expect(landed.code).not.toBe(0);
    const quoted = refusals.map((r) => r.error.replace(/^(\d+ )?\w+: /, '')).filter(Boolean);
    const failureLines = run.result.stderr.split('\n').filter((line) => /FAILED|failed/.test(line));
    const ownWords = quoted.reduce((text, message) => text.split(message).join('<quoted AWS message>'), failureLines.join('\n'));
    if (process.env.FERRY_E2E_SHOW) process.stderr.write(`[${trust} / ${name}] ${failureLines.join(' | ')}\n`);
    expect(ownWords).toMatch(m.says);
  });
});
