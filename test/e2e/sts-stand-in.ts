/**
 * A trust-checking STANDS-IN for AWS STS (query API, XML answers), not AWS. It serves
 *  - AssumeRoleWithWebIdentity: the token's provider must exist in the role's account with the
 *    token's audience among its client IDs; signature, expiry and `iss` are verified against
 *    the issuer's JWKS; `sub` and `aud` must satisfy the role's trust policy as synthesized;
 *    the role's partition must be the endpoint's; an outbound web identity token is refused in
 *    its own partition. It returns credentials scoped to that role.
 *  - GetWebIdentityToken: SigV4-signed by credentials this stand-in issued, in the endpoint's
 *    region; the calling role's identity policies must allow sts:GetWebIdentityToken with the
 *    request's audience, algorithm and duration; the account must have outbound federation
 *    enabled. It returns a JWT signed by that account's issuer, with the claims AWS documents
 *    (`sub` spelled as `outboundSubject` says: the role ARN with or without its path).
 *  - GetCallerIdentity, for debugging a session.
 * Every call is recorded, with the verdict, for the tests to assert on.
 */
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import type { AwsHost } from './aws-hosts';
import { evaluateIdentity, evaluateTrust, type IamWorld, type Role } from './iam-world';
import { type FetchJson, type TestIssuer, unverifiedClaims, verifyWebIdentityToken } from './issuers';
import { SignatureError, type SigningKey, signedBy, verifySignature } from './sigv4';

export interface Session extends SigningKey {
  readonly sessionToken: string;
  readonly role: Role;
  readonly sessionName: string;
  readonly expiration: Date;
}

export interface StsCall {
  readonly action: string;
  readonly region: string;
  readonly roleArn?: string;
  /** Issuer and subject of the web identity token presented or minted. */
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly ok: boolean;
  readonly error?: string;
}

export class StsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Credentials this stand-in issued, by access key id. */
export class Sessions {
  private readonly byKey = new Map<string, Session>();

  /** Every secret handed out (secret keys and session tokens): none may show up in a log. */
  secrets(): string[] {
    return [...this.byKey.values()].flatMap((s) => [s.secretAccessKey, s.sessionToken]);
  }

  issue(role: Role, sessionName: string, seconds: number): Session {
    const session: Session = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      role,
      sessionName,
      expiration: new Date(Date.now() + seconds * 1000),
    };
    this.byKey.set(session.accessKeyId, session);
    return session;
  }

  /**
   * The session that signed this request, after checking the signature, that it was made for
   * this endpoint's region and service, and that the credentials belong to its partition.
   */
  async authenticate(req: http.IncomingMessage, body: Buffer, endpoint: AwsHost, service: string): Promise<Session> {
    let signer;
    try {
      signer = signedBy(req);
    } catch (err) {
      throw new StsError(403, (err as SignatureError).code, (err as Error).message);
    }
    const session = this.byKey.get(signer.accessKeyId);
    if (!session) throw new StsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (session.role.partition !== endpoint.partition) {
      throw new StsError(
        403,
        'InvalidClientTokenId',
        `The security token included in the request is invalid. (stand-in: credentials of ${session.role.arn}, partition ${session.role.partition}, used at an endpoint of ${endpoint.partition} ${endpoint.region})`,
      );
    }
    if (signer.region !== endpoint.region || signer.service !== service) {
      throw new StsError(
        403,
        'SignatureDoesNotMatch',
        `Credential should be scoped to a valid region and service: signed for ${signer.region}/${signer.service}, called ${endpoint.region}/${service}`,
      );
    }
    if (session.expiration.getTime() < Date.now()) throw new StsError(403, 'ExpiredToken', 'The security token included in the request is expired');
    try {
      await verifySignature(req, body, session);
    } catch (err) {
      if (err instanceof SignatureError) throw new StsError(403, err.code, err.message);
      throw err;
    }
    return session;
  }
}

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function xml(action: string, result: string): string {
  return `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></${action}Response>`;
}

export function stsErrorXml(err: StsError): string {
  return `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${err.code}</Code><Message>${escape(err.message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`;
}

function denied(message: string): StsError {
  return new StsError(403, 'AccessDenied', message);
}

function invalidToken(message: string): StsError {
  return new StsError(400, 'InvalidIdentityToken', message);
}

/** `Audience.member.1`, `Audience.member.2`, ... */
function members(form: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (let i = 1; form.has(`${name}.member.${i}`); i++) out.push(form.get(`${name}.member.${i}`)!);
  return out;
}

/**
 * How the stand-in spells the `sub` of a minted token. AWS documents `sub` as the calling role's
 * ARN but shows it only for a role without a path, so it is not known whether STS keeps the path:
 * the stand-in can issue either spelling (or any other, to prove a wrong one is refused).
 */
