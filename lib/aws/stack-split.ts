/**
 * One target, as many stacks as CloudFormation needs: the target's stack (`ferry-<target>`) holds
 * the OIDC provider, the roles, their policies and the first repositories; when the next repository
 * would take a stack past the planned resource count or template size, it opens the target's next
 * repository stack (`ferry-<target>-repositories-2`, `-3`, ...).
 *
 * Repositories are placed in config order, so adding repositories at the end of shared.yaml only
 * ever adds to the last stack: a repository never moves between stacks (moving one would fail, as
 * it is retained by the old stack and exists already for the new one).
 *
 * Every further stack depends on the target's stack: repository policies may name its roles, and
 * ECR refuses a policy whose principal does not exist yet ("Principal not found").
 */
import { type CfnResource, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { stringify } from 'yaml';
import type { FerryConfig, Target } from '../config/model';
import * as naming from '../config/naming';
import { FERRY_TAGS } from '../config/tags';
import { repositoryPolicyDocument } from './access-plan';
import { doctorReadsMayMove, withDoctorReads } from './doctor-role';
import type { PolicyStatementJson } from './policy-documents';
import { Repositories } from './repositories';
import { INLINE_TEMPLATE_LIMIT_BYTES, S3_TEMPLATE_LIMIT_BYTES } from './synthesizer';
import { repositoriesProps, repositorySettings, TargetStack, type TargetStackProps, tagStack, targetStackProps } from './target-stack';

/** CloudFormation's limit of resources per stack. */
export const STACK_RESOURCE_LIMIT = 500;

/** What ferry plans per stack: 50 resources of headroom below the limit, for hand-added resources and later features. */
export const PLANNED_RESOURCES_PER_STACK = 450;

/** The share of the template size limit ferry plans to fill: the measure per resource is close, not exact. */
const PLANNED_TEMPLATE_SHARE = 0.9;

/**
 * The share of the limit a stack never passes even if the doctor's repository reads later join
 * every repository policy (doctor-role.ts decides that only once every stack is filled, and it
 * adds about 250 bytes per repository: up to 12 % of a full stack, more than the planned share
 * leaves). The rest of the limit covers the measure's error (within 1 % observed). Only in accounts
 * where the reads may move (doctorReadsMayMove): elsewhere the split stays as it was, so no
 * deployed repository changes stacks.
 */
const TEMPLATE_SHARE_WITH_DOCTOR_READS = 0.98;

/** Description, parameters and rules of a stack without its resources (the bootstrap version check is about 1 KB). */
const TEMPLATE_OVERHEAD_BYTES = 3_000;

/** A further stack of a target: its next repositories, same account, region, synthesizer, tags and protection. */
export class RepositoryStack extends Stack {
  readonly repositories: Repositories;

  constructor(scope: Construct, config: FerryConfig, target: Target, n: number, head: TargetStack) {
    const name = naming.repositoryStackName(target, n);
    super(
      scope,
      name,
      targetStackProps(
        target,
        name,
        `ferry ${target.kind} target "${target.name}" (${target.partition.id} ${target.account} ${target.region}): ECR repositories, stack ${n} of the target (its roles are in ${naming.stackName(target)}).`,
      ),
    );
    tagStack(this, target);
    this.repositories = new Repositories(this, 'Repositories', repositoriesProps(config, target));
    this.addStackDependency(head, `its repositories' policies may name roles of ${naming.stackName(target)}, which ECR requires to exist`);
  }
}

/** The target's stacks, first the target's own. */
export function addTargetStacks(scope: Construct, props: TargetStackProps): Stack[] {
  const { config, target } = props;
  const head = new TargetStack(scope, props);
  const stacks: Stack[] = [head];
  const format = target.synthesizer === 'cli-credentials' ? 'yaml' : 'json';
  const limit = format === 'yaml' ? INLINE_TEMPLATE_LIMIT_BYTES : S3_TEMPLATE_LIMIT_BYTES;
  const budget: Usage = {
    resources: PLANNED_RESOURCES_PER_STACK,
    bytes: Math.floor(limit * PLANNED_TEMPLATE_SHARE),
    withDoctorReads: Math.floor(limit * TEMPLATE_SHARE_WITH_DOCTOR_READS),
  };
  const meter = new ResourceMeter(format, tagList(target));
  const roleDependencies = head.rolesById;
  const owner = naming.accountOwner(config, target);
  const doctorRoleArn = doctorReadsMayMove(config, owner) ? naming.doctorRoleArn(owner) : undefined;

  let current: { stack: Stack; repositories: Repositories } = { stack: head, repositories: head.repositories };
  let used = usage(head, meter);
  for (const settings of repositorySettings(config, target)) {
    const arn = naming.repositoryArn(target, settings.name);
    const statements = head.access.repositoryStatements.get(arn);
    const policy = statements ? repositoryPolicyDocument(statements) : undefined;
    const add = (): Usage => {
      const repository = current.repositories.add(settings, policy);
      // Inside the target's stack, ECR needs the named roles first; a further stack already deploys after them.
      const dependencies = statements && current.stack === head ? principalsOf(head, statements, roleDependencies) : [];
      for (const role of dependencies) repository.addResourceDependency(role);
      const { name, mutabilityReason: _reason, ...rest } = settings;
      const settingsClass = JSON.stringify([rest, policy ?? null, dependencies.map((d) => d.node.path)]);
      const bytes = meter.repositoryBytes(current.stack, repository, name, settingsClass);
      if (doctorRoleArn === undefined) return { resources: 1, bytes, withDoctorReads: bytes };
      // Measured as the doctor may leave it, then put back: the doctor decides after the split.
      repository.repositoryPolicyText = withDoctorReads(policy, doctorRoleArn);
      const withDoctorReadsBytes = meter.repositoryBytes(current.stack, repository, name, `${settingsClass} with the doctor's reads`);
      repository.repositoryPolicyText = policy;
      return { resources: 1, bytes, withDoctorReads: withDoctorReadsBytes };
    };
    let added = add();
    if (!within(plus(used, added), budget)) {
      current.repositories.remove(settings.name);
      const next = new RepositoryStack(scope, config, target, stacks.length + 1, head);
      stacks.push(next);
      current = { stack: next, repositories: next.repositories };
      used = { resources: 0, bytes: TEMPLATE_OVERHEAD_BYTES, withDoctorReads: TEMPLATE_OVERHEAD_BYTES };
      added = add();
    }
    used = plus(used, added);
  }
  return stacks;
}

/** A stack's resources and estimated template bytes, as synthesized and with the doctor's reads in every repository policy. */
interface Usage {
  readonly resources: number;
  readonly bytes: number;
  readonly withDoctorReads: number;
}

function plus(a: Usage, b: Usage): Usage {
  return { resources: a.resources + b.resources, bytes: a.bytes + b.bytes, withDoctorReads: a.withDoctorReads + b.withDoctorReads };
}

function within(used: Usage, budget: Usage): boolean {
  return used.resources <= budget.resources && used.bytes <= budget.bytes && used.withDoctorReads <= budget.withDoctorReads;
}

/** The L1 roles a repository policy names, found by their ARN among the stack's roles. */
function principalsOf(head: TargetStack, statements: readonly PolicyStatementJson[], roles: ReadonlyMap<string, iam.Role>): CfnResource[] {
  const arns = new Set(statements.flatMap((s) => [(s.Principal as { AWS: string | string[] }).AWS].flat()));
  return [...arns].flatMap((arn) => {
    const id = head.access.roleIdsByArn.get(arn);
    const role = id ? roles.get(id) : undefined;
    return role ? [role.node.defaultChild as CfnResource] : [];
  });
}

/** What the target's stack holds before its repositories (none of them yet: the doctor's reads add nothing). */
function usage(stack: Stack, meter: ResourceMeter): Usage {
  const resources = stack.node.findAll().filter((c): c is CfnResource => (c as CfnResource).cfnResourceType !== undefined && 'cfnProperties' in c);
  const bytes = TEMPLATE_OVERHEAD_BYTES + resources.reduce((sum, r) => sum + meter.bytes(stack, r), 0);
  return { resources: resources.length, bytes, withDoctorReads: bytes };
}

/**
 * The bytes one resource adds to its template, in the form CloudFormation receives: the template
 * file as the CDK writes it (JSON, indented by one space) when uploaded, YAML when sent inline (the
 * CDK CLI converts it). Tags are added by an aspect at synth, so they are added here by hand.
 */
export class ResourceMeter {
  /** The first measured repository of each class: its bytes, name and logical ID. */
  private readonly classes = new Map<string, { bytes: number; name: string; logicalId: string }>();

  constructor(
    private readonly format: 'json' | 'yaml',
    private readonly tags: readonly { Key: string; Value: string }[],
  ) {}

  /** Renders and measures one resource (about 60 microseconds: the CDK resolves its tokens). */
  bytes(stack: Stack, resource: CfnResource): number {
    const fragment = stack.resolve((resource as unknown as { _toCloudFormation(): object })._toCloudFormation()) as {
      Resources: Record<string, { Properties?: object }>;
    };
    if (this.tags.length && tagsOf(resource)) for (const r of Object.values(fragment.Resources)) r.Properties = { ...r.Properties, Tags: this.tags };
    const text = this.format === 'json' ? JSON.stringify(fragment, undefined, 1) : stringify(fragment);
    return Buffer.byteLength(text);
  }

  /**
   * A repository's bytes, rendered once per class: repositories whose settings, policy and
   * dependencies (`settingsClass`) are equal render to the same JSON but for the name (once, as
   * RepositoryName) and the logical ID (once, as the key), and neither needs escaping (ECR names
   * are lowercase letters, digits and `._-/`; logical IDs alphanumeric), so the difference in
   * bytes is the difference in their lengths. Thirty thousand repositories are then measured in a
   * few hundred renders. YAML is measured every time: it may quote or fold a longer string.
   */
  repositoryBytes(stack: Stack, repository: CfnResource, name: string, settingsClass: string): number {
    if (this.format !== 'json') return this.bytes(stack, repository);
    const logicalId = stack.getLogicalId(repository);
    const known = this.classes.get(settingsClass);
    if (known) return known.bytes + (name.length - known.name.length) + (logicalId.length - known.logicalId.length);
    const bytes = this.bytes(stack, repository);
    this.classes.set(settingsClass, { bytes, name, logicalId });
    return bytes;
  }
}

/** Whether the resource type carries tags (the tag aspect tags every taggable resource). */
function tagsOf(resource: CfnResource): boolean {
  return (resource as unknown as { tags?: unknown }).tags !== undefined;
}

function tagList(target: Target): { Key: string; Value: string }[] {
  return Object.entries({ ...FERRY_TAGS, ...target.tags })
    .map(([Key, Value]) => ({ Key, Value }))
    .sort((a, b) => a.Key.localeCompare(b.Key));
}
