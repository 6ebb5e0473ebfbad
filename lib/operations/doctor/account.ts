/**
 * The account side of `ferry doctor`, for one target: each stack is deployed and equals the synth;
 * each role's trust, boundary and permissions, each OIDC provider, each repository and creation
 * template equal what the templates in cdk.out/ declare; in the build account, outbound identity
 * federation is on with the configured issuer. Everything is found in the templates themselves,
 * so a stack, role, policy or repository added later is checked without a change here.
 */
import type { DoctorPlan, DoctorPlanTarget, DoctorRoleKind } from '../../contract';
import type { AwsReader, Read } from './aws';
import { type Difference, decodePolicy, firstDifference, type Json, policyDifference, show } from './compare';
import type { Finding } from './findings';
import { resolver, resourcesOfType, type Synthesized, type SynthStack, Unresolvable } from './plan';

export interface AccountContext {
  readonly target: DoctorPlanTarget;
  readonly profile: string;
  readonly reader: AwsReader;
  readonly synth: Synthesized;
}

type Emit = (f: Omit<Finding, 'target'>) => void;

/** Every account finding of one target. */
export async function checkAccount(ctx: AccountContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const emit: Emit = (f) => findings.push({ target: ctx.target.name, ...f });
  const who = await ctx.reader.callerAccount();
  if ('unchecked' in who && /InvalidClientTokenId|UnrecognizedClient/.test(who.unchecked)) {
    // STS of this partition does not know the credentials: a profile of another partition, or a typo.
    emit({
      hop: 'credentials',
      status: 'mismatch',
      subject: `profile ${ctx.profile}`,
      expected: `credentials of account ${ctx.target.account} (${ctx.target.partition})`,
      found: `credentials STS in ${ctx.target.region} does not know (${who.unchecked})`,
      fix: `--profile ${ctx.target.name}=<a profile of account ${ctx.target.account} in ${ctx.target.partition}>`,
    });
    return findings;
  }
  if (!('ok' in who)) {
    emit({
      hop: 'credentials',
      status: 'unchecked',
      subject: `profile ${ctx.profile}`,
      found: 'missing' in who ? who.missing : who.unchecked,
      fix: `aws sts get-caller-identity --profile ${ctx.profile} (log in, e.g. aws sso login --profile ${ctx.profile})`,
    });
    return findings;
  }
  if (who.ok !== ctx.target.account) {
    emit({
      hop: 'credentials',
      status: 'mismatch',
      subject: `profile ${ctx.profile}`,
      expected: `credentials of account ${ctx.target.account} (${ctx.target.partition})`,
      found: `credentials of account ${who.ok}`,
      fix: `--profile ${ctx.target.name}=<a profile of account ${ctx.target.account}>`,
    });
    return findings;
  }
  for (const name of ctx.target.stacks) {
    const stack = ctx.synth.stacks.get(name)!;
    await checkStack(ctx, stack, emit);
    await guard(emit, name, () => checkResources(ctx, stack, emit));
  }
  await checkOutbound(ctx, ctx.synth.plan, emit);
  return findings;
}

/** Runs a check; an intrinsic the doctor cannot resolve becomes one unchecked finding. */
async function guard(emit: Emit, subject: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    if (!(err instanceof Unresolvable)) throw err;
    emit({ hop: 'stack', status: 'unchecked', subject, found: `the template uses ${err.message}, which ferry doctor does not resolve; not compared` });
  }
}

const deploy = (ctx: AccountContext, stack: string) => `npx cdk deploy ${stack} --profile ${ctx.profile}`;

function mismatch(emit: Emit, hop: string, subject: string, d: Difference, fix: string): void {
  emit({ hop, status: 'mismatch', subject: `${subject}: ${d.path}`, expected: d.expected, found: d.found, fix });
}

