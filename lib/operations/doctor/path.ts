/**
 * The in-cluster doctor: walks the credential path a push step walks, hop by hop, with the same
 * code (lib/registry/authn), and writes nothing. Hops, in order:
 *   pod-token → source-role → build-registry → mint (outbound federation only) →
 *   destination-role → ecr-login → destination-registry.
 * It stops at the first hop that does not hold: that hop is reported with what was expected, what
 * was found and the fix, and every later hop as skipped. AWS refusing (a trust, a policy, a
 * provider) is a mismatch; throttling, server faults and the network leave the hop unchecked.
 */
import * as fs from 'node:fs';
import type { AwsCredentialIdentity } from '@smithy/types';
import { errorMessage, FatalError, InputError } from '../../common/errors';
import {
  Authenticator,
  type AwsContext,
  type AwsTarget,
  assumeWithToken,
  awsCredentialsFor,
  type CredentialSource,
  credentialSourceFor,
  type Env,
  ecrSource,
  ecrTargetOf,
  endpointLogPlugin,
  HopError,
  type Log,
  mintToken,
  partitionOf,
  stsConfig,
  type TokenClaims,
  type TrustSettings,
  tokenClaims,
} from '../../registry/authn';
import { type Deadline, withinDeadline } from '../../registry/deadlines';
import { MANIFEST_ACCEPT, pullScopes } from '../../registry/pull';
import type { Reference } from '../../registry/reference';
import { Registry } from '../../registry/registry';
import { registryError, type Transport } from '../../registry/transport';
import type { Finding } from './findings';

/** The hops, in the order the push step walks them. */
export const PATH_HOPS = ['pod-token', 'source-role', 'build-registry', 'mint', 'destination-role', 'ecr-login', 'destination-registry'] as const;
export type PathHop = (typeof PATH_HOPS)[number];

/** What the synthesized config says the pod and its tokens must be; each is compared when given. */
export interface PathExpectations {
  /** config cluster.issuerUrl: the `iss` of the pod's token. */
  readonly clusterIssuer?: string;
  /** config cluster.audience: an `aud` of the pod's token. */
  readonly clusterAudience?: string;
  /** `system:serviceaccount:<namespace>:<name>`: the `sub` of the pod's token. */
  readonly subject?: string;
  /** config outboundFederation.issuerUrl: the `iss` of the minted token. */
  readonly outboundIssuer?: string;
}

export interface PathCheck {
  /** Names the findings: the destination's name. */
  readonly target: string;
  /** The build repository (a tag or digest in it is ignored), and the role the pod must hold. */
  readonly build: { readonly ref: Reference; readonly roleArn?: string };
  /** The destination repository and its pusher role. */
  readonly destination: { readonly ref: Reference; readonly roleArn: string };
  readonly trust: TrustSettings;
  readonly expect: PathExpectations;
  /**
   * Repository prefixes (`team-a/`) whose repositories ECR creates on the first push (repository
   * creation templates): a destination repository under one that does not exist yet is fine.
   */
  readonly createdOnPush: readonly string[];
}

export interface PathContext {
  readonly env: Env;
  readonly transport: Transport;
  readonly deadline: Deadline;
  readonly log: Log;
  readonly now?: () => number;
}

/** A hop that does not hold (or could not be checked): becomes its finding, and ends the walk. */
class HopFailure extends Error {
  constructor(readonly finding: Omit<Finding, 'hop' | 'target'>) {
    super(finding.subject);
  }
}

function mismatch(subject: string, expected: string | undefined, found: string | undefined, fix: string): HopFailure {
  return new HopFailure({ status: 'mismatch', subject, expected, found, fix });
}

/**
 * An error of one of the authn hops (or of a registry call) as this hop's finding: AWS refusing
 * is a mismatch with the hop's likely fix, anything a later attempt may get past is unchecked.
 */
function fromError(err: unknown, subject: string, expected: string, fallbackFix: string): HopFailure {
  if (err instanceof HopFailure) return err;
  if (err instanceof HopError && err.info) {
    return new HopFailure({
      status: err.info.refused ? 'mismatch' : 'unchecked',
      subject,
      expected,
      found: err.info.detail,
      fix: err.info.fix ?? (err.info.refused ? fallbackFix : 'run the doctor again; if it keeps failing, check the network path from the pod to AWS'),
    });
  }
  const refused = err instanceof InputError || err instanceof FatalError || err instanceof HopError;
  return new HopFailure({
    status: refused ? 'mismatch' : 'unchecked',
    subject,
    expected,
    found: errorMessage(err),
    fix: refused ? fallbackFix : 'run the doctor again; if it keeps failing, check the network path from the pod to AWS',
  });
}

