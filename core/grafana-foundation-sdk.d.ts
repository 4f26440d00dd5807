/**
 * Types for the subpath imports of @grafana/grafana-foundation-sdk. The package declares its
 * entry points only in `exports` (`@grafana/grafana-foundation-sdk/dashboard`, ...), which
 * TypeScript's classic "node" resolution of this commonjs project does not read; Node does, at
 * run time. These declarations point the compiler at the same files.
 */
declare module '@grafana/grafana-foundation-sdk/common' {
  export * from '@grafana/grafana-foundation-sdk/dist/common';
}
declare module '@grafana/grafana-foundation-sdk/dashboard' {
  export * from '@grafana/grafana-foundation-sdk/dist/dashboard';
}
declare module '@grafana/grafana-foundation-sdk/prometheus' {
  export * from '@grafana/grafana-foundation-sdk/dist/prometheus';
}
declare module '@grafana/grafana-foundation-sdk/timeseries' {
  export * from '@grafana/grafana-foundation-sdk/dist/timeseries';
}
