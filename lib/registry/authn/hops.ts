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

/** A PushError from one of the AWS hops (its name stays PushError: callers treat it as one). */
export class HopError extends PushError {}

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
    if (/audience/i.test(text)) {
      return `the audience differs: the token is for ${JSON.stringify(ctx.claims?.aud ?? ctx.audience)}; the OIDC provider for ${issuer} in ${accountOf(ctx.role)} must list it as a client ID and the role's trust policy must require it`;
    }
    if (/InvalidIdentityToken|No OpenIDConnect provider|provider/i.test(text)) {
      return `${accountOf(ctx.role)} (partition ${ctx.partition}) has no IAM OIDC provider for issuer ${issuer}, or it cannot fetch its keys`;
    }
    if (/AccessDenied|not authorized/i.test(text)) {
      return `role ${ctx.role} does not trust issuer ${issuer} with sub ${ctx.claims?.sub ?? "(the token's subject)"}: check its trust policy's :sub and :aud conditions`;
    }
    if (/ExpiredToken/i.test(text)) return "the token expired before it was used: check the pod's clock and --token-duration";
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
  return new HopError(`${HOP_NAMES[hop]} failed${ctx.host ? ` for ${ctx.host}` : ''} (${who}): ${detail}${fix ? `; likely fix: ${fix}` : ''}`);
}
