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
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as ferryPush } from '../../lib/cli/push';
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig, Target } from '../../lib/config/model';
import { pushTaskName, registryHost, roleArn, roleName, serviceAccountName, sourceRoleArn, stackName } from '../../lib/config/naming';
import { synthesize } from '../../lib/synth';
import { makeFixture, ociLayoutDir, SMALL_LAYERS } from '../push/fixtures';
import { startRegistry, type TestRegistry } from '../push/registry-server';
import { EXAMPLE_CONFIG, tempDir } from '../support/config-fixture';
import { requireTool } from '../support/tools';
import { AwsFront } from './aws-front';
import { IamWorld, readCloudAssembly, type StackTemplate } from './iam-world';
import { TestIssuer } from './issuers';
import { findStep, readDist, runStep, type StepResult } from './push-step';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const WORKFLOW = 'ferry-e2e-run';
/**
 * Regions beyond the config's whose endpoints the stand-ins' certificate covers: a step that
 * calls a wrong region or partition then reaches a stand-in that refuses it, not a TLS error.
 */
const EXTRA_REGIONS = ['us-east-1', 'us-west-2', 'us-gov-west-1', 'us-gov-east-1', 'cn-north-1', 'cn-northwest-1', 'eusc-de-east-1'];

/** Read up front only to name the tests: one per destination of the config. */
const CONFIG_DIR = process.env.FERRY_E2E_CONFIG ?? EXAMPLE_CONFIG;
const EXAMPLE = loadConfig(CONFIG_DIR);
const DESTINATIONS = EXAMPLE.destinations.map((d) => [d.name, d.trust] as const);
const TRUST_PATHS = [...new Set(EXAMPLE.destinations.map((d) => d.trust))];
/** The first configured repository: every destination has it. */
const REPOSITORY = EXAMPLE.repositories[0].name;

let root: string;
let config: FerryConfig;
let stacks: StackTemplate[];
let dist: Json[];
let clusterIssuer: TestIssuer;
let outboundIssuer: TestIssuer | undefined;
/** Another account's outbound issuer: the one a wrong issuerUrl would point at. */
let otherOutboundIssuer: TestIssuer;
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

async function fillBuildRegistry(): Promise<void> {
  // Kaniko's part: the image is in the build registry before any push step runs.
  const out = new PassThrough();
  const err = new PassThrough();
  let stderr = '';
  err.on('data', (d) => {
    stderr += d;
  });
  out.resume();
  const build = registries.get(registryHost(config.build))!;
  const code = await ferryPush([image.dir, '--to', `${build.host}/${REPOSITORY}:build`, '--insecure-registry', build.host], {
    env: {},
    stdout: out,
    stderr: err,
  });
  if (code !== 0) throw new Error(`filling the build registry failed: ${stderr}`);
}

interface DestinationRun {
  readonly result: StepResult;
  readonly tag: string;
}

/** Runs destination D's push step from dist/ (optionally a mutated copy) against the stand-ins. */
async function pushStep(destination: Target, objects: Json[] = dist): Promise<DestinationRun> {
  const step = findStep(objects, pushTaskName(destination));
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
  return `exit ${run.result.code}\n${run.result.command.join(' ')}\nstderr:\n${run.result.stderr}\nSTS calls:\n${front.sts.calls.map((c) => JSON.stringify(c)).join('\n')}\nECR calls:\n${front.ecr.calls
    .filter((c) => !c.ok)
    .map((c) => JSON.stringify(c))
    .join('\n')}`;
}