const ASSUMED_ROLE = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//;
const ROLE = /^arn:([^:]+):iam::(\d{12}):role\/(?:(.*)\/)?([^/]+)$/;

function audiences(aud: TokenClaims['aud']): string[] {
  return aud === undefined ? [] : [aud].flat();
}

function describeClaims(c: TokenClaims): string {
  return `iss=${c.iss ?? '(none)'} sub=${c.sub ?? '(none)'} aud=${audiences(c.aud).join(',') || '(none)'}`;
}

/** `namespace/name` of a ServiceAccount subject, for kubectl. */
function serviceAccountOf(subject: string | undefined): { namespace: string; name: string } | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(subject ?? '');
  return m ? { namespace: m[1], name: m[2] } : undefined;
}

/** One walk; each hop returns its finding's subject and the state later hops need. */
class PathWalk {
  private readonly aws: AwsContext;
  private readonly buildTarget: AwsTarget;
  private readonly destinationTarget: AwsTarget & { roleArn: string };
  private podClaims: TokenClaims = {};
  private mintedToken?: string;
  private destinationCredentials?: AwsCredentialIdentity;
  private destinationSource?: CredentialSource;

  constructor(
    private readonly check: PathCheck,
    private readonly ctx: PathContext,
  ) {
    this.aws = { env: ctx.env, trust: check.trust, log: ctx.log };
    const build = ecrTargetOf(check.build.ref.registry, ctx.env);
    if (!build) throw new InputError(`${check.build.ref.registry} is not an ECR registry: the doctor walks the ECR path (set AWS_ECR_ENDPOINT if it is one)`);
    const destination = ecrTargetOf(check.destination.ref.registry, ctx.env, check.destination.roleArn);
    if (!destination) throw new InputError(`${check.destination.ref.registry} is not an ECR registry (set AWS_ECR_ENDPOINT if it is one)`);
    this.buildTarget = build;
    this.destinationTarget = { ...destination, roleArn: check.destination.roleArn };
  }

  /** The hops this walk takes: mint only for outbound federation. */
  hops(): PathHop[] {
    return PATH_HOPS.filter((h) => h !== 'mint' || this.check.trust.mode === 'outbound-federation');
  }

  run(hop: PathHop): Promise<string> {
    switch (hop) {
      case 'pod-token':
        return this.podToken();
      case 'source-role':
        return this.sourceRole();
      case 'build-registry':
        return this.buildRegistry();
      case 'mint':
        return this.mint();
      case 'destination-role':
        return this.destinationRole();
      case 'ecr-login':
        return this.ecrLogin();
      case 'destination-registry':
        return this.destinationRegistry();
    }
  }

  private get now(): number {
    return (this.ctx.now ?? Date.now)();
  }

  private get serviceAccount(): { namespace: string; name: string } | undefined {
    return serviceAccountOf(this.check.expect.subject) ?? serviceAccountOf(this.podClaims.sub);
  }

  private kubectlSa(): string {
    const sa = this.serviceAccount;
    return sa ? `kubectl -n ${sa.namespace} get serviceaccount ${sa.name} -o yaml` : "kubectl get serviceaccount <the step's serviceAccountName> -o yaml";
  }