/** Whether a role has exactly the policy names it should (attached ARNs or inline names); a mismatch names both sets. */
function sameNames(emit: Emit, where: { hop: string; subject: string; fix: string }, want: ReadonlySet<string>, found: ReadonlySet<string>): boolean {
  if ([...want].every((n) => found.has(n)) && [...found].every((n) => want.has(n))) return true;
  const list = (names: ReadonlySet<string>) => [...names].sort().join(', ') || '(none)';
  emit({ ...where, status: 'mismatch', expected: list(want), found: list(found) });
  return false;
}

/** A read that did not answer: why (a read that found nothing is reported by its caller when that is a finding). */
function unchecked(emit: Emit, hop: string, subject: string, r: { unchecked: string } | { missing: string }): void {
  emit({
    hop,
    status: 'unchecked',
    subject,
    found: 'missing' in r ? r.missing : r.unchecked,
    fix: 'run ferry doctor again; if the read is denied, use the ferry-doctor role (docs/doctor.md#the-iam-it-needs)',
  });
}

// ---------- stacks ----------

const FAILED = /(_FAILED|ROLLBACK_COMPLETE|^DELETE_COMPLETE|_IN_PROGRESS)$/;

async function checkStack(ctx: AccountContext, stack: SynthStack, emit: Emit): Promise<void> {
  const described = await ctx.reader.cloudformation('DescribeStacks', { StackName: stack.name });
  if ('unchecked' in described) return unchecked(emit, 'stack', stack.name, described);
  const status: string | undefined = 'ok' in described ? described.ok.Stacks?.[0]?.StackStatus : undefined;
  if (!status || status === 'DELETE_COMPLETE') {
    emit({
      hop: 'stack',
      status: 'mismatch',
      subject: stack.name,
      expected: `deployed in ${stack.account} ${stack.region}`,
      found: 'not deployed',
      fix: deploy(ctx, stack.name),
    });
    return;
  }
  if (FAILED.test(status)) {
    emit({
      hop: 'stack',
      status: /_IN_PROGRESS$/.test(status) ? 'unchecked' : 'mismatch',
      subject: stack.name,
      expected: 'CREATE_COMPLETE or UPDATE_COMPLETE',
      found: status,
      fix: /_IN_PROGRESS$/.test(status)
        ? 'wait for the running deploy to finish, then run ferry doctor again'
        : `aws cloudformation describe-stack-events --stack-name ${stack.name} --profile ${ctx.profile}, then ${deploy(ctx, stack.name)}`,
    });
    if (/_IN_PROGRESS$/.test(status)) return;
  }
  const template = await ctx.reader.cloudformation<{ TemplateBody?: string }>('GetTemplate', { StackName: stack.name, TemplateStage: 'Original' });
  if ('unchecked' in template) return unchecked(emit, 'stack', stack.name, template);
  if ('missing' in template) return;
  let deployed: Json;
  try {
    deployed = JSON.parse(template.ok.TemplateBody ?? '');
  } catch {
    emit({
      hop: 'stack',
      status: 'mismatch',
      subject: stack.name,
      expected: 'the JSON template ferry synthesizes',
      found: 'a template that is not JSON',
      fix: deploy(ctx, stack.name),
    });
    return;
  }
  const d = firstDifference(stack.template, deployed);
  if (d)
    mismatch(
      emit,
      'stack',
      `${stack.name} differs from cdk.out/ at`,
      d,
      `${deploy(ctx, stack.name)} (or npx cdk diff ${stack.name} --profile ${ctx.profile} to see all of it)`,
    );
  else emit({ hop: 'stack', status: 'ok', subject: `${stack.name} (${status}, template equals cdk.out/)` });
}

// ---------- resources ----------

