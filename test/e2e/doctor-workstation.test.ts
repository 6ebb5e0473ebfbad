/**
 * `ferry doctor` (the compiled CLI, as a user runs it) against the AWS stand-ins and a Kubernetes
 * API stand-in read through the real kubectl. The stand-ins answer from a "deployed" copy of what
 * synth wrote (cdk.out/ for AWS, dist/ for the cluster); each test puts one mistake into that copy
 * while the doctor reads the original synth, and the doctor must report it at its hop, with what
 * was expected, what was found, and the fix. Every AWS read is SigV4-signed with the profile's
 * credentials (sessions of each account's ferry-doctor role) and allowed only by that role's
 * synthesized policy, so these tests also prove the doctor's own IAM is enough.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../lib/config/load';
import type { FerryConfig, Target } from '../../lib/config/model';
import { DOCTOR_ROLE, roleArn, roleName, serviceAccountName, sourceRoleArn, stackName } from '../../lib/config/naming';
import { DOCTOR_PLAN_FILE } from '../../lib/contract';
import { synthesize } from '../../lib/synth';
import { EXAMPLE_CONFIG, REPO_ROOT, tempDir } from '../support/config-fixture';
import { EXIT_PROBE_NODE_OPTIONS, FORCED_EXIT } from '../support/exit-probe';
import { requireTool } from '../support/tools';
import { AwsFront } from './aws-front';
import { IamWorld, readCloudAssembly, type StackTemplate } from './iam-world';
import { KubeStandIn } from './kube-stand-in';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const EXTRA_REGIONS = ['us-east-1', 'us-gov-west-1', 'cn-north-1'];
/** What the Slack Secret holds: it must never show up in the doctor's output. */
const SECRET_VALUE = 'https://hooks.slack.com/services/T000/B000/super-secret-value';

let root: string;
/** Read up front to name the tests; synth returns the same. */
let config: FerryConfig = loadConfig(EXAMPLE_CONFIG);
let stacks: StackTemplate[];
let distObjects: Json[];
let front: AwsFront;
let kube: KubeStandIn;
let awsDir: string;
let kubeconfig: string;

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));
const destination = (trust: string): Target => config.destinations.find((d) => d.trust === trust)!;

function liveCluster(): Json[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: config.cluster.namespace, labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: config.slack!.secretName, namespace: config.cluster.namespace },
      data: { [config.slack!.secretKey]: Buffer.from(SECRET_VALUE).toString('base64') },
    },
    ...clone(distObjects),
  ];
}

/** Puts back the deployed state that matches the synth. */
function deployAsSynthesized(): void {
  front.reads.deploy(clone(stacks));
  front.reads.outbound = config.outboundFederation ? { [config.build.account]: { enabled: true, issuer: config.outboundFederation.issuerUrl } } : {};
  front.reads.throttle = false;
  front.reads.calls.length = 0;
  kube.objects = liveCluster();
}

/** One AWS profile per target: session credentials of that account's ferry-doctor role. */
function writeProfiles(dir: string): void {
  const world = new IamWorld(stacks);
  const configLines: string[] = [];
  const credentialLines: string[] = [];
  for (const target of [config.build, ...config.destinations]) {
    const arn = `arn:${target.partition.id}:iam::${target.account}:role${target.rolePath}${DOCTOR_ROLE}`;
    const role = [...world.roles.values()].find((r) => r.arn === arn);
    if (!role) throw new Error(`no ${DOCTOR_ROLE} role ${arn} in the synthesized stacks`);
    const session = front.sessions.issue(role, `doctor-${target.name}`, 3600);
    configLines.push(`[profile ${target.name}]`, `region = ${target.region}`, '');
    credentialLines.push(
      `[${target.name}]`,
      `aws_access_key_id = ${session.accessKeyId}`,
      `aws_secret_access_key = ${session.secretAccessKey}`,
      `aws_session_token = ${session.sessionToken}`,
      '',
    );
  }
  fs.writeFileSync(path.join(dir, 'config'), configLines.join('\n'));
  fs.writeFileSync(path.join(dir, 'credentials'), credentialLines.join('\n'));
}

interface DoctorRun {
  readonly code: number;
  readonly report: { ok: boolean; counts: Record<string, number>; findings: Json[] };
  readonly stderr: string;
  readonly stdout: string;
}

