/**
 * The Kubernetes 1.28 API objects (the L1 classes `cdk8s import k8s` generates), as cdk8s-plus-28
 * ships them. Taken from its generated module rather than the package's index, which also loads
 * every L2 construct of cdk8s-plus-28 (none is used here): about 50 ms less per process.
 * The one place the sources import them from (eslint.config.mjs, no-restricted-imports).
 */
export * as k8s from 'cdk8s-plus-28/lib/imports/k8s';
