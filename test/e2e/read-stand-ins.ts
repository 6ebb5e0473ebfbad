/**
 * STAND-INS for the read APIs `ferry doctor` calls, not AWS: CloudFormation (DescribeStacks,
 * GetTemplate; query protocol, XML), IAM (GetRole, ListAttachedRolePolicies, GetPolicy,
 * GetPolicyVersion, ListRolePolicies, GetRolePolicy, GetOpenIDConnectProvider,
 * GetOutboundWebIdentityFederationInfo; query protocol, XML) and ECR (DescribeRepositories,
 * GetLifecyclePolicy, GetRepositoryPolicy, DescribeRepositoryCreationTemplates; JSON 1.1).
 *
 * What they answer is what CloudFormation leaves behind after deploying `deployed`: a copy of the
 * synthesized cloud assembly that a test may change (a mistake) or shorten (a stack not deployed),
 * while the doctor reads the original. Every request must be SigV4-signed by credentials the STS
 * stand-in issued (Sessions), for the endpoint's signing region and service, in the endpoint's
 * partition; what a call may read is decided by the caller's identity policies as synthesized
 * (the ferry-doctor role), on the resource ARN AWS's authorization reference names. IAM is one
 * endpoint per partition, as the SDK resolves it: iam.amazonaws.com (signed for us-east-1),
 * iam.us-gov.amazonaws.com (us-gov-west-1), iam.cn-north-1.amazonaws.com.cn, iam.eusc-de-east-1.amazonaws.eu.
 */
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { partitionOf } from './aws-hosts';
import { evaluateIdentity, resolver, type StackTemplate } from './iam-world';
import { type Sessions, StsError } from './sts-stand-in';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ReadEndpoint {
  readonly service: 'cloudformation' | 'iam';
  /** The region requests are signed for. */
  readonly region: string;
  readonly partition: string;
}

/** IAM's one endpoint per partition, and the region it is signed for (the SDK's endpoint rules). */
const IAM_HOSTS: Record<string, { partition: string; region: string }> = {
  'iam.amazonaws.com': { partition: 'aws', region: 'us-east-1' },
  'iam.us-gov.amazonaws.com': { partition: 'aws-us-gov', region: 'us-gov-west-1' },
  'iam.cn-north-1.amazonaws.com.cn': { partition: 'aws-cn', region: 'cn-north-1' },
  'iam.eusc-de-east-1.amazonaws.eu': { partition: 'aws-eusc', region: 'eusc-de-east-1' },
};

export function parseReadHost(host: string): ReadEndpoint | undefined {
  const iam = IAM_HOSTS[host];
  if (iam) return { service: 'iam', ...iam };
  const m = /^cloudformation(?:-fips)?\.([a-z]{2,4}(?:-[a-z]+)+-\d+)\.(amazonaws\.com(?:\.cn)?|amazonaws\.eu)$/.exec(host);
  if (m && partitionOf(m[1]).dnsSuffix === m[2]) return { service: 'cloudformation', region: m[1], partition: partitionOf(m[1]).id };
  return undefined;
}

/** Host names for the stand-ins' certificate: CloudFormation in these regions, and IAM of their partitions. */
export function readHostNames(regions: Iterable<string>): string[] {
  const names = new Set<string>();
  for (const region of regions) {
    const p = partitionOf(region);
    names.add(`cloudformation.${region}.${p.dnsSuffix}`);
    for (const [host, iam] of Object.entries(IAM_HOSTS)) if (iam.partition === p.id) names.add(host);
  }
  return [...names];
}

/** The ECR API operations answered here (GetAuthorizationToken stays with the ECR stand-in). */
export const ECR_READS = new Set(['DescribeRepositories', 'GetLifecyclePolicy', 'GetRepositoryPolicy', 'DescribeRepositoryCreationTemplates']);

export interface ReadCall {
  readonly api: string;
  readonly region: string;
  readonly resource?: string;
  readonly ok: boolean;
  readonly error?: string;
}

/** What exists outside CloudFormation: outbound identity federation per account. */
export interface Outbound {
  readonly enabled: boolean;
  readonly issuer: string;
}

interface RoleState {
  readonly arn: string;
  readonly name: string;
  readonly path: string;
  readonly trust: Json;
  readonly boundary?: string;
  readonly attached: string[];
  readonly inline: Map<string, Json>;
}

