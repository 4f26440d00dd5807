import { Manifest } from '../../core/manifest';
import { renderFiles, renderFilesTo, SynthError } from '../../pipeline/render';
import { buildTarget, finishTarget } from '../../pipeline/synth';
import { configOf } from '../helpers';

const configMap = (name: string, value: string): Manifest => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'trading' },
  data: { value },
});

describe('rendering files (pipeline/render.ts)', () => {
  it('hands each file to the sink as it is rendered, in the order and with the text renderFiles gives', () => {
    const manifests = [configMap('b', 'two'), configMap('a', 'one')];
    const written: Array<[string, string]> = [];
    renderFilesTo('staging', manifests, (name, content) => written.push([name, content]));
    expect(written).toEqual([...renderFiles('staging', manifests)]);
    expect(written.map(([name]) => name)).toEqual(['configmap-a.yaml', 'configmap-b.yaml']);
    expect(written[0][1]).toContain('value: one');
  });

  it('refuses two objects that would share a file before it writes any file', () => {
    // the clash sorts last: a sink written to as files are rendered would already hold configmap-a.yaml
    const manifests = [configMap('a', 'one'), configMap('z', 'two'), configMap('z', 'three')];
    const written: string[] = [];
    let error: unknown;
    try {
      renderFilesTo('staging', manifests, (name) => written.push(name));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynthError);
    expect((error as SynthError).problems).toEqual([
      'staging: two objects would be written to configmap-z.yaml; give one of them another name',
    ]);
    expect(written).toEqual([]);
  });

  it('finishes a target into a sink: the same files as without one, the output keeping none', () => {
    const config = configOf('staging');
    const built = buildTarget(config);
    const kept = finishTarget(config, built);
    const written = new Map<string, string>();
    const sunk = finishTarget(config, built, (name, content) => written.set(name, content));
    expect(sunk.problems).toEqual([]);
    expect(sunk.output?.files.size).toBe(0);
    expect(sunk.output?.manifests).toBe(built.manifests);
    expect([...written.keys()]).toEqual([...kept.output!.files.keys()]);
    expect(written).toEqual(kept.output!.files);
    expect(written.has('README.md')).toBe(true);
  });
});
