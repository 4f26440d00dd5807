import Ajv, { ValidateFunction } from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { Manifest } from '../core/manifest';
import { SHARED } from './helpers';

/** Upstream CRD files by kind (../shared/k8s/crds, the files imports/ was generated from). */
const CRD_FILES: Record<string, string> = {
  Application: 'argoproj.io_applications.yaml',
  AppProject: 'argoproj.io_appprojects.yaml',
  Rollout: 'argoproj.io_rollouts.yaml',
  AnalysisTemplate: 'argoproj.io_analysistemplates.yaml',
  Schedule: 'velero.io_schedules.yaml',
  ServiceMonitor: 'monitoring.coreos.com_servicemonitors.yaml',
  PodMonitor: 'monitoring.coreos.com_podmonitors.yaml',
  ScaledObject: 'keda.sh_scaledobjects.yaml',
  // Istio's CRDs come in one file of many documents
  AuthorizationPolicy: 'istio-crd-all.gen.yaml',
  PeerAuthentication: 'istio-crd-all.gen.yaml',
};

const compiled = new Map<string, ValidateFunction>();

/**
 * Validates a manifest against the openAPIV3Schema of its CRD version, as the API server would
 * (structure, types, required fields, enums). Kubernetes extensions (x-kubernetes-*) and formats
 * are not enforced by ajv and are ignored.
 */
export function crdErrors(manifest: Manifest): string[] {
  const key = `${manifest.apiVersion} ${manifest.kind}`;
  let validate = compiled.get(key);
  if (!validate) {
    const file = CRD_FILES[manifest.kind];
    if (!file) throw new Error(`no CRD file known for ${manifest.kind}`);
    const crd = YAML.parseAllDocuments(fs.readFileSync(path.join(SHARED, 'k8s', 'crds', file), 'utf8'))
      .map((d) => d.toJS())
      .find((c) => c?.spec?.names?.kind === manifest.kind);
    if (!crd) throw new Error(`${file} defines no ${manifest.kind}`);
    const version = manifest.apiVersion.split('/')[1];
    const served = crd.spec.versions.find((v: { name: string }) => v.name === version);
    if (!served) throw new Error(`${file} serves no version ${version}`);
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    validate = ajv.compile(served.schema.openAPIV3Schema);
    compiled.set(key, validate);
  }
  if (validate(JSON.parse(JSON.stringify(manifest)))) return [];
  return (validate.errors ?? []).map(
    (e) => `${manifest.kind}/${manifest.metadata.name}: ${e.instancePath || '/'} ${e.message}`,
  );
}
