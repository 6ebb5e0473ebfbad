/**
 * The in-cluster doctor as synthesized: each destination's `ferry-doctor` task from dist/ (its
 * command, args, env and ServiceAccount, through the pod identity webhook's emulation) runs against
 * the same STS and ECR stand-ins as the push proof, which judge every call by the synthesized
 * policies.
 *
 * With everything right, every hop holds and the doctor wrote nothing. Then one mistake at a time
 * (mistakes.ts, the push proof's mistakes and more): the doctor exits 2, the first hop that does
 * not hold is the one the mistake belongs to, its lines name the fix, and every later hop is
 * skipped.
 *
 * FERRY_E2E_SHOW=1 prints the doctor's output of each mistake. FERRY_E2E_CONFIG=<dir> runs it on
 * another config (e.g. test/e2e/configs/four-partitions).
 */
import * as path from 'node:path';
import { loadConfig } from '../../lib/config/load';
import type { Target } from '../../lib/config/model';
import { sourceRoleArn } from '../../lib/config/naming';
import { doctorTaskName } from '../../lib/k8s/charts/doctor';
import { PATH_HOPS, type PathHop } from '../../lib/operations/doctor/path';
import { EXAMPLE_CONFIG } from '../support/config-fixture';
import { type MistakeName, mistake } from './mistakes';
import { findStep, runStep, type StepResult } from './push-step';
import { failure, leakedSecrets, resetStage, type Stage, startStage, stopStage } from './stage';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const CONFIG_DIR = process.env.FERRY_E2E_CONFIG ?? EXAMPLE_CONFIG;
const CONFIG = loadConfig(CONFIG_DIR);
const DESTINATIONS = CONFIG.destinations.map((d) => [d.name, d.trust] as const);
const TRUST_PATHS = [...new Set(CONFIG.destinations.map((d) => d.trust))];

let stage: Stage;
let runs = 0;

beforeAll(async () => {
  stage = await startStage(CONFIG_DIR, 'ferry-e2e-doctor-');
}, 120_000);

afterAll(() => stopStage(stage));

beforeEach(() => resetStage(stage));

interface HopLine {
  readonly status: string;
  readonly target: string;
  readonly hop: string;
  readonly subject: string;
  readonly details: string[];
}

/** The doctor's stdout, one entry per hop line with its indented expected/found/fix lines. */
function hopLines(stdout: string): HopLine[] {
  const out: { status: string; target: string; hop: string; subject: string; details: string[] }[] = [];
  for (const line of stdout.split('\n')) {
    const head = /^(ok|MISMATCH|UNCHECKED|skipped)\s+([^:]+): ([\w-]+): (.*)$/.exec(line);
    if (head) out.push({ status: head[1], target: head[2], hop: head[3], subject: head[4], details: [] });
    else if (line.trim() && out.length) out[out.length - 1].details.push(line.trim());
  }
  return out;
}

/** Runs destination D's doctor task from dist/ (or a mutated copy) against the stand-ins. */
async function doctorStep(destination: Target, objects: Json[] = stage.dist, clusterIssuer = stage.clusterIssuer): Promise<StepResult> {
  const step = findStep(objects, doctorTaskName(destination));
  return runStep(step, {
    parameters: { image_repository: stage.repository },
    workflowName: 'ferry-doctor-run',
    clusterIssuer,
    clusterRegion: stage.config.build.region,
    dir: path.join(stage.root, 'doctor', `run-${++runs}`),
    extraEnv: stage.front.processEnv(),
  });
}

function hopsOf(destination: Target): PathHop[] {
  return PATH_HOPS.filter((h) => h !== 'mint' || destination.trust === 'outbound-federation');
}

describe('the ferry-doctor template as synthesized', () => {
  test.each(DESTINATIONS)('%s (%s): runs as the push ServiceAccount, with the push step environment', (name) => {
    const destination = stage.config.destinations.find((d) => d.name === name)!;
    const doctor = findStep(stage.dist, doctorTaskName(destination));
    const push = findStep(stage.dist, `push-${destination.name}`);
    expect(doctor.workflowTemplate).toBe('ferry-doctor');
    expect(doctor.serviceAccount.metadata).toEqual(push.serviceAccount.metadata);
    expect(doctor.template.container.command).toEqual(['ferry', 'doctor', 'path']);
    expect(doctor.template.container.image).toBe(push.template.container.image);
    expect(doctor.template.container.env.map((e: Json) => e.name)).toEqual(push.template.container.env.map((e: Json) => e.name));
    expect(doctor.template.retryStrategy).toBeUndefined();
  });

  test.each(DESTINATIONS)('%s (%s): every hop holds, nothing is written, no secret is printed', async (name, trust) => {
    const destination = stage.config.destinations.find((d) => d.name === name)!;
    const result = await doctorStep(destination);
    expect({ code: result.code, why: result.code === 0 ? '' : failure(stage, result) }).toEqual({ code: 0, why: '' });
    const lines = hopLines(result.stdout);
    expect(lines.map((l) => [l.status, l.target, l.hop])).toEqual(hopsOf(destination).map((h) => ['ok', destination.name, h]));
    const sa = `system:serviceaccount:${stage.config.cluster.namespace}:${findStep(stage.dist, doctorTaskName(destination)).serviceAccount.metadata.name}`;
    expect(lines.find((l) => l.hop === 'pod-token')?.subject).toContain(`iss=${stage.config.cluster.issuerUrl} sub=${sa} aud=${stage.config.cluster.audience}`);
    if (trust === 'outbound-federation') {
      // The minted token's claims, and which spelling of the source role STS put in `sub`.
      const mint = lines.find((l) => l.hop === 'mint')!.subject;
      expect(mint).toContain(`iss=${stage.config.outboundFederation!.issuerUrl} sub=${sourceRoleArn(stage.config, destination)} aud=`);
      expect(mint).toMatch(/sub spelling: the role ARN/);
    }
    // Read-only: no upload, manifest write or delete reached any registry.
    expect(stage.front.ecr.calls.filter((c) => !/^(GET|HEAD) |^ecr:GetAuthorizationToken$/.test(c.api))).toEqual([]);
    // tags/list on both repositories passed the stand-in's policy check (ecr:ListImages) and reached the
    // registry; the destination's is empty before the first push, which docker-registry answers 404.
    expect(stage.front.ecr.calls.filter((c) => c.api.endsWith('/tags/list')).map((c) => [c.host, c.action, c.error ?? 'allowed'])).toEqual([
      [expect.stringContaining(stage.config.build.account), 'ecr:ListImages', 'allowed'],
      [expect.stringContaining(destination.account), 'ecr:ListImages', 'allowed'],
    ]);
    expect(lines.find((l) => l.hop === 'destination-registry')?.subject).toMatch(/no tags yet; nothing written/);
    expect(leakedSecrets(stage, result.stdout + result.stderr)).toEqual([]);
  });
});