beforeAll(async () => {
  root = tempDir('ferry-e2e-');
  ({ config } = synthesize({ configDir: CONFIG_DIR, outRoot: path.join(root, 'out') }));
  stacks = readCloudAssembly(path.join(root, 'out', 'cdk.out'));
  dist = readDist(path.join(root, 'out', 'dist'));
  clusterIssuer = await TestIssuer.create(config.cluster.issuerUrl);
  outboundIssuer = config.outboundFederation ? await TestIssuer.create(config.outboundFederation.issuerUrl, ['RS256', 'ES384']) : undefined;
  otherOutboundIssuer = await TestIssuer.create('https://ffffffff-0000-4000-8000-999999999999.tokens.sts.global.api.aws', ['RS256', 'ES384']);
  registries = new Map();
  for (const target of [config.build, ...config.destinations]) registries.set(registryHost(target), await startRegistry());
  const regions = [...new Set([...[config.build, ...config.destinations].map((t) => t.region), ...EXTRA_REGIONS])];
  front = await AwsFront.start({
    dir: path.join(root, 'front'),
    regions,
    issuers: [clusterIssuer, otherOutboundIssuer, ...(outboundIssuer ? [outboundIssuer] : [])],
    outboundIssuers: [otherOutboundIssuer, ...(outboundIssuer ? [outboundIssuer] : [])],
    backends: new Map([...registries].map(([host, r]) => [host, r.host])),
    world: worldOf(stacks),
  });
  const fixture = await makeFixture(path.join(root, 'image'), SMALL_LAYERS);
  image = ociLayoutDir(fixture);
  await fillBuildRegistry();
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
    const landed = await skopeoRaw(registries.get(registryHost(destination))!, `${REPOSITORY}:${run.tag}`);
    expect(landed.code).toBe(0);
    expect(`sha256:${createHash('sha256').update(landed.stdout).digest('hex')}`).toBe(image.digest);

    // The tokens took the path the config asked for.
    const sa = `system:serviceaccount:${findStep(dist, pushTaskName(destination)).namespace}:${serviceAccountName(destination)}`;
    const assumed = front.sts.calls.filter((c) => c.ok && c.action === 'AssumeRoleWithWebIdentity');
    // In the destination's own region (a destination in the build account may also be the step's own role, assumed in the build region).
    const destinationAssume = assumed.find((c) => c.roleArn === roleArn(destination) && c.region === destination.region);
    expect(destinationAssume ?? assumed.map((c) => `${c.roleArn} in ${c.region}`)).toMatchObject({ region: destination.region });
    if (trust === 'cluster-oidc') {
      expect(destinationAssume).toMatchObject({ iss: config.cluster.issuerUrl, sub: sa });
    } else {
      const source = sourceRoleArn(config, destination);
      expect(assumed.find((c) => c.roleArn === source)).toMatchObject({ iss: config.cluster.issuerUrl, sub: sa, region: config.build.region });
      expect(front.sts.calls.find((c) => c.action === 'GetWebIdentityToken')).toMatchObject({
        ok: true,
        roleArn: source,
        region: config.build.region,
        iss: outboundIssuer!.url,
      });
      expect(destinationAssume).toMatchObject({ iss: config.outboundFederation!.issuerUrl, sub: source });
    }
    expect(front.ecr.calls.find((c) => c.api === 'ecr:GetAuthorizationToken' && c.region === destination.region)).toMatchObject({
      ok: true,
      roleArn: roleArn(destination),
    });
    expect(front.ecr.calls.find((c) => c.api.startsWith('PUT') && c.api.includes('/manifests/'))).toMatchObject({
      ok: true,
      roleArn: roleArn(destination),
      host: registryHost(destination),
    });

    // A step that starts from a source role (the ServiceAccount's) reads the build registry with it.
    const stepRole = findStep(dist, pushTaskName(destination)).serviceAccount.metadata.annotations['eks.amazonaws.com/role-arn'];
    const buildReads = front.ecr.calls.filter((c) => c.host === registryHost(config.build) && c.roleArn);
    if (stepRole !== roleArn(destination) && buildReads.length > 0) {
      expect(buildReads.filter((c) => c.roleArn !== stepRole || c.error)).toEqual([]);
    }

    // No token, key or password reached the step's output.
    const output = run.result.stdout + run.result.stderr;
    expect(output).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    for (const secret of [...front.sessions.secrets(), ...front.ecr.passwords()]) expect(output.includes(secret)).toBe(false);
  });
});

// ---------- One mistake at a time ----------

/** A copy of the synthesized templates with one stack's template changed. */
function withStack(target: Target, change: (template: Json) => void): StackTemplate[] {
  const copy = clone(stacks);
  const stack = copy.find((x) => x.stackName === stackName(target));
  if (!stack) throw new Error(`no stack ${stackName(target)} in cdk.out`);
  change(stack.template);
  return copy;
}

