/**
 * The shape of ferry's config files, and every default: zod checks structure and single values
 * here and applies defaults with `.default()`, so the loader, the JSON Schema editors show and the
 * generated reference all read them from one place. Checks that span fields or files (region in
 * partition, duplicates) live in validate.ts.
 *
 * Every message is written as "what is wrong (what would be valid)" so that the loader can
 * prefix it with file, line, field path and the value as written.
 */
import { z } from 'zod';
import { PARTITIONS, SUPPORTED_PARTITION_IDS } from './partitions';

/**
 * Every default value, declared once. The schemas below apply them; descriptions never repeat
 * them (the reference and the JSON Schema `default` keyword are generated from the schema).
 */
export const DEFAULTS = {
  audience: 'sts.amazonaws.com',
  trust: 'cluster-oidc',
  outboundFederation: { audience: 'sts.amazonaws.com', tokenDurationSeconds: 300 },
  sync: { enabled: false, schedule: '0 3 * * *', tags: '*' },
  fips: false,
  rolePath: '/',
  synthesizer: 'bootstrapped',
  tagMutability: 'IMMUTABLE_WITH_EXCLUSION',
  tagMutabilityExclusions: ['latest'],
  untaggedImageExpiryDays: 14,
  cacheRepository: 'ferry/kaniko-cache',
  cacheTagMutability: 'MUTABLE',
  repositoryPrefixes: [],
  slackSecretKey: 'url',
  workspace: { size: '20Gi', accessMode: 'ReadWriteOnce' },
  images: {
    kaniko: 'ghcr.io/osscontainertools/kaniko:v1.28.3',
    git: 'alpine/git:v2.49.1',
    notify: 'curlimages/curl:8.17.0',
  },
} as const;

const required = (hint: string) => (iss: { input?: unknown }) => (iss.input === undefined ? `missing (required: ${hint})` : `wrong type (expected ${hint})`);

/** An integer in a range, with one message for every way to miss it. */
const wholeNumber = (min: number, max: number) => {
  const expected = `a whole number from ${min} to ${max}`;
  return z
    .number({ error: required(expected) })
    .int({ error: `is not a whole number (expected ${expected})` })
    .min(min, { error: `is too small (expected ${expected})` })
    .max(max, { error: `is too large (expected ${expected})` });
};

export const ACCOUNT_HINT = 'a 12-digit AWS account ID in quotes, e.g. "123456789012"';

export const accountId = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number'
        ? 'is an unquoted YAML number, and numbers lose leading zeros (write the 12-digit account ID in quotes, e.g. account: "012345678901")'
        : required(ACCOUNT_HINT)(iss),
  })
  .regex(/^\d{12}$/, { error: `is not a 12-digit account ID (expected ${ACCOUNT_HINT})` })
  .describe('AWS account ID: exactly 12 digits, quoted so that YAML keeps leading zeros.');

export const partitionId = z
  .enum(SUPPORTED_PARTITION_IDS as [string, ...string[]], {
    error: (iss) =>
      iss.input === undefined
        ? `missing (required: one of ${SUPPORTED_PARTITION_IDS.join(', ')})`
        : PARTITIONS.has(String(iss.input))
          ? `is an isolated partition that cannot reach a public OIDC issuer, so IRSA cannot work there (supported: ${SUPPORTED_PARTITION_IDS.join(', ')})`
          : `is not a known partition (valid: ${SUPPORTED_PARTITION_IDS.join(', ')})`,
  })
  .describe(`AWS partition: ${SUPPORTED_PARTITION_IDS.join(', ')}.`);

export const regionName = z
  .string({ error: required('an AWS region, e.g. us-east-1') })
  .regex(/^[a-z]{2,4}(-[a-z]+)+-\d+$/, { error: 'is not an AWS region name (expected e.g. us-east-1, us-gov-west-1, cn-north-1)' })
  .describe("AWS region of this account. Must belong to the file's partition.");

/** A name that becomes part of stack, role, ServiceAccount and Argo task names. */
export const targetName = z
  .string({ error: required('a short lowercase name, e.g. govcloud-prod') })
  .regex(/^[a-z][a-z0-9-]{0,22}[a-z0-9]$/, {
    error: 'is not a valid name (expected 2-24 characters: lowercase letters, digits and inner hyphens, starting with a letter, e.g. govcloud-prod)',
  })
  .describe('Short unique name. ferry derives the stack, IAM role, ServiceAccount and Argo task names from it.');