function doctor(args: string[], opts: { profiles?: string[]; kube?: boolean } = {}): Promise<DoctorRun> {
  const profiles = opts.profiles ?? [config.build.name, ...config.destinations.map((d) => d.name)];
  const argv = [
    path.join(REPO_ROOT, 'bin', 'ferry'),
    'doctor',
    '--json',
    '--cdk-out',
    path.join(root, 'out', 'cdk.out'),
    '--dist',
    path.join(root, 'out', 'dist'),
    '--timeout',
    '120',
    ...profiles.flatMap((p) => ['--profile', `${p}=${p}`]),
    ...(opts.kube === false ? [] : ['--kubeconfig', kubeconfig]),
    ...args,
  ];
  const aws = front.processEnv();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: awsDir,
    AWS_CONFIG_FILE: path.join(awsDir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(awsDir, 'credentials'),
    ...aws,
    // Also says whether the doctor's process had to be ended through process.exit() (lib/cli/exit.ts).
    NODE_OPTIONS: `${aws.NODE_OPTIONS} ${EXIT_PROBE_NODE_OPTIONS}`,
  };
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { env, timeout: 180_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0;
      let report: DoctorRun['report'];
      try {
        report = JSON.parse(stdout);
      } catch {
        report = { ok: false, counts: {}, findings: [] };
      }
      resolve({ code, report, stderr, stdout });
    });
  });
}

function show(run: DoctorRun): string {
  return `exit ${run.code}\n${run.report.findings
    .filter((f) => f.status !== 'ok')
    .map((f) => JSON.stringify(f))
    .join('\n')}\nstderr:\n${run.stderr.slice(-3000)}\nfailed reads:\n${front.reads.calls
    .filter((c) => !c.ok)
    .map((c) => JSON.stringify(c))
    .join('\n')}`;
}

beforeAll(async () => {
  requireTool('kubectl', 'kubernetes-client');
  root = tempDir('ferry-doctor-');
  ({ config } = synthesize({ configDir: EXAMPLE_CONFIG, outRoot: path.join(root, 'out') }));
  stacks = readCloudAssembly(path.join(root, 'out', 'cdk.out'));
  const distDir = path.join(root, 'out', 'dist');
  distObjects = fs
    .readdirSync(distDir)
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(distDir, f), 'utf8')).map((d) => d.toJSON()))
    .filter(Boolean);
  const regions = [...new Set([config.build.region, ...config.destinations.map((d) => d.region), ...EXTRA_REGIONS])];
  front = await AwsFront.start({ dir: path.join(root, 'front'), regions, issuers: [], outboundIssuers: [], backends: new Map(), world: new IamWorld(stacks) });
  kube = await KubeStandIn.start(config.cluster.issuerUrl, path.join(root, 'kube'));
  awsDir = path.join(root, 'aws');
  fs.mkdirSync(awsDir);
  writeProfiles(awsDir);
  kubeconfig = kube.writeKubeconfig(root);
}, 300_000);