export type OutboundSubject = (role: Role) => string;
/** `arn:<partition>:iam::<account>:role<path><name>`, the role's ARN as IAM shows it. */
export const SUB_WITH_PATH: OutboundSubject = (role) => role.arn;
/** `arn:<partition>:iam::<account>:role/<name>`, as an assumed-role session names its role. */
export const SUB_WITHOUT_PATH: OutboundSubject = (role) => `arn:${role.partition}:iam::${role.account}:role/${role.name}`;

export interface StsStandInOptions {
  readonly world: () => IamWorld;
  readonly sessions: Sessions;
  /** Outbound issuers by URL, with their signing keys. */
  readonly outboundIssuers: ReadonlyMap<string, TestIssuer>;
  readonly fetchJson: FetchJson;
}

export class StsStandIn {
  readonly calls: StsCall[] = [];
  /** The `sub` of the tokens GetWebIdentityToken mints; replace to try another spelling. */
  outboundSubject: OutboundSubject = SUB_WITH_PATH;

  constructor(private readonly opts: StsStandInOptions) {}

  /** Answers one STS request at `endpoint`; the status and XML body. */
  async handle(req: http.IncomingMessage, body: Buffer, endpoint: AwsHost): Promise<{ status: number; body: string }> {
    const form = new URLSearchParams(body.toString('utf8'));
    const action = form.get('Action') ?? '';
    const record: { -readonly [K in keyof StsCall]?: StsCall[K] } = { action, region: endpoint.region };
    try {
      let result: string;
      if (action === 'AssumeRoleWithWebIdentity') result = await this.assumeRoleWithWebIdentity(form, endpoint, record);
      else if (action === 'GetWebIdentityToken') result = await this.getWebIdentityToken(req, body, form, endpoint, record);
      else if (action === 'GetCallerIdentity') {
        const s = await this.opts.sessions.authenticate(req, body, endpoint, 'sts');
        result = `<Arn>${escape(assumedRoleArn(s))}</Arn><UserId>AROA:${escape(s.sessionName)}</UserId><Account>${s.role.account}</Account>`;
      } else throw new StsError(400, 'InvalidAction', `the stand-in does not implement ${action || '(no Action)'}`);
      this.calls.push({ ...record, ok: true } as StsCall);
      return { status: 200, body: xml(action, result) };
    } catch (err) {
      const error = err instanceof StsError ? err : new StsError(500, 'InternalFailure', (err as Error).message);
      this.calls.push({ ...record, ok: false, error: `${error.code}: ${error.message}` } as StsCall);
      return { status: error.status, body: stsErrorXml(error) };
    }
  }

  private async assumeRoleWithWebIdentity(form: URLSearchParams, endpoint: AwsHost, record: Record<string, unknown>): Promise<string> {
    const world = this.opts.world();
    const roleArn = form.get('RoleArn') ?? '';
    const token = form.get('WebIdentityToken') ?? '';
    const sessionName = form.get('RoleSessionName') ?? '';
    record.roleArn = roleArn;
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) throw new StsError(400, 'ValidationError', `RoleSessionName "${sessionName}" is invalid`);
    const partition = /^arn:([a-z-]+):iam::(\d{12}):role\//.exec(roleArn);
    if (!partition) throw new StsError(400, 'ValidationError', `RoleArn "${roleArn}" is not a role ARN`);
    if (partition[1] !== endpoint.partition) {
      throw denied(
        `Not authorized to perform sts:AssumeRoleWithWebIdentity (stand-in: role ${roleArn} is in partition ${partition[1]}, but this STS endpoint is ${endpoint.region} in ${endpoint.partition})`,
      );
    }
    let claims;
    try {
      claims = unverifiedClaims(token);
    } catch {
      throw invalidToken('The web identity token is not a JWT');
    }
    Object.assign(record, { iss: claims.iss, sub: claims.sub, aud: claims.aud });
    const role = world.roles.get(roleArn);
    if (!role) throw denied(`Not authorized to perform sts:AssumeRoleWithWebIdentity (stand-in: no role ${roleArn} in the synthesized templates)`);
    const provider = typeof claims.iss === 'string' ? world.provider(role.account, claims.iss) : undefined;
    if (!provider) throw invalidToken(`No OpenIDConnect provider found in your account for ${claims.iss} (stand-in: account ${role.account})`);
    let payload;
    try {
      payload = await verifyWebIdentityToken(token, provider.url, this.opts.fetchJson);
    } catch (err) {
      throw invalidToken(`The web identity token could not be verified against ${provider.url}: ${(err as Error).message}`);
    }
    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    if (!audiences.some((a) => provider.clientIds.includes(a))) {
      throw invalidToken(
        `Incorrect token audience (stand-in: token aud ${JSON.stringify(payload.aud)}, provider ${provider.arn} lists ${JSON.stringify(provider.clientIds)})`,
      );
    }
    const aws = payload['https://sts.amazonaws.com/'] as { aws_account?: string } | undefined;
    const sourcePartition = aws?.aws_account ? world.accounts.get(aws.aws_account) : undefined;
    if (aws && (!sourcePartition || sourcePartition === endpoint.partition)) {
      throw invalidToken(
        `An AWS web identity token cannot be used in its own partition (stand-in: minted in account ${aws.aws_account} of ${sourcePartition ?? 'an unknown partition'}, presented in ${endpoint.partition})`,
      );
    }
    if (audiences.length !== 1 && aws) throw invalidToken('An AWS web identity token must have exactly one audience');
    const prefix = provider.url.replace(/^https:\/\//, '');
    const context = { [`${prefix}:sub`]: [String(payload.sub)], [`${prefix}:aud`]: audiences, [`${prefix}:iss`]: [String(payload.iss)] };
    const decision = evaluateTrust(role, 'sts:AssumeRoleWithWebIdentity', provider.arn, context);
    if (!decision.allowed) throw denied(`Not authorized to perform sts:AssumeRoleWithWebIdentity (stand-in: ${decision.reason})`);
    const duration = Number(form.get('DurationSeconds') ?? 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > role.maxSessionDuration) {
      throw new StsError(
        400,
        'ValidationError',
        `DurationSeconds ${form.get('DurationSeconds')} is outside 900..${role.maxSessionDuration}, the role's MaxSessionDuration`,
      );
    }
    const session = this.opts.sessions.issue(role, sessionName, duration);
    return (
      `<Credentials><AccessKeyId>${session.accessKeyId}</AccessKeyId><SecretAccessKey>${escape(session.secretAccessKey)}</SecretAccessKey><SessionToken>${escape(session.sessionToken)}</SessionToken><Expiration>${session.expiration.toISOString()}</Expiration></Credentials>` +
      `<SubjectFromWebIdentityToken>${escape(String(payload.sub))}</SubjectFromWebIdentityToken><Audience>${escape(audiences[0])}</Audience><Provider>${escape(prefix)}</Provider>` +
      `<AssumedRoleUser><Arn>${escape(assumedRoleArn(session))}</Arn><AssumedRoleId>AROA${session.accessKeyId.slice(4)}:${escape(sessionName)}</AssumedRoleId></AssumedRoleUser>`
    );
  }

