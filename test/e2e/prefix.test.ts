/**
 * Repository prefix mode, end to end: a config that names a prefix → synth → a Kaniko-like push
 * as the builder's ServiceAccount into a build repository no stack created → each destination's
 * push step from dist/ for that repository → the stand-ins create it on push, from the synthesized
 * creation templates and only because the synthesized policies allow it → skopeo reads the image.
 *
 * The example config plus one prefix, so both trust paths (GovCloud cluster-oidc, China
 * outbound-federation) run.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FerryConfig, Target } from '../../lib/config/model';
import { DOCTOR_STACK_SUFFIX, pushTaskName, registryHost, repositoryArn, roleArn, serviceAccountName } from '../../lib/config/naming';
import { synthesize } from '../../lib/synth';
import { makeFixture, ociLayoutDir, SMALL_LAYERS } from '../push/fixtures';
import { startRegistry, type TestRegistry } from '../push/registry-server';
import { copyExampleConfig, tempDir } from '../support/config-fixture';
import { AwsFront } from './aws-front';
import { IamWorld, readCloudAssembly, type StackTemplate } from './iam-world';
import { TestIssuer } from './issuers';
import { findStep, type PushStep, readDist, runStep, type StepResult } from './push-step';
import { skopeoRaw } from './stage';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const PREFIX = 'team-a';
/** A repository under the prefix that neither the config nor any stack names. */
const NEW_REPOSITORY = `${PREFIX}/new-service`;
const OUTSIDE = 'team-z/other-service';
/** In the build registry before the refusal tests, never created in a destination. */
const SECOND_REPOSITORY = `${PREFIX}/second-service`;
const WORKFLOW = 'ferry-e2e-prefix';

let root: string;
let config: FerryConfig;
let stacks: StackTemplate[];
let dist: Json[];
let clusterIssuer: TestIssuer;
let outboundIssuer: TestIssuer;
let registries: Map<string, TestRegistry>;
let front: AwsFront;
let images: { dir: string; digest: string }[];
let runs = 0;

beforeAll(async () => {
  root = tempDir('ferry-e2e-prefix-');
  const dir = copyExampleConfig();
  fs.appendFileSync(path.join(dir, 'shared.yaml'), `repositoryPrefixes:\n  - prefix: ${PREFIX}/\n    tagMutability: IMMUTABLE\n`);
  ({ config } = synthesize({ configDir: dir, outRoot: path.join(root, 'out') }));
  stacks = readCloudAssembly(path.join(root, 'out', 'cdk.out'));
  dist = readDist(path.join(root, 'out', 'dist'));
  clusterIssuer = await TestIssuer.create(config.cluster.issuerUrl);
  outboundIssuer = await TestIssuer.create(config.outboundFederation!.issuerUrl, ['RS256', 'ES384']);
  registries = new Map();
  const targets = [config.build, ...config.destinations];
  for (const target of targets) registries.set(registryHost(target), await startRegistry());
  front = await AwsFront.start({
    dir: path.join(root, 'front'),
    regions: [...new Set(targets.map((t) => t.region))],
    issuers: [clusterIssuer, outboundIssuer],
    outboundIssuers: [outboundIssuer],
    backends: new Map([...registries].map(([host, r]) => [host, r.host])),
    world: new IamWorld(stacks, { outboundIssuers: { [config.build.account]: outboundIssuer.url } }),
  });
  images = [];
  for (const name of ['a', 'b']) {
    const layers = [...SMALL_LAYERS.slice(0, 1), { files: { 'app/which': `image ${name}\n` } }];
    images.push(ociLayoutDir(await makeFixture(path.join(root, `image-${name}`), layers)));
  }
}, 120_000);

