/**
 * The ECR repositories of one account and region: every image ferry delivers there, and in the
 * build account also the Kaniko layer cache and the pusher image's own repository.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import type { TagMutability } from '../config/model';
import { acknowledgeControl, CT_ECR_PR_3 } from './control-tower';
import type { PolicyDocumentJson } from './policy-documents';
import { encryptionConfiguration, exclusionFilters, lifecyclePolicyText } from './repository-settings';

export interface RepositorySettings {
  /** The repository name, exactly as ECR shows it (e.g. `team/app`). */
  readonly name: string;
  /** Whether pushed tags can be overwritten. */
  readonly tagMutability: TagMutability;
  /**
   * Wildcard tag filters exempt from `tagMutability`; only applied with the `*_WITH_EXCLUSION`
   * settings, ignored otherwise.
   */
  readonly tagMutabilityExclusions: readonly string[];
  /**
   * Expire every image, tagged or not, once it is this many days old.
   * @default - tagged images are kept forever
   */
  readonly expireAllImagesAfterDays?: number;
  /**
   * Why this repository's tags are not plain IMMUTABLE, which Control Tower's CT.ECR.PR.3 requires:
   * recorded as the acknowledgement's reason in the validation report.
   * @default - a reason naming the setting
   */
  readonly mutabilityReason?: string;
}

export interface RepositoriesProps {
  /** Images no tag points at any more (e.g. the previous `latest`) expire after this many days. */
  readonly untaggedImageExpiryDays: number;
  /**
   * Encrypt with this customer-managed KMS key.
   * @default - AES256 with the ECR-owned key
   */
  readonly kmsKeyArn?: string;
}

/**
 * Repositories scan on push and outlive their stack (RemovalPolicy.RETAIN): images are never deleted
 * by a stack update. They are added one by one (`add`), so that the stack split (stack-split.ts) can
 * measure each before deciding where it goes.
 *
 * Each is the L1 `CfnRepository` at `<name>/Resource`, the path (and so the logical ID) the
 * `ecr.Repository` L2 gives its resource: the L2 only renders these same properties, and at
 * 1,000 repositories x 30 destinations building 30,000 L2s (property injection, lifecycle rule
 * objects, tokens resolved later) took about a sixth of the synth. The templates are byte for byte
 * what the L2 wrote (checked when the L1 replaced it).
 */
export class Repositories extends Construct {
  private readonly repositories = new Map<string, ecr.CfnRepository>();

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RepositoriesProps,
  ) {
    super(scope, id);
  }

  /** The repositories by name. */
  get byName(): ReadonlyMap<string, ecr.CfnRepository> {
    return this.repositories;
  }

  /**
   * Adds one repository; `policy` becomes its repository policy (grants that a role could not hold
   * in its managed policies, see access-plan.ts).
   */
  add(settings: RepositorySettings, policy?: PolicyDocumentJson): ecr.CfnRepository {
    // The construct id is the repository name: stable across reordering in shared.yaml, so
    // moving a line never replaces (and, with RETAIN, orphans) a repository.
    const scope = new Construct(this, settings.name);
    const repository = new ecr.CfnRepository(scope, 'Resource', {
      repositoryName: settings.name,
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: settings.tagMutability,
      imageTagMutabilityExclusionFilters: exclusionFilters(settings.tagMutability, settings.tagMutabilityExclusions),
      encryptionConfiguration: encryptionConfiguration(this.props.kmsKeyArn),
      lifecyclePolicy: { lifecyclePolicyText: lifecyclePolicyText(this.props.untaggedImageExpiryDays, settings.expireAllImagesAfterDays) },
      repositoryPolicyText: policy,
    });
    repository.applyRemovalPolicy(RemovalPolicy.RETAIN);
    if (settings.tagMutability !== 'IMMUTABLE') {
      acknowledgeControl(
        scope,
        CT_ECR_PR_3,
        settings.mutabilityReason ??
          `Repository ${settings.name} is configured with tagMutability ${settings.tagMutability}; CT.ECR.PR.3 accepts only IMMUTABLE.`,
      );
    }
    this.repositories.set(settings.name, repository);
    return repository;
  }

  /** Takes a repository out again (it went to another stack). */
  remove(name: string): void {
    // By the construct's own id: the construct library turns the `/` of a repository name into `--`.
    const id = this.repositories.get(name)?.node.scope?.node.id;
    if (id === undefined || !this.node.tryRemoveChild(id)) throw new Error(`repository ${name} is not in ${this.node.path}`);
    this.repositories.delete(name);
  }
}