async function checkResources(ctx: AccountContext, stack: SynthStack, emit: Emit): Promise<void> {
  const resolve = resolver(
    stack,
    ctx.target.partition === 'aws-cn' ? 'amazonaws.com.cn' : ctx.target.partition === 'aws-eusc' ? 'amazonaws.eu' : 'amazonaws.com',
  );
  // Resolved one resource at a time: one the doctor cannot resolve is reported, the others checked.
  const resources: Record<string, Json> = {};
  for (const [id, r] of Object.entries<Json>(stack.template.Resources ?? {})) {
    try {
      resources[id] = resolve(r);
    } catch (err) {
      if (!(err instanceof Unresolvable)) throw err;
      emit({
        hop: 'stack',
        status: 'unchecked',
        subject: `${stack.name} ${id} (${r.Type})`,
        found: `uses ${err.message}, which ferry doctor does not resolve; not compared`,
      });
    }
  }
  const resolved = { template: { Resources: resources } };
  await Promise.all([
    ...resourcesOfType(resolved.template, 'AWS::IAM::Role').map(([id]) => checkRole(ctx, stack, id, resolve, emit)),
    ...providersOf(ctx, resolved.template).map((p) => checkProvider(ctx, stack.name, p, emit)),
    ...resourcesOfType(resolved.template, 'AWS::ECR::Repository').map(([, r]) => checkRepository(ctx, stack.name, r.Properties, emit)),
    ...resourcesOfType(resolved.template, 'AWS::ECR::RepositoryCreationTemplate').map(([, r]) => checkCreationTemplate(ctx, stack.name, r.Properties, emit)),
  ]);
}

function roleHop(ctx: AccountContext, arn: string): DoctorRoleKind | 'role' {
  return ctx.target.roles[arn] ?? 'role';
}

/** The managed policies (ARN -> document, undefined for one not in this template) and inline policies (name -> document) of a role. */
function permissionsOf(template: Json, logicalId: string, resolve: (v: Json) => Json): { managed: Map<string, Json>; inline: Map<string, Json> } {
  const resources: Record<string, Json> = template.Resources;
  const role = resources[logicalId];
  const managed = new Map<string, Json>();
  const inline = new Map<string, Json>();
  const refs = (list: Json) => ((list ?? []) as Json[]).some((r) => r?.Ref === logicalId);
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type === 'AWS::IAM::ManagedPolicy' && refs(r.Properties.Roles)) managed.set(resolve({ Ref: id }), resolve(r.Properties.PolicyDocument));
    if (r.Type === 'AWS::IAM::Policy' && refs(r.Properties.Roles)) inline.set(r.Properties.PolicyName, resolve(r.Properties.PolicyDocument));
  }
  for (const arn of role.Properties.ManagedPolicyArns ?? []) {
    const resolved = resolve(arn);
    if (!managed.has(resolved)) {
      const local = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && resolve({ Ref: id }) === resolved);
      managed.set(resolved, local ? resolve(local[1].Properties.PolicyDocument) : undefined);
    }
  }
  for (const p of role.Properties.Policies ?? []) inline.set(p.PolicyName, resolve(p.PolicyDocument));
  return { managed, inline };
}

async function checkRole(ctx: AccountContext, stack: SynthStack, logicalId: string, resolve: (v: Json) => Json, emit: Emit): Promise<void> {
  const props = resolve(stack.template.Resources[logicalId].Properties);
  const arn = `arn:${stack.partition}:iam::${stack.account}:role${props.Path ?? '/'}${props.RoleName}`;
  const hop = roleHop(ctx, arn);
  const fix = `${deploy(ctx, stack.name)} (puts back what the stack declares)`;
  const got = await ctx.reader.iam('GetRole', { RoleName: props.RoleName });
  if ('unchecked' in got) return unchecked(emit, hop, arn, got);
  if ('missing' in got) {
    emit({ hop, status: 'mismatch', subject: arn, expected: 'the role exists', found: 'no such role', fix: deploy(ctx, stack.name) });
    return;
  }
  const role = got.ok.Role ?? {};
  const trust = policyDifference(props.AssumeRolePolicyDocument, decodePolicy(role.AssumeRolePolicyDocument));
  if (trust) mismatch(emit, `${hop}-trust`, `${arn} trust policy`, trust, fix);
  else emit({ hop: `${hop}-trust`, status: 'ok', subject: arn });
  if (role.Arn && role.Arn !== arn)
    emit({ hop, status: 'mismatch', subject: arn, expected: arn, found: role.Arn, fix: `${deploy(ctx, stack.name)} (the role's path differs)` });
  const boundary = props.PermissionsBoundary;
  const foundBoundary = role.PermissionsBoundary?.PermissionsBoundaryArn;
  if (boundary !== foundBoundary) emit({ hop: `${hop}-boundary`, status: 'mismatch', subject: arn, expected: show(boundary), found: show(foundBoundary), fix });
  await checkPermissions(ctx, arn, props.RoleName, permissionsOf(stack.template, logicalId, resolve), `${hop}-policy`, fix, emit);
}

