import { fileNameOf } from '../../core/manifest';
import { manifestsOf, TARGETS } from '../helpers';

/**
 * A change detector, one per target: the inventory of objects (kind, name, namespace). It pairs
 * with the committed dist/ (checked byte for byte by `synth --check`) and with the targeted tests;
 * an update here means an object was added, removed or renamed: review it.
 */
describe.each(TARGETS)('inventory of %s', (target) => {
  it('matches the reviewed snapshot', () => {
    const inventory = manifestsOf(target)
      .map((m) => `${fileNameOf(m)}${m.metadata.namespace ? ` (${m.metadata.namespace})` : ''}`)
      .sort();
    expect(inventory).toMatchSnapshot();
  });
});