afterAll(async () => {
  await front?.stop();
  for (const r of registries?.values() ?? []) await r.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The digest of what really landed behind a target's registry, by skopeo; undefined when nothing did. */
async function skopeoDigest(target: Target, ref: string): Promise<string | undefined> {
  const out = await skopeoRaw(registries.get(registryHost(target))!, ref);
  return out.code === 0 ? `sha256:${createHash('sha256').update(out.stdout).digest('hex')}` : undefined;
}

/**
 * Kaniko's part, as the builder's ServiceAccount from dist/: `ferry push` of an OCI layout to the
 * build registry, with the credentials the pod identity webhook would give the Kaniko pod.
 */
function builderPush(image: { dir: string }, ref: string): Promise<StepResult> {
  const serviceAccount = dist.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === serviceAccountName(config.build));
  const step: PushStep = {
    workflowTemplate: 'kaniko-stand-in',
    namespace: config.cluster.namespace,
    serviceAccount,
    template: { name: 'kaniko-stand-in', container: { command: ['ferry', 'push', image.dir, '--to', `${registryHost(config.build)}/${ref}`] } },
  };
  return runStep(step, {
    parameters: {},
    workflowName: WORKFLOW,
    clusterIssuer,
    clusterRegion: config.build.region,
    dir: path.join(root, 'steps', `build-${++runs}`),
    extraEnv: front.processEnv(),
  });
}

function pushStep(destination: Target, repository: string, tag: string, digest: string): Promise<StepResult> {
  return runStep(findStep(dist, pushTaskName(destination)), {
    parameters: { workspace_claim: `${WORKFLOW}-workspace`, image_repository: repository, image_tag: tag, expected_digest: digest },
    workflowName: WORKFLOW,
    clusterIssuer,
    clusterRegion: config.build.region,
    dir: path.join(root, 'steps', `push-${++runs}`),
    extraEnv: front.processEnv(),
  });
}

const why = (r: StepResult): string =>
  `exit ${r.code}\n${r.stderr}\nECR refusals:\n${front.ecr.calls
    .filter((c) => !c.ok)
    .map((c) => JSON.stringify(c))
    .join('\n')}`;

describe('repository prefix mode: a repository no stack created', () => {
  test('the synthesized stacks create no repository under the prefix, only a CREATE_ON_PUSH template each', () => {
    // The target stacks (each account's doctor stack holds only the read-only doctor role).
    for (const stack of stacks.filter((s) => !s.stackName.endsWith(DOCTOR_STACK_SUFFIX))) {
      const resources = Object.values<Json>(stack.template.Resources);
      expect(resources.filter((r) => r.Type === 'AWS::ECR::Repository' && String(r.Properties.RepositoryName).startsWith(`${PREFIX}/`))).toEqual([]);
      expect(resources.filter((r) => r.Type === 'AWS::ECR::RepositoryCreationTemplate').map((r) => [r.Properties.Prefix, r.Properties.AppliedFor])).toEqual([
        [PREFIX, ['CREATE_ON_PUSH']],
      ]);
    }
  });

  test('Kaniko (the builder role) creates it in the build account on its first push', async () => {
    const result = await builderPush(images[0], `${NEW_REPOSITORY}:v1`);
    expect({ code: result.code, why: result.code === 0 ? '' : why(result) }).toEqual({ code: 0, why: '' });
    expect(await skopeoDigest(config.build, `${NEW_REPOSITORY}:v1`)).toBe(images[0].digest);
    const created = front.ecr.created.get(repositoryArn(config.build, NEW_REPOSITORY));
    expect(created).toMatchObject({ createdBy: roleArn(config.build), tagMutability: 'IMMUTABLE', template: { prefix: PREFIX } });
  });

  test.each([['govcloud'], ['china']])('%s: the push step delivers into it, and ECR creates it with the template settings', async (name) => {
    const destination = config.destinations.find((d) => d.name === name)!;
    const result = await pushStep(destination, NEW_REPOSITORY, 'v1', images[0].digest);
    expect({ code: result.code, why: result.code === 0 ? '' : why(result) }).toEqual({ code: 0, why: '' });
    expect(await skopeoDigest(destination, `${NEW_REPOSITORY}:v1`)).toBe(images[0].digest);

    const created = front.ecr.created.get(repositoryArn(destination, NEW_REPOSITORY))!;
    expect(created).toMatchObject({ createdBy: roleArn(destination), tagMutability: 'IMMUTABLE', exclusions: [] });
    expect(created.template.encryption).toEqual({ type: destination.kmsKeyArn ? 'KMS' : 'AES256', kmsKey: destination.kmsKeyArn });
    expect(created.template.resourceTags).toEqual(destination.tags);
    expect(JSON.parse(created.template.lifecyclePolicy!).rules).toEqual([
      expect.objectContaining({
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: config.untaggedImageExpiryDays, countUnit: 'days' },
        action: { type: 'expire' },
      }),
    ]);
  });

  test('an immutable tag of the created repository cannot be moved to another image', async () => {
    const result = await builderPush(images[1], `${NEW_REPOSITORY}:v1`);
    expect(result.code).not.toBe(0);
    expect(front.ecr.calls.some((c) => !c.ok && /400 TAG_INVALID: The image tag 'v1' already exists/.test(c.error ?? ''))).toBe(true);
    expect(await skopeoDigest(config.build, `${NEW_REPOSITORY}:v1`)).toBe(images[0].digest);
  });

  test('(the build registry holds a second new repository)', async () => {
    expect((await builderPush(images[0], `${SECOND_REPOSITORY}:v1`)).code).toBe(0);
  });

  test.each([
    [
      'the custom role may not create',
      (t: Json) =>
        Object.values<Json>(t.Resources)
          .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' && /creator/.test(r.Properties.ManagedPolicyName))
          .forEach((r) => {
            r.Properties.Roles = [];
          }),
      /create on push under team-a: User: .*repository-creator.* is not authorized to perform: ecr:CreateRepository/,
    ],
    [
      'a tagged template has no custom role',
      (t: Json) =>
        Object.values<Json>(t.Resources)
          .filter((r) => r.Type === 'AWS::ECR::RepositoryCreationTemplate')
          .forEach((r) => {
            delete r.Properties.CustomRoleArn;
          }),
      /resource tags or a KMS key but no customRoleArn/,
    ],
    [
      'the pusher role may not tag on create',
      (t: Json) =>
        Object.values<Json>(t.Resources)
          .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy')
          .forEach((r) => {
            for (const st of r.Properties.PolicyDocument.Statement) if (st.Sid === 'CreateOnPushUnderPrefix') st.Action = ['ecr:CreateRepository'];
          }),
      /not authorized to perform: ecr:TagResource/,
    ],
  ])('govcloud: no repository is created when %s', async (_name, change, error) => {
    const govcloud = config.destinations.find((d) => d.name === 'govcloud')!;
    const changed: StackTemplate[] = JSON.parse(JSON.stringify(stacks));
    change(changed.find((x) => x.account === govcloud.account)!.template);
    front.world = new IamWorld(changed, { outboundIssuers: { [config.build.account]: outboundIssuer.url } });
    try {
      const result = await pushStep(govcloud, SECOND_REPOSITORY, 'v1', images[0].digest);
      expect(result.code).not.toBe(0);
      expect(front.ecr.created.has(repositoryArn(govcloud, SECOND_REPOSITORY))).toBe(false);
      expect(front.ecr.calls.filter((c) => !c.ok).map((c) => c.error)).toContainEqual(expect.stringMatching(error));
    } finally {
      front.world = new IamWorld(stacks, { outboundIssuers: { [config.build.account]: outboundIssuer.url } });
    }
  });

  test('a push outside every prefix and outside the repository list is refused: the repository does not exist', async () => {
    const result = await builderPush(images[0], `${OUTSIDE}:v1`);
    expect(result.code).not.toBe(0);
    expect(front.ecr.calls.filter((c) => !c.ok && c.repository === OUTSIDE).map((c) => c.error)).toContainEqual(
      expect.stringMatching(`404 NAME_UNKNOWN: The repository with name '${OUTSIDE}' does not exist`),
    );
    expect(front.ecr.created.has(repositoryArn(config.build, OUTSIDE))).toBe(false);
    const govcloud = config.destinations.find((d) => d.name === 'govcloud')!;
    const step = await pushStep(govcloud, OUTSIDE, 'v1', images[0].digest);
    expect(step.code).not.toBe(0);
    expect(await skopeoDigest(govcloud, `${OUTSIDE}:v1`)).toBeUndefined();
  });
});
