/**
 * The cluster side of `ferry doctor`: through the user's own `kubectl` (which already knows how to
 * log in to EKS), read what dist/ declares and compare. The namespace exists and its Pod Security
 * level admits Kaniko; every object of dist/ exists with the fields dist/ declares (fields the API
 * server adds are ignored); every Secret the templates read exists with the keys they read; the
 * cluster's OIDC issuer is the one the roles trust.
 *
 * Secret values never reach this process: kubectl is asked for the Secrets' names and data keys only.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sanitize } from '../../common/errors';
import type { DoctorPlan } from '../../contract';
import { type Json, show } from './compare';
import type { Finding } from './findings';

export interface ClusterOptions {
  readonly dist: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly plan: DoctorPlan;
  /** Per kubectl call. */
  readonly timeoutSeconds: number;
  readonly signal: AbortSignal;
  /** The kubectl binary. @default 'kubectl' */
  readonly kubectl?: string;
}

/** The Pod Security label, and the levels under which Kaniko (root, see docs/security.md) can run. */
export const POD_SECURITY_LABEL = 'pod-security.kubernetes.io/enforce';
const KANIKO_LEVELS = ['baseline', 'privileged'];

/** The hop of a dist/ object, by kind. */
export function hopOfKind(kind: string): string {
  return kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

type KubectlResult = { ok: string } | { unchecked: string } | { missing: string };

function kubectl(opts: ClusterOptions, args: string[]): Promise<KubectlResult> {
  const base = [
    ...(opts.kubeconfig ? ['--kubeconfig', opts.kubeconfig] : []),
    ...(opts.context ? ['--context', opts.context] : []),
    `--request-timeout=${opts.timeoutSeconds}s`,
  ];
  return new Promise((resolve) => {
    execFile(
      opts.kubectl ?? 'kubectl',
      [...base, ...args],
      { timeout: (opts.timeoutSeconds + 5) * 1000, maxBuffer: 64 * 1024 * 1024, signal: opts.signal },
      (err, stdout, stderr) => {
        if (!err) return resolve({ ok: stdout });
        const text = sanitize(String(stderr || (err as Error).message));
        if ((err as NodeJS.ErrnoException).code === 'ENOENT')
          return resolve({ unchecked: 'kubectl is not installed (the runbook lists it as a prerequisite)' });
        if (/NotFound|not found/.test(text) && !/the server could not find the requested resource/.test(text)) return resolve({ missing: text });
        resolve({ unchecked: text || `kubectl exited with ${String((err as NodeJS.ErrnoException).code)}` });
      },
    );
  });
}

/** Every object of every dist/*.yaml file, with its file. */
export function readDist(dist: string): { object: Json; file: string }[] {
  // Loaded here: only the doctor reads YAML.
  const { parseAllDocuments } = require('yaml');
  if (!fs.existsSync(dist)) return [];
  return fs
    .readdirSync(dist)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(fs.readFileSync(path.join(dist, f), 'utf8'))
        .map((d: Json) => d.toJSON())
        .filter((o: Json) => o && typeof o === 'object' && o.kind)
        .map((object: Json) => ({ object, file: path.join(dist, f) })),
    );
}

/** `resource.group` for kubectl, from apiVersion and kind (the plural is the lowercased kind plus "s" for every kind ferry emits). */
function resourceOf(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const plural = `${kind.toLowerCase()}s`;
  return group ? `${plural}.${group}` : plural;
}

