/**
 * The validated config with every default applied. Both apps read only this (through naming.ts),
 * never the raw files. The types are the zod schemas' output types (schema.ts), plus what the
 * loader derives: a target's kind, its partition's facts and the file it came from.
 */
import type { z } from 'zod';
import type { PartitionFacts } from './partitions';
import type {
  clusterSchema,
  DestinationFile,
  imagesSchema,
  outboundFederationSchema,
  repositoryPrefixSchema,
  repositorySchema,
  slackSchema,
  syncSchema,
  tagMutability,
  trustPath,
  workspaceSchema,
} from './schema';

export { DEFAULTS } from './schema';

/** How a destination's pusher role is reached from the build cluster (see docs/trust-paths.md). */
export type TrustPath = z.output<typeof trustPath>;

export type TagMutability = z.output<typeof tagMutability>;

/** One account and region that ferry deploys a stack into. */
export type Target = Readonly<
  Omit<DestinationFile, 'tags'> & {
    /** build: the cluster's account, where Kaniko pushes first. destination: every other account. */
    kind: 'build' | 'destination';
    partition: PartitionFacts;
    /**
     * cluster-oidc: the pusher role trusts the build cluster's OIDC issuer, registered in this account.
     * outbound-federation: it trusts the build account's outbound web identity issuer instead
     * (STS GetWebIdentityToken). Always cluster-oidc for the build target.
     */
    trust: TrustPath;
    tags: Readonly<Record<string, string>>;
    /** The config file this target came from, for messages. */
    source: string;
  }
>;

/** Tag filters in `tagMutabilityExclusions` are only used by the *_WITH_EXCLUSION settings. */
export type Repository = Readonly<z.output<typeof repositorySchema>>;

/** A namespace in repository prefix mode; `prefix` as written (a trailing `/` optional, see naming.prefixPath). */
export type RepositoryPrefix = Readonly<z.output<typeof repositoryPrefixSchema>>;

/** `issuerUrl` without a trailing slash: the `iss` claim of the cluster's tokens. */
export type Cluster = Readonly<z.output<typeof clusterSchema>>;

/** IAM outbound identity federation of the build account (build.yaml `outboundFederation`). */
export type OutboundFederation = Readonly<z.output<typeof outboundFederationSchema>>;

/** The ferry-sync CronWorkflow (shared.yaml `sync`). */
export type Sync = Readonly<z.output<typeof syncSchema>>;

/** `pusher` undefined means the default: ferry/ferry in the build registry (see naming.ts). */
export type Images = Readonly<z.output<typeof imagesSchema>>;

export type SlackNotification = Readonly<z.output<typeof slackSchema>>;

export type Workspace = Readonly<z.output<typeof workspaceSchema>>;

export interface FerryConfig {
  /** The directory the config was read from. */
  readonly dir: string;
  readonly cluster: Cluster;
  readonly build: Target;
  /** Every target but the build account, in file order. */
  readonly destinations: readonly Target[];
  readonly repositories: readonly Repository[];
  /** Repository prefix mode: namespaces whose repositories ECR creates on first push (empty: none). */
  readonly repositoryPrefixes: readonly RepositoryPrefix[];
  readonly untaggedImageExpiryDays: number;
  readonly cacheRepository: string;
  /** MUTABLE (default) or IMMUTABLE; see the schema's description for the trade-off. */
  readonly cacheTagMutability: 'MUTABLE' | 'IMMUTABLE';
  readonly images: Images;
  readonly workspace: Workspace;
  readonly slack?: SlackNotification;
  /** Set when build.yaml has `outboundFederation`; required by any outbound-federation destination. */
  readonly outboundFederation?: OutboundFederation;
  readonly sync: Sync;
}