/** The hop each mistake belongs to, and what its fix must say. */
function expected(name: MistakeName, destination: Target): { hop: PathHop; fix: RegExp } {
  const outbound = destination.trust === 'outbound-federation';
  switch (name) {
    case 'wrong sub':
      return { hop: 'destination-role', fix: /trust policy's :sub and :aud conditions/ };
    case 'wrong aud':
      return outbound
        ? { hop: 'destination-role', fix: /audience differs.*must list it as a client ID/ }
        : { hop: 'destination-role', fix: /trust policy's :sub and :aud conditions/ };
    case 'wrong issuer':
      return outbound
        ? { hop: 'mint', fix: /outboundFederation\.issuerUrl.*get-outbound-web-identity-federation-info/ }
        : { hop: 'destination-role', fix: /has no IAM OIDC provider for issuer/ };
    case 'wrong partition':
    case 'ServiceAccount with another role':
      return { hop: 'source-role', fix: /eks\.amazonaws\.com\/role-arn=arn:/ };
    case 'wrong cluster issuer':
      return { hop: 'pod-token', fix: /cluster\.issuerUrl.*aws eks describe-cluster/ };
    case 'build repository outside the source role policy':
      return { hop: 'build-registry', fix: /policy does not cover this repository/ };
    case 'mint audience outside the source role policy':
      return { hop: 'mint', fix: /may not call sts:GetWebIdentityToken with audience/ };
    case 'repository outside the policy':
      return { hop: 'destination-registry', fix: /policy does not cover this repository/ };
    case 'destination repository missing':
      return { hop: 'destination-registry', fix: /deploy the stack of account/ };
  }
}

const MISTAKES: MistakeName[] = [
  'wrong cluster issuer',
  'wrong partition',
  'ServiceAccount with another role',
  'build repository outside the source role policy',
  'wrong sub',
  'wrong aud',
  'wrong issuer',
  'repository outside the policy',
  'destination repository missing',
];

describe.each(
  (
    [
      ['cluster-oidc', MISTAKES],
      ['outbound-federation', [...MISTAKES, 'mint audience outside the source role policy']],
    ] as [string, MistakeName[]][]
  ).filter(([trust]) => TRUST_PATHS.includes(trust as never)),
)('%s: each single mistake is named at its own hop, with its fix', (trust, mistakes) => {
  test.each(mistakes)('%s', async (name) => {
    const destination = stage.config.destinations.find((d) => d.trust === trust)!;
    const m = mistake(stage, destination, name, doctorTaskName(destination));
    stage.front.world = stage.worldOf(m.stacks ?? stage.stacks, m.outboundIssuers);
    const result = await doctorStep(destination, m.dist ?? stage.dist, m.clusterIssuer);
    const why = failure(stage, result);
    if (process.env.FERRY_E2E_SHOW) process.stderr.write(`[doctor ${trust} / ${name}]\n${result.stdout}\n`);
    const want = expected(name, destination);
    const lines = hopLines(result.stdout);
    const hops = hopsOf(destination);
    const at = hops.indexOf(want.hop);
    // Every hop before holds, this one does not, every later one is skipped.
    expect({ statuses: lines.map((l) => `${l.hop} ${l.status}`), why }).toEqual({
      statuses: hops.map((h, i) => `${h} ${i < at ? 'ok' : i === at ? 'MISMATCH' : 'skipped'}`),
      why,
    });
    expect(result.code).toBe(2);
    const line = lines[at];
    expect(line.details.find((d) => d.startsWith('fix:')) ?? why).toMatch(want.fix);
    expect(line.details.some((d) => d.startsWith('expected:'))).toBe(true);
    expect(leakedSecrets(stage, result.stdout + result.stderr)).toEqual([]);
  });
});

test('a destination repository that does not exist yet is fine under a --created-on-push prefix (a creation template creates it on the first push)', async () => {
  const destination = stage.config.destinations[0];
  const m = mistake(stage, destination, 'destination repository missing', doctorTaskName(destination));
  stage.front.world = stage.worldOf(m.stacks!);
  const objects = JSON.parse(JSON.stringify(stage.dist));
  const repository = stage.config.repositories[0].name;
  findStep(objects, doctorTaskName(destination)).template.container.args.push('--created-on-push', `${repository.split('/')[0]}/`);
  const result = await doctorStep(destination, objects);
  expect({ code: result.code, why: failure(stage, result) }).toMatchObject({ code: 0 });
  expect(hopLines(result.stdout).find((l) => l.hop === 'destination-registry')).toMatchObject({
    status: 'ok',
    subject: expect.stringMatching(/does not exist yet: the first push creates it/),
  });
});
