import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { PUSHER_REPOSITORY, PUSHER_TAG } from '../../config/naming';
import { CLONE_TASK, CLONED_SOURCES, cloneTemplate, runVolume } from '../clone';
import { TEMPLATE, WORKFLOW_PARAM, WORKFLOW_TEMPLATE } from '../constants';
import { buildParameters, buildTask, entrySpec } from '../dag';
import { workflowTemplate } from '../workflow-template';
import type { FerryChartProps } from './props';

/**
 * Builds the `ferry push` image the push templates run, from a checkout of ferry, into
 * `ferry/ferry:<version>` in the build registry: the push steps cannot deliver the image they
 * are made of, so it is built once per ferry version, before the first pipeline run. Only
 * emitted when the config does not name its own pusher image.
 */
export class BuildPusherChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    workflowTemplate(this, {
      name: WORKFLOW_TEMPLATE.buildPusher,
      component: 'pipeline',
      description: `Builds the ferry pusher image from a checkout of ferry into ${PUSHER_REPOSITORY}:${PUSHER_TAG} in the build registry. Run once per ferry version, before the first pipeline.`,
      spec: {
        ...entrySpec({
          name: WORKFLOW_TEMPLATE.buildPusher,
          parameters: [
            { name: WORKFLOW_PARAM.repo, description: 'Git URL of your ferry repository (https).' },
            { name: WORKFLOW_PARAM.revision, description: `Revision of ferry ${PUSHER_TAG} (the version the templates expect).` },
            ...buildParameters([PUSHER_REPOSITORY]),
            {
              name: WORKFLOW_PARAM.imageTag,
              value: PUSHER_TAG,
              enum: [PUSHER_TAG],
              description: 'The tag the push templates run; fixed to this ferry version.',
            },
          ],
          templates: [{ name: TEMPLATE.main, dag: { tasks: [CLONE_TASK, buildTask(CLONED_SOURCES)] } }, cloneTemplate(props.config)],
        }),
        ...runVolume(props.config),
      },
    });
  }
}
