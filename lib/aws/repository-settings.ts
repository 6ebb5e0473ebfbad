/**
 * The repository settings ferry writes into both a repository (repositories.ts) and a creation
 * template (repository-templates.ts), as the CloudFormation properties take them: one rendering,
 * so a repository created on push gets exactly what a repository ferry creates gets.
 */
import type { TagMutability } from '../config/model';

/** One lifecycle rule: expire images of a tag status once they are this many days old. */
interface ExpiryRule {
  readonly description: string;
  readonly tagStatus: 'untagged' | 'any';
  readonly days: number;
}

/**
 * The lifecycle policy document: untagged images expire after `untaggedDays`, and with
 * `allImagesDays` every image after that many days. ECR evaluates rules by priority, and a rule
 * for any tag status must have the highest number, so it comes last.
 */
export function lifecyclePolicyText(untaggedDays: number, allImagesDays?: number): string {
  const rules: ExpiryRule[] = [{ description: `Expire untagged images after ${untaggedDays} days`, tagStatus: 'untagged', days: untaggedDays }];
  if (allImagesDays !== undefined) rules.push({ description: `Expire every image after ${allImagesDays} days`, tagStatus: 'any', days: allImagesDays });
  return JSON.stringify({
    rules: rules.map((r, i) => ({
      rulePriority: i + 1,
      description: r.description,
      selection: { tagStatus: r.tagStatus, countType: 'sinceImagePushed', countNumber: r.days, countUnit: 'days' },
      action: { type: 'expire' },
    })),
  });
}

/** The exclusion filters of a `*_WITH_EXCLUSION` setting; none for the others (ECR refuses them there). */
export function exclusionFilters(
  tagMutability: TagMutability,
  exclusions: readonly string[],
): { imageTagMutabilityExclusionFilterType: 'WILDCARD'; imageTagMutabilityExclusionFilterValue: string }[] | undefined {
  if (!tagMutability.endsWith('_WITH_EXCLUSION')) return undefined;
  return exclusions.map((value) => ({ imageTagMutabilityExclusionFilterType: 'WILDCARD', imageTagMutabilityExclusionFilterValue: value }));
}

/** AES256 with ECR's key unless a KMS key is named; written out either way, so the template states it. */
export function encryptionConfiguration(kmsKeyArn: string | undefined): { encryptionType: 'KMS' | 'AES256'; kmsKey?: string } {
  return kmsKeyArn ? { encryptionType: 'KMS', kmsKey: kmsKeyArn } : { encryptionType: 'AES256' };
}