function resourcesOf(template: Json, type: string): Json[] {
  return Object.values<Json>(template.Resources).filter((r) => r.Type === type);
}

/** The StringEquals block of the trust statement of the role named `name`. */
function trustConditions(template: Json, name: string): Record<string, string> {
  const role = resourcesOf(template, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === name);
  if (!role) throw new Error(`no role ${name} in the template`);
  const statement = role.Properties.AssumeRolePolicyDocument.Statement.find(
    (x: Json) => x.Action === 'sts:AssumeRoleWithWebIdentity' || x.Action?.includes?.('sts:AssumeRoleWithWebIdentity'),
  );
  return statement.Condition.StringEquals;
}

function conditionKey(conditions: Record<string, string>, claim: string): string {
  const key = Object.keys(conditions).find((k) => k.endsWith(`:${claim}`));
  if (!key) throw new Error(`the trust policy pins no ${claim}`);
  return key;
}

interface Mistake {
  readonly stacks?: StackTemplate[];
  readonly dist?: Json[];
  readonly outboundIssuers?: Record<string, string>;
  /** The stand-in call that must be refused, and how. */
  readonly refused: { api: string; error: RegExp };
  /** What ferry's own message must name (the hop). */
  readonly says: RegExp;
}

type MistakeName =
  | 'wrong sub'
  | 'wrong aud'
  | 'wrong issuer'
  | 'wrong partition'
  | 'repository outside the policy'
  | 'mint audience outside the source role policy';

