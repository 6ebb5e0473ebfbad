import { Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { CronWorkflow, CronWorkflowSpecConcurrencyPolicy } from '../../../imports/cronworkflow-argoproj.io';
import { ALL_DESTINATIONS, ANNOTATION, CRON_WORKFLOW, LABEL, WORKFLOW_PARAM, WORKFLOW_TEMPLATE } from '../constants';
import type { FerryChartProps } from './props';

/** The schedule's time zone: a cron line in shared.yaml means the same hour on every cluster. */
export const SYNC_TIMEZONE = 'UTC';

/**
 * The `ferry-sync` CronWorkflow: runs the ferry-sync entry for every destination on the schedule
 * of shared.yaml `sync`. Emitted always, suspended unless `sync.enabled`, so turning it on is one
 * line of config (or `argo cron resume`). Runs never overlap.
 */
export class SyncScheduleChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    const sync = props.config.sync;
    new CronWorkflow(this, CRON_WORKFLOW.sync, {
      metadata: {
        name: CRON_WORKFLOW.sync,
        labels: { [LABEL.component]: 'sync' },
        annotations: {
          [ANNOTATION.description]: `Backfills every destination from the build registry on "${sync.schedule}" (${SYNC_TIMEZONE}); ${sync.enabled ? 'enabled' : 'suspended (shared.yaml sync.enabled: false)'}.`,
        },
      },
      spec: {
        // `schedules` (3.6+): v4 removed the singular `schedule`.
        schedules: [sync.schedule],
        timezone: SYNC_TIMEZONE,
        suspend: !sync.enabled,
        concurrencyPolicy: CronWorkflowSpecConcurrencyPolicy.FORBID,
        workflowMetadata: { labels: { [LABEL.name]: WORKFLOW_TEMPLATE.sync } },
        workflowSpec: {
          // The whole WorkflowTemplate spec applies (account, deadline, clean-up, onExit).
          workflowTemplateRef: { name: WORKFLOW_TEMPLATE.sync },
          arguments: {
            parameters: [
              { name: WORKFLOW_PARAM.destination, value: ALL_DESTINATIONS },
              { name: WORKFLOW_PARAM.tags, value: sync.tags },
            ],
          },
        },
      },
    });
  }
}
