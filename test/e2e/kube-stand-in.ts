/**
 * A STAND-IN for a Kubernetes API server, not Kubernetes: enough for the real `kubectl get` to
 * read the objects `ferry doctor` checks. It serves the legacy discovery documents (/api, /apis and
 * one resource list per group version), GETs and LISTs of namespaced objects of the kinds it holds,
 * GET of a namespace, and the service account issuer's discovery document. Every request must carry
 * the bearer token of the kubeconfig it writes; anything else is 401, an unknown path 404.
 *
 * The "live" objects are what a test puts in: a copy of dist/ (as ArgoCD would apply it) plus the
 * namespace and Secrets the user creates.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { issueCertificates, type TestCertificates } from './test-ca';

/** The name the stand-in's certificate carries; the kubeconfig asks kubectl to verify it (tls-server-name). */
const SERVER_NAME = 'kubernetes.stand-in.test';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** kind -> where it lives in the API (every kind ferry's dist/ emits, plus Secrets and Namespaces). */
const KINDS: Record<string, { group: string; version: string; plural: string; namespaced: boolean }> = {
  Namespace: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  ServiceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  Secret: { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', namespaced: true },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', namespaced: true },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', namespaced: true },
  WorkflowTemplate: { group: 'argoproj.io', version: 'v1alpha1', plural: 'workflowtemplates', namespaced: true },
  CronWorkflow: { group: 'argoproj.io', version: 'v1alpha1', plural: 'cronworkflows', namespaced: true },
};

export class KubeStandIn {
  /** Live objects; replace or edit between runs. */
  objects: Json[] = [];
  /** The service account issuer the cluster's tokens carry. */
  issuer: string;
  readonly requests: string[] = [];
  private readonly token = randomBytes(24).toString('hex');

  private constructor(
    private readonly server: https.Server,
    private readonly certs: TestCertificates,
    issuer: string,
  ) {
    this.issuer = issuer;
  }

  /** HTTPS with a certificate of its own test CA: kubectl sends a bearer token only over verified TLS. */
  static async start(issuer: string, dir: string): Promise<KubeStandIn> {
    const certs = issueCertificates(dir, [SERVER_NAME]);
    const server = https.createServer({ cert: certs.cert, key: certs.key });
    const kube = new KubeStandIn(server, certs, issuer);
    server.on('request', (req, res) => kube.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return kube;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A kubeconfig for this server, with context `stand-in`. */
  writeKubeconfig(dir: string): string {
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: stand-in\n  cluster:\n    server: ${this.url}\n    certificate-authority: ${this.certs.caFile}\n    tls-server-name: ${SERVER_NAME}`,
        'users:',
        `- name: doctor\n  user:\n    token: ${this.token}`,
        'contexts:',
        '- name: stand-in\n  context:\n    cluster: stand-in\n    user: doctor',
        'current-context: stand-in',
        '',
      ].join('\n'),
    );
    return file;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}`);
    const send = (status: number, body: Json) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    const status = (code: number, reason: string, message: string) =>
      send(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });
    if (req.headers.authorization !== `Bearer ${this.token}`) return status(401, 'Unauthorized', 'Unauthorized');
    if (req.method !== 'GET') return status(405, 'MethodNotAllowed', 'the stand-in is read only');
    const answer = this.answer(url.pathname);
    if (answer === undefined) return status(404, 'NotFound', `the server could not find the requested resource (${url.pathname})`);
    if (answer === null) {
      const name = url.pathname.split('/').pop();
      const plural = url.pathname.split('/').slice(-2)[0];
      return status(404, 'NotFound', `${plural} "${name}" not found`);
    }
    send(200, answer);
  }

  /** The document at `p`; null for an object that does not exist, undefined for a path that does not. */
  private answer(p: string): Json | null | undefined {
    if (p === '/.well-known/openid-configuration')
      return {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}/keys`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      };
    if (p === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
    const groups = [
      ...new Set(
        Object.values(KINDS)
          .filter((k) => k.group)
          .map((k) => `${k.group}/${k.version}`),
      ),
    ];
    if (p === '/apis')
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((gv) => {
          const [name, version] = gv.split('/');
          return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
        }),
      };
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(\/.*)?$/.exec(p);
    if (!m) return undefined;
    const group = m[2] ?? '';
    const version = m[1] ?? m[3];
    const rest = m[4] ?? '';
    const inGroup = Object.entries(KINDS).filter(([, k]) => k.group === group && k.version === version);
    if (inGroup.length === 0) return undefined;
    const groupVersion = group ? `${group}/${version}` : version;
    if (rest === '')
      return {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: inGroup.map(([kind, k]) => ({ name: k.plural, singularName: kind.toLowerCase(), namespaced: k.namespaced, kind, verbs: ['get', 'list'] })),
      };
    const parts = rest.split('/').filter(Boolean);
    // /namespaces/<ns>
    if (parts[0] === 'namespaces' && parts.length <= 2 && !group) {
      const items = this.objects.filter((o) => o.kind === 'Namespace' && (parts.length === 1 || o.metadata.name === parts[1]));
      return parts.length === 1 ? { kind: 'NamespaceList', apiVersion: 'v1', metadata: {}, items } : (items[0] ?? null);
    }
    if (parts[0] !== 'namespaces' || parts.length < 3) return undefined;
    const [, ns, plural, name] = parts;
    const kind = inGroup.find(([, k]) => k.plural === plural)?.[0];
    if (!kind) return undefined;
    const items = this.objects.filter((o) => o.kind === kind && o.apiVersion === groupVersion && (o.metadata.namespace ?? ns) === ns);
    if (name === undefined) return { kind: `${kind}List`, apiVersion: groupVersion, metadata: { resourceVersion: '1' }, items: items.map((o) => live(o, ns)) };
    const found = items.find((o) => o.metadata.name === name);
    return found ? live(found, ns) : null;
  }
}

/** An object as the API server returns it: with the fields the server sets. */
function live(o: Json, namespace: string): Json {
  return {
    ...o,
    metadata: { ...o.metadata, namespace, uid: `uid-${o.metadata.name}`, resourceVersion: '1', creationTimestamp: '2026-11-01T00:00:00Z', generation: 1 },
  };
}
