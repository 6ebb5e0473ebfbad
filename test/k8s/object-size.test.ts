/**
 * Objects too large for client-side apply get ArgoCD's server-side apply option and a notice;
 * objects larger than the API server stores are refused with nothing written.
 */
import * as fs from 'node:fs';
import { ApiObject, App, Chart } from 'cdk8s';
import { loadConfig } from '../../lib/config/load';
import { createK8sApp, synthK8s } from '../../lib/k8s/app';
import {
  ANNOTATIONS_MAX_BYTES,
  ARGOCD_SYNC_OPTIONS_ANNOTATION,
  LAST_APPLIED_ANNOTATION,
  OBJECT_MAX_BYTES,
  objectSizeNotices,
  SERVER_SIDE_APPLY,
  tooLargeForClientSideApply,
} from '../../lib/k8s/object-size';
import { EXAMPLE_CONFIG, tempDir } from '../support/config-fixture';
import { writeScaleConfig } from '../support/scale-config';

/** A ConfigMap whose JSON, with kubectl's annotation key, is exactly `bytes` of annotations. */
function configMap(bytes: number, fill = 'x') {
  const empty = { kind: 'ConfigMap', metadata: { name: 'm' }, data: { a: '' } };
  const overhead = Buffer.byteLength(LAST_APPLIED_ANNOTATION) + JSON.stringify(empty).length;
  return { ...empty, data: { a: fill.repeat(bytes - overhead) } };
}

test('client-side apply fits up to the annotation limit exactly, counting the copy kubectl stores', () => {
  expect(tooLargeForClientSideApply(configMap(ANNOTATIONS_MAX_BYTES))).toBe(false);
  expect(tooLargeForClientSideApply(configMap(ANNOTATIONS_MAX_BYTES + 1))).toBe(true);
});

test("Go's JSON escapes <, > and & to six bytes: a script full of them passes the limit sooner", () => {
  const plain = configMap(ANNOTATIONS_MAX_BYTES - 5 * 1000);
  const scripted = { ...plain, data: { a: `${'&'.repeat(1001)}${plain.data.a.slice(1001)}` } };
  expect(tooLargeForClientSideApply(plain)).toBe(false);
  expect(tooLargeForClientSideApply(scripted)).toBe(true);
});

test('the example config needs no server-side apply', () => {
  const app = createK8sApp(loadConfig(EXAMPLE_CONFIG));
  expect(objectSizeNotices(app)).toEqual([]);
  for (const chart of app.charts) for (const o of chart.toJson()) expect(o.metadata.annotations?.[ARGOCD_SYNC_OPTIONS_ANNOTATION]).toBeUndefined();
});

test('120 destinations: ferry-push, ferry-sync and ferry-doctor carry ServerSideApply=true, with one notice each', () => {
  const config = loadConfig(writeScaleConfig({ repositories: 2, destinations: 120 }));
  const out = tempDir('ferry-object-size-');
  const lines: string[] = [];
  synthK8s(config, { outdir: out, notice: (line) => lines.push(line) });
  const marked = fs
    .readdirSync(out)
    .filter((f) => fs.readFileSync(`${out}/${f}`, 'utf8').includes(`${ARGOCD_SYNC_OPTIONS_ANNOTATION}: ${SERVER_SIDE_APPLY}`))
    .sort();
  expect(marked).toEqual(['doctor.k8s.yaml', 'push.k8s.yaml', 'sync.k8s.yaml']);
  expect(lines.filter((l) => l.includes(SERVER_SIDE_APPLY)).map((l) => l.split(':')[1].trim())).toEqual(['push.k8s.yaml', 'sync.k8s.yaml', 'doctor.k8s.yaml']);
}, 120_000);

test('an object larger than the API server stores is refused, one line naming file, object, size and limit', () => {
  const app = new App();
  const chart = new Chart(app, 'huge');
  new ApiObject(chart, 'm', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(OBJECT_MAX_BYTES) } });
  expect(() => objectSizeNotices(app)).toThrow(
    new RegExp(
      `^huge\\.k8s\\.yaml: ConfigMap big is \\d+ bytes, more than the Kubernetes API server stores \\(${OBJECT_MAX_BYTES} bytes, etcd's default request limit\\); configure fewer destinations$`,
    ),
  );
});