function mistake(destination: Target, name: MistakeName): Mistake {
  const outbound = destination.trust === 'outbound-federation';
  const role = roleArn(destination);
  const assumeRefused = (error: RegExp) => ({ api: `AssumeRoleWithWebIdentity ${role}`, error });
  switch (name) {
    case 'wrong sub':
      // The destination role pins another subject than the one the token will carry.
      return {
        stacks: withStack(destination, (t) => {
          const c = trustConditions(t, roleName(destination));
          c[conditionKey(c, 'sub')] = outbound
            ? sourceRoleArn(config, destination).replace(/[^/]+$/, 'ferry-pusher-someone-else')
            : c[conditionKey(c, 'sub')].replace(/[^:]+$/, 'ferry-pusher-someone-else');
        }),
        refused: assumeRefused(/AccessDenied.*:sub/),
        says: /assum/i,
      };
    case 'wrong aud':
      // cluster-oidc: the destination role's trust pins another audience than the ServiceAccount token carries.
      // outbound-federation: the destination's provider lists another client ID than the minted audience.
      if (!outbound) {
        return {
          stacks: withStack(destination, (t) => {
            const c = trustConditions(t, roleName(destination));
            c[conditionKey(c, 'aud')] = 'sts.amazonaws.com.cn';
          }),
          refused: assumeRefused(/AccessDenied.*:aud/),
          says: /assum/i,
        };
      }
      return {
        stacks: withStack(destination, (t) => {
          const provider = resourcesOf(t, 'AWS::IAM::OIDCProvider').find((p) => p.Properties.Url === config.outboundFederation!.issuerUrl);
          provider.Properties.ClientIdList = ['sts.amazonaws.com.cn'];
        }),
        refused: assumeRefused(/InvalidIdentityToken: Incorrect token audience/),
        says: /assum/i,
      };
    case 'wrong issuer':
      // cluster-oidc: the destination account registers another cluster's issuer.
      // outbound-federation: the build account's real issuer is not the configured one.
      if (!outbound) {
        return {
          stacks: withStack(destination, (t) => {
            const provider = resourcesOf(t, 'AWS::IAM::OIDCProvider').find((p) => p.Properties.Url === config.cluster.issuerUrl);
            provider.Properties.Url = config.cluster.issuerUrl.replace(/[^/]+$/, 'OTHERCLUSTER00000000000000000000');
          }),
          refused: assumeRefused(/InvalidIdentityToken: No OpenIDConnect provider found/),
          says: /assum/i,
        };
      }
      return {
        outboundIssuers: { [config.build.account]: otherOutboundIssuer.url },
        refused: assumeRefused(/InvalidIdentityToken: No OpenIDConnect provider found/),
        says: /assum/i,
      };
    case 'wrong partition': {
      // The ServiceAccount names its role in another partition than the STS it must use.
      const copy = clone(dist);
      const step = findStep(copy, pushTaskName(destination));
      const annotations = step.serviceAccount.metadata.annotations;
      const saRole = annotations['eks.amazonaws.com/role-arn'] as string;
      const wrong = saRole.replace(/^arn:[a-z-]+:/, saRole.startsWith('arn:aws:') ? 'arn:aws-us-gov:' : 'arn:aws:');
      for (const o of copy)
        if (o === step.serviceAccount || (o.kind === 'ServiceAccount' && o.metadata.name === step.serviceAccount.metadata.name))
          o.metadata.annotations['eks.amazonaws.com/role-arn'] = wrong;
      return { dist: copy, refused: { api: `AssumeRoleWithWebIdentity ${wrong}`, error: /AccessDenied.*partition/ }, says: /assum/i };
    }
    case 'mint audience outside the source role policy':
      // outbound-federation only: the source role may mint tokens for another audience than ferry asks for.
      return {
        stacks: withStack(config.build, (t) => {
          for (const p of [...resourcesOf(t, 'AWS::IAM::ManagedPolicy'), ...resourcesOf(t, 'AWS::IAM::Policy')]) {
            for (const st of p.Properties.PolicyDocument.Statement) {
              if ([st.Action].flat().includes('sts:GetWebIdentityToken'))
                st.Condition = JSON.parse(JSON.stringify(st.Condition).split(`"${config.outboundFederation!.audience}"`).join('"sts.amazonaws.com.cn"'));
            }
          }
        }),
        refused: { api: `GetWebIdentityToken ${sourceRoleArn(config, destination)}`, error: /AccessDenied.*sts:IdentityTokenAudience/ },
        says: /mint|GetWebIdentityToken|web identity token/i,
      };
    case 'repository outside the policy':
      // The destination role may push only to another repository.
      return {
        stacks: withStack(destination, (t) => {
          for (const p of resourcesOf(t, 'AWS::IAM::ManagedPolicy')) {
            p.Properties.PolicyDocument = JSON.parse(
              JSON.stringify(p.Properties.PolicyDocument).split(`repository/${REPOSITORY}"`).join('repository/ferry/another-app"'),
            );
          }
        }),
        refused: { api: 'registry', error: new RegExp(`403 DENIED: User: .* is not authorized to perform: ecr:\\w+ on resource: .*repository/${REPOSITORY}`) },
        says: /denied|403/i,
      };
  }
}

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
    const m = mistake(destination, name);
    front.world = worldOf(m.stacks ?? stacks, m.outboundIssuers);
    const run = await pushStep(destination, m.dist ?? dist);
    const why = failure(run);
    expect({ failed: run.result.code !== 0, why }).toMatchObject({ failed: true });
    const refusals = [
      ...front.sts.calls.filter((c) => !c.ok).map((c) => ({ api: `${c.action} ${c.roleArn}`, error: c.error ?? '' })),
      ...front.ecr.calls.filter((c) => !c.ok).map((c) => ({ api: c.api.startsWith('ecr:') ? c.api : 'registry', error: c.error ?? '' })),
    ];
    expect(refusals.some((r) => r.api === m.refused.api && m.refused.error.test(r.error)) ? 'refused at the right hop' : why).toBe('refused at the right hop');
    // Nothing landed, and ferry's failure line, in its own words (the AWS message it quotes
    // removed), names the hop; a log line about an earlier call does not count.
    const landed = await skopeoRaw(registries.get(registryHost(destination))!, `${REPOSITORY}:${run.tag}`);
    expect(landed.code).not.toBe(0);
    const quoted = refusals.map((r) => r.error.replace(/^(\d+ )?\w+: /, '')).filter(Boolean);
    const failureLines = run.result.stderr.split('\n').filter((line) => /FAILED|failed/.test(line));
    const ownWords = quoted.reduce((text, message) => text.split(message).join('<quoted AWS message>'), failureLines.join('\n'));
    if (process.env.FERRY_E2E_SHOW) process.stderr.write(`[${trust} / ${name}] ${failureLines.join(' | ')}\n`);
    expect(ownWords).toMatch(m.says);
  });
});