/** Where `expected` (declared) is not contained in `found` (live): objects by key, arrays by index and length. */
export function notContained(expected: Json, found: Json, at = ''): { path: string; expected: string; found: string } | undefined {
  if (Array.isArray(expected)) {
    if (!Array.isArray(found) || found.length !== expected.length) return { path: at, expected: show(expected), found: show(found) };
    for (let i = 0; i < expected.length; i++) {
      const d = notContained(expected[i], found[i], `${at}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (found === null || typeof found !== 'object' || Array.isArray(found)) return { path: at, expected: show(expected), found: show(found) };
    for (const key of Object.keys(expected)) {
      const d = notContained(expected[key], found[key], /^[A-Za-z_]\w*$/.test(key) ? (at ? `${at}.${key}` : key) : `${at}[${JSON.stringify(key)}]`);
      if (d) return d;
    }
    return undefined;
  }
  // The API server keeps numbers and booleans typed; YAML may have quoted them.
  return String(expected) === String(found) && typeof found !== 'object' ? undefined : { path: at, expected: show(expected), found: show(found) };
}

interface SecretUse {
  readonly name: string;
  readonly keys: Set<string>;
  optional: boolean;
  readonly readers: Set<string>;
}

/** Every Secret the dist/ objects read: secretKeyRef and secret volumes, with the keys they need. */
export function secretsRead(objects: readonly Json[]): SecretUse[] {
  const uses = new Map<string, SecretUse>();
  const add = (name: string, key: string | undefined, optional: boolean, reader: string) => {
    const use = uses.get(name) ?? { name, keys: new Set<string>(), optional: true, readers: new Set<string>() };
    if (key) use.keys.add(key);
    use.optional &&= optional;
    use.readers.add(reader);
    uses.set(name, use);
  };
  const walk = (value: Json, reader: string): void => {
    if (Array.isArray(value)) return value.forEach((v) => walk(v, reader));
    if (!value || typeof value !== 'object') return;
    if (value.secretKeyRef?.name) add(value.secretKeyRef.name, value.secretKeyRef.key, value.secretKeyRef.optional === true, reader);
    if (value.secret?.secretName) {
      add(value.secret.secretName, undefined, value.secret.optional === true, reader);
      for (const item of value.secret.items ?? []) if (item.key) add(value.secret.secretName, item.key, value.secret.optional === true, reader);
    }
    for (const v of Object.values(value)) walk(v, reader);
  };
  for (const o of objects) walk(o, `${o.kind}/${o.metadata?.name}`);
  return [...uses.values()];
}

export async function checkCluster(opts: ClusterOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const emit = (f: Omit<Finding, 'target'>) => findings.push({ target: 'cluster', ...f });
  const { namespace } = opts.plan.cluster;
  const kc = [opts.kubeconfig ? `--kubeconfig ${opts.kubeconfig}` : '', opts.context ? `--context ${opts.context}` : ''].filter(Boolean).join(' ');
  const k = (args: string) => `kubectl ${kc ? `${kc} ` : ''}${args}`;
  const dist = readDist(opts.dist);
  if (dist.length === 0) {
    emit({
      hop: 'dist',
      status: 'mismatch',
      subject: opts.dist,
      expected: 'the Kubernetes YAML npm run synth writes',
      found: 'no YAML files',
      fix: 'npm run synth, or point --dist at its output',
    });
    return findings;
  }

  // The namespace and its Pod Security level.
  const ns = await kubectl(opts, ['get', 'namespace', namespace, '-o', 'json']);
  if ('unchecked' in ns) {
    emit({ hop: 'namespace', status: 'unchecked', subject: namespace, found: ns.unchecked, fix: k(`get namespace ${namespace}`) });
    return findings;
  }
  if ('missing' in ns) {
    emit({
      hop: 'namespace',
      status: 'mismatch',
      subject: namespace,
      expected: `namespace ${namespace}, labelled ${POD_SECURITY_LABEL}=baseline`,
      found: 'no such namespace',
      fix: `${k(`create namespace ${namespace}`)} && ${k(`label namespace ${namespace} ${POD_SECURITY_LABEL}=baseline`)}`,
    });
    return findings;
  }
  const level = JSON.parse(ns.ok).metadata?.labels?.[POD_SECURITY_LABEL];
  if (!KANIKO_LEVELS.includes(level))
    emit({
      hop: 'namespace',
      status: 'mismatch',
      subject: `${namespace}: label ${POD_SECURITY_LABEL}`,
      expected: `${KANIKO_LEVELS.join(' or ')} (Kaniko builds as root; docs/security.md#pod-security-and-the-kaniko-exception)`,
      found: level === undefined ? '(no label: the cluster default applies)' : level,
      fix: k(`label namespace ${namespace} ${POD_SECURITY_LABEL}=baseline --overwrite`),
    });
  else emit({ hop: 'namespace', status: 'ok', subject: `${namespace} (${POD_SECURITY_LABEL}=${level})` });

  await checkObjects(opts, dist, namespace, k, emit);
  await checkSecrets(opts, dist, namespace, k, emit);
  await checkIssuer(opts, k, emit);
  return findings;
}

async function checkObjects(
  opts: ClusterOptions,
  dist: { object: Json; file: string }[],
  namespace: string,
  k: (a: string) => string,
  emit: (f: Omit<Finding, 'target'>) => void,
): Promise<void> {
  const namespaced = dist.filter(({ object }) => object.kind !== 'Namespace' && (object.metadata?.namespace ?? namespace) === namespace);
  const resources = [...new Set(namespaced.map(({ object }) => resourceOf(object.apiVersion, object.kind)))];
  const live = await kubectl(opts, ['-n', namespace, 'get', resources.join(','), '-o', 'json']);
  if (!('ok' in live)) {
    emit({
      hop: 'cluster',
      status: 'unchecked',
      subject: `${namespace}: ${resources.join(', ')}`,
      found: 'missing' in live ? live.missing : live.unchecked,
      fix: k(`-n ${namespace} get ${resources.join(',')}`),
    });
    return;
  }
  const items: Json[] = JSON.parse(live.ok).items ?? [];
  for (const { object, file } of namespaced) {
    const hop = hopOfKind(object.kind);
    const subject = `${namespace}/${object.kind}/${object.metadata.name}`;
    const fix = `sync dist/ to your GitOps repository, or ${k(`apply -f ${file}`)}`;
    const found = items.find((i) => i.kind === object.kind && i.metadata?.name === object.metadata.name);
    if (!found) {
      emit({ hop, status: 'mismatch', subject, expected: `as in ${file}`, found: 'not in the cluster', fix });
      continue;
    }
    const { apiVersion: _a, kind: _k, metadata, status: _s, ...declared } = object;
    const d =
      notContained(
        { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} },
        { labels: found.metadata.labels ?? {}, annotations: found.metadata.annotations ?? {} },
        'metadata',
      ) ?? notContained(declared, found);
    if (d) emit({ hop, status: 'mismatch', subject: `${subject}: ${d.path}`, expected: d.expected, found: d.found, fix });
    else emit({ hop, status: 'ok', subject });
  }
}

async function checkSecrets(
  opts: ClusterOptions,
  dist: { object: Json; file: string }[],
  namespace: string,
  k: (a: string) => string,
  emit: (f: Omit<Finding, 'target'>) => void,
): Promise<void> {
  const uses = secretsRead(dist.map((d) => d.object));
  if (uses.length === 0) return;
  // Names and data keys only: the values stay in kubectl.
  const template = '{{range .items}}{{.metadata.name}}{{range $k, $v := .data}} {{$k}}{{end}}{{"\\n"}}{{end}}';
  const listed = await kubectl(opts, ['-n', namespace, 'get', 'secrets', '-o', `go-template=${template}`]);
  if (!('ok' in listed)) {
    emit({
      hop: 'secret',
      status: 'unchecked',
      subject: namespace,
      found: 'missing' in listed ? listed.missing : listed.unchecked,
      fix: k(`-n ${namespace} get secrets`),
    });
    return;
  }
  const present = new Map(
    listed.ok
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, ...keys] = line.trim().split(/\s+/);
        return [name, new Set(keys)] as const;
      }),
  );
  for (const use of uses) {
    const subject = `${namespace}/Secret/${use.name} (read by ${[...use.readers].sort().join(', ')})`;
    const keys = [...use.keys].sort();
    const create = k(`-n ${namespace} create secret generic ${use.name} ${keys.map((key) => `--from-literal=${key}=...`).join(' ') || '--from-file=...'}`);
    const found = present.get(use.name);
    if (!found) {
      if (use.optional) emit({ hop: 'secret', status: 'ok', subject: `${subject}: absent, and optional` });
      else
        emit({
          hop: 'secret',
          status: 'mismatch',
          subject,
          expected: `exists with key${keys.length === 1 ? '' : 's'} ${keys.join(', ')}`,
          found: 'no such Secret',
          fix: `${create} (docs/pipeline.md#objects-you-create)`,
        });
      continue;
    }
    const absent = keys.filter((key) => !found.has(key));
    if (absent.length)
      emit({
        hop: 'secret',
        status: 'mismatch',
        subject,
        expected: `keys ${keys.join(', ')}`,
        found: `keys ${[...found].sort().join(', ') || '(none)'}`,
        fix: `recreate it: ${k(`-n ${namespace} delete secret ${use.name}`)} && ${create}`,
      });
    else emit({ hop: 'secret', status: 'ok', subject });
  }
}