  /** The projected ServiceAccount token: readable, unexpired, from the configured cluster, for the configured audience and ServiceAccount. */
  private async podToken(): Promise<string> {
    const { env } = this.ctx;
    const { expect } = this.check;
    const file = env.AWS_WEB_IDENTITY_TOKEN_FILE;
    const webhookFix = `the pod identity webhook injects it for a ServiceAccount annotated with eks.amazonaws.com/role-arn: check the annotation (${this.kubectlSa()}) and that the webhook runs; dist/ service-accounts.k8s.yaml holds the annotated ServiceAccount, synced by GitOps`;
    if (!file)
      throw mismatch(
        'AWS_WEB_IDENTITY_TOKEN_FILE',
        'the projected ServiceAccount token (IRSA)',
        `not set (AWS_ROLE_ARN ${env.AWS_ROLE_ARN ?? 'not set'})`,
        webhookFix,
      );
    let token: string;
    try {
      token = fs.readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw mismatch(`token file ${file}`, "readable by the step's user", (err as NodeJS.ErrnoException).code ?? errorMessage(err), webhookFix);
    }
    const claims = tokenClaims(token);
    this.podClaims = claims;
    const subject = `token ${describeClaims(claims)}`;
    if (!claims.iss || !claims.sub) throw mismatch(`token file ${file}`, 'a JWT with iss, sub and aud', 'not a JWT', webhookFix);
    if (claims.exp !== undefined && claims.exp * 1000 <= this.now) {
      throw mismatch(
        subject,
        'an unexpired token',
        `expired at ${new Date(claims.exp * 1000).toISOString()}`,
        "the kubelet refreshes projected tokens before they expire: check the node's clock, and eks.amazonaws.com/token-expiration on the ServiceAccount",
      );
    }
    if (expect.clusterIssuer && claims.iss !== expect.clusterIssuer) {
      throw mismatch(
        subject,
        `iss ${expect.clusterIssuer} (build.yaml cluster.issuerUrl)`,
        `iss ${claims.iss}`,
        `the cluster's issuer is not the one the config names: set cluster.issuerUrl in build.yaml to the output of \`aws eks describe-cluster --name <cluster> --query cluster.identity.oidc.issuer --output text\`, then npm run synth, cdk deploy every stack, and sync dist/`,
      );
    }
    if (expect.clusterAudience && !audiences(claims.aud).includes(expect.clusterAudience)) {
      throw mismatch(
        subject,
        `aud ${expect.clusterAudience} (build.yaml cluster.audience)`,
        `aud ${audiences(claims.aud).join(',') || '(none)'}`,
        `the ServiceAccount's eks.amazonaws.com/audience annotation must be ${expect.clusterAudience}: sync dist/ service-accounts.k8s.yaml (${this.kubectlSa()})`,
      );
    }
    if (expect.subject && claims.sub !== expect.subject) {
      throw mismatch(
        subject,
        `sub ${expect.subject}`,
        `sub ${claims.sub}`,
        `the step runs as another ServiceAccount than dist/ names: its template's serviceAccountName must be ${serviceAccountOf(expect.subject)?.name}; sync dist/`,
      );
    }
    const left = claims.exp === undefined ? '' : ` (expires in ${Math.round((claims.exp * 1000 - this.now) / 60_000)} min)`;
    return `${subject}${left}`;
  }

