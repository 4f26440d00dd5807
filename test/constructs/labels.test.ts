import { serviceLabels } from '../../charts/service-props';
import { LABEL, platformLabels, selectorLabels, versionOf } from '../../constructs/labels';
import { configOf, TARGETS } from '../helpers';

describe('serviceLabels', () => {
  it('are the selector labels, version, component and platform labels, in that order, for every service of every target', () => {
    for (const target of TARGETS) {
      const config = configOf(target);
      for (const service of Object.values(config.services)) {
        const labels = serviceLabels(config, service);
        const expected = { ...selectorLabels(config, service), [LABEL.version]: versionOf(service), [LABEL.component]: service.component, ...platformLabels(config.platform.name) };
        expect(JSON.stringify(labels)).toBe(JSON.stringify(expected));
      }
    }
  });

  it('follow a change of image, and give each call its own object', () => {
    const config = configOf('staging');
    const service = Object.values(config.services)[0];
    const first = serviceLabels(config, { ...service, image: 'ghcr.io/x/a:1.2.3' });
    expect(first[LABEL.version]).toBe('1.2.3');
    expect(serviceLabels(config, { ...service, image: 'ghcr.io/x/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' })[LABEL.version]).toBe('0123456789ab');
    first[LABEL.version] = 'changed';
    expect(serviceLabels(config, { ...service, image: 'ghcr.io/x/a:1.2.3' })[LABEL.version]).toBe('1.2.3');
  });
});
