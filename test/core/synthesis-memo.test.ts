import { loadPlatform } from '../../config/load';
import { find } from '../../core/manifest';
import { memoSize } from '../../core/synthesis-memo';
import { synthesizeAll, TargetOutput } from '../../pipeline/synth';
import { copyEnvironments, edit } from '../helpers';

/** Every file of every output folder, `folder/file` → content. */
const filesOf = (outputs: TargetOutput[]) =>
  new Map(outputs.flatMap((o) => [...o.files].map(([name, text]) => [`${o.folder}/${name}`, text] as const)));
const staging = (dir: string) => loadPlatform(dir).filter((c) => c.target === 'staging');

describe('what is remembered during a synthesis', () => {
  it('gives two syntheses of different configurations in one process each its own result', () => {
    const a = copyEnvironments();
    const b = copyEnvironments();
    edit(
      b,
      'defaults.yaml',
      'image: ghcr.io/trading-platform/ml-service:0.9.4',
      'image: ghcr.io/trading-platform/ml-service:0.10.0',
    );
    edit(b, 'staging.yaml', /^namespace: trading-staging$/m, 'namespace: trading-stage');

    const first = synthesizeAll(staging(a));
    // the memo tables (core/synthesis-memo.ts) end with the synthesis
    expect(memoSize()).toBe(0);
    const other = synthesizeAll(staging(b));
    expect(memoSize()).toBe(0);
    const again = synthesizeAll(staging(a));

    // the same configuration gives the same files, whatever was synthesized in between
    expect(filesOf(again)).toEqual(filesOf(first));
    const version = (outputs: TargetOutput[]) =>
      find(outputs[0].manifests, 'Deployment', 'ml-service').metadata.labels?.['app.kubernetes.io/version'];
    expect([version(first), version(other)]).toEqual(['0.9.4', '0.10.0']);
    // nothing of the first configuration leaks into the second: not its namespace, not its version
    const otherText = [...filesOf(other).values()].join('\n');
    expect(otherText).not.toMatch(/namespace: trading-staging\b/);
    expect(otherText).not.toMatch(/ml-service:0\.9\.4|app\.kubernetes\.io\/version: 0\.9\.4/);
    const policies = other[0].manifests.filter((m) => m.kind === 'NetworkPolicy');
    expect(policies.length).toBeGreaterThan(0);
    expect(policies.every((m) => m.metadata.namespace === 'trading-stage')).toBe(true);
  });
});
