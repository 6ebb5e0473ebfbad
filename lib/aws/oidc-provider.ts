/**
 * The IAM OIDC provider that lets one account trust tokens from the build cluster's issuer.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, type IDependable } from 'constructs';

export interface ClusterOidcProviderProps {
  /** The cluster's issuer URL, `https://...` without a trailing slash: the `iss` claim of its tokens. */
  readonly issuerUrl: string;
  /** Audiences (client ids) the provider accepts; IRSA tokens carry `sts.amazonaws.com`. */
  readonly clientIds: readonly string[];
  /**
   * The provider's ARN. IAM derives it from account and issuer, so it is known before deploy and
   * trust policies can name it literally.
   */
  readonly providerArn: string;
  /**
   * Import the provider with `providerArn` instead of creating it: IAM refuses a second provider
   * for the same issuer, and the build account usually has one already (eksctl, Terraform).
   * @default false - create an `AWS::IAM::OIDCProvider`
   */
  readonly imported?: boolean;
}

/**
 * Uses `OidcProviderNative` (the plain CloudFormation resource): `OpenIdConnectProvider` is a
 * Lambda-backed custom resource, which would need assets and a bootstrapped account.
 */
export class ClusterOidcProvider extends Construct {
  /** The provider's ARN as a literal string (also when created here). */
  readonly providerArn: string;
  /** Deploy-order handle for roles that trust the provider; an imported provider deploys nothing, so it orders nothing. */
  readonly dependable: IDependable;

  constructor(scope: Construct, id: string, props: ClusterOidcProviderProps) {
    super(scope, id);
    this.providerArn = props.providerArn;
    if (props.imported) {
      this.dependable = iam.OidcProviderNative.fromOidcProviderArn(this, 'Imported', props.providerArn);
      return;
    }
    this.dependable = new iam.OidcProviderNative(this, 'Resource', {
      url: props.issuerUrl,
      clientIds: [...props.clientIds],
      // No thumbprints: IAM verifies the issuer's TLS chain itself.
      // DESTROY (the CDK default, made explicit): a retained provider would make the next deploy of
      // this stack fail with "already exists", and it holds no data.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
