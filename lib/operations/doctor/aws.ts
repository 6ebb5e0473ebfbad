/**
 * The AWS reads of `ferry doctor`, one reader per target: that target's profile (fromIni, so SSO,
 * role_arn/source_profile and credential_process profiles all work), its region, FIPS where the
 * target asks for it and AWS runs a FIPS endpoint, every endpoint logged like the push logs it,
 * AWS_ENDPOINT_URL_* honoured (the SDK does). The SDK clients are loaded on first use, so `ferry
 * push` and `ferry copy` never load them.
 *
 * Every read ends in one of three ways: the answer, "not there" (a finding, exit 2), or "could not
 * be read" (throttling, network, a denied read, the deadline: unchecked, exit 1). Nothing throws
 * past a check.
 */
import { errorMessage, sanitize } from '../../common/errors';
import type { DoctorPlanTarget } from '../../contract';
import { endpointLogPlugin, hasFipsEndpoint, stsConfig } from '../../registry/authn/endpoints';

export type Read<T> = { readonly ok: T } | { readonly missing: string } | { readonly unchecked: string };

/** SDK error names that mean "the thing is not there", per service. */
const NOT_FOUND = new Set([
  'NoSuchEntityException',
  'NoSuchEntity',
  'RepositoryNotFoundException',
  'LifecyclePolicyNotFoundException',
  'RepositoryPolicyNotFoundException',
  'TemplateNotFoundException',
  'FeatureDisabledException',
  'FeatureDisabled',
]);

/** Why a read failed, in one line: the AWS error code and its message, never a stack. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e?.Code ?? e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  return sanitize(`${code}${status ? ` (HTTP ${status})` : ''}: ${errorMessage(err)}`);
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; message?: string };
  if (NOT_FOUND.has(e?.name ?? '') || NOT_FOUND.has(e?.Code ?? '')) return true;
  // CloudFormation: ValidationError "Stack with id X does not exist".
  return (e?.name === 'ValidationError' || e?.Code === 'ValidationError') && /does not exist/.test(e?.message ?? '');
}

export interface ReaderOptions {
  readonly target: DoctorPlanTarget;
  readonly profile: string;
  /** Aborts every call in flight: the run's deadline. */
  readonly signal: AbortSignal;
  readonly log: (line: string) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: the SDK clients are loaded lazily, typed at the call sites
type AnyClient = { send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>; destroy(): void; middlewareStack?: { use(p: any): void } };

/** Reads of one target's account, with that target's credentials. */
export class AwsReader {
  private readonly clients = new Map<string, AnyClient>();
  private credentials: unknown;

  constructor(private readonly opts: ReaderOptions) {}

  get target(): DoctorPlanTarget {
    return this.opts.target;
  }

  /** `name`: the client's module under @aws-sdk, e.g. client-iam; `make` builds it from the common settings. */
  private client(name: string, make: (sdk: Json, settings: Record<string, unknown>) => AnyClient, fips = false): AnyClient {
    let client = this.clients.get(name);
    if (client) return client;
    const { target } = this.opts;
    if (!this.credentials) {
      // Loaded here, not at the top: the pusher image's commands never pay for them.
      const { fromIni } = require('@aws-sdk/credential-providers');
      this.credentials = fromIni({ profile: this.opts.profile, clientConfig: { region: target.region } });
    }
    const settings = {
      region: target.region,
      credentials: this.credentials,
      useFipsEndpoint: fips && target.fips && hasFipsEndpoint(target.region),
      // Bounded: a throttled read is retried twice, then reported as unchecked.
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000 },
    };
    client = make(require(`@aws-sdk/${name}`), settings);
    client.middlewareStack?.use(endpointLogPlugin(this.opts.log));
    this.clients.set(name, client);
    return client;
  }

  private async read<T>(client: AnyClient, command: unknown): Promise<Read<T>> {
    try {
      return { ok: (await client.send(command, { abortSignal: this.opts.signal })) as T };
    } catch (err) {
      if (this.opts.signal.aborted) return { unchecked: `gave up at the deadline (${describeError(this.opts.signal.reason)})` };
      if (isNotFound(err)) return { missing: describeError(err) };
      return { unchecked: describeError(err) };
    }
  }

  // biome-ignore lint/suspicious/noExplicitAny: SDK input/output shapes
  cloudformation<T = any>(command: string, input: Record<string, unknown>): Promise<Read<T>> {
    const client = this.client('client-cloudformation', (sdk, s) => new sdk.CloudFormationClient(s), true);
    return this.read<T>(client, new (require('@aws-sdk/client-cloudformation')[`${command}Command`])(input));
  }

  // biome-ignore lint/suspicious/noExplicitAny: SDK input/output shapes
  iam<T = any>(command: string, input: Record<string, unknown>): Promise<Read<T>> {
    const client = this.client('client-iam', (sdk, s) => new sdk.IAMClient(s), true);
    return this.read<T>(client, new (require('@aws-sdk/client-iam')[`${command}Command`])(input));
  }

  // biome-ignore lint/suspicious/noExplicitAny: SDK input/output shapes
  ecr<T = any>(command: string, input: Record<string, unknown>): Promise<Read<T>> {
    const client = this.client('client-ecr', (sdk, s) => new sdk.ECRClient(s), true);
    return this.read<T>(client, new (require('@aws-sdk/client-ecr')[`${command}Command`])(input));
  }

  /** Whose credentials the profile gives: the account they belong to. */
  async callerAccount(): Promise<Read<string>> {
    const { target } = this.opts;
    const client = this.client('client-sts', (sdk, s) => new sdk.STSClient({ ...s, ...stsConfig(target.region, target.fips) }));
    const answer = await this.read<{ Account?: string }>(client, new (require('@aws-sdk/client-sts').GetCallerIdentityCommand)({}));
    return 'ok' in answer ? { ok: answer.ok.Account ?? '' } : answer;
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the SDK module object
type Json = any;
