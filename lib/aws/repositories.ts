/**
 * The ECR repositories of one account and region: every image ferry delivers there, and in the
 * build account also the Kaniko layer cache and the pusher image's own repository.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { TagMutability } from '../config/model';
import { acknowledgeControl, CT_ECR_PR_3 } from './control-tower';
import type { PolicyDocumentJson } from './policy-documents';

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
 */
export class Repositories extends Construct {
  private readonly repositories = new Map<string, ecr.Repository>();
  private readonly encryptionKey?: kms.IKey;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RepositoriesProps,
  ) {
    super(scope, id);
    this.encryptionKey = props.kmsKeyArn ? kms.Key.fromKeyArn(this, 'EncryptionKey', props.kmsKeyArn) : undefined;
  }

  /** The repositories by name. */
  get byName(): ReadonlyMap<string, ecr.Repository> {
    return this.repositories;
  }

  /**
   * Adds one repository; `policy` becomes its repository policy (grants that a role could not hold
   * in its managed policies, see access-plan.ts).
   */
  add(settings: RepositorySettings, policy?: PolicyDocumentJson): ecr.Repository {
    const repository = this.repository(settings, this.props.untaggedImageExpiryDays, this.encryptionKey);
    if (policy) (repository.node.defaultChild as ecr.CfnRepository).repositoryPolicyText = policy;
    this.repositories.set(settings.name, repository);
    return repository;
  }

  /** Takes a repository out again (it went to another stack). */
  remove(name: string): void {
    const repository = this.repositories.get(name);
    // By the construct's own id: the construct library turns the `/` of a repository name into `--`.
    if (!repository || !this.node.tryRemoveChild(repository.node.id)) throw new Error(`repository ${name} is not in ${this.node.path}`);
    this.repositories.delete(name);
  }

  private repository(settings: RepositorySettings, untaggedImageExpiryDays: number, encryptionKey: kms.IKey | undefined): ecr.Repository {
    const withExclusions = settings.tagMutability.endsWith('_WITH_EXCLUSION');
    const lifecycleRules: ecr.LifecycleRule[] = [
      {
        description: `Expire untagged images after ${untaggedImageExpiryDays} days`,
        tagStatus: ecr.TagStatus.UNTAGGED,
        maxImageAge: Duration.days(untaggedImageExpiryDays),
      },
    ];
    if (settings.expireAllImagesAfterDays !== undefined) {
      const days = settings.expireAllImagesAfterDays;
      lifecycleRules.push({ description: `Expire every image after ${days} days`, tagStatus: ecr.TagStatus.ANY, maxImageAge: Duration.days(days) });
    }
    // The construct id is the repository name: stable across reordering in shared.yaml, so
    // moving a line never replaces (and, with RETAIN, orphans) a repository.
    const repository = new ecr.Repository(this, settings.name, {
      repositoryName: settings.name,
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability[settings.tagMutability],
      imageTagMutabilityExclusionFilters: withExclusions
        ? settings.tagMutabilityExclusions.map((tag) => ecr.ImageTagMutabilityExclusionFilter.wildcard(tag))
        : undefined,
      encryption: encryptionKey ? ecr.RepositoryEncryption.KMS : ecr.RepositoryEncryption.AES_256,
      encryptionKey,
      lifecycleRules,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    if (!encryptionKey) {
      // The L2 leaves AES256 implicit (ECR's default); written out, the template states its
      // encryption for reviewers and scanners. It cannot change later without replacing the repository.
      (repository.node.defaultChild as ecr.CfnRepository).encryptionConfiguration = { encryptionType: 'AES256' };
    }
    if (settings.tagMutability !== 'IMMUTABLE') {
      acknowledgeControl(
        repository,
        CT_ECR_PR_3,
        settings.mutabilityReason ??
          `Repository ${settings.name} is configured with tagMutability ${settings.tagMutability}; CT.ECR.PR.3 accepts only IMMUTABLE.`,
      );
    }
    return repository;
  }
}
