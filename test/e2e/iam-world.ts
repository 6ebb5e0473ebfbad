/**
 * IAM as CloudFormation would leave it after deploying the synthesized cloud assembly: roles
 * with their trust and identity policies, OIDC providers, ECR repositories, read from the
 * templates in cdk.out/ (never copied into a test), plus what exists outside CloudFormation
 * (pre-existing OIDC providers, the accounts' outbound web identity issuers).
 *
 * Policy evaluation covers what ferry's policies use and fails closed on anything else: an
 * operator or element it does not know denies, with a message saying so.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { partitionOf } from './aws-hosts';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface StackTemplate {
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  readonly template: Json;
}

/** Reads every CloudFormation stack of a cloud assembly directory (manifest.json + templates). */
export function readCloudAssembly(dir: string): StackTemplate[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  return Object.entries<Json>(manifest.artifacts)
    .filter(([, a]) => a.type === 'aws:cloudformation:stack')
    .map(([id, a]) => {
      const m = /^aws:\/\/(\d{12})\/([a-z0-9-]+)$/.exec(a.environment);
      if (!m) throw new Error(`stack ${id} has no concrete environment (${a.environment})`);
      return {
        stackName: a.properties.stackName ?? id,
        account: m[1],
        region: m[2],
        template: JSON.parse(fs.readFileSync(path.join(dir, a.properties.templateFile), 'utf8')),
      };
    });
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | string[];
  readonly NotResource?: unknown;
  readonly Principal?: Json;
  readonly NotPrincipal?: unknown;
  readonly Condition?: Record<string, Record<string, string | string[] | number | boolean>>;
}

export interface Role {
  readonly arn: string;
  readonly name: string;
  readonly account: string;
  readonly partition: string;
  readonly stackName: string;
  readonly trust: readonly PolicyStatement[];
  readonly permissions: readonly PolicyStatement[];
  /** The longest session STS grants for the role (CloudFormation default 3600). */
  readonly maxSessionDuration: number;
}

export interface OidcProvider {
  readonly arn: string;
  readonly url: string;
  readonly clientIds: readonly string[];
  /** Where it comes from: a stack name, or "pre-existing". */
  readonly origin: string;
}

/** ECR's tag mutability settings, as templates and repositories write them. */
export interface TagMutabilitySettings {
  /** MUTABLE (ECR's default), IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION. */
  readonly tagMutability: string;
  /** Wildcard filters of the *_WITH_EXCLUSION settings. */
  readonly exclusions: readonly string[];
}

export interface Repository extends TagMutabilitySettings {
  readonly arn: string;
  readonly name: string;
  readonly account: string;
  readonly region: string;
}

/** An ECR repository creation template (AWS::ECR::RepositoryCreationTemplate), as deployed. */
export interface CreationTemplate extends TagMutabilitySettings {
  readonly account: string;
  readonly region: string;
  /** As written: `ROOT`, or a prefix with or without its trailing `/`. */
  readonly prefix: string;
  readonly appliedFor: readonly string[];
  readonly lifecyclePolicy?: string;
  readonly encryption: { readonly type: string; readonly kmsKey?: string };
  readonly resourceTags: Readonly<Record<string, string>>;
  readonly customRoleArn?: string;
  readonly stackName: string;
}

/** Context values of a request; every key multi-valued, keys compared case-insensitively. */
export type RequestContext = Readonly<Record<string, readonly string[]>>;

export interface Decision {
  readonly allowed: boolean;
  /** Why not, in words a test failure can show. */
  readonly reason: string;
}

// ---------- CloudFormation intrinsics, as far as ferry's templates use them ----------