afterAll(async () => {
  await front?.stop();
  await kube?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

beforeEach(() => deployAsSynthesized());

/** A copy of the synthesized stacks with one stack's template changed. */
function withStack(target: Target, change: (template: Json) => void): StackTemplate[] {
  const copy = clone(stacks);
  change(copy.find((s) => s.stackName === stackName(target))!.template);
  return copy;
}

function resources(template: Json, type: string): Json[] {
  return Object.values<Json>(template.Resources).filter((r) => r.Type === type);
}

function trustConditions(template: Json, name: string): Record<string, string> {
  const role = resources(template, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === name);
  return role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals;
}

test('synth writes the doctor plan next to the templates', () => {
  const plan = JSON.parse(fs.readFileSync(path.join(root, 'out', 'cdk.out', DOCTOR_PLAN_FILE), 'utf8'));
  expect(plan.targets.map((t: Json) => [t.name, t.stacks[0]])).toEqual([config.build, ...config.destinations].map((t) => [t.name, stackName(t)]));
  expect(plan.targets[0].roles[roleArn(config.build)]).toBe('builder-role');
});

test('everything as synthesized: every hop ok, exit 0, and no Secret value in the output', async () => {
  const run = await doctor([]);
  expect({ code: run.code, why: run.code === 0 ? '' : show(run) }).toEqual({ code: 0, why: '' });
  // Its AWS SDK clients and kubectl runs leave nothing that keeps the process alive: it ended by itself.
  expect(run.stderr).not.toMatch(FORCED_EXIT);
  const hops = new Set(run.report.findings.map((f: Json) => f.hop));
  for (const hop of [
    'credentials',
    'stack',
    'oidc-provider',
    'builder-role-trust',
    'destination-role-trust',
    'destination-role-policy',
    'source-role-trust',
    'source-role-policy',
    'doctor-role-trust',
    'repository',
    'namespace',
    'service-account',
    'workflow-template',
    'cron-workflow',
    'secret',
    'cluster-issuer',
  ])
    if (hop !== 'credentials') expect([hop, hops.has(hop)]).toEqual([hop, true]);
  if (config.outboundFederation) expect(hops.has('outbound-federation')).toBe(true);
  expect(run.report.counts).toMatchObject({ mismatch: 0, unchecked: 0 });
  // Every stack of every target was compared, and every read passed the ferry-doctor policy.
  for (const t of [config.build, ...config.destinations])
    expect(run.report.findings.find((f: Json) => f.hop === 'stack' && f.target === t.name && f.status === 'ok')).toBeDefined();
  expect(front.reads.calls.filter((c) => !c.ok && !/NotFoundException/.test(c.error ?? ''))).toEqual([]);
  expect(run.stdout + run.stderr).not.toContain(SECRET_VALUE);
  expect(run.stdout + run.stderr).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
  for (const secret of front.sessions.secrets()) expect((run.stdout + run.stderr).includes(secret)).toBe(false);
  // Every AWS endpoint it called is logged, like the push logs them.
  expect(run.stderr).toMatch(/aws endpoint: iam\.us-gov\.amazonaws\.com \(IAM GetRole\)/);
}, 200_000);

interface Mistake {
  readonly name: string;
  readonly apply: () => void;
  readonly hop: string;
  readonly target: string;
  readonly says: { subject?: RegExp; expected?: RegExp; found?: RegExp; fix: RegExp };
  /** Skip the AWS side (cluster mistakes): only the build target is read. */
  readonly clusterOnly?: boolean;
}

function mistakes(): Mistake[] {
  const gov = destination('cluster-oidc');
  const out = config.outboundFederation ? destination('outbound-federation') : undefined;
  const deploy = (t: Target) => new RegExp(`npx cdk deploy ${stackName(t)} --profile ${t.name}`);
  const list: Mistake[] = [
    {
      name: 'wrong sub',
      apply: () =>
        front.reads.deploy(
          withStack(gov, (t) => {
            const c = trustConditions(t, roleName(gov));
            const key = Object.keys(c).find((k) => k.endsWith(':sub'))!;
            c[key] = c[key].replace(/[^:]+$/, 'ferry-pusher-someone-else');
          }),
        ),
      hop: 'destination-role-trust',
      target: gov.name,
      says: { subject: /:sub/, expected: new RegExp(serviceAccountName(gov)), found: /ferry-pusher-someone-else/, fix: deploy(gov) },
    },
    {
      name: 'wrong aud',
      apply: () =>
        front.reads.deploy(
          withStack(gov, (t) => {
            const c = trustConditions(t, roleName(gov));
            c[Object.keys(c).find((k) => k.endsWith(':aud'))!] = 'sts.amazonaws.com.cn';
          }),
        ),
      hop: 'destination-role-trust',
      target: gov.name,
      says: { subject: /:aud/, expected: /"sts\.amazonaws\.com"/, found: /sts\.amazonaws\.com\.cn/, fix: deploy(gov) },
    },
    {
      name: 'wrong issuer (the destination registers another cluster)',
      apply: () =>
        front.reads.deploy(
          withStack(gov, (t) => {
            const p = resources(t, 'AWS::IAM::OIDCProvider')[0];
            p.Properties.Url = config.cluster.issuerUrl.replace(/[^/]+$/, 'OTHERCLUSTER00000000000000000000');
          }),
        ),
      hop: 'oidc-provider',
      target: gov.name,
      says: { expected: new RegExp(config.cluster.issuerUrl.replace(/[.]/g, '\\.')), found: /no provider/, fix: deploy(gov) },
    },
    {
      name: 'wrong partition (the trust names a provider ARN of another partition)',
      apply: () =>
        front.reads.deploy(
          withStack(gov, (t) => {
            const role = resources(t, 'AWS::IAM::Role').find((r) => r.Properties.RoleName === roleName(gov));
            const s = role.Properties.AssumeRolePolicyDocument.Statement[0];
            s.Principal.Federated = s.Principal.Federated.replace(/^arn:[a-z-]+:/, 'arn:aws:');
          }),
        ),
      hop: 'destination-role-trust',
      target: gov.name,
      says: { subject: /Federated/, expected: /arn:aws-us-gov:iam::/, found: /"arn:aws:iam::/, fix: deploy(gov) },
    },
    {
      name: 'repository outside the policy',
      apply: () =>
        front.reads.deploy(
          withStack(gov, (t) => {
            for (const p of resources(t, 'AWS::IAM::ManagedPolicy'))
              p.Properties.PolicyDocument = JSON.parse(
                JSON.stringify(p.Properties.PolicyDocument).split(`repository/${config.repositories[0].name}"`).join('repository/ferry/another-app"'),
              );
          }),
        ),
      hop: 'destination-role-policy',
      target: gov.name,
      says: { subject: /Resource/, expected: new RegExp(`repository/${config.repositories[0].name}`), found: /ferry\/another-app/, fix: deploy(gov) },
    },
    {
      name: 'stack not deployed',
      apply: () => front.reads.deploy(clone(stacks).filter((s) => s.stackName !== stackName(gov))),
      hop: 'stack',
      target: gov.name,
      says: { subject: new RegExp(`^${stackName(gov)}$`), found: /not deployed/, fix: deploy(gov) },
    },
    {
      name: 'stack differs from the synth',
      apply: () =>
        front.reads.deploy(
          withStack(gov, (t) => {
            t.Description = 'an older ferry';
          }),
        ),
      hop: 'stack',
      target: gov.name,
      says: { subject: /Description/, found: /an older ferry/, fix: deploy(gov) },
    },
    {
      name: 'a Secret the templates read is missing',
      apply: () => {
        kube.objects = liveCluster().filter((o) => o.kind !== 'Secret');
      },
      hop: 'secret',
      target: 'cluster',
      says: {
        subject: new RegExp(config.slack!.secretName),
        found: /no such Secret/,
        fix: new RegExp(
          `kubectl .*-n ${config.cluster.namespace} create secret generic ${config.slack!.secretName} --from-literal=${config.slack!.secretKey}=`,
        ),
      },
      clusterOnly: true,
    },
    {
      name: 'a ServiceAccount with another role',
      apply: () => {
        const objects = liveCluster();
        const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === serviceAccountName(gov));
        sa.metadata.annotations['eks.amazonaws.com/role-arn'] = sourceRoleArn(config, gov).replace(/[^/]+$/, 'someone-elses-role');
        kube.objects = objects;
      },
      hop: 'service-account',
      target: 'cluster',
      says: {
        subject: /eks\.amazonaws\.com\/role-arn/,
        expected: new RegExp(sourceRoleArn(config, gov)),
        found: /someone-elses-role/,
        fix: /sync dist\/ to your GitOps repository|kubectl .*apply -f/,
      },
      clusterOnly: true,
    },
    {
      name: 'wrong partition (the ServiceAccount names a role in another partition)',
      apply: () => {
        const objects = liveCluster();
        const sa = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === serviceAccountName(gov));
        sa.metadata.annotations['eks.amazonaws.com/role-arn'] = sourceRoleArn(config, gov).replace(/^arn:aws:/, 'arn:aws-us-gov:');
        kube.objects = objects;
      },
      hop: 'service-account',
      target: 'cluster',
      says: { expected: /"arn:aws:iam::/, found: /arn:aws-us-gov:iam::/, fix: /apply -f/ },
      clusterOnly: true,
    },
    {
      name: 'the namespace is restricted (Kaniko cannot run)',
      apply: () => {
        const objects = liveCluster();
        objects[0].metadata.labels['pod-security.kubernetes.io/enforce'] = 'restricted';
        kube.objects = objects;
      },
      hop: 'namespace',
      target: 'cluster',
      says: { found: /restricted/, fix: /kubectl .*label namespace ci pod-security\.kubernetes\.io\/enforce=baseline --overwrite/ },
      clusterOnly: true,
    },
  ];
  if (out && config.outboundFederation) {
    list.push(
      {
        name: 'mint audience outside the source role policy',
        apply: () =>
          front.reads.deploy(
            withStack(config.build, (t) => {
              for (const p of resources(t, 'AWS::IAM::ManagedPolicy'))
                for (const st of p.Properties.PolicyDocument.Statement)
                  if ([st.Action].flat().includes('sts:GetWebIdentityToken'))
                    st.Condition = JSON.parse(JSON.stringify(st.Condition).split(`"${config.outboundFederation!.audience}"`).join('"sts.amazonaws.com.cn"'));
            }),
          ),
        hop: 'source-role-policy',
        target: config.build.name,
        says: { subject: /sts:IdentityTokenAudience/, found: /sts\.amazonaws\.com\.cn/, fix: deploy(config.build) },
      },
      {
        name: 'wrong issuer (the build account issues under another URL than configured)',
        apply: () => {
          front.reads.outbound = {
            [config.build.account]: { enabled: true, issuer: 'https://ffffffff-0000-4000-8000-999999999999.tokens.sts.global.api.aws' },
          };
        },
        hop: 'outbound-federation',
        target: config.build.name,
        says: {
          expected: new RegExp(config.outboundFederation.issuerUrl.replace(/[.]/g, '\\.')),
          found: /ffffffff-0000/,
          fix: /outboundFederation\.issuerUrl: https:\/\/ffffffff/,
        },
      },
      {
        name: 'outbound federation disabled',
        apply: () => {
          front.reads.outbound = {};
        },
        hop: 'outbound-federation',
        target: config.build.name,
        says: { found: /disabled/, fix: /aws iam enable-outbound-web-identity-federation --profile build/ },
      },
      {
        name: 'wrong aud (the outbound provider lists another client ID)',
        apply: () =>
          front.reads.deploy(
            withStack(out, (t) => {
              resources(t, 'AWS::IAM::OIDCProvider')[0].Properties.ClientIdList = ['sts.amazonaws.com.cn'];
            }),
          ),
        hop: 'oidc-provider',
        target: out.name,
        says: { subject: /ClientIDList/, expected: /sts\.amazonaws\.com"/, found: /sts\.amazonaws\.com\.cn/, fix: deploy(out) },
      },
    );
  }
  return list;
}

test.each(mistakes().map((m) => [m.name, m] as const))(
  '%s: exit 2, reported at its hop with the fix',
  async (_name, m) => {
    m.apply();
    const run = await doctor(m.clusterOnly ? ['--target', config.build.name] : [], m.clusterOnly ? { profiles: [config.build.name] } : {});
    const at = run.report.findings.filter((f) => f.hop === m.hop && f.target === m.target && f.status === 'mismatch');
    const matching = at.filter(
      (f) =>
        (!m.says.subject || m.says.subject.test(f.subject)) &&
        (!m.says.expected || m.says.expected.test(f.expected ?? '')) &&
        (!m.says.found || m.says.found.test(f.found ?? '')) &&
        m.says.fix.test(f.fix ?? ''),
    );
    expect({ code: run.code, found: matching.length > 0, why: matching.length > 0 && run.code === 2 ? '' : show(run) }).toEqual({
      code: 2,
      found: true,
      why: '',
    });
    expect(run.report.counts.unchecked).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(SECRET_VALUE);
  },
  200_000,
);

test('a target without a profile is skipped, not failed', async () => {
  const others = [config.build, ...config.destinations].filter((t) => t !== config.destinations[0]).map((t) => t.name);
  const run = await doctor([], { profiles: others, kube: false });
  expect({ code: run.code, why: run.code === 0 ? '' : show(run) }).toEqual({ code: 0, why: '' });
  expect(run.report.findings.filter((f) => f.target === config.destinations[0].name)).toEqual([
    expect.objectContaining({ hop: 'credentials', status: 'skipped', fix: expect.stringContaining(`--profile ${config.destinations[0].name}=<profile>`) }),
  ]);
  expect(run.report.findings.find((f) => f.target === 'cluster')).toMatchObject({ status: 'skipped' });
}, 200_000);

test('throttled reads are unchecked (exit 1), never a mismatch', async () => {
  front.reads.throttle = true;
  const run = await doctor(['--target', config.destinations[0].name], { profiles: [config.destinations[0].name], kube: false });
  expect({ code: run.code, why: run.code === 1 ? '' : show(run) }).toEqual({ code: 1, why: '' });
  expect(run.report.counts.mismatch).toBe(0);
  expect(run.report.findings.filter((f) => f.status === 'unchecked').map((f) => f.found)).toContainEqual(expect.stringMatching(/Throttling/));
}, 200_000);

test('a profile of another account is a credentials mismatch, and nothing else is read with it', async () => {
  const [a, b] = [config.build, config.destinations[0]];
  const run = await doctor(['--target', a.name, '--profile', `${a.name}=${b.name}`], { profiles: [], kube: false });
  expect(run.code).toBe(2);
  expect(run.report.findings).toEqual([
    expect.objectContaining({
      hop: 'credentials',
      status: 'mismatch',
      target: a.name,
      expected: expect.stringContaining(a.account),
      found: expect.stringMatching(new RegExp(`${b.account}|InvalidClientTokenId`)),
    }),
    expect.objectContaining({ target: 'cluster', status: 'skipped' }),
  ]);
}, 200_000);