interface Deployed {
  readonly stacks: Map<string, StackTemplate>;
  readonly roles: Map<string, RoleState>;
  readonly policies: Map<string, Json>;
  readonly providers: Map<string, { url: string; clientIds: string[] }>;
  readonly repositories: Map<string, Json>;
  readonly creationTemplates: Map<string, Json>;
}

/** IAM as a deploy of these templates leaves it: per role its trust, attached and inline policies. */
function deploy(stacks: readonly StackTemplate[]): Deployed {
  const d: Deployed = { stacks: new Map(), roles: new Map(), policies: new Map(), providers: new Map(), repositories: new Map(), creationTemplates: new Map() };
  for (const stack of stacks) {
    d.stacks.set(`${stack.account}/${stack.region}/${stack.stackName}`, stack);
    const resolve = resolver(stack);
    const partition = partitionOf(stack.region).id;
    const iam = `arn:${partition}:iam::${stack.account}:`;
    const resources: Record<string, Json> = stack.template.Resources ?? {};
    const roleArnOf = (id: string) => `${iam}role${resolve(resources[id].Properties.Path) ?? '/'}${resolve(resources[id].Properties.RoleName)}`;
    for (const [id, r] of Object.entries(resources)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::IAM::Role') {
        const arn = roleArnOf(id);
        d.roles.set(arn, {
          arn,
          name: resolve(p.RoleName),
          path: resolve(p.Path) ?? '/',
          trust: storedAsIam(resolve(p.AssumeRolePolicyDocument), partition),
          boundary: p.PermissionsBoundary ? resolve(p.PermissionsBoundary) : undefined,
          attached: (p.ManagedPolicyArns ?? []).map(resolve),
          inline: new Map((p.Policies ?? []).map((x: Json) => [x.PolicyName, resolve(x.PolicyDocument)])),
        });
      }
    }
    for (const [id, r] of Object.entries(resources)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::IAM::ManagedPolicy') {
        const arn = resolve({ Ref: id });
        d.policies.set(arn, resolve(p.PolicyDocument));
        for (const ref of p.Roles ?? []) d.roles.get(roleArnOf(ref.Ref))?.attached.push(arn);
      }
      if (r.Type === 'AWS::IAM::Policy') for (const ref of p.Roles ?? []) d.roles.get(roleArnOf(ref.Ref))?.inline.set(p.PolicyName, resolve(p.PolicyDocument));
      if (r.Type === 'AWS::IAM::OIDCProvider') {
        const url = resolve(p.Url) as string;
        d.providers.set(`${iam}oidc-provider/${url.replace(/^https:\/\//, '')}`, {
          url: url.replace(/^https:\/\//, ''),
          clientIds: resolve(p.ClientIdList) ?? [],
        });
      }
      if (r.Type === 'AWS::ECR::Repository') {
        const props = resolve(p);
        d.repositories.set(`arn:${partition}:ecr:${stack.region}:${stack.account}:repository/${props.RepositoryName}`, props);
      }
      if (r.Type === 'AWS::ECR::RepositoryCreationTemplate') {
        const props = resolve(p);
        d.creationTemplates.set(`${stack.account}/${stack.region}/${props.Prefix}`, props);
      }
    }
  }
  return d;
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function xml(service: 'iam' | 'cloudformation', action: string, result: string): string {
  const ns = service === 'iam' ? 'https://iam.amazonaws.com/doc/2010-05-08/' : 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
  return `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></${action}Response>`;
}

function errorXml(e: StsError): string {
  return `<ErrorResponse><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${escape(e.message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`;
}

export class ReadStandIns {
  readonly calls: ReadCall[] = [];
  private deployed: Deployed = deploy([]);
  /** Outbound identity federation by account. */
  outbound: Record<string, Outbound> = {};
  /** Answer every read with 400 Throttling (the SDK retries it, then gives up). */
  throttle = false;

  constructor(private readonly sessions: Sessions) {}

  /** What is deployed from now on: a copy of (some of) the synthesized stacks. */
  deploy(stacks: readonly StackTemplate[]): void {
    this.deployed = deploy(stacks);
  }