export function resolver(stack: StackTemplate): (value: Json) => Json {
  const partition = partitionOf(stack.region);
  const pseudo: Record<string, string> = {
    'AWS::Partition': partition.id,
    'AWS::AccountId': stack.account,
    'AWS::Region': stack.region,
    'AWS::URLSuffix': partition.dnsSuffix,
    'AWS::StackName': stack.stackName,
  };
  const resources = stack.template.Resources ?? {};
  const resolve = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === 'Ref') {
      const ref = value.Ref as string;
      if (pseudo[ref] !== undefined) return pseudo[ref];
      const resource = resources[ref];
      if (!resource) throw new Error(`${stack.stackName}: Ref to unknown ${ref}`);
      if (resource.Type === 'AWS::IAM::Role') return resolve(resource.Properties.RoleName);
      if (resource.Type === 'AWS::IAM::ManagedPolicy') return managedPolicyArn(stack, resource, resolve);
      if (resource.Type === 'AWS::IAM::OIDCProvider') return providerArn(stack, resolve(resource.Properties.Url));
      if (resource.Type === 'AWS::ECR::Repository') return resolve(resource.Properties.RepositoryName);
      throw new Error(`${stack.stackName}: the stand-in cannot resolve Ref ${ref} (${resource.Type})`);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [sep, parts] = value['Fn::Join'];
      return (resolve(parts) as string[]).join(sep);
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [id, attr] = value['Fn::GetAtt'];
      const resource = resources[id];
      if (resource?.Type === 'AWS::IAM::Role' && attr === 'Arn') return roleArnOf(stack, resource, resolve);
      if (resource?.Type === 'AWS::ECR::Repository' && attr === 'Arn') return repositoryArn(stack, resolve(resource.Properties.RepositoryName));
      throw new Error(`${stack.stackName}: the stand-in cannot resolve Fn::GetAtt ${id}.${attr}`);
    }
    if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`${stack.stackName}: the stand-in cannot resolve ${keys.join(',')}`);
    return Object.fromEntries(keys.map((k) => [k, resolve(value[k])]));
  };
  return resolve;
}

function arnPrefix(stack: StackTemplate, service: string, region = ''): string {
  return `arn:${partitionOf(stack.region).id}:${service}:${region}:${stack.account}:`;
}

function roleArnOf(stack: StackTemplate, resource: Json, resolve: (v: Json) => Json): string {
  const name = resolve(resource.Properties.RoleName);
  if (typeof name !== 'string') throw new Error(`${stack.stackName}: a role without RoleName; ferry names every role`);
  return `${arnPrefix(stack, 'iam')}role${resolve(resource.Properties.Path) ?? '/'}${name}`;
}

function managedPolicyArn(stack: StackTemplate, resource: Json, resolve: (v: Json) => Json): string {
  return `${arnPrefix(stack, 'iam')}policy${resolve(resource.Properties.Path) ?? '/'}${resolve(resource.Properties.ManagedPolicyName)}`;
}

function providerArn(stack: StackTemplate, url: string): string {
  return `${arnPrefix(stack, 'iam')}oidc-provider/${url.replace(/^https:\/\//, '')}`;
}

function repositoryArn(stack: StackTemplate, name: string): string {
  return `${arnPrefix(stack, 'ecr', stack.region)}repository/${name}`;
}

function statementsOf(document: Json): PolicyStatement[] {
  const statements = document?.Statement;
  return Array.isArray(statements) ? statements : statements ? [statements] : [];
}

// ---------- The world ----------

export interface OutsideCloudFormation {
  /** OIDC providers that exist already (eksctl, Terraform), by account. */
  readonly providers?: Readonly<Record<string, readonly { url: string; clientIds: readonly string[] }[]>>;
  /** Outbound web identity federation, enabled per account: the account's issuer URL. */
  readonly outboundIssuers?: Readonly<Record<string, string>>;
}

export class IamWorld {
  readonly roles = new Map<string, Role>();
  readonly providers = new Map<string, OidcProvider>();
  readonly repositories = new Map<string, Repository>();
  readonly creationTemplates: CreationTemplate[] = [];
  /** Account id -> partition id, for every account a stack deploys into. */
  readonly accounts = new Map<string, string>();

  constructor(
    readonly stacks: readonly StackTemplate[],
    readonly outside: OutsideCloudFormation = {},
  ) {
    for (const stack of stacks) this.load(stack);
    for (const [account, providers] of Object.entries(outside.providers ?? {})) {
      const partition = this.accounts.get(account);
      if (!partition) throw new Error(`pre-existing provider in account ${account}, which no stack deploys into`);
      for (const p of providers) {
        const arn = `arn:${partition}:iam::${account}:oidc-provider/${p.url.replace(/^https:\/\//, '')}`;
        this.providers.set(arn, { arn, url: p.url, clientIds: p.clientIds, origin: 'pre-existing' });
      }
    }
  }

