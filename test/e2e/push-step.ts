/**
 * Runs a push step the way the cluster would, from what dist/ says and nothing else:
 *  - Argo: the step template's own command, args and env, with `{{inputs.parameters.*}}` and
 *    `{{workflow.*}}` substituted; each volume mount becomes a fresh directory, and paths under a
 *    mount point are rewritten to it;
 *  - the EKS pod identity webhook: it reads the step's ServiceAccount annotations (role ARN,
 *    audience, regional STS endpoints, token expiration), writes the projected token signed by
 *    the cluster issuer and injects AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
 *    AWS_STS_REGIONAL_ENDPOINTS, and AWS_REGION/AWS_DEFAULT_REGION when the container sets none;
 *  - the container image: `ferry` on PATH is this checkout's bin/ferry.ts through tsx.
 * The process gets no environment from the test runner beyond PATH, HOME and what the test adds
 * to reach the stand-ins.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { childOutput } from '../support/child-output';
import type { TestIssuer } from './issuers';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Annotations the pod identity webhook reads (its documented names). */
const WEBHOOK = {
  roleArn: 'eks.amazonaws.com/role-arn',
  audience: 'eks.amazonaws.com/audience',
  regional: 'eks.amazonaws.com/sts-regional-endpoints',
  expiration: 'eks.amazonaws.com/token-expiration',
  tokenPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
  defaultAudience: 'sts.amazonaws.com',
  defaultExpiration: 86400,
};

/** Every Kubernetes object in a dist/ directory, mutable so a test can break one. */
export function readDist(dir: string): Json[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()))
    .filter(Boolean);
}

export interface PushStep {
  readonly workflowTemplate: string;
  readonly namespace: string;
  readonly template: Json;
  readonly serviceAccount: Json;
}

/** The step template named `templateName` in dist/, with the ServiceAccount it runs as. */
export function findStep(objects: readonly Json[], templateName: string): PushStep {
  for (const o of objects.filter((x) => x.kind === 'WorkflowTemplate')) {
    const template = (o.spec.templates ?? []).find((t: Json) => t.name === templateName);
    if (!template) continue;
    const namespace = o.metadata.namespace;
    const serviceAccount = objects.find(
      (x) => x.kind === 'ServiceAccount' && x.metadata.name === template.serviceAccountName && (x.metadata.namespace ?? namespace) === namespace,
    );
    if (!serviceAccount)
      throw new Error(`step ${templateName} runs as ServiceAccount ${template.serviceAccountName}, which dist/ does not define in ${namespace}`);
    return { workflowTemplate: o.metadata.name, namespace, template, serviceAccount };
  }
  throw new Error(`no WorkflowTemplate in dist/ has a template named ${templateName}`);
}

export interface StepRun {
  /** Values of `{{inputs.parameters.<name>}}`. */
  readonly parameters: Readonly<Record<string, string>>;
  readonly workflowName: string;
  readonly clusterIssuer: TestIssuer;
  /** The cluster's region: what the webhook sets as AWS_REGION when the container sets none. */
  readonly clusterRegion: string;
  /** Where the mounts and the token go. */
  readonly dir: string;
  /** Added last: how the process reaches the stand-ins (NODE_OPTIONS, NODE_EXTRA_CA_CERTS, ...). */
  readonly extraEnv: Readonly<Record<string, string>>;
  /** Files to place under a mount path before the step starts (e.g. the image layout), by container path. */
  readonly files?: Readonly<Record<string, (hostPath: string) => void>>;
}

export interface StepResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Host path of a container path (for reading what the step wrote). */
  hostPath(containerPath: string): string;
}

function substitute(value: string, run: StepRun, where: string): string {
  const out = value
    .replace(/\{\{\s*inputs\.parameters\.([\w-]+)\s*\}\}/g, (m, name: string) => {
      if (!(name in run.parameters)) throw new Error(`${where}: ${m} has no value in this test (known: ${Object.keys(run.parameters).join(', ')})`);
      return run.parameters[name];
    })
    .replace(/\{\{\s*workflow\.name\s*\}\}/g, run.workflowName);
  const left = /\{\{[^}]*\}\}/.exec(out);
  if (left) throw new Error(`${where}: ${left[0]} is not substituted by this test's Argo emulation`);
  return out;
}