async function listAll<T>(reader: AwsReader, command: string, input: Record<string, unknown>, items: string): Promise<Read<T[]>> {
  const all: T[] = [];
  let marker: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r = await reader.iam(command, { ...input, ...(marker ? { Marker: marker } : {}) });
    if (!('ok' in r)) return r;
    all.push(...(r.ok[items] ?? []));
    if (!r.ok.IsTruncated) break;
    marker = r.ok.Marker;
  }
  return { ok: all };
}

async function checkPermissions(
  ctx: AccountContext,
  roleArn: string,
  roleName: string,
  expected: { managed: Map<string, Json>; inline: Map<string, Json> },
  hop: string,
  fix: string,
  emit: Emit,
): Promise<void> {
  const attached = await listAll<{ PolicyArn: string }>(ctx.reader, 'ListAttachedRolePolicies', { RoleName: roleName }, 'AttachedPolicies');
  if (!('ok' in attached)) return unchecked(emit, hop, roleArn, attached);
  const found = new Set(attached.ok.map((p) => p.PolicyArn));
  let allOk = sameNames(emit, { hop, subject: `${roleArn} attached policies`, fix }, new Set(expected.managed.keys()), found);
  for (const [policyArn, document] of expected.managed) {
    if (document === undefined || !found.has(policyArn)) continue;
    const policy = await ctx.reader.iam('GetPolicy', { PolicyArn: policyArn });
    if (!('ok' in policy)) {
      allOk = false;
      if ('unchecked' in policy) unchecked(emit, hop, policyArn, policy);
      else emit({ hop, status: 'mismatch', subject: policyArn, expected: 'the policy exists', found: 'no such policy', fix });
      continue;
    }
    const version = await ctx.reader.iam('GetPolicyVersion', { PolicyArn: policyArn, VersionId: policy.ok.Policy?.DefaultVersionId });
    if (!('ok' in version)) {
      allOk = false;
      unchecked(emit, hop, policyArn, version);
      continue;
    }
    const d = policyDifference(document, decodePolicy(version.ok.PolicyVersion?.Document));
    if (d) {
      allOk = false;
      mismatch(emit, hop, `${policyArn} (attached to ${roleArn})`, d, fix);
    }
  }
  const inlineNames = await listAll<string>(ctx.reader, 'ListRolePolicies', { RoleName: roleName }, 'PolicyNames');
  if (!('ok' in inlineNames)) return unchecked(emit, hop, roleArn, inlineNames);
  const inlineFound = new Set(inlineNames.ok);
  if (!sameNames(emit, { hop, subject: `${roleArn} inline policies`, fix }, new Set(expected.inline.keys()), inlineFound)) allOk = false;
  for (const [name, document] of expected.inline) {
    if (!inlineFound.has(name)) continue;
    const got = await ctx.reader.iam('GetRolePolicy', { RoleName: roleName, PolicyName: name });
    if (!('ok' in got)) {
      allOk = false;
      unchecked(emit, hop, `${roleArn} inline ${name}`, got);
      continue;
    }
    const d = policyDifference(document, decodePolicy(got.ok.PolicyDocument));
    if (d) {
      allOk = false;
      mismatch(emit, hop, `${roleArn} inline policy ${name}`, d, fix);
    }
  }
  if (allOk) emit({ hop, status: 'ok', subject: roleArn });
}

// ---------- OIDC providers ----------

interface ExpectedProvider {
  readonly arn: string;
  /** Set when this template creates it: URL and client IDs must equal. */
  readonly url?: string;
  readonly clientIds?: readonly string[];
  /** Audiences the trusting roles pin: each must be a client ID. */
  readonly audiences: Set<string>;
  /** Who expects it: the stack that creates it, or the role that trusts it. */
  readonly why: string;
}