  private load(stack: StackTemplate): void {
    const resolve = resolver(stack);
    const partition = partitionOf(stack.region).id;
    const known = this.accounts.get(stack.account);
    if (known && known !== partition) throw new Error(`account ${stack.account} appears in partitions ${known} and ${partition}`);
    this.accounts.set(stack.account, partition);
    const resources: Record<string, Json> = stack.template.Resources ?? {};
    const permissionsOf = new Map<string, PolicyStatement[]>();
    const grant = (roleLogicalIds: Json[], document: Json): void => {
      for (const ref of roleLogicalIds) {
        const id = ref?.Ref;
        if (typeof id !== 'string' || resources[id]?.Type !== 'AWS::IAM::Role')
          throw new Error(`${stack.stackName}: policy attached to ${JSON.stringify(ref)}, which the stand-in cannot follow`);
        permissionsOf.set(id, [...(permissionsOf.get(id) ?? []), ...statementsOf(resolve(document))]);
      }
    };
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Policy') grant(r.Properties.Roles ?? [], r.Properties.PolicyDocument);
      if (r.Type === 'AWS::IAM::Role') {
        for (const p of r.Properties.Policies ?? []) grant([{ Ref: id }], p.PolicyDocument);
        for (const arn of r.Properties.ManagedPolicyArns ?? []) {
          const local = Object.entries(resources).find(
            ([, mp]) => mp.Type === 'AWS::IAM::ManagedPolicy' && managedPolicyArn(stack, mp, resolve) === resolve(arn),
          );
          if (!local) throw new Error(`${stack.stackName}: role ${id} attaches ${JSON.stringify(arn)}, a policy the stand-in does not know`);
          grant([{ Ref: id }], local[1].Properties.PolicyDocument);
        }
      }
      if (r.Type === 'AWS::IAM::OIDCProvider') {
        const url = resolve(r.Properties.Url) as string;
        const arn = providerArn(stack, url);
        if (this.providers.has(arn))
          throw new Error(`EntityAlreadyExists: ${stack.stackName} creates OIDC provider ${arn}, which ${this.providers.get(arn)!.origin} created already`);
        this.providers.set(arn, { arn, url, clientIds: resolve(r.Properties.ClientIdList) ?? [], origin: stack.stackName });
      }
      if (r.Type === 'AWS::ECR::Repository') {
        const name = resolve(r.Properties.RepositoryName) as string;
        this.repositories.set(repositoryArn(stack, name), {
          arn: repositoryArn(stack, name),
          name,
          account: stack.account,
          region: stack.region,
          ...mutabilityOf(resolve(r.Properties)),
        });
      }
      if (r.Type === 'AWS::ECR::RepositoryCreationTemplate') this.creationTemplates.push(creationTemplate(stack, resolve(r.Properties), resolve));
    }
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::IAM::Role') continue;
      const arn = roleArnOf(stack, r, resolve);
      if (this.roles.has(arn)) throw new Error(`EntityAlreadyExists: role ${arn} is created by ${this.roles.get(arn)!.stackName} and ${stack.stackName}`);
      this.roles.set(arn, {
        arn,
        name: resolve(r.Properties.RoleName),
        account: stack.account,
        partition,
        stackName: stack.stackName,
        trust: statementsOf(resolve(r.Properties.AssumeRolePolicyDocument)),
        permissions: permissionsOf.get(id) ?? [],
        maxSessionDuration: Number(resolve(r.Properties.MaxSessionDuration) ?? 3600),
      });
    }
  }

  /**
   * The CREATE_ON_PUSH template ECR would apply to a new repository: the one whose prefix (plus the
   * `/` ECR always assumes) starts the name, the longest if several do, else a ROOT template.
   */
  createOnPushTemplate(account: string, region: string, repository: string): CreationTemplate | undefined {
    const candidates = this.creationTemplates.filter((t) => t.account === account && t.region === region && t.appliedFor.includes('CREATE_ON_PUSH'));
    const matching = candidates
      .filter((t) => t.prefix !== 'ROOT' && repository.startsWith(`${t.prefix.replace(/\/$/, '')}/`))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    return matching[0] ?? candidates.find((t) => t.prefix === 'ROOT');
  }

  /** The provider of this issuer URL in this account, created by a stack or pre-existing. */
  provider(account: string, issuerUrl: string): OidcProvider | undefined {
    const partition = this.accounts.get(account);
    return partition ? this.providers.get(`arn:${partition}:iam::${account}:oidc-provider/${issuerUrl.replace(/^https:\/\//, '')}`) : undefined;
  }

  outboundIssuer(account: string): string | undefined {
    return this.outside.outboundIssuers?.[account];
  }
}

function mutabilityOf(properties: Json): TagMutabilitySettings {
  return {
    tagMutability: properties?.ImageTagMutability ?? 'MUTABLE',
    exclusions: (properties?.ImageTagMutabilityExclusionFilters ?? []).map((f: Json) => {
      if (f.ImageTagMutabilityExclusionFilterType !== 'WILDCARD')
        throw new Error(`the stand-in knows only WILDCARD exclusion filters, not ${f.ImageTagMutabilityExclusionFilterType}`);
      return f.ImageTagMutabilityExclusionFilterValue as string;
    }),
  };
}