export async function runStep(step: PushStep, run: StepRun): Promise<StepResult> {
  const container = step.template.container;
  if (!container?.command?.length) throw new Error(`step ${step.template.name} sets no container command`);
  const mounts: [string, string][] = (container.volumeMounts ?? []).map((m: Json, i: number) => {
    const host = path.join(run.dir, 'mounts', `${i}-${m.name}`);
    fs.mkdirSync(host, { recursive: true });
    return [m.mountPath.replace(/\/$/, ''), host];
  });
  const hostPath = (p: string): string => {
    for (const [mount, host] of mounts) if (p === mount || p.startsWith(`${mount}/`)) return host + p.slice(mount.length);
    return p;
  };
  const rewrite = (v: string, where: string): string =>
    substitute(v, run, where)
      .split(/(?=[=,\s])|(?<=[=,\s])/)
      .map((part) => (part.startsWith('/') ? hostPath(part) : part))
      .join('');

  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value === undefined) throw new Error(`step ${step.template.name}: env ${e.name} is not a plain value; extend the emulation`);
    env[e.name] = rewrite(String(e.value), `env ${e.name}`);
  }
  Object.assign(env, await webhookEnv(step, run, env));
  const command = [...container.command, ...(container.args ?? [])].map((a: string, i: number) => rewrite(String(a), `argument ${i}`));
  for (const [containerPath, place] of Object.entries(run.files ?? {})) place(hostPath(substitute(containerPath, run, containerPath)));

  const bin = path.join(run.dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(
    path.join(bin, 'ferry'),
    `#!/bin/sh\nexec "${path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx')}" "${path.join(REPO_ROOT, 'bin', 'ferry.ts')}" "$@"\n`,
    { mode: 0o755 },
  );
  const home = path.join(run.dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  const fullEnv = { PATH: `${bin}${path.delimiter}${process.env.PATH}`, HOME: home, TMPDIR: hostPath('/tmp'), ...env, ...run.extraEnv };
  fs.mkdirSync(fullEnv.TMPDIR, { recursive: true });
  const [file, ...args] = command;
  const output = await childOutput(spawn(file, args, { env: fullEnv, cwd: run.dir }));
  return { ...output, command, env: fullEnv, hostPath };
}

/** What the pod identity webhook adds for this ServiceAccount, and the token it mounts. */
async function webhookEnv(step: PushStep, run: StepRun, containerEnv: Record<string, string>): Promise<Record<string, string>> {
  const annotations: Record<string, string> = step.serviceAccount.metadata.annotations ?? {};
  const roleArn = annotations[WEBHOOK.roleArn];
  if (!roleArn) return {};
  const audience = annotations[WEBHOOK.audience] ?? WEBHOOK.defaultAudience;
  const lifetime = Math.max(600, Number(annotations[WEBHOOK.expiration] ?? WEBHOOK.defaultExpiration));
  const { token } = await run.clusterIssuer.sign(
    {
      sub: `system:serviceaccount:${step.namespace}:${step.serviceAccount.metadata.name}`,
      aud: [audience],
      'kubernetes.io': {
        namespace: step.namespace,
        serviceaccount: { name: step.serviceAccount.metadata.name, uid: '00000000-0000-4000-8000-000000000001' },
        pod: { name: `${run.workflowName}-${step.template.name}`, uid: '00000000-0000-4000-8000-000000000002' },
      },
    },
    lifetime,
  );
  const tokenFile = path.join(run.dir, 'token', path.basename(WEBHOOK.tokenPath));
  fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
  fs.writeFileSync(tokenFile, token);
  const env: Record<string, string> = { AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile };
  if (annotations[WEBHOOK.regional] === 'true') env.AWS_STS_REGIONAL_ENDPOINTS = 'regional';
  // The webhook keeps a region the container sets; otherwise it sets the cluster's.
  if (!containerEnv.AWS_REGION && !containerEnv.AWS_DEFAULT_REGION)
    Object.assign(env, { AWS_REGION: run.clusterRegion, AWS_DEFAULT_REGION: run.clusterRegion });
  return env;
}