// ECR's own pattern for repository names, and its 2-256 length limit.
const ECR_REPOSITORY = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const repositoryName = z
  .string({ error: required('an ECR repository name, e.g. team/app') })
  .regex(ECR_REPOSITORY, {
    error: 'is not a name ECR accepts (expected 2-256 characters of lowercase letters, digits, and . _ - / between them, e.g. team/app)',
  })
  .describe('ECR repository name, e.g. team/app.');

const arn = (what: string, example: string) =>
  z
    .string({ error: required(`${what} ARN, e.g. ${example}`) })
    .regex(/^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:.+$/, { error: `is not an ARN (expected ${what} ARN, e.g. ${example})` });

export const oidcProviderArn = arn('an IAM OIDC provider', 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE').describe(
  'Import this existing IAM OIDC provider instead of creating one. Use it when the account already has a provider for the cluster issuer (a second one for the same URL cannot be created).',
);

const rolePath = z
  .string({ error: required('an IAM path such as /ferry/') })
  .regex(/^\/([\x21-\x7e]+\/)?$/, { error: 'is not an IAM path (expected / or a path that starts and ends with /, e.g. /ferry/)' })
  .max(512, { error: 'is longer than IAM allows (expected at most 512 characters, e.g. /ferry/)' })
  .default(DEFAULTS.rolePath)
  .describe('IAM path for the role ferry creates.');

// Shape only; the key and value rules (characters, lengths, aws: prefix, count) are in tags.ts,
// checked by validate.ts so each bad tag gets its own line naming the key.
const tags = z
  .record(z.string(), z.string({ error: required('a text value; quote numbers and dates, e.g. "4711"') }), {
    error: required('a map of tag keys to text values, e.g. owner: platform'),
  })
  .default({})
  .describe(
    "Tags for every resource in this account's stack: at most 50; keys 1-128 and values 0-256 characters of letters, digits, spaces and _ . : / = + - @; no aws: prefix.",
  );

/** Settings common to the build account and every destination account. */
const targetFields = {
  name: targetName,
  account: accountId,
  region: regionName,
  allowUnknownRegion: z
    .boolean({ error: required('true or false') })
    .default(false)
    .describe(
      "Accept a region the AWS SDK's region list in this ferry install does not know yet (a region AWS launched after it). Without it, region must be one AWS lists for the partition. The region must still have the partition's shape.",
    ),
  fips: z
    .boolean({ error: required('true or false') })
    .default(DEFAULTS.fips)
    .describe('Push through the FIPS ECR endpoint (dkr.ecr-fips).'),
  oidcProviderArn: oidcProviderArn.optional(),
  profile: z
    .string({ error: required('an AWS CLI profile name, e.g. govcloud') })
    .regex(/^[\w.@+=,-]{1,128}$/, { error: 'is not an AWS CLI profile name (expected letters, digits and . @ + = , - _, e.g. govcloud)' })
    .optional()
    .describe(
      'AWS CLI profile that `ferry doctor` reads this account with (docs/doctor.md). `--profile <target>=<profile>` and FERRY_PROFILES override it; a target without one is reported as skipped. Never used by synth or deploy.',
    ),
  kmsKeyArn: arn('a KMS key', 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-...')
    .optional()
    .describe('Encrypt the repositories with this KMS key. Without it: AES256 (ECR-managed keys).'),
  permissionsBoundaryArn: arn('an IAM managed policy', 'arn:aws:iam::123456789012:policy/boundary')
    .optional()
    .describe('Permissions boundary attached to the IAM role ferry creates.'),
  rolePath,
  tags,
  synthesizer: z
    .enum(['bootstrapped', 'cli-credentials'], { error: required('bootstrapped or cli-credentials') })
    .default(DEFAULTS.synthesizer)
    .describe(
      'How `cdk deploy` reaches this account. bootstrapped: the account has run `cdk bootstrap`, deploys assume its roles. cli-credentials: no bootstrap needed, deploys use your own credentials directly.',
    ),
};

export const trustPath = z
  .enum(['cluster-oidc', 'outbound-federation'], { error: required('cluster-oidc or outbound-federation') })
  .default(DEFAULTS.trust)
  .describe(
    "How the build cluster reaches this destination's pusher role. cluster-oidc: the role trusts the cluster's OIDC issuer, registered in this account. outbound-federation: the role trusts the build account's outbound web identity issuer (build.yaml outboundFederation); AWS's documented cross-partition route, recommended for aws-cn and aws-eusc.",
  );

export const destinationSchema = z
  .strictObject({ ...targetFields, trust: trustPath })
  .describe('One destination: an account and region that receives every image.');

export const partitionFileSchema = z
  .strictObject({
    partition: partitionId,
    destinations: z
      .array(destinationSchema, { error: required('a list of destinations') })
      .describe('Accounts and regions in this partition that receive the images.'),
  })
  .describe('Destinations in one AWS partition. One file per partition.');

export const clusterSchema = z
  .strictObject({
    issuerUrl: z
      .string({ error: required('the EKS OIDC issuer URL, e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE') })
      .regex(/^https:\/\/[a-z0-9.-]+(:\d+)?(\/[^\s?#]*)?$/i, {
        error: 'is not an https URL (expected the EKS OIDC issuer, e.g. https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE; IAM only trusts https issuers)',
      })
      .describe('OIDC issuer URL of the build cluster (aws eks describe-cluster --query cluster.identity.oidc.issuer).'),
    namespace: z
      .string({ error: required('a Kubernetes namespace, e.g. ci') })
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: 'is not a Kubernetes namespace name (expected a DNS label, e.g. ci)' })
      .describe('Namespace where the Argo workflows and ServiceAccounts run.'),
    audience: z
      .string()
      .min(1)
      .default(DEFAULTS.audience)
      .describe(
        'Audience of the ServiceAccount tokens: the client ID of every provider registered for the cluster issuer and the aud every such role trusts, in every partition (China: see docs/aws.md).',
      ),
  })
  .describe('The EKS cluster that runs the builds.');

