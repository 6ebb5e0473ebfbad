import { Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { FerryConfig, Target } from '../../config/model';
import { allTargets, roleArn, serviceAccountName, sourceRoleArn, WORKFLOW_SERVICE_ACCOUNT } from '../../config/naming';
import { ANNOTATION, LABEL } from '../constants';
import type { FerryChartProps } from './props';

/**
 * One IRSA ServiceAccount per identity (the builder, and a pusher per destination), annotated for
 * the EKS pod identity webhook, plus the role-less account of the other steps. A pusher's
 * annotation names its SOURCE role in the build account (naming.sourceRoleArn), which pulls from
 * the build registry; the push step reaches the destination role from there (delivery.ts).
 */
export class ServiceAccountsChart extends Chart {
  constructor(scope: Construct, id: string, props: FerryChartProps) {
    super(scope, id, props);
    for (const target of allTargets(props.config)) {
      new kplus.ServiceAccount(this, target.name, {
        metadata: {
          name: serviceAccountName(target),
          labels: { [LABEL.component]: target.kind === 'build' ? 'build' : 'push', [LABEL.partition]: target.partition.id, [LABEL.destination]: target.name },
          annotations: irsaAnnotations(props.config, target),
        },
        // Argo's executor in every pipeline pod authenticates with this token.
        automountToken: true,
      });
    }
    new kplus.ServiceAccount(this, 'workflow', {
      metadata: { name: WORKFLOW_SERVICE_ACCOUNT, labels: { [LABEL.component]: 'workflow' } },
      automountToken: true,
    });
  }
}

/** What the pod identity webhook reads: which role, which token audience, which STS endpoint. */
export function irsaAnnotations(config: FerryConfig, target: Target): Record<string, string> {
  return {
    [ANNOTATION.roleArn]: target.kind === 'build' ? roleArn(target) : sourceRoleArn(config, target),
    [ANNOTATION.audience]: config.cluster.audience,
    // GovCloud, China and the European Sovereign Cloud have no global STS endpoint.
    [ANNOTATION.stsRegionalEndpoints]: 'true',
  };
}
