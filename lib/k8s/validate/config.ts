/** What the config says the emitted objects must agree with: user-made objects and push identities. */
import type { FerryConfig } from '../../config/model';
import { GIT_CREDENTIALS_SECRET, serviceAccountName, sourceRoleArn } from '../../config/naming';
import type { UserProvidedObject, ValidateOptions } from './model';

/**
 * Objects the templates reference that ferry does not emit: the user creates them. The check
 * accepts references to these and to emitted objects only; docs/pipeline.md lists them.
 */
export function userProvidedObjects(config: FerryConfig): readonly UserProvidedObject[] {
  return [
    ...(config.slack
      ? [
          {
            kind: 'Secret' as const,
            name: config.slack.secretName,
            optional: false,
            purpose: `Slack incoming webhook URL under key "${config.slack.secretKey}"`,
          },
        ]
      : []),
    { kind: 'Secret', name: GIT_CREDENTIALS_SECRET, optional: true, purpose: 'a .git-credentials file for cloning private repositories over HTTPS' },
  ];
}

/** The options synth validates this config's objects with. */
export function validateOptionsFor(config: FerryConfig): ValidateOptions {
  return {
    userProvided: userProvidedObjects(config),
    pushIdentities: Object.fromEntries(
      config.destinations.map((d) => [serviceAccountName(d), { roleArn: sourceRoleArn(config, d), audience: config.cluster.audience }]),
    ),
  };
}
