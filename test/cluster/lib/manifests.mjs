// Reading manifest folders the way `kubectl apply -R -f DIR` does
// (files ending in .yaml, .yml or .json; everything else, e.g. README.md, is
// ignored), keeping enough per-document detail to name objects in reports.
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

const MANIFEST_EXT = new Set(['.yaml', '.yml', '.json']);

export function listManifestFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.isFile() && MANIFEST_EXT.has(path.extname(ent.name).toLowerCase())) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * @returns {{objects: Array<{file, index, apiVersion, kind, namespace, name, text, data}>, errors: string[]}}
 */
export function loadObjects(dir) {
  const objects = [];
  const errors = [];
  for (const file of listManifestFiles(dir)) {
    const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
    docs.forEach((doc, index) => {
      if (doc.errors.length) {
        errors.push(`${file} (document ${index + 1}): YAML error: ${doc.errors[0].message}`);
        return;
      }
      const data = doc.toJS();
      if (data == null) return; // empty document
      if (typeof data !== 'object' || !data.kind || !data.apiVersion) {
        errors.push(`${file} (document ${index + 1}): not a Kubernetes object (no apiVersion/kind)`);
        return;
      }
      objects.push({
        file,
        index,
        apiVersion: data.apiVersion,
        kind: data.kind,
        namespace: data.metadata?.namespace,
        name: data.metadata?.name,
        text: doc.toString(),
        data,
      });
    });
  }
  return { objects, errors };
}

function relPath(p) {
  const r = path.relative(process.cwd(), p);
  return r.startsWith('..') ? path.resolve(p) : r;
}

export function describe(obj) {
  const ns = obj.namespace ? `${obj.namespace}/` : '';
  return `${obj.kind} ${ns}${obj.name} (${relPath(obj.file)}${obj.index ? `, document ${obj.index + 1}` : ''})`;
}

/**
 * CRDs from the shared folder, made acceptable to a 1.28 API server.
 * Returns the YAML text of all CRDs (multi-document) and notes of what was
 * stripped.
 */
export function prepareCrds(crdDir) {
  const notes = [];
  const docs = [];
  for (const file of listManifestFiles(crdDir)) {
    for (const doc of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: YAML error: ${doc.errors[0].message}`);
      const crd = doc.toJS();
      if (!crd) continue;
      for (const v of crd.spec?.versions ?? []) {
        // `selectableFields` (CRD field selectors) was added to
        // apiextensions.k8s.io/v1 in Kubernetes 1.30 (alpha; GA in 1.32).
        // external-secrets.io_externalsecrets.yaml declares it; a 1.28 API
        // server rejects it as an unknown field under strict validation
        // (and would drop it otherwise). Dropping it only loses
        // `kubectl get --field-selector` support on those fields; the
        // schema our manifests are checked against is unchanged.
        if ('selectableFields' in v) {
          delete v.selectableFields;
          notes.push(
            `${path.basename(file)}: dropped spec.versions[${v.name}].selectableFields (unknown to Kubernetes 1.28)`,
          );
        }
      }
      docs.push(JSON.stringify(crd));
    }
  }
  // JSON is valid YAML; one document per CRD.
  return { yaml: docs.map((d) => `---\n${d}\n`).join(''), count: docs.length, notes };
}