/** Providers this template creates, and every provider of this account a role here trusts (created here, elsewhere, or imported). */
function providersOf(ctx: AccountContext, template: Json): ExpectedProvider[] {
  const byArn = new Map<string, ExpectedProvider>();
  const prefix = `arn:${ctx.target.partition}:iam::${ctx.target.account}:oidc-provider/`;
  for (const [, r] of resourcesOfType(template, 'AWS::IAM::OIDCProvider')) {
    const url = String(r.Properties.Url);
    const arn = `${prefix}${url.replace(/^https:\/\//, '')}`;
    byArn.set(arn, { arn, url, clientIds: r.Properties.ClientIdList ?? [], audiences: new Set(), why: 'created by this stack' });
  }
  for (const [, r] of resourcesOfType(template, 'AWS::IAM::Role')) {
    for (const s of [r.Properties.AssumeRolePolicyDocument?.Statement ?? []].flat()) {
      for (const arn of [s.Principal?.Federated ?? []].flat() as string[]) {
        if (!arn.startsWith(prefix)) continue;
        const entry = byArn.get(arn) ?? { arn, audiences: new Set<string>(), why: `trusted by ${r.Properties.RoleName}` };
        for (const [key, value] of Object.entries<Json>(s.Condition?.StringEquals ?? {}))
          if (key.endsWith(':aud')) for (const a of [value].flat()) entry.audiences.add(String(a));
        byArn.set(arn, entry);
      }
    }
  }
  return [...byArn.values()];
}

async function checkProvider(ctx: AccountContext, stackName: string, p: ExpectedProvider, emit: Emit): Promise<void> {
  const hop = 'oidc-provider';
  const got = await ctx.reader.iam('GetOpenIDConnectProvider', { OpenIDConnectProviderArn: p.arn });
  if ('unchecked' in got) return unchecked(emit, hop, p.arn, got);
  if ('missing' in got) {
    emit({
      hop,
      status: 'mismatch',
      subject: p.arn,
      expected: `an IAM OIDC provider for https://${p.arn.replace(/^.*?:oidc-provider\//, '')} (${p.why})`,
      found: 'no provider for this issuer URL in the account',
      fix: p.url ? deploy(ctx, stackName) : `create or import it (docs/aws.md#importing-an-existing-oidc-provider), then ${deploy(ctx, stackName)}`,
    });
    return;
  }
  const url = `https://${String(got.ok.Url ?? '').replace(/^https:\/\//, '')}`;
  const clientIds: string[] = got.ok.ClientIDList ?? [];
  const problems: string[] = [];
  if (p.url && url !== p.url) problems.push(`Url ${show(p.url)} vs ${show(url)}`);
  if (p.clientIds && [...p.clientIds].sort().join(',') !== [...clientIds].sort().join(','))
    emit({
      hop,
      status: 'mismatch',
      subject: `${p.arn} ClientIDList`,
      expected: show([...p.clientIds].sort()),
      found: show([...clientIds].sort()),
      fix: deploy(ctx, stackName),
    });
  const absent = [...p.audiences].filter((a) => !clientIds.includes(a));
  if (absent.length)
    emit({
      hop,
      status: 'mismatch',
      subject: `${p.arn} ClientIDList`,
      expected: `lists ${absent.map((a) => show(a)).join(', ')} (the audience the trusting roles pin)`,
      found: show(clientIds),
      fix: p.url
        ? deploy(ctx, stackName)
        : `aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${p.arn} --client-id ${absent[0]} --profile ${ctx.profile}`,
    });
  if (problems.length) emit({ hop, status: 'mismatch', subject: p.arn, expected: show(p.url), found: show(url), fix: deploy(ctx, stackName) });
  if (!problems.length && !absent.length && !(p.clientIds && [...p.clientIds].sort().join(',') !== [...clientIds].sort().join(',')))
    emit({ hop, status: 'ok', subject: `${p.arn} (client IDs ${clientIds.join(', ')})` });
}

