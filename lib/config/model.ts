/**
 * The validated config with every default applied. Both apps read only this (through naming.ts),
 * never the raw files.
 */
import type { PartitionFacts } from './partitions';

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
}

/** Defaults, in one place so the docs and the code cannot disagree. */
export const DEFAULTS = {
  audience: 'sts.amazonaws.com',
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
