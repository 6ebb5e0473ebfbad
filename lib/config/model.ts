/**
 * The validated config with every default applied. Both apps read only this (through naming.ts),
 * never the raw files.
 */
import type { PartitionFacts } from './partitions';

/** How a destination's pusher role is reached from the build cluster (see docs/trust-paths.md). */
export type TrustPath = 'cluster-oidc' | 'outbound-federation';

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

/** One account and region that ferry deploys a stack into. */
export interface Target {
  /** build: the cluster's account, where Kaniko pushes first. destination: every other account. */
  readonly kind: 'build' | 'destination';
  readonly name: string;
  readonly partition: PartitionFacts;
  readonly account: string;
  readonly region: string;
  readonly fips: boolean;
  /**
   * cluster-oidc: the pusher role trusts the build cluster's OIDC issuer, registered in this account.
   * outbound-federation: it trusts the build account's outbound web identity issuer instead
   * (STS GetWebIdentityToken). Always cluster-oidc for the build target.
   */
  readonly trust: TrustPath;
  /** Import this provider instead of creating one. */
  readonly oidcProviderArn?: string;
  readonly kmsKeyArn?: string;
  readonly permissionsBoundaryArn?: string;
  readonly rolePath: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly synthesizer: 'bootstrapped' | 'cli-credentials';
  /** The config file this target came from, for messages. */
  readonly source: string;
}

export interface Repository {
  readonly name: string;
  readonly tagMutability: TagMutability;
  /** Tag filters exempt from the mutability rule; only used by the *_WITH_EXCLUSION settings. */
  readonly tagMutabilityExclusions: readonly string[];
}

export interface Cluster {
  readonly issuerUrl: string;
  readonly namespace: string;
  readonly audience: string;
}

/** IAM outbound identity federation of the build account (build.yaml `outboundFederation`). */
export interface OutboundFederation {
  /** The build account's issuer, e.g. https://<id>.tokens.sts.global.api.aws. */
  readonly issuerUrl: string;
  /** The one audience the minted tokens carry and the destination providers list as client ID. */
  readonly audience: string;
  /** The longest token the source roles may mint (sts:DurationSeconds). */
  readonly tokenDurationSeconds: number;
}

/** The ferry-sync CronWorkflow (shared.yaml `sync`). */
export interface Sync {
  readonly enabled: boolean;
  readonly schedule: string;
  /** Tag glob each run syncs. */
  readonly tags: string;
}

export interface Images {
  readonly kaniko: string;
  /** Undefined means the default: ferry/ferry in the build registry (see naming.ts). */
  readonly pusher?: string;
  readonly git: string;
  readonly notify: string;
}

export interface SlackNotification {
  readonly secretName: string;
  readonly secretKey: string;
}

export interface Workspace {
  readonly size: string;
  readonly storageClassName?: string;
  readonly accessMode: 'ReadWriteOnce' | 'ReadWriteMany';
}

export interface FerryConfig {
  /** The directory the config was read from. */
  readonly dir: string;
  readonly cluster: Cluster;
  readonly build: Target;
  /** Every target but the build account, in file order. */
  readonly destinations: readonly Target[];
  readonly repositories: readonly Repository[];
  readonly untaggedImageExpiryDays: number;
  readonly cacheRepository: string;
  readonly images: Images;
  readonly workspace: Workspace;
  readonly slack?: SlackNotification;
  /** Set when build.yaml has `outboundFederation`; required by any outbound-federation destination. */
  readonly outboundFederation?: OutboundFederation;
  readonly sync: Sync;
}

/** Defaults, in one place so the docs and the code cannot disagree. */
export const DEFAULTS = {
  audience: 'sts.amazonaws.com',
  trust: 'cluster-oidc',
  outboundFederation: { audience: 'sts.amazonaws.com', tokenDurationSeconds: 300 },
  sync: { enabled: false, schedule: '0 3 * * *', tags: '*' },
  rolePath: '/',
  synthesizer: 'bootstrapped',
  tagMutability: 'IMMUTABLE_WITH_EXCLUSION',
  tagMutabilityExclusions: ['latest'],
  untaggedImageExpiryDays: 14,
  cacheRepository: 'ferry/kaniko-cache',
  slackSecretKey: 'url',
  workspace: { size: '20Gi', accessMode: 'ReadWriteOnce' },
  images: {
    kaniko: 'ghcr.io/osscontainertools/kaniko:v1.28.3',
    git: 'alpine/git:v2.49.1',
    notify: 'curlimages/curl:8.17.0',
  },
} as const;