  /** CloudFormation and IAM (query protocol, XML). */
  async query(req: http.IncomingMessage, body: Buffer, endpoint: ReadEndpoint): Promise<{ status: number; body: string }> {
    const form = new URLSearchParams(body.toString('utf8'));
    const action = form.get('Action') ?? '';
    const record: { -readonly [K in keyof ReadCall]?: ReadCall[K] } = { api: `${endpoint.service}:${action}`, region: endpoint.region };
    try {
      const session = await this.sessions.authenticate(
        req,
        body,
        { service: 'sts', region: endpoint.region, partition: endpoint.partition, fips: false },
        endpoint.service,
      );
      const account = session.role.account;
      const allow = (resource: string) => {
        record.resource = resource;
        const decision = evaluateIdentity(session.role, `${endpoint.service}:${action}`, resource, { 'aws:RequestedRegion': [endpoint.region] });
        if (!decision.allowed) throw new StsError(403, 'AccessDenied', decision.reason);
      };
      if (this.throttle) throw new StsError(400, 'Throttling', 'Rate exceeded');
      const result =
        endpoint.service === 'cloudformation' ? this.cloudformation(action, form, endpoint, account, allow) : this.iam(action, form, endpoint, account, allow);
      this.calls.push({ ...record, ok: true } as ReadCall);
      return { status: 200, body: xml(endpoint.service, action, result) };
    } catch (err) {
      const e = err instanceof StsError ? err : new StsError(500, 'InternalFailure', (err as Error).message);
      this.calls.push({ ...record, ok: false, error: `${e.code}: ${e.message}` } as ReadCall);
      return { status: e.status, body: errorXml(e) };
    }
  }

  private cloudformation(action: string, form: URLSearchParams, endpoint: ReadEndpoint, account: string, allow: (arn: string) => void): string {
    const name = form.get('StackName') ?? '';
    const stack = this.deployed.stacks.get(`${account}/${endpoint.region}/${name}`);
    const id = `arn:${endpoint.partition}:cloudformation:${endpoint.region}:${account}:stack/${name}/0a1b2c3d-0000-4000-8000-000000000000`;
    allow(id);
    if (!stack) throw new StsError(400, 'ValidationError', `Stack with id ${name} does not exist`);
    if (action === 'DescribeStacks')
      return `<Stacks><member><StackName>${escape(name)}</StackName><StackId>${id}</StackId><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-01T00:00:00Z</CreationTime></member></Stacks>`;
    if (action === 'GetTemplate') {
      if ((form.get('TemplateStage') ?? 'Original') !== 'Original') throw new StsError(400, 'ValidationError', 'the stand-in serves the Original stage only');
      return `<TemplateBody>${escape(JSON.stringify(stack.template))}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable>`;
    }
    throw new StsError(400, 'InvalidAction', `the stand-in does not implement ${action}`);
  }

