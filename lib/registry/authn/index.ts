/**
 * Registry authentication, one idea per file (go-containerregistry's authn):
 *  - credentials.ts: the Credentials / CredentialSource shapes;
 *  - keychain.ts: which source a host gets (ECR, Docker config.json, anonymous);
 *  - docker-config.ts, ecr.ts: those sources;
 *  - aws-target.ts: what every AWS credential provider of a destination is given;
 *  - aws-credentials.ts, federation.ts, hops.ts: AWS credentials per destination and trust path;
 *  - endpoints.ts: which AWS endpoints (FIPS) and the endpoint log;
 *  - challenge.ts, authenticator.ts: the registry's challenge, Basic and the Bearer token exchange;
 *  - flags.ts: the --trust / --token-* options.
 */

export { Authenticator } from './authenticator';
export { Challenge, parseChallenge } from './challenge';
export { anonymous, CredentialSource, Credentials, Env } from './credentials';
export { dockerConfigSource } from './docker-config';
export { EcrTarget, ecrSource, ecrTargetOf } from './ecr';
export { ecrConfig, hasFipsEndpoint, stsConfig } from './endpoints';
export { tokenClaims } from './federation';
export {
  checkFederatedRole,
  DEFAULT_TRUST,
  parseTrust,
  TRUST_DEFAULTS,
  TRUST_ENV,
  TRUST_MODES,
  TRUST_OPTIONS,
  TRUST_USAGE,
  TrustMode,
  TrustSettings,
  TrustValues,
} from './flags';
export { HopError } from './hops';
export { credentialSourceFor, SourceOptions } from './keychain';