function creationTemplate(stack: StackTemplate, p: Json, resolve: (v: Json) => Json): CreationTemplate {
  const customRoleArn = p.CustomRoleArn === undefined ? undefined : (resolve(p.CustomRoleArn) as string);
  return {
    account: stack.account,
    region: stack.region,
    prefix: p.Prefix,
    appliedFor: p.AppliedFor ?? [],
    lifecyclePolicy: p.LifecyclePolicy,
    encryption: { type: p.EncryptionConfiguration?.EncryptionType ?? 'AES256', kmsKey: p.EncryptionConfiguration?.KmsKey },
    resourceTags: Object.fromEntries((p.ResourceTags ?? []).map((t: Json) => [t.Key, t.Value])),
    customRoleArn,
    stackName: stack.stackName,
    ...mutabilityOf(p),
  };
}

/** Whether a tag may be overwritten in a repository with these settings. */
export function tagIsMutable(settings: TagMutabilitySettings, tag: string): boolean {
  const excluded = settings.exclusions.some((f) => globMatch(f, tag));
  switch (settings.tagMutability) {
    case 'IMMUTABLE':
      return false;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return excluded;
    case 'MUTABLE_WITH_EXCLUSION':
      return !excluded;
    default:
      return true;
  }
}

// ---------- Evaluation ----------

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** IAM's wildcard match: `*` any run, `?` one character; case-insensitive when asked (actions). */
function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('')}$`,
    ignoreCase ? 'i' : '',
  );
  return re.test(value);
}

const OPERATORS: Record<string, (actual: string, expected: string) => boolean> = {
  StringEquals: (a, e) => a === e,
  StringNotEquals: (a, e) => a !== e,
  StringEqualsIgnoreCase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  StringLike: (a, e) => globMatch(e, a),
  StringNotLike: (a, e) => !globMatch(e, a),
  ArnEquals: (a, e) => a === e,
  ArnLike: (a, e) => globMatch(e, a),
  NumericEquals: (a, e) => Number(a) === Number(e),
  NumericLessThan: (a, e) => Number(a) < Number(e),
  NumericLessThanEquals: (a, e) => Number(a) <= Number(e),
  NumericGreaterThan: (a, e) => Number(a) > Number(e),
  NumericGreaterThanEquals: (a, e) => Number(a) >= Number(e),
  Bool: (a, e) => a.toLowerCase() === String(e).toLowerCase(),
};
const NEGATED = new Set(['StringNotEquals', 'StringNotLike']);

/** One condition operator block; undefined when it holds, else why not. */
function conditionFails(operatorName: string, block: Record<string, unknown>, context: RequestContext): string | undefined {
  if (operatorName === 'Null') return nullFails(block, context);
  const m = /^(ForAnyValue:|ForAllValues:)?([A-Za-z]+?)(IfExists)?$/.exec(operatorName);
  const test = m && OPERATORS[m[2]];
  if (!m || !test) return `condition operator ${operatorName} is not one the stand-in evaluates (denied)`;
  const [, qualifier, base, ifExists] = m;
  const lowered = Object.fromEntries(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [key, raw] of Object.entries(block)) {
    const expected = list(raw as string | string[]).map(String);
    const actual = lowered[key.toLowerCase()];
    const matchesOne = (a: string): boolean => (NEGATED.has(base) ? expected.every((e) => test(a, e)) : expected.some((e) => test(a, e)));
    let holds: boolean;
    if (!actual || actual.length === 0) holds = Boolean(ifExists) || qualifier === 'ForAllValues:' || (NEGATED.has(base) && !qualifier);
    else if (qualifier === 'ForAnyValue:') holds = actual.some(matchesOne);
    else holds = actual.every(matchesOne); // ForAllValues, and a plain operator: every value the request carries must match
    if (!holds)
      return `${operatorName} ${key} ${JSON.stringify(expected.length === 1 ? expected[0] : expected)} does not hold for ${actual ? JSON.stringify(actual.length === 1 ? actual[0] : actual) : 'an absent key'}`;
  }
  return undefined;
}

/** `Null`: "true" asks that the key be absent, "false" that it be present. */
function nullFails(block: Record<string, unknown>, context: RequestContext): string | undefined {
  const present = new Set(
    Object.entries(context)
      .filter(([, v]) => v.length > 0)
      .map(([k]) => k.toLowerCase()),
  );
  for (const [key, raw] of Object.entries(block)) {
    const wantAbsent = String(raw).toLowerCase() === 'true';
    if (wantAbsent === present.has(key.toLowerCase())) return `Null ${key} ${String(raw)} does not hold (the key is ${wantAbsent ? 'present' : 'absent'})`;
  }
  return undefined;
}

function conditionsFail(statement: PolicyStatement, context: RequestContext): string | undefined {
  for (const [operator, block] of Object.entries(statement.Condition ?? {})) {
    const why = conditionFails(operator, block, context);
    if (why) return why;
  }
  return undefined;
}

function unsupported(statement: PolicyStatement): string | undefined {
  for (const element of ['NotAction', 'NotResource', 'NotPrincipal'] as const)
    if (statement[element] !== undefined) return `${element} is not evaluated by the stand-in`;
  return undefined;
}

/** Identity-based policy evaluation: an explicit Deny wins, then some Allow must match. */
export function evaluateIdentity(role: Role, action: string, resource: string, context: RequestContext): Decision {
  const applicable = role.permissions.filter(
    (s) => list(s.Action).some((a) => globMatch(a, action, true)) && list(s.Resource).some((r) => globMatch(r, resource)),
  );
  for (const s of applicable.filter((x) => x.Effect === 'Deny')) {
    if (unsupported(s) || !conditionsFail(s, context))
      return { allowed: false, reason: `an explicit deny in an identity-based policy of ${role.arn} (${s.Sid ?? 'statement'})` };
  }
  const reasons: string[] = [];
  for (const s of applicable.filter((x) => x.Effect === 'Allow')) {
    const why = unsupported(s) ?? conditionsFail(s, context);
    if (!why) return { allowed: true, reason: `allowed by ${s.Sid ?? 'a statement'} of ${role.arn}` };
    reasons.push(`${s.Sid ?? 'statement'}: ${why}`);
  }
  return {
    allowed: false,
    reason: `User: ${role.arn} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action${reasons.length ? ` (${reasons.join('; ')})` : ''}`,
  };
}

/** Trust-policy evaluation for an AWS service principal (sts:AssumeRole by e.g. ecr.amazonaws.com). */
export function evaluateServiceTrust(role: Role, service: string, context: RequestContext): Decision {
  const applicable = role.trust.filter((s) => list(s.Action).some((a) => globMatch(a, 'sts:AssumeRole', true)) && list(s.Principal?.Service).includes(service));
  if (applicable.some((s) => s.Effect === 'Deny' && (unsupported(s) || !conditionsFail(s, context))))
    return { allowed: false, reason: `the trust policy of ${role.arn} denies ${service}` };
  const reasons: string[] = [];
  for (const s of applicable.filter((x) => x.Effect === 'Allow')) {
    const why = unsupported(s) ?? conditionsFail(s, context);
    if (!why) return { allowed: true, reason: 'trusted' };
    reasons.push(why);
  }
  return { allowed: false, reason: `the trust policy of ${role.arn} does not let ${service} assume it${reasons.length ? ` (${reasons.join('; ')})` : ''}` };
}

/** Trust-policy evaluation for a federated principal (AssumeRoleWithWebIdentity). */
export function evaluateTrust(role: Role, action: string, federatedPrincipal: string, context: RequestContext): Decision {
  const applicable = role.trust.filter(
    (s) => list(s.Action).some((a) => globMatch(a, action, true)) && list(s.Principal?.Federated).includes(federatedPrincipal),
  );
  for (const s of applicable.filter((x) => x.Effect === 'Deny')) {
    if (unsupported(s) || !conditionsFail(s, context)) return { allowed: false, reason: `the trust policy of ${role.arn} denies ${federatedPrincipal}` };
  }
  const reasons: string[] = [];
  for (const s of applicable.filter((x) => x.Effect === 'Allow')) {
    const why = unsupported(s) ?? conditionsFail(s, context);
    if (!why) return { allowed: true, reason: 'trusted' };
    reasons.push(why);
  }
  const principals = [...new Set(role.trust.flatMap((s) => list(s.Principal?.Federated)))];
  return {
    allowed: false,
    reason: reasons.length
      ? `the trust policy of ${role.arn} names ${federatedPrincipal} but ${reasons.join('; ')}`
      : `the trust policy of ${role.arn} does not trust ${federatedPrincipal} for ${action} (it trusts ${principals.join(', ') || 'no federated principal'})`,
  };
}
