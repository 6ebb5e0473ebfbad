import * as fs from 'node:fs';
import * as path from 'node:path';
import { createK8sApp } from '../../lib/k8s/app';
import { KANIKO_CAPABILITIES, WORKFLOW_TEMPLATE } from '../../lib/k8s/constants';
import { RULES } from '../../lib/k8s/validate';
import { userProvidedObjects } from '../../lib/k8s/validate/config';
import { backoffWaits, worstCaseSeconds } from '../../lib/k8s/validate/retry';
import { exampleConfig, type Json, manifests } from './helpers';

const page = (name: string) => fs.readFileSync(path.resolve(__dirname, '..', '..', 'docs', name), 'utf8');
const docs = page('pipeline.md');
const security = page('security.md');
const config = exampleConfig();

describe('docs/pipeline.md and docs/security.md keep up with the pipeline code', () => {
  test('every user-provided object is documented', () => {
    for (const o of userProvidedObjects(config)) expect(docs).toContain(`\`${o.name}\``);
  });

  test('every capability Kaniko keeps is named where the root exception is explained', () => {
    for (const capability of KANIKO_CAPABILITIES) {
      expect(security).toContain(`\`${capability}\``);
      expect(docs).toContain(`\`${capability}\``);
    }
  });

  test('every output file is listed', () => {
    for (const id of createK8sApp(config).charts.map((c) => c.node.id)) expect(docs).toContain(`\`${id}.k8s.yaml\``);
  });

  test('every entry parameter is documented', () => {
    const out = manifests(config);
    for (const entry of [
      WORKFLOW_TEMPLATE.pipeline,
      WORKFLOW_TEMPLATE.buildAndReplicate,
      WORKFLOW_TEMPLATE.buildPusher,
      WORKFLOW_TEMPLATE.sync,
      WORKFLOW_TEMPLATE.doctor,
    ]) {
      for (const p of out.workflowTemplate(entry).spec.arguments.parameters as Json[]) expect(docs).toContain(`\`${p.name}\``);
    }
  });

  test('the submit command names the real entry template', () => {
    expect(docs).toContain(`argo submit -n ${config.cluster.namespace} --from workflowtemplate/${WORKFLOW_TEMPLATE.pipeline}`);
    expect(docs).toContain(`argo submit -n ${config.cluster.namespace} --from workflowtemplate/${WORKFLOW_TEMPLATE.buildPusher}`);
    expect(docs).toContain(`argo submit -n ${config.cluster.namespace} --from workflowtemplate/${WORKFLOW_TEMPLATE.sync}`);
    expect(docs).toContain(`argo submit -n ${config.cluster.namespace} --from workflowtemplate/${WORKFLOW_TEMPLATE.doctor}`);
  });

  test('every validation rule is documented', () => {
    for (const rule of RULES) expect(docs).toContain(`\`${rule}\``);
  });

  test('the push step is documented with the flags it really runs', () => {
    const push = manifests(config)
      .ofKind('WorkflowTemplate')
      .find((wt) => wt.metadata.name === WORKFLOW_TEMPLATE.push);
    for (const t of push.spec.templates as Json[]) {
      for (const flag of (t.container.args as string[]).filter((a) => a.startsWith('--'))) expect(docs).toContain(flag);
      for (const e of t.container.env as Json[]) expect(docs).toContain(`\`${e.name}\``);
    }
  });

  test('the retry schedule of push and sync is what the templates emit: attempts, waits, cap, longest total', () => {
    const out = manifests(config);
    for (const [wt, step] of [
      [WORKFLOW_TEMPLATE.push, 'push'],
      [WORKFLOW_TEMPLATE.sync, 'sync'],
    ]) {
      const t = out.workflowTemplate(wt).spec.templates.find((x: Json) => x.retryStrategy);
      const retries = Number(t.retryStrategy.limit);
      const waits = backoffWaits(t.retryStrategy.backoff, retries)!;
      const total = worstCaseSeconds(retries, t.activeDeadlineSeconds, waits);
      const row = `| ${step} | ${retries + 1} (\`limit: ${retries}\`) | ${waits.map((w) => `${w} s`).join(', ')} | ${t.retryStrategy.backoff.cap} | ${total} s: ${retries + 1} × ${t.activeDeadlineSeconds} s + ${total - (retries + 1) * t.activeDeadlineSeconds} s of waits |`;
      expect(docs).toContain(row);
    }
  });
});
