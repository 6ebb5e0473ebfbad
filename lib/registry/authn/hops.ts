/**
 * Errors of the AWS hops a destination's credentials pass through, each naming the hop
 * (mint, assume, ECR login), the role, partition and region, and the likely fix.
 * The AWS message is kept (AWS never echoes a token or a secret in it).
 */
import { errorMessage, PushError } from '../../common/errors';

export type Hop = 'pod-role' | 'mint' | 'assume' | 'ecr-login';

const HOP_NAMES: Record<Hop, string> = {
  'pod-role': "assuming the pod's own role (IRSA: STS AssumeRoleWithWebIdentity of AWS_ROLE_ARN)",
  mint: 'minting the outbound web identity token (STS GetWebIdentityToken)',
  assume: 'assuming the destination role (STS AssumeRoleWithWebIdentity)',
  'ecr-login': 'ECR login (GetAuthorizationToken)',
};

/** What a HopError knows beyond its message: the hop, AWS's answer, the fix, and whether AWS refused. */
export interface HopErrorInfo {
  readonly hop: Hop;
  /** AWS's answer (error name and message), never a token. */
  readonly detail: string;
  readonly fix?: string;
  /**
   * AWS (or the pod's own set-up) refused: a trust, a policy, a provider, a missing token or
   * credential; the same request fails again until something is changed. False for throttling,
   * server faults and network errors, which a later attempt may get past.
   */
  readonly refused: boolean;
}

/** A PushError from one of the AWS hops (its name stays PushError: callers treat it as one). */
export class HopError extends PushError {
  constructor(
    message: string,
    readonly info?: HopErrorInfo,
  ) {
    super(message);
  }
}

export interface HopContext {
  readonly role?: string;
  readonly region: string;
  readonly partition: string;
  readonly trust?: string;
  /** Claims of the token presented (issuer, subject, audience), never the token. */
  readonly claims?: { iss?: string; sub?: string; aud?: string | string[] };
  readonly audience?: string;
  readonly host?: string;
}

function errorName(err: unknown): string {
  return (err as { name?: string; Code?: string })?.name ?? '';
}

/** Throttling, server faults and network errors: worth another attempt, not a refusal. */
const TRANSIENT =
  /Throttl|TooManyRequests|RequestLimitExceeded|ServiceUnavailable|InternalFailure|InternalError|RequestTimeout|TimeoutError|IDPCommunicationError|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE|socket hang up/i;

/** Whether AWS refused (a 4xx that is not throttling), or the pod lacks what the hop needs. */
export function isRefusal(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const text = `${e?.name ?? ''} ${e?.code ?? ''} ${errorMessage(err)}`;
  if (e?.$fault === 'server' || TRANSIENT.test(text)) return false;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 400 && status < 500;
  // No credentials at all, a token file that cannot be read, a TLS chain that does not verify.
  return /CredentialsProviderError|Could not load credentials|ENOENT|EACCES|CERT_|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(text);
}

/** The role's name, for `aws iam get-role --role-name`. */
function roleNameOf(arn: string | undefined): string | undefined {
  return /:role\/(?:.*\/)?([^/]+)$/.exec(arn ?? '')?.[1];
}

function accountOf(arn: string | undefined): string {
  return /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/.exec(arn ?? '')?.[1] ?? 'the account';
}

/** What to check, from what AWS answered. */
function likelyFix(hop: Hop, err: unknown, ctx: HopContext): string | undefined {
  const name = errorName(err);
  const text = `${name} ${errorMessage(err)}`;
  if (hop === 'mint') {
    if (/not enabled|disabled|FeatureDisabled|OutboundWebIdentityFederation/i.test(text)) {
      return `outbound identity federation is not enabled in the build account: run \`aws iam enable-outbound-web-identity-federation\` there once (partition ${ctx.partition})`;
    }
    if (/AccessDenied|not authorized/i.test(text)) {
      return `the pod's role may not call sts:GetWebIdentityToken with audience ${ctx.audience}: check the source role's policy (audience, SigningAlgorithm, DurationSeconds conditions) and the pod's ServiceAccount annotation`;
    }
    if (/Could not load credentials|CredentialsProviderError/i.test(text)) {
      return 'the pod has no AWS credentials: the default chain found none (is the ServiceAccount annotated with the source role?)';
    }
    return undefined;
  }
  const rolePartition = /^arn:([^:]+):/.exec(ctx.role ?? '')?.[1];
  if ((hop === 'assume' || hop === 'pod-role') && rolePartition && rolePartition !== ctx.partition) {
    return `role ${ctx.role} is in partition ${rolePartition}, but STS in ${ctx.region} serves partition ${ctx.partition}: a role is assumed only inside its own partition${hop === 'pod-role' ? " (check the ServiceAccount's eks.amazonaws.com/role-arn annotation)" : ''}`;
  }
  if (hop === 'assume' || hop === 'pod-role') {
    const issuer = ctx.claims?.iss ?? "the token's issuer";
    // By AWS's error name first: a stand-in's (or a future AWS) message may mention other words.
    const denied = name === 'AccessDenied' || /Not authorized to perform/i.test(errorMessage(err));
    if (!denied && /audience/i.test(text)) {
      return `the audience differs: the token is for ${JSON.stringify(ctx.claims?.aud ?? ctx.audience)}; the OIDC provider for ${issuer} in ${accountOf(ctx.role)} must list it as a client ID and the role's trust policy must require it`;
    }
    if (denied) {
      const role = roleNameOf(ctx.role);
      const aud = ctx.claims?.aud ?? ctx.audience;
      return `role ${ctx.role} does not trust issuer ${issuer} with sub ${ctx.claims?.sub ?? "(the token's subject)"}${aud ? ` and aud ${JSON.stringify(aud)}` : ''}: check its trust policy's :sub and :aud conditions${role ? ` (aws iam get-role --role-name ${role} --query Role.AssumeRolePolicyDocument, in account ${accountOf(ctx.role)})` : ''}`;
    }
    if (/ExpiredToken|Token expired/i.test(text)) return "the token expired before it was used: check the pod's clock and --token-duration";
    if (/InvalidIdentityToken|No OpenIDConnect provider/i.test(text)) {
      return `${accountOf(ctx.role)} (partition ${ctx.partition}) has no IAM OIDC provider for issuer ${issuer}, or it cannot fetch its keys (aws iam list-open-id-connect-providers in that account; the provider's URL must be the issuer exactly)`;
    }
    return undefined;
  }
  if (/AccessDenied|not authorized/i.test(text)) return `role ${ctx.role ?? '(default credentials)'} may not call ecr:GetAuthorizationToken`;
  return undefined;
}

export function hopError(hop: Hop, err: unknown, ctx: HopContext): PushError {
  if (err instanceof HopError) return err;
  const who = [ctx.role && `role ${ctx.role}`, `partition ${ctx.partition}`, `region ${ctx.region}`, ctx.trust && `trust ${ctx.trust}`]
    .filter(Boolean)
    .join(', ');
  const fix = likelyFix(hop, err, ctx);
  const name = errorName(err);
  const detail = `${name && name !== 'Error' && !errorMessage(err).startsWith(name) ? `${name}: ` : ''}${errorMessage(err)}`;
  return new HopError(`${HOP_NAMES[hop]} failed${ctx.host ? ` for ${ctx.host}` : ''} (${who}): ${detail}${fix ? `; likely fix: ${fix}` : ''}`, {
    hop,
    detail,
    fix,
    refused: isRefusal(err),
  });
}
