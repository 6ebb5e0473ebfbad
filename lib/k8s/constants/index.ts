/** The fixed values of the Kubernetes side, by what they are: Argo names, pod policy, limits. */
export * from './argo';
export * from './limits';
export * from './pod-policy';