export const outboundFederationSchema = z
  .strictObject({
    issuerUrl: z
      .string({
        error: required(
          "the build account's outbound web identity issuer, e.g. https://abcd1234.tokens.sts.global.api.aws, which `aws iam enable-outbound-web-identity-federation` prints once and `aws iam get-outbound-web-identity-federation-info` reads back",
        ),
      })
      .regex(/^https:\/\/[a-z0-9.-]+(:\d+)?(\/[^\s?#]*)?$/i, {
        error:
          'is not an https URL (expected the issuer that `aws iam get-outbound-web-identity-federation-info` prints, e.g. https://abcd1234.tokens.sts.global.api.aws)',
      })
      .describe(
        "The build account's outbound web identity issuer. Enable the feature once per account with `aws iam enable-outbound-web-identity-federation`; read the issuer back with `aws iam get-outbound-web-identity-federation-info`.",
      ),
    audience: z
      .string()
      .min(1)
      .default(DEFAULTS.outboundFederation.audience)
      .describe('The audience of the minted tokens, listed as client ID by every destination provider.'),
    tokenDurationSeconds: wholeNumber(60, 3600)
      .default(DEFAULTS.outboundFederation.tokenDurationSeconds)
      .describe('Lifetime of the minted tokens, 60-3600 seconds; the source roles may mint none longer.'),
  })
  .describe('IAM outbound identity federation of the build account, for destinations with trust: outbound-federation.');

export const buildFileSchema = z
  .strictObject({
    partition: partitionId,
    ...targetFields,
    cluster: clusterSchema,
    outboundFederation: outboundFederationSchema.optional(),
  })
  .describe('The build account: where the EKS cluster runs and Kaniko pushes first.');

export const tagMutability = z.enum(['MUTABLE', 'IMMUTABLE', 'IMMUTABLE_WITH_EXCLUSION', 'MUTABLE_WITH_EXCLUSION'], {
  error: required('MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION'),
});

/** Tag filters exempt from the mutability setting, for a repository and for a prefix's repositories alike. */
function tagMutabilityExclusions() {
  return z
    .array(
      // ECR's own pattern for an exclusion filter (API ImageTagMutabilityExclusionFilter).
      z.string({ error: required('a tag filter such as latest or dev-*') }).regex(/^[0-9a-zA-Z._*-]{1,128}$/, {
        error: 'is not a tag filter ECR accepts (expected 1-128 letters, digits, . _ - and the wildcard *, e.g. dev-*)',
      }),
      { error: required('a list of tag filters, e.g. [latest, dev-*]') },
    )
    .default([...DEFAULTS.tagMutabilityExclusions])
    .describe('Tag filters exempt from the mutability setting (wildcard * allowed): 1-5 of them with the *_WITH_EXCLUSION settings, ignored otherwise.');
}

export const repositorySchema = z.strictObject({
  name: repositoryName,
  tagMutability: tagMutability.default(DEFAULTS.tagMutability).describe('Tag mutability of the repository.'),
  tagMutabilityExclusions: tagMutabilityExclusions(),
});

/**
 * A repository prefix as ECR's creation templates take it (the `Prefix` pattern of
 * AWS::ECR::RepositoryCreationTemplate): path components of a repository name, optionally ending
 * in `/`, which ECR assumes anyway. `ROOT` (every repository) is refused here: it would turn the
 * prefix grant into a grant on the whole registry.
 */
const ECR_PREFIX = /^(?:ROOT|(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*\/?)$/;
/** A repository under the prefix needs `/` and at least two characters of its own (ECR names: 2-256). */
export const PREFIX_MAX = 253;

export const repositoryPrefixSchema = z
  .strictObject({
    prefix: z
      .string({ error: required('a repository prefix, e.g. team-a/') })
      .refine((p) => p !== 'ROOT', {
        error: "is ECR's prefix for every repository of the registry, which would grant the roles every repository (name a namespace instead, e.g. team-a/)",
      })
      .regex(ECR_PREFIX, {
        error:
          'is not a repository prefix ECR accepts (expected lowercase letters, digits, and . _ - between them, in path components separated by /, e.g. team-a/ or team-a/services/)',
      })
      .max(PREFIX_MAX, { error: `is longer than ${PREFIX_MAX} characters (a repository under it could not stay within ECR's 256)` })
      .describe(
        'Repository namespace, e.g. team-a/. A push to a repository under it that does not exist yet creates it (ECR create on push); the trailing / is implied.',
      ),
    tagMutability: tagMutability.default(DEFAULTS.tagMutability).describe('Tag mutability of the repositories created under this prefix.'),
    tagMutabilityExclusions: tagMutabilityExclusions(),
  })
  .describe('One repository namespace in repository prefix mode.');

const image = (what: string) =>
  z.string({ error: required(`${what} image reference`) }).regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/, {
    error: `is not an image reference (expected registry/repository:tag, optionally @sha256:...)`,
  });

export const imagesSchema = z
  .strictObject({
    kaniko: image('the Kaniko executor').default(DEFAULTS.images.kaniko).describe('Kaniko executor image: the maintained fork.'),
    pusher: image('the ferry pusher')
      .optional()
      .describe(
        "The ferry pusher image, from which the push steps run `ferry copy` and the sync templates `ferry sync`. Without it: ferry/ferry in the build account's registry, tagged with this package's version (the pipeline builds it from the Dockerfile).",
      ),
    git: image('a git').default(DEFAULTS.images.git).describe('Image that clones the source.'),
    notify: image('a curl').default(DEFAULTS.images.notify).describe('Image that posts notifications.'),
  })
  .describe('Container images the pipeline runs.');

export const workspaceSchema = z
  .strictObject({
    size: z
      .string()
      .regex(/^\d+(Mi|Gi|Ti)$/, { error: 'is not a volume size (expected e.g. 20Gi)' })
      .default(DEFAULTS.workspace.size)
      .describe('Size of the per-run volume holding the source and the image tarball.'),
    storageClassName: z.string().min(1).optional().describe('StorageClass of that volume. Without it: the cluster default.'),
    accessMode: z
      .enum(['ReadWriteOnce', 'ReadWriteMany'])
      .default(DEFAULTS.workspace.accessMode)
      .describe(
        'ReadWriteOnce works with any block storage, but every pod of a run must reach the volume: with single-node volumes such as EBS, a push pod scheduled on another node waits until the volume is free, so pushes may run one after another. ReadWriteMany (e.g. EFS) lets the parallel pushes run on any node at once.',
      ),
  })
  .describe('The volume each pipeline run clones into and Kaniko writes the image tarball to.');

export const slackSchema = z
  .strictObject({
    secretName: z
      .string({ error: required('a Kubernetes Secret name, e.g. ferry-slack-webhook') })
      .max(253, { error: 'is longer than 253 characters (expected a Kubernetes Secret name, e.g. ferry-slack-webhook)' })
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, {
        error:
          'is not a Kubernetes Secret name (expected lowercase letters, digits, - and ., starting and ending with a letter or digit, e.g. ferry-slack-webhook)',
      })
      .describe('Kubernetes Secret that holds the Slack incoming webhook URL. You create it.'),
    secretKey: z.string().min(1).default(DEFAULTS.slackSecretKey).describe('Key in that Secret.'),
  })
  .describe('Slack incoming webhook, read from a Kubernetes Secret at run time.');

