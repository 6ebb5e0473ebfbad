import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import type { WorkflowTemplateSpecTemplates, WorkflowTemplateSpecTemplatesContainerEnv } from '../../../imports/argoproj.io';
import type { FerryConfig } from '../../config/model';
import { imageName, WORKFLOW_SERVICE_ACCOUNT } from '../../config/naming';
import { INPUT, LIMITS, PATH, RETRY, TEMPLATE, VOLUME, WORKFLOW_TEMPLATE } from '../constants';
import { destinationInputs, destinationLines } from '../destinations';
import { emptyDirVolume, env, input, inputRef, resources, shellContainer, step } from '../pod';
import { retryStrategy } from '../retry';
import { ALERT_SCRIPT, REPORT_SCRIPT } from '../scripts';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/**
 * Two messages: the delivery report once every push has ended, and the exit handler's alert when
 * a run fails anywhere. Both print to the step log; with Slack configured they also post there.
 */
export class NotifyChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.notify,
      component: 'notify',
      description: props.config.slack
        ? `Reports each run to Slack (webhook URL from Secret ${props.config.slack.secretName}) and in the step log.`
        : 'Reports each run in the step log (no Slack webhook configured).',
      spec: { templates: [reportTemplate(props.config), alertTemplate(props.config)] },
    });
  }
}

export function reportTemplate(config: FerryConfig): WorkflowTemplateSpecTemplates {
  return notifyStep(config, TEMPLATE.report, 'Workflow name, verdict, image, tag and every destination digest or failure.', {
    parameters: [
      input(INPUT.imageRepository, 'ECR repository'),
      input(INPUT.imageTag, 'image tag'),
      input(INPUT.expectedDigest, 'the digest Kaniko pushed'),
      input(INPUT.verifyStatus, 'final phase of the verify task'),
      ...destinationInputs(config),
    ],
    script: REPORT_SCRIPT,
    env: {
      WORKFLOW_NAME: '{{workflow.name}}',
      IMAGE_NAME: imageName(config.build, inputRef(INPUT.imageRepository)),
      IMAGE_TAG: inputRef(INPUT.imageTag),
      EXPECTED_DIGEST: inputRef(INPUT.expectedDigest),
      VERIFY_STATUS: inputRef(INPUT.verifyStatus),
      DESTINATIONS: destinationLines(config),
    },
  });
}

/** Runs in an exit handler only: workflow.status and workflow.failures exist there. */
export function alertTemplate(config: FerryConfig): WorkflowTemplateSpecTemplates {
  return notifyStep(config, TEMPLATE.alert, 'Workflow name, status and the steps that failed.', {
    parameters: [input(INPUT.imageRepository, 'ECR repository'), { ...input(INPUT.imageTag, 'image tag; empty when taken from the commit'), default: '' }],
    script: ALERT_SCRIPT,
    env: {
      WORKFLOW_NAME: '{{workflow.name}}',
      WORKFLOW_STATUS: '{{workflow.status}}',
      FAILURES: '{{workflow.failures}}',
      IMAGE_NAME: imageName(config.build, inputRef(INPUT.imageRepository)),
      IMAGE_TAG: inputRef(INPUT.imageTag),
    },
  });
}

interface NotifyBody {
  readonly parameters: NonNullable<NonNullable<WorkflowTemplateSpecTemplates['inputs']>['parameters']>;
  readonly script: string;
  readonly env: Record<string, string>;
}

function notifyStep(config: FerryConfig, name: string, description: string, body: NotifyBody): WorkflowTemplateSpecTemplates {
  return step(
    { name, description, component: 'notify', serviceAccountName: WORKFLOW_SERVICE_ACCOUNT, limits: LIMITS.notify },
    {
      inputs: { parameters: body.parameters },
      volumes: [emptyDirVolume(VOLUME.tmp)],
      container: shellContainer(config.images.notify, body.script, {
        env: [...env(body.env), ...webhookEnv(config)],
        volumeMounts: [{ name: VOLUME.tmp, mountPath: PATH.tmp }],
        resources: resources(LIMITS.notify),
      }),
      retryStrategy: retryStrategy(RETRY.notify),
    },
  );
}

/** The webhook URL is a credential: it comes from the user's Secret, never from a parameter. */
function webhookEnv(config: FerryConfig): WorkflowTemplateSpecTemplatesContainerEnv[] {
  if (!config.slack) return [];
  return [{ name: 'SLACK_WEBHOOK_URL', valueFrom: { secretKeyRef: { name: config.slack.secretName, key: config.slack.secretKey } } }];
}