// ---------- repositories ----------

function mutabilityFilters(list: Json): string[] {
  return ((list ?? []) as Json[])
    .map((f) => `${f.ImageTagMutabilityExclusionFilterType ?? f.filterType}:${f.ImageTagMutabilityExclusionFilterValue ?? f.filter}`)
    .sort();
}

function jsonText(value: Json): Json {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

async function checkRepository(ctx: AccountContext, stackName: string, props: Json, emit: Emit): Promise<void> {
  const hop = 'repository';
  const name = props.RepositoryName;
  const subject = `arn:${ctx.target.partition}:ecr:${ctx.target.region}:${ctx.target.account}:repository/${name}`;
  const fix = deploy(ctx, stackName);
  const got = await ctx.reader.ecr('DescribeRepositories', { repositoryNames: [name] });
  if ('unchecked' in got) return unchecked(emit, hop, subject, got);
  const repo = 'ok' in got ? got.ok.repositories?.[0] : undefined;
  if (!repo) {
    emit({ hop, status: 'mismatch', subject, expected: 'the repository exists', found: 'no such repository', fix });
    return;
  }
  const expected: Record<string, Json> = {
    imageTagMutability: props.ImageTagMutability ?? 'MUTABLE',
    imageTagMutabilityExclusionFilters: mutabilityFilters(props.ImageTagMutabilityExclusionFilters),
    scanOnPush: props.ImageScanningConfiguration?.ScanOnPush ?? false,
    encryptionType: props.EncryptionConfiguration?.EncryptionType ?? 'AES256',
    ...(props.EncryptionConfiguration?.KmsKey ? { kmsKey: props.EncryptionConfiguration.KmsKey } : {}),
  };
  const found: Record<string, Json> = {
    imageTagMutability: repo.imageTagMutability,
    imageTagMutabilityExclusionFilters: mutabilityFilters(repo.imageTagMutabilityExclusionFilters),
    scanOnPush: repo.imageScanningConfiguration?.scanOnPush ?? false,
    encryptionType: repo.encryptionConfiguration?.encryptionType,
    ...(props.EncryptionConfiguration?.KmsKey ? { kmsKey: repo.encryptionConfiguration?.kmsKey } : {}),
  };
  let ok = true;
  const settings = firstDifference(expected, found);
  if (settings) {
    ok = false;
    mismatch(
      emit,
      hop,
      subject,
      settings,
      settings.path.startsWith('encryption') ? `encryption cannot change: recreate the repository (docs/aws.md), then ${fix}` : fix,
    );
  }
  const lifecycle = jsonText(props.LifecyclePolicy?.LifecyclePolicyText);
  const foundLifecycle = await ctx.reader.ecr('GetLifecyclePolicy', { repositoryName: name });
  if ('unchecked' in foundLifecycle) {
    ok = false;
    unchecked(emit, hop, `${subject} lifecycle policy`, foundLifecycle);
  } else {
    const d = firstDifference(lifecycle, 'ok' in foundLifecycle ? jsonText(foundLifecycle.ok.lifecyclePolicyText) : undefined, 'lifecyclePolicy');
    if (d) {
      ok = false;
      mismatch(emit, hop, subject, d, fix);
    }
  }
  const policy = jsonText(props.RepositoryPolicyText);
  const foundPolicy = await ctx.reader.ecr('GetRepositoryPolicy', { repositoryName: name });
  if ('unchecked' in foundPolicy) {
    ok = false;
    unchecked(emit, hop, `${subject} repository policy`, foundPolicy);
  } else {
    const text = 'ok' in foundPolicy ? jsonText(foundPolicy.ok.policyText) : undefined;
    const d = policy === undefined || text === undefined ? firstDifference(policy, text, 'repositoryPolicy') : policyDifference(policy, text);
    if (d) {
      ok = false;
      mismatch(emit, `${hop}-policy`, subject, d, fix);
    }
  }
  if (ok) emit({ hop, status: 'ok', subject });
}

async function checkCreationTemplate(ctx: AccountContext, stackName: string, props: Json, emit: Emit): Promise<void> {
  const hop = 'creation-template';
  const prefix = props.Prefix;
  const subject = `repository creation template ${prefix} (${ctx.target.account} ${ctx.target.region})`;
  const fix = deploy(ctx, stackName);
  const got = await ctx.reader.ecr('DescribeRepositoryCreationTemplates', { prefixes: [prefix] });
  if ('unchecked' in got) return unchecked(emit, hop, subject, got);
  const found = 'ok' in got ? (got.ok.repositoryCreationTemplates ?? []).find((t: Json) => t.prefix === prefix) : undefined;
  if (!found) {
    emit({ hop, status: 'mismatch', subject, expected: 'the template exists', found: 'no template for this prefix', fix });
    return;
  }
  const expected = {
    appliedFor: [...(props.AppliedFor ?? [])].sort(),
    imageTagMutability: props.ImageTagMutability ?? 'MUTABLE',
    imageTagMutabilityExclusionFilters: mutabilityFilters(props.ImageTagMutabilityExclusionFilters),
    lifecyclePolicy: jsonText(props.LifecyclePolicy),
    encryptionType: props.EncryptionConfiguration?.EncryptionType ?? 'AES256',
    kmsKey: props.EncryptionConfiguration?.KmsKey,
    customRoleArn: props.CustomRoleArn,
  };
  const actual = {
    appliedFor: [...(found.appliedFor ?? [])].sort(),
    imageTagMutability: found.imageTagMutability,
    imageTagMutabilityExclusionFilters: mutabilityFilters(found.imageTagMutabilityExclusionFilters),
    lifecyclePolicy: jsonText(found.lifecyclePolicy),
    encryptionType: found.encryptionConfiguration?.encryptionType,
    kmsKey: found.encryptionConfiguration?.kmsKey,
    customRoleArn: found.customRoleArn,
  };
  const d = firstDifference(expected, actual);
  const policy = jsonText(props.RepositoryPolicy);
  const foundPolicy = jsonText(found.repositoryPolicy);
  const p =
    policy === undefined || foundPolicy === undefined ? firstDifference(policy, foundPolicy, 'repositoryPolicy') : policyDifference(policy, foundPolicy);
  if (d) mismatch(emit, hop, subject, d, fix);
  if (p) mismatch(emit, hop, subject, p, fix);
  if (!d && !p) emit({ hop, status: 'ok', subject });
}

// ---------- outbound identity federation ----------

async function checkOutbound(ctx: AccountContext, plan: DoctorPlan, emit: Emit): Promise<void> {
  const outbound = plan.outboundFederation;
  if (!outbound || outbound.target !== ctx.target.name) return;
  const hop = 'outbound-federation';
  const subject = `account ${ctx.target.account}`;
  const got = await ctx.reader.iam('GetOutboundWebIdentityFederationInfo', {});
  if ('unchecked' in got) return unchecked(emit, hop, subject, got);
  const enabled = 'ok' in got && got.ok.JwtVendingEnabled !== false;
  if (!enabled) {
    emit({
      hop,
      status: 'mismatch',
      subject,
      expected: `enabled, issuer ${outbound.issuerUrl}`,
      found: 'disabled',
      fix: `aws iam enable-outbound-web-identity-federation --profile ${ctx.profile}`,
    });
    return;
  }
  const issuer = String(got.ok.IssuerIdentifier ?? '');
  if (issuer.replace(/\/$/, '') !== outbound.issuerUrl.replace(/\/$/, '')) {
    emit({
      hop,
      status: 'mismatch',
      subject: `${subject} issuer`,
      expected: outbound.issuerUrl,
      found: issuer,
      fix: `set outboundFederation.issuerUrl: ${issuer} in ${plan.configDir}/build.yaml, npm run synth, then deploy every outbound-federation destination`,
    });
    return;
  }
  emit({ hop, status: 'ok', subject: `${subject} (issuer ${issuer})` });
}