export const syncSchema = z
  .strictObject({
    enabled: z.boolean().default(DEFAULTS.sync.enabled).describe('Run the ferry-sync CronWorkflow on its schedule (it is emitted suspended otherwise).'),
    schedule: z.string().min(1).default(DEFAULTS.sync.schedule).describe('Cron schedule of the ferry-sync CronWorkflow.'),
    tags: z.string().min(1).default(DEFAULTS.sync.tags).describe('Tag glob the scheduled sync delivers.'),
  })
  .describe('The scheduled backfill: ferry-sync copies every matching tag of the build registry that a destination lacks.');

export const sharedFileSchema = z
  .strictObject({
    repositories: z
      .array(repositorySchema, { error: required('a list of repositories') })
      .min(1, { error: 'is empty (list at least one repository)' })
      .describe('Repositories created in every account; the pipeline builds into one of them per run.'),
    untaggedImageExpiryDays: wholeNumber(1, 3650).default(DEFAULTS.untaggedImageExpiryDays).describe('Days before untagged images expire.'),
    cacheRepository: repositoryName.default(DEFAULTS.cacheRepository).describe('Kaniko layer cache repository in the build account.'),
    cacheTagMutability: z
      .enum(['MUTABLE', 'IMMUTABLE'], { error: required('MUTABLE or IMMUTABLE') })
      .default(DEFAULTS.cacheTagMutability)
      .describe(
        "Tag mutability of the Kaniko cache repository. MUTABLE lets Kaniko refresh an expired cache entry under its tag. IMMUTABLE passes Control Tower's CT.ECR.PR.3; Kaniko's refresh of an entry older than its cache TTL then fails with a warning and that layer is rebuilt until ECR's lifecycle rule expires the entry (within about a day).",
      ),
    repositoryPrefixes: z
      .array(repositoryPrefixSchema, { error: required('a list of repository prefixes, e.g. [{ prefix: team-a/ }]') })
      .default([...DEFAULTS.repositoryPrefixes])
      .describe(
        'Repository prefix mode: namespaces whose repositories ECR creates on the first push, from a creation template each stack deploys, with the settings of the repositories above. No config change or deploy per new repository; the roles may push to any repository under the prefix (see docs/aws.md).',
      ),
    // prefault: an absent block is parsed as {}, so the defaults of its fields apply.
    images: imagesSchema.prefault({}),
    workspace: workspaceSchema.prefault({}),
    notifications: z.strictObject({ slack: slackSchema }).optional().describe('Where the pipeline reports each run.'),
    sync: syncSchema.prefault({}),
  })
  .describe('Settings shared by every account: repositories, images, notifications.');

/** The config file kinds, each with its schema. `build.yaml` and `shared.yaml` by name; every other *.yaml is a partition file. */
export const SCHEMAS_BY_KIND = {
  build: buildFileSchema,
  partition: partitionFileSchema,
  shared: sharedFileSchema,
} as const;

export type FileKind = keyof typeof SCHEMAS_BY_KIND;

export const BUILD_FILE = 'build.yaml';
export const SHARED_FILE = 'shared.yaml';

export function fileKind(fileName: string): FileKind {
  return fileName === BUILD_FILE ? 'build' : fileName === SHARED_FILE ? 'shared' : 'partition';
}

export type DestinationFile = z.output<typeof destinationSchema>;
export type PartitionFile = z.output<typeof partitionFileSchema>;
export type BuildFile = z.output<typeof buildFileSchema>;
export type SharedFile = z.output<typeof sharedFileSchema>;
