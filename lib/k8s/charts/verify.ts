import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { WorkflowTemplateSpecTemplates } from '../../../imports/argoproj.io';
import type { FerryConfig } from '../../config/model';
import { WORKFLOW_SERVICE_ACCOUNT } from '../../config/naming';
import { INPUT, LIMITS, TEMPLATE, WORKFLOW_TEMPLATE } from '../constants';
import { destinationInputs, destinationLines } from '../destinations';
import { env, input, inputRef, resources, shellContainer, step } from '../pod';
import { VERIFY_SCRIPT } from '../scripts';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/**
 * The run's verdict: every push step must have succeeded. Each push step reads its destination
 * back, by tag and by digest, with that destination's credentials, and fails unless it holds the
 * built digest; so verify aggregates task statuses and needs no AWS access itself.
 */
export class VerifyChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.verify,
      component: 'verify',
      description: 'Fails unless every push step succeeded, that is read the digest Kaniko produced back from its destination.',
      spec: { templates: [verifyTemplate(props.config)] },
    });
  }
}

export function verifyTemplate(config: FerryConfig): WorkflowTemplateSpecTemplates {
  return step(
    {
      name: TEMPLATE.verify,
      description: "Aggregates the push steps' final status: each read its destination back by tag and digest.",
      component: 'verify',
      serviceAccountName: WORKFLOW_SERVICE_ACCOUNT,
      limits: LIMITS.verify,
    },
    {
      inputs: {
        parameters: [
          input(INPUT.expectedDigest, 'the digest Kaniko pushed'),
          input(INPUT.imageRepository, 'ECR repository'),
          input(INPUT.imageTag, 'image tag'),
          ...destinationInputs(config),
        ],
      },
      // The curl image is already pinned for notifications and has the busybox shell this needs.
      container: shellContainer(config.images.notify, VERIFY_SCRIPT, {
        env: env({ EXPECTED_DIGEST: inputRef(INPUT.expectedDigest), DESTINATIONS: destinationLines(config) }),
        resources: resources(LIMITS.verify),
      }),
    },
  );
}