  /** AWS_ROLE_ARN is the source role dist/ names, and the default chain (IRSA) really is that role (STS GetCallerIdentity). */
  private async sourceRole(): Promise<string> {
    const annotated = this.ctx.env.AWS_ROLE_ARN;
    const expected = this.check.build.roleArn;
    const sa = this.serviceAccount;
    if (expected && annotated !== expected) {
      throw mismatch(
        `ServiceAccount ${sa ? `${sa.namespace}/${sa.name}` : "(the step's)"} eks.amazonaws.com/role-arn`,
        expected,
        annotated ?? 'not set',
        `the ServiceAccount must carry the source role of this destination: sync dist/ service-accounts.k8s.yaml to the GitOps repository${sa ? `, or \`kubectl -n ${sa.namespace} annotate serviceaccount ${sa.name} eks.amazonaws.com/role-arn=${expected} --overwrite\` until it syncs` : ''}, then restart the doctor`,
      );
    }
    const role = expected ?? annotated ?? '(the default credentials)';
    const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts') as typeof import('@aws-sdk/client-sts');
    const config = stsConfig(this.buildTarget.region, this.buildTarget.fips);
    // The same default chain (and its pod-role hop errors) that reads the build registry in the push step.
    const sts = new STSClient({ ...config, credentials: awsCredentialsFor(this.buildTarget, this.aws).provider });
    sts.middlewareStack.use(endpointLogPlugin(this.ctx.log));
    let arn: string;
    try {
      const out = await withinDeadline(sts.send(new GetCallerIdentityCommand({})), this.ctx.deadline);
      arn = out.Arn ?? '';
    } catch (err) {
      throw fromError(err, `role ${role}`, `the pod's token exchanged for ${role} at STS ${config.region}`, `check role ${role}'s trust policy`);
    } finally {
      sts.destroy();
    }
    const caller = ASSUMED_ROLE.exec(arn);
    const want = ROLE.exec(expected ?? annotated ?? '');
    if (want && (!caller || caller[1] !== want[1] || caller[2] !== want[2] || caller[3] !== want[4])) {
      throw mismatch(
        `role ${role}`,
        `a session of ${role}`,
        arn || '(no ARN)',
        'the default credential chain found other credentials before IRSA (AWS_ACCESS_KEY_ID, AWS_PROFILE, a mounted config): remove them from the step',
      );
    }
    return `role ${role} (caller ${arn})`;
  }

  private repositoryArn(target: AwsTarget, repository: string): string {
    const account = /^(\d{12})\./.exec(target.host)?.[1] ?? '<account>';
    return `arn:${partitionOf(target)}:ecr:${target.region}:${account}:repository/${repository}`;
  }

  /**
   * Read-only calls on one repository: GET tags/list (ecr:ListImages), then HEAD the manifest of
   * its first tag, if any (ecr:BatchGetImage). Both are in the pushers' and source roles' policies.
   */
  private async readRepository(registry: Registry, repository: string): Promise<{ missing: boolean; tags: number; read?: string }> {
    const scopes = pullScopes(repository);
    const list = await registry.request({ method: 'GET', target: `/v2/${repository}/tags/list?n=10`, scopes });
    if (list.status === 404) {
      // ECR answers a repository that does not exist with NAME_UNKNOWN "The repository with name
      // '<name>' does not exist in the registry with id '<account>'". Other registries also answer
      // 404 for a repository that exists with no tags yet (distribution's "repository name not
      // known to registry"): only ECR's own wording means missing.
      return { missing: /does not exist/i.test(registryError(list)), tags: 0 };
    }
    if (list.status !== 200) throw new RegistryAnswer(list.status, registryError(list), `GET /v2/${repository}/tags/list`);
    let tags: string[] = [];
    try {
      const body = JSON.parse(list.body.toString('utf8')) as { tags?: unknown };
      tags = Array.isArray(body.tags) ? body.tags.filter((t): t is string => typeof t === 'string') : [];
    } catch {
      throw new RegistryAnswer(list.status, 'an answer that is not JSON', `GET /v2/${repository}/tags/list`);
    }
    if (tags.length === 0) return { missing: false, tags: 0 };
    const head = await registry.request({
      method: 'HEAD',
      target: `/v2/${repository}/manifests/${encodeURIComponent(tags[0])}`,
      scopes,
      headers: { accept: MANIFEST_ACCEPT },
    });
    if (head.status !== 200) throw new RegistryAnswer(head.status, registryError(head), `HEAD /v2/${repository}/manifests/${tags[0]}`);
    return { missing: false, tags: tags.length, read: tags[0] };
  }

  private registryFailure(err: unknown, role: string, target: AwsTarget, repository: string, who: string): HopFailure {
    const arn = this.repositoryArn(target, repository);
    if (err instanceof RegistryAnswer) {
      if (err.status === 403) {
        return mismatch(
          `repository ${arn}`,
          `${role} may read it (ecr:ListImages, ecr:BatchGetImage)`,
          `${err.request}: ${err.detail}`,
          `${who}'s policy does not cover this repository: it must be a configured repository (shared.yaml repositories) and the stack of account ${arn.split(':')[4]} deployed since (aws iam list-attached-role-policies --role-name ${ROLE.exec(role)?.[4] ?? '<role>'})`,
        );
      }
      if (err.status === 401) {
        return mismatch(
          `repository ${arn}`,
          'the ECR token is accepted',
          `${err.request}: ${err.detail}`,
          `the ECR token is not for ${target.host}: its region and account must be the registry's`,
        );
      }
      return new HopFailure({ status: 'unchecked', subject: `repository ${arn}`, found: `${err.request}: ${err.detail}`, fix: 'run the doctor again later' });
    }
    return fromError(err, `repository ${arn}`, `${role} may read it`, `check that ${target.host} is reachable and is the registry the config names`);
  }

  /** ECR login at the build registry with the pod's own credentials, and a read of the build repository. */
  private async buildRegistry(): Promise<string> {
    const { ref } = this.check.build;
    const role = this.check.build.roleArn ?? this.ctx.env.AWS_ROLE_ARN ?? 'the default credentials';
    // As `ferry copy` reads its source: no role, the default chain (the pod's IRSA role).
    const source = credentialSourceFor(ref.registry, this.ctx.env, undefined, { trust: { ...this.check.trust, mode: 'cluster-oidc' }, log: this.ctx.log });
    try {
      await withinDeadline(source.get(false), this.ctx.deadline);
    } catch (err) {
      throw fromError(err, `ECR login at ${ref.registry}`, `${role} may call ecr:GetAuthorizationToken`, `check role ${role}'s policy (RegistryLogin)`);
    }
    const registry = new Registry(ref.registry, this.ctx.transport, new Authenticator(ref.registry, this.ctx.transport, source), this.ctx.deadline);
    let read: Awaited<ReturnType<PathWalk['readRepository']>>;
    try {
      read = await this.readRepository(registry, ref.repository);
    } catch (err) {
      throw this.registryFailure(err, role, this.buildTarget, ref.repository, `the source role ${role}`);
    }
    if (read.missing) {
      throw mismatch(
        `repository ${this.repositoryArn(this.buildTarget, ref.repository)}`,
        'the build repository exists',
        'NAME_UNKNOWN: it does not exist',
        'deploy the build account\'s stack (it creates every configured repository), and check the repository name (the doctor\'s "repository" parameter)',
      );
    }
    return `${ref.registry}/${ref.repository} read as ${role} (${read.read ? `${read.tags} tag(s) listed, manifest ${read.read} read` : 'no tags yet'})`;
  }

  /** GetWebIdentityToken with the pod's credentials in the build region; the claims of the token, and which `sub` spelling STS used. */
  private async mint(): Promise<string> {
    const { trust, expect } = this.check;
    const region = trust.region!;
    try {
      this.mintedToken = await withinDeadline(mintToken(this.destinationTarget, this.aws, region), this.ctx.deadline);
    } catch (err) {
      throw fromError(
        err,
        `GetWebIdentityToken at STS ${region}`,
        `audience ${trust.audience}, RS256, ${trust.durationSeconds}s`,
        "check the source role's MintOutboundToken statement",
      );
    }
    const claims = tokenClaims(this.mintedToken);
    const subject = `minted token ${describeClaims(claims)}`;
    if (expect.outboundIssuer && claims.iss !== expect.outboundIssuer) {
      throw mismatch(
        subject,
        `iss ${expect.outboundIssuer} (build.yaml outboundFederation.issuerUrl)`,
        `iss ${claims.iss}`,
        "the build account's outbound issuer is not the one the config names, so no destination provider trusts it: set outboundFederation.issuerUrl in build.yaml to the output of `aws iam get-outbound-web-identity-federation-info --query IssuerIdentifier --output text` (build account), then npm run synth and cdk deploy every outbound-federation destination",
      );
    }
    if (!audiences(claims.aud).includes(trust.audience) || audiences(claims.aud).length !== 1) {
      throw mismatch(
        subject,
        `aud ${trust.audience} only`,
        `aud ${audiences(claims.aud).join(',')}`,
        'STS minted another audience than asked for: report this',
      );
    }
    return `${subject} (${this.subSpelling(claims.sub)})`;
  }

  /** Whether the minted `sub` is the source role ARN with its path or without it. */
  private subSpelling(sub: string | undefined): string {
    const role = ROLE.exec(this.check.build.roleArn ?? this.ctx.env.AWS_ROLE_ARN ?? '');
    const parsed = ROLE.exec(sub ?? '');
    if (!role || !parsed) return 'sub spelling: not a role ARN';
    const withoutPath = `arn:${role[1]}:iam::${role[2]}:role/${role[4]}`;
    if (!role[3]) return 'sub spelling: the role ARN (the role has no path, both spellings are the same)';
    if (sub === withoutPath) return 'sub spelling: the role ARN without its path';
    return sub === `arn:${role[1]}:iam::${role[2]}:role/${role[3]}/${role[4]}`
      ? `sub spelling: the role ARN with its path /${role[3]}/`
      : 'sub spelling: another role';
  }

  /** AssumeRoleWithWebIdentity of the destination role: with the pod's token (cluster-oidc) or the minted one. */
  private async destinationRole(): Promise<string> {
    const target = this.destinationTarget;
    const { trust } = this.check;
    const expected = `the ${trust.mode === 'outbound-federation' ? 'minted' : "pod's"} token exchanged for ${target.roleArn} at STS ${target.region}`;
    try {
      this.destinationCredentials = await withinDeadline(
        this.mintedToken ? assumeWithToken(target, this.aws, this.mintedToken) : awsCredentialsFor(target, this.aws).provider(),
        this.ctx.deadline,
      );
    } catch (err) {
      throw fromError(err, `role ${target.roleArn}`, expected, `check role ${target.roleArn}'s trust policy and the OIDC provider it names`);
    }
    return `role ${target.roleArn} (trust ${trust.mode}, STS ${target.region})`;
  }

  /** GetAuthorizationToken at the destination region, signed as the destination role. */
  private async ecrLogin(): Promise<string> {
    const target = this.destinationTarget;
    const credentials = this.destinationCredentials!;
    this.destinationSource = ecrSource(target, this.aws, { provider: async () => credentials, describe: `role ${target.roleArn}` });
    try {
      await withinDeadline(this.destinationSource.get(false), this.ctx.deadline);
    } catch (err) {
      throw fromError(
        err,
        `ECR login at ${target.host}`,
        `${target.roleArn} may call ecr:GetAuthorizationToken in ${target.region}`,
        `check role ${target.roleArn}'s policy (RegistryLogin)`,
      );
    }
    return `ECR login at ${target.host} as ${target.roleArn}`;
  }

  /** The destination repository, read-only: it exists, and the pusher role's policy covers it. */
  private async destinationRegistry(): Promise<string> {
    const target = this.destinationTarget;
    const { ref } = this.check.destination;
    const registry = new Registry(
      ref.registry,
      this.ctx.transport,
      new Authenticator(ref.registry, this.ctx.transport, this.destinationSource!),
      this.ctx.deadline,
    );
    let read: Awaited<ReturnType<PathWalk['readRepository']>>;
    try {
      read = await this.readRepository(registry, ref.repository);
    } catch (err) {
      throw this.registryFailure(err, target.roleArn, target, ref.repository, `the pusher role ${target.roleArn}`);
    }
    const arn = this.repositoryArn(target, ref.repository);
    if (read.missing) {
      if (this.check.createdOnPush.some((prefix) => ref.repository.startsWith(prefix)))
        return `repository ${arn} does not exist yet: the first push creates it (repository creation template)`;
      throw mismatch(
        `repository ${arn}`,
        'the destination repository exists',
        'NAME_UNKNOWN: it does not exist',
        `deploy the stack of account ${arn.split(':')[4]} in ${target.region} (it creates every configured repository), and check the repository name (the doctor's "repository" parameter)`,
      );
    }
    return `${ref.registry}/${ref.repository} read as ${target.roleArn} (${read.read ? `${read.tags} tag(s) listed, manifest ${read.read} read` : 'no tags yet'}; nothing written)`;
  }
}

/** A registry's answer other than the one a read expects. */
class RegistryAnswer extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly request: string,
  ) {
    super(`${request} answered ${detail}`);
  }
}

/**
 * Walks the push step's credential path for one destination. Every hop becomes a finding; after
 * the first that does not hold, the rest are skipped. Never throws for what it finds.
 */
export async function checkPath(check: PathCheck, ctx: PathContext): Promise<Finding[]> {
  const walk = new PathWalk(check, ctx);
  const findings: Finding[] = [];
  let failed = false;
  for (const hop of walk.hops()) {
    if (failed) {
      findings.push({ hop, target: check.target, status: 'skipped', subject: 'not checked: an earlier hop does not hold' });
      continue;
    }
    try {
      findings.push({ hop, target: check.target, status: 'ok', subject: await walk.run(hop) });
    } catch (err) {
      failed = true;
      const f = err instanceof HopFailure ? err : fromError(err, hop, 'the hop holds', 'see the message');
      findings.push({ hop, target: check.target, ...f.finding });
    }
  }
  return findings;
}