/** The cluster's service account issuer: the `iss` of every projected token, which the roles trust. */
async function checkIssuer(opts: ClusterOptions, k: (a: string) => string, emit: (f: Omit<Finding, 'target'>) => void): Promise<void> {
  const got = await kubectl(opts, ['get', '--raw', '/.well-known/openid-configuration']);
  const expected = opts.plan.cluster.issuerUrl;
  if (!('ok' in got)) {
    emit({
      hop: 'cluster-issuer',
      status: 'unchecked',
      subject: 'service account issuer',
      found: 'missing' in got ? got.missing : got.unchecked,
      fix: k('get --raw /.well-known/openid-configuration'),
    });
    return;
  }
  let issuer: string | undefined;
  try {
    issuer = JSON.parse(got.ok).issuer;
  } catch {
    issuer = undefined;
  }
  if (issuer !== expected)
    emit({
      hop: 'cluster-issuer',
      status: 'mismatch',
      subject: 'service account issuer',
      expected,
      found: show(issuer),
      fix: `set cluster.issuerUrl: ${issuer} in ${opts.plan.configDir}/build.yaml (aws eks describe-cluster --query cluster.identity.oidc.issuer), npm run synth, deploy every stack, sync dist/`,
    });
  else emit({ hop: 'cluster-issuer', status: 'ok', subject: `service account issuer ${issuer}` });
}
