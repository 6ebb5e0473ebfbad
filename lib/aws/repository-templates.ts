/**
 * Repository prefix mode: one ECR repository creation template per configured prefix, applied for
 * CREATE_ON_PUSH, so that the first push into a missing repository under the prefix creates it
 * with the settings ferry gives the repositories it creates itself (tag mutability and its
 * exclusions, lifecycle rule, encryption, tags). See docs/aws.md "Repository prefix mode".
 *
 * Two settings of ferry's own repositories cannot travel in a template (AWS::ECR::RepositoryCreationTemplate
 * has no property for them): scan on push, which ECR configures per registry instead, and
 * CloudFormation's retention: ECR created the repository, so no stack ever deletes it.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TagMutability } from '../config/model';
import { acknowledgeControl, CT_ECR_PR_3 } from './control-tower';
import { encryptionConfiguration, exclusionFilters, lifecyclePolicyText } from './repository-settings';

/** The scenario ferry's templates apply to: ECR creates the repository on its first push. */
export const CREATE_ON_PUSH = 'CREATE_ON_PUSH';

export interface PrefixSettings {
  /** The prefix without trailing `/`, as the template's `Prefix` (ECR assumes the `/`). */
  readonly prefix: string;
  /** Every repository under the prefix: `arn:<partition>:ecr:<region>:<account>:repository/<prefix>/*`. */
  readonly repositoriesArn: string;
  readonly tagMutability: TagMutability;
  /** Applied only with the `*_WITH_EXCLUSION` settings. */
  readonly tagMutabilityExclusions: readonly string[];
}

export interface RepositoryTemplatesProps {
  readonly prefixes: readonly PrefixSettings[];
  /** As for ferry's own repositories: untagged images expire after this many days. */
  readonly untaggedImageExpiryDays: number;
  /** Encrypt the created repositories with this KMS key. @default - AES256 */
  readonly kmsKeyArn?: string;
  /** Tags the created repositories carry (the target's tags). @default - none */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Name of the role ECR assumes to create tagged or KMS-encrypted repositories (ECR User Guide:
   * a template with resource tags or a KMS key needs a custom role). Created only when needed.
   */
  readonly creatorRoleName: string;
  /** IAM path of that role and its policy. @default '/' */
  readonly path?: string;
  /** Permissions boundary of that role. @default - none */
  readonly permissionsBoundaryArn?: string;
}

export class RepositoryTemplates extends Construct {
  /** The templates by prefix. */
  readonly byPrefix: ReadonlyMap<string, ecr.CfnRepositoryCreationTemplate>;
  /** The role ECR assumes to create the repositories, when tags or a KMS key need one. */
  readonly creatorRole?: iam.Role;

  constructor(scope: Construct, id: string, props: RepositoryTemplatesProps) {
    super(scope, id);
    const tags = Object.entries(props.tags ?? {}).map(([key, value]) => ({ key, value }));
    if (tags.length > 0 || props.kmsKeyArn) this.creatorRole = this.creator(props, tags.length > 0);
    this.byPrefix = new Map(props.prefixes.map((p) => [p.prefix, this.template(p, props, tags)]));
  }

  private template(p: PrefixSettings, props: RepositoryTemplatesProps, tags: { key: string; value: string }[]): ecr.CfnRepositoryCreationTemplate {
    // Construct id by prefix: reordering the config never replaces a template.
    const template = new ecr.CfnRepositoryCreationTemplate(this, p.prefix, {
      prefix: p.prefix,
      appliedFor: [CREATE_ON_PUSH],
      description: `ferry: repositories created on first push under ${p.prefix}/`,
      imageTagMutability: p.tagMutability,
      imageTagMutabilityExclusionFilters: exclusionFilters(p.tagMutability, p.tagMutabilityExclusions),
      lifecyclePolicy: lifecyclePolicyText(props.untaggedImageExpiryDays),
      encryptionConfiguration: encryptionConfiguration(props.kmsKeyArn),
      resourceTags: tags.length > 0 ? tags : undefined,
      customRoleArn: this.creatorRole?.roleArn,
    });
    if (p.tagMutability !== 'IMMUTABLE') {
      // Control Tower's CT.ECR.PR.3 names AWS::ECR::Repository only; recorded all the same, so the
      // report shows every place a tag may move.
      acknowledgeControl(template, CT_ECR_PR_3, `Repositories created under ${p.prefix}/ get tagMutability ${p.tagMutability} from the config.`);
    }
    return template;
  }

  /**
   * The custom role of the templates: trusted by ECR for this account only (confused-deputy
   * condition), allowed to create and tag repositories under the prefixes, and to use the key.
   */
  private creator(props: RepositoryTemplatesProps, tagged: boolean): iam.Role {
    const account = Stack.of(this).account;
    const role = new iam.Role(this, 'CreatorRole', {
      roleName: props.creatorRoleName,
      path: props.path,
      description: 'Assumed by Amazon ECR to create repositories on first push under the ferry repository prefixes (repository creation templates).',
      assumedBy: new iam.ServicePrincipal('ecr.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': account } } }),
      permissionsBoundary: props.permissionsBoundaryArn ? iam.ManagedPolicy.fromManagedPolicyArn(this, 'Boundary', props.permissionsBoundaryArn) : undefined,
    });
    const arns = props.prefixes.map((p) => p.repositoriesArn);
    const statements = [
      new iam.PolicyStatement({ sid: 'CreateUnderPrefixes', actions: ['ecr:CreateRepository', ...(tagged ? ['ecr:TagResource'] : [])], resources: arns }),
    ];
    if (props.kmsKeyArn) {
      statements.push(
        new iam.PolicyStatement({ sid: 'EncryptWithKey', actions: ['kms:CreateGrant', 'kms:DescribeKey', 'kms:RetireGrant'], resources: [props.kmsKeyArn] }),
      );
    }
    const policy = new iam.ManagedPolicy(this, 'CreatorPolicy', {
      managedPolicyName: props.creatorRoleName,
      path: props.path,
      description: 'Lets Amazon ECR create (and tag) repositories under the ferry repository prefixes only.',
      statements,
      roles: [role],
    });
    acknowledgePrefixWildcards(policy, arns);
    return role;
  }
}

/**
 * cdk-nag's AwsSolutions-IAM5 flags every `*` in a resource; a prefix grant's `*` is acknowledged
 * one ARN at a time, so an unexpected wildcard still fails synth.
 */
export function acknowledgePrefixWildcards(scope: Construct, arns: readonly string[]): void {
  for (const arn of arns) {
    Validations.of(scope).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arn}]`,
      reason: `Repository prefix mode (shared.yaml repositoryPrefixes): ${arn} is every repository under one configured prefix in this account and region, which ECR creates on first push; no repository outside the prefix is covered.`,
    });
  }
}