  private async getWebIdentityToken(
    req: http.IncomingMessage,
    body: Buffer,
    form: URLSearchParams,
    endpoint: AwsHost,
    record: Record<string, unknown>,
  ): Promise<string> {
    const session = await this.opts.sessions.authenticate(req, body, endpoint, 'sts');
    const role = session.role;
    record.roleArn = role.arn;
    const audience = members(form, 'Audience');
    const algorithm = form.get('SigningAlgorithm') ?? '';
    const durationGiven = form.get('DurationSeconds');
    const duration = Number(durationGiven ?? 300);
    if (audience.length === 0) throw new StsError(400, 'ValidationError', 'Audience is required');
    if (!['RS256', 'ES384'].includes(algorithm)) throw new StsError(400, 'ValidationError', `SigningAlgorithm must be RS256 or ES384, got "${algorithm}"`);
    if (!Number.isInteger(duration) || duration < 60 || duration > 3600)
      throw new StsError(400, 'ValidationError', `DurationSeconds must be 60..3600, got ${duration}`);
    const context = {
      // A key is in the request context only when the request states it.
      'sts:IdentityTokenAudience': audience,
      'sts:SigningAlgorithm': [algorithm],
      'sts:DurationSeconds': durationGiven === null ? [] : [durationGiven],
      'aws:PrincipalArn': [role.arn],
      'aws:PrincipalAccount': [role.account],
      'aws:RequestedRegion': [endpoint.region],
    };
    const decision = evaluateIdentity(role, 'sts:GetWebIdentityToken', '*', context);
    if (!decision.allowed) throw denied(decision.reason);
    const world = this.opts.world();
    const issuerUrl = world.outboundIssuer(role.account);
    const issuer = issuerUrl ? this.opts.outboundIssuers.get(issuerUrl) : undefined;
    if (!issuer)
      throw new StsError(403, 'OutboundWebIdentityFederationDisabledException', `Outbound web identity federation is not enabled for account ${role.account}`);
    // Never beyond the caller's own session.
    const lifetime = Math.min(duration, Math.floor((session.expiration.getTime() - Date.now()) / 1000));
    const sub = this.outboundSubject(role);
    const minted = await issuer.sign(
      {
        sub,
        aud: audience.length === 1 ? audience[0] : audience,
        'https://sts.amazonaws.com/': { aws_account: role.account, source_region: endpoint.region },
      },
      lifetime,
      algorithm,
    );
    Object.assign(record, { iss: issuer.url, sub, aud: audience });
    return `<WebIdentityToken>${escape(minted.token)}</WebIdentityToken><Expiration>${minted.expiration.toISOString()}</Expiration>`;
  }
}

export function assumedRoleArn(session: Session): string {
  return `arn:${session.role.partition}:sts::${session.role.account}:assumed-role/${session.role.name}/${session.sessionName}`;
}