  private iam(action: string, form: URLSearchParams, endpoint: ReadEndpoint, account: string, allow: (arn: string) => void): string {
    const d = this.deployed;
    const prefix = `arn:${endpoint.partition}:iam::${account}:`;
    const roleByName = (): RoleState => {
      const name = form.get('RoleName') ?? '';
      const role = [...d.roles.values()].find((r) => r.name === name && r.arn.startsWith(prefix));
      allow(role?.arn ?? `${prefix}role/${name}`);
      if (!role) throw new StsError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
      return role;
    };
    const encode = (doc: Json) => escape(encodeURIComponent(JSON.stringify(doc)));
    switch (action) {
      case 'GetRole': {
        const r = roleByName();
        const boundary = r.boundary
          ? `<PermissionsBoundary><PermissionsBoundaryType>Policy</PermissionsBoundaryType><PermissionsBoundaryArn>${escape(r.boundary)}</PermissionsBoundaryArn></PermissionsBoundary>`
          : '';
        return `<Role><Path>${escape(r.path)}</Path><RoleName>${escape(r.name)}</RoleName><RoleId>AROA${randomBytes(8).toString('hex').toUpperCase()}</RoleId><Arn>${escape(r.arn)}</Arn><CreateDate>2026-11-01T00:00:00Z</CreateDate><AssumeRolePolicyDocument>${encode(r.trust)}</AssumeRolePolicyDocument>${boundary}</Role>`;
      }
      case 'ListAttachedRolePolicies': {
        const r = roleByName();
        return `<IsTruncated>false</IsTruncated><AttachedPolicies>${r.attached.map((a) => `<member><PolicyArn>${escape(a)}</PolicyArn><PolicyName>${escape(a.replace(/^.*\//, ''))}</PolicyName></member>`).join('')}</AttachedPolicies>`;
      }
      case 'ListRolePolicies': {
        const r = roleByName();
        return `<IsTruncated>false</IsTruncated><PolicyNames>${[...r.inline.keys()].map((n) => `<member>${escape(n)}</member>`).join('')}</PolicyNames>`;
      }
      case 'GetRolePolicy': {
        const r = roleByName();
        const doc = r.inline.get(form.get('PolicyName') ?? '');
        if (!doc) throw new StsError(404, 'NoSuchEntity', `The role policy with name ${form.get('PolicyName')} cannot be found.`);
        return `<RoleName>${escape(r.name)}</RoleName><PolicyName>${escape(form.get('PolicyName') ?? '')}</PolicyName><PolicyDocument>${encode(doc)}</PolicyDocument>`;
      }
      case 'GetPolicy':
      case 'GetPolicyVersion': {
        const arn = form.get('PolicyArn') ?? '';
        allow(arn);
        const doc = arn.startsWith(prefix) ? d.policies.get(arn) : undefined;
        if (!doc) throw new StsError(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
        if (action === 'GetPolicy')
          return `<Policy><PolicyName>${escape(arn.replace(/^.*\//, ''))}</PolicyName><Arn>${escape(arn)}</Arn><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>1</AttachmentCount><IsAttachable>true</IsAttachable></Policy>`;
        if (form.get('VersionId') !== 'v1') throw new StsError(404, 'NoSuchEntity', `Policy ${arn} version ${form.get('VersionId')} does not exist.`);
        return `<PolicyVersion><Document>${encode(doc)}</Document><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion></PolicyVersion>`;
      }
      case 'GetOpenIDConnectProvider': {
        const arn = form.get('OpenIDConnectProviderArn') ?? '';
        allow(arn);
        const p = arn.startsWith(prefix) ? d.providers.get(arn) : undefined;
        if (!p) throw new StsError(404, 'NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
        return `<Url>${escape(p.url)}</Url><ClientIDList>${p.clientIds.map((c) => `<member>${escape(c)}</member>`).join('')}</ClientIDList><ThumbprintList/><CreateDate>2026-11-01T00:00:00Z</CreateDate>`;
      }
      case 'GetOutboundWebIdentityFederationInfo': {
        allow('*');
        const o = this.outbound[account];
        if (!o?.enabled) throw new StsError(409, 'FeatureDisabled', 'Outbound web identity federation is disabled for this account.');
        return `<IssuerIdentifier>${escape(o.issuer)}</IssuerIdentifier><JwtVendingEnabled>true</JwtVendingEnabled>`;
      }
      default:
        throw new StsError(400, 'InvalidAction', `the stand-in does not implement ${action}`);
    }
  }

  /** ECR reads (JSON 1.1); `endpoint` is the ECR API endpoint the front parsed. */
  async ecr(
    req: http.IncomingMessage,
    body: Buffer,
    endpoint: { region: string; partition: string },
    operation: string,
  ): Promise<{ status: number; body: string }> {
    const record: { -readonly [K in keyof ReadCall]?: ReadCall[K] } = { api: `ecr:${operation}`, region: endpoint.region };
    try {
      const session = await this.sessions.authenticate(
        req,
        body,
        { service: 'ecr-api', region: endpoint.region, partition: endpoint.partition, fips: false },
        'ecr',
      );
      const account = session.role.account;
      const input = JSON.parse(body.toString('utf8') || '{}');
      const allow = (resource: string) => {
        record.resource = resource;
        const decision = evaluateIdentity(session.role, `ecr:${operation}`, resource, { 'aws:RequestedRegion': [endpoint.region] });
        if (!decision.allowed) throw new StsError(400, 'AccessDeniedException', decision.reason);
      };
      if (this.throttle) throw new StsError(400, 'ThrottlingException', 'Rate exceeded');
      const repoArn = (name: string) => `arn:${endpoint.partition}:ecr:${endpoint.region}:${account}:repository/${name}`;
      const repository = (name: string) => {
        allow(repoArn(name));
        const props = this.deployed.repositories.get(repoArn(name));
        if (!props)
          throw new StsError(400, 'RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${account}'`);
        return props;
      };
      let answer: Json;
      if (operation === 'DescribeRepositories') {
        answer = {
          repositories: (input.repositoryNames ?? []).map((name: string) => {
            const p = repository(name);
            return {
              repositoryArn: repoArn(name),
              registryId: account,
              repositoryName: name,
              repositoryUri: `${account}.dkr.ecr.${endpoint.region}.${partitionOf(endpoint.region).dnsSuffix}/${name}`,
              createdAt: 1_790_000_000,
              imageTagMutability: p.ImageTagMutability ?? 'MUTABLE',
              ...(p.ImageTagMutabilityExclusionFilters
                ? {
                    imageTagMutabilityExclusionFilters: p.ImageTagMutabilityExclusionFilters.map((f: Json) => ({
                      filterType: f.ImageTagMutabilityExclusionFilterType,
                      filter: f.ImageTagMutabilityExclusionFilterValue,
                    })),
                  }
                : {}),
              imageScanningConfiguration: { scanOnPush: p.ImageScanningConfiguration?.ScanOnPush ?? false },
              encryptionConfiguration: {
                encryptionType: p.EncryptionConfiguration?.EncryptionType ?? 'AES256',
                ...(p.EncryptionConfiguration?.KmsKey ? { kmsKey: p.EncryptionConfiguration.KmsKey } : {}),
              },
            };
          }),
        };
      } else if (operation === 'GetLifecyclePolicy') {
        const p = repository(input.repositoryName);
        if (!p.LifecyclePolicy?.LifecyclePolicyText)
          throw new StsError(400, 'LifecyclePolicyNotFoundException', `Lifecycle policy does not exist for the repository with name '${input.repositoryName}'`);
        answer = { registryId: account, repositoryName: input.repositoryName, lifecyclePolicyText: p.LifecyclePolicy.LifecyclePolicyText };
      } else if (operation === 'GetRepositoryPolicy') {
        const p = repository(input.repositoryName);
        if (!p.RepositoryPolicyText)
          throw new StsError(
            400,
            'RepositoryPolicyNotFoundException',
            `Repository policy does not exist for the repository with name '${input.repositoryName}'`,
          );
        answer = {
          registryId: account,
          repositoryName: input.repositoryName,
          policyText: typeof p.RepositoryPolicyText === 'string' ? p.RepositoryPolicyText : JSON.stringify(p.RepositoryPolicyText),
        };
      } else if (operation === 'DescribeRepositoryCreationTemplates') {
        allow('*');
        const templates = [...this.deployed.creationTemplates.entries()]
          .filter(([key, t]) => key.startsWith(`${account}/${endpoint.region}/`) && (!input.prefixes || input.prefixes.includes(t.Prefix)))
          .map(([, t]) => ({
            prefix: t.Prefix,
            description: t.Description,
            appliedFor: t.AppliedFor,
            imageTagMutability: t.ImageTagMutability,
            imageTagMutabilityExclusionFilters: (t.ImageTagMutabilityExclusionFilters ?? []).map((f: Json) => ({
              filterType: f.ImageTagMutabilityExclusionFilterType,
              filter: f.ImageTagMutabilityExclusionFilterValue,
            })),
            lifecyclePolicy: t.LifecyclePolicy,
            repositoryPolicy: t.RepositoryPolicy,
            encryptionConfiguration: t.EncryptionConfiguration
              ? { encryptionType: t.EncryptionConfiguration.EncryptionType, kmsKey: t.EncryptionConfiguration.KmsKey }
              : { encryptionType: 'AES256' },
            customRoleArn: t.CustomRoleArn,
          }));
        answer = { registryId: account, repositoryCreationTemplates: templates };
      } else throw new StsError(400, 'UnknownOperationException', `the stand-in does not implement ${operation}`);
      this.calls.push({ ...record, ok: true } as ReadCall);
      return { status: 200, body: JSON.stringify(answer) };
    } catch (err) {
      const e = err instanceof StsError ? err : new StsError(500, 'ServerException', (err as Error).message);
      const type = { InvalidClientTokenId: 'UnrecognizedClientException', SignatureDoesNotMatch: 'InvalidSignatureException' }[e.code] ?? e.code;
      this.calls.push({ ...record, ok: false, error: `${type}: ${e.message}` } as ReadCall);
      return { status: e.status, body: JSON.stringify({ __type: type, message: e.message }) };
    }
  }
}

/** A trust policy as IAM returns it: an account given by its 12-digit ID comes back as its root ARN. */
function storedAsIam(document: Json, partition: string): Json {
  const root = (v: Json) => (typeof v === 'string' && /^\d{12}$/.test(v) ? `arn:${partition}:iam::${v}:root` : v);
  return {
    ...document,
    Statement: [document.Statement]
      .flat()
      .map((st: Json) =>
        st.Principal?.AWS === undefined
          ? st
          : { ...st, Principal: { ...st.Principal, AWS: Array.isArray(st.Principal.AWS) ? st.Principal.AWS.map(root) : root(st.Principal.AWS) } },
      ),
  };
}
