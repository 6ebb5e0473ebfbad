/**
 * Objects too large for client-side apply. `kubectl apply` (and ArgoCD, which applies that way
 * unless told otherwise) keeps the whole object as JSON in the annotation
 * `kubectl.kubernetes.io/last-applied-configuration`, and the API server allows 262,144 bytes of
 * annotations per object ("metadata.annotations: Too long"). With about a hundred destinations,
 * `ferry-push`, `ferry-sync` and `ferry-doctor` pass that. Such an object carries ArgoCD's
 * per-resource sync option `ServerSideApply=true` (server-side apply keeps no such annotation), and
 * synth names it once for those who apply with kubectl (`kubectl apply --server-side`).
 * Past the API server's request limit no apply works: synth refuses.
 */
import { ApiObject, type App, Chart } from 'cdk8s';
import { UserFacingError } from '../cli-errors';

/** The API server's limit on all annotations of one object together (apimachinery's TotalAnnotationSizeLimitB). */
export const ANNOTATIONS_MAX_BYTES = 262_144;

/** The largest request etcd takes by default (`--max-request-bytes`, 1.5 MiB): the largest object the API server stores. */
export const OBJECT_MAX_BYTES = 1_572_864;

export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const ARGOCD_SYNC_OPTIONS_ANNOTATION = 'argocd.argoproj.io/sync-options';
export const SERVER_SIDE_APPLY = 'ServerSideApply=true';

/** Gives every object that client-side apply could not store ArgoCD's server-side apply option. */
export function markForServerSideApply(app: App): void {
  for (const o of apiObjects(app)) if (tooLargeForClientSideApply(o.toJson())) o.metadata.addAnnotation(ARGOCD_SYNC_OPTIONS_ANNOTATION, SERVER_SIDE_APPLY);
}

/**
 * One line per object that needs server-side apply; throws, one line per object, when an object
 * is larger than the API server stores.
 */
export function objectSizeNotices(app: App): string[] {
  const objects = apiObjects(app).map((o) => {
    const json = o.toJson() as KubeJson;
    return { o, json, bytes: Buffer.byteLength(JSON.stringify(json)) };
  });
  const tooLarge = objects.filter(({ bytes }) => bytes > OBJECT_MAX_BYTES);
  if (tooLarge.length > 0)
    throw new UserFacingError(
      tooLarge
        .map(
          ({ o, json, bytes }) =>
            `${fileOf(o)}: ${json.kind} ${json.metadata.name} is ${bytes} bytes, more than the Kubernetes API server stores (${OBJECT_MAX_BYTES} bytes, etcd's default request limit); configure fewer destinations`,
        )
        .join('\n'),
    );
  return objects
    .filter(({ json }) => json.metadata.annotations?.[ARGOCD_SYNC_OPTIONS_ANNOTATION] === SERVER_SIDE_APPLY)
    .map(
      ({ o, json, bytes }) =>
        `ferry: ${fileOf(o)}: ${json.kind} ${json.metadata.name} is ${bytes} bytes, too large for client-side apply (${ANNOTATIONS_MAX_BYTES} bytes of annotations); it carries ${ARGOCD_SYNC_OPTIONS_ANNOTATION}: ${SERVER_SIDE_APPLY} for ArgoCD, apply it with kubectl apply --server-side otherwise`,
    );
}

interface KubeJson {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly annotations?: Record<string, string> };
}

/**
 * Whether the annotations would pass the limit once kubectl added its copy of the object: that
 * copy is the object's JSON as Go writes it (`<`, `>` and `&` escaped to six bytes each, and the
 * step scripts have many), next to the object's other annotations.
 */
export function tooLargeForClientSideApply(json: KubeJson): boolean {
  const others = Object.entries(json.metadata.annotations ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const copy = JSON.stringify(json).replace(/[<>&\u2028\u2029]/g, '\\u0000');
  return Buffer.byteLength(LAST_APPLIED_ANNOTATION) + Buffer.byteLength(copy) + others > ANNOTATIONS_MAX_BYTES;
}

/** The file synth writes the object to (app.ts: one file per chart, named by its id). */
function fileOf(o: ApiObject): string {
  return `${Chart.of(o).node.id}.k8s.yaml`;
}

function apiObjects(app: App): ApiObject[] {
  return app.charts.flatMap((chart) => chart.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c)));
}
