import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { generatePlatform } from '../../bin/bench-generate';
import { formatIssue, LISTED_NAMES, nearest, suggestQuantity } from '../../config/errors';
import { configIssues, copyEnvironments, edit, ENVIRONMENTS, TARGETS } from '../helpers';

/** The formatted problems the loader refuses a scratch copy of environments/ with, after `change`. */
function problems(change: (dir: string) => void): string[] {
  const dir = copyEnvironments();
  change(dir);
  return configIssues(dir).map(formatIssue);
}

describe('configuration errors', () => {
  it('reports a missing required field once, with every target it is missing in', () => {
    const found = problems((dir) =>
      edit(dir, 'defaults.yaml', '    image: ghcr.io/trading-platform/gateway:1.8.2\n', ''),
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /defaults\.yaml:\d+: services\.gateway\.image: is required but no file sets it; add "image" here or in defaults\.yaml \(in targets (.*)\)$/,
    );
    expect(/\(in targets (.*)\)$/.exec(found[0])![1].split(', ')).toEqual([...TARGETS].sort());
  });

  it('says when an unknown key is a block of settings written where a name is expected (under-indented)', () => {
    const found = problems((dir) =>
      edit(
        dir,
        'staging.yaml',
        '  gateway:\n    replicas: { min: 2, max: 4 }\n',
        '  gateway:\n  replicas:\n    min: 2\n    max: 4\n',
      ),
    );
    const min = found.find((p) => p.includes('services.replicas.min'));
    expect(min).toMatch(
      /staging\.yaml:\d+: services\.replicas\.min: unknown key "min"; "replicas" is a setting of each entry of services, not a name, so its block looks under-indented: indent "replicas:" and its keys under "gateway"/,
    );
    // no far-away guess (the old message said: did you mean "vpa"?)
    expect(found.join('\n')).not.toMatch(/did you mean "vpa"/);
  });

  it('says which declared service a misspelt service override likely means, on each field it lacks', () => {
    const found = problems((dir) => edit(dir, 'staging.yaml', /^  orchestrator:$/m, '  orchestrater:'));
    expect(found.length).toBeGreaterThan(0);
    for (const problem of found) {
      expect(problem).toMatch(
        /staging\.yaml:\d+: services\.orchestrater\.\w+: is required but no file sets it; if "orchestrater" means the service "orchestrator", correct the name, else add "\w+" here or in defaults\.yaml \(in target staging\)$/,
      );
    }
  });

  it('reports a bad port of a dependency once, saying what a port is, not errors of the other form of dependsOn', () => {
    const found = problems((dir) =>
      edit(dir, 'defaults.yaml', '- { service: data-service, port: http }', '- { service: data-service, port: HTTP }'),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /defaults\.yaml:\d+: services\.gateway\.dependsOn\[0\]\.port: "HTTP" is not valid; expected a port name declared in ports \(lower-case letters, digits and "-", at most 15 characters\) or a port number \(1-65535\)$/,
      ),
    ]);
  });

  it.each([
    [
      'a missing port',
      '{ service: data-service }',
      [/dependsOn\[0\]\.port: is required but no file sets it; add "port" here/],
    ],
    [
      'a misspelt service key',
      '{ servce: data-service, port: http }',
      [
        /dependsOn\[0\]\.service: is required/,
        /dependsOn\[0\]\.servce: unknown key "servce"; did you mean "service"\? allowed keys here: service, port$/,
      ],
    ],
    [
      'both forms at once',
      '{ service: data-service, external: postgres, port: http }',
      [/dependsOn\[0\]\.external: unknown key "external"; allowed keys here: service, port$/],
    ],
  ])('judges a dependency with %s against the form its keys mostly are, {service, port}', (_, written, expected) => {
    const found = problems((dir) => edit(dir, 'defaults.yaml', '{ service: data-service, port: http }', written));
    expect(found).toEqual(expected.map((e) => expect.stringMatching(e)));
  });

  it('reports a misspelt key of an external dependency against that form: did you mean "ports"', () => {
    const found = problems((dir) =>
      edit(dir, 'defaults.yaml', /- \{ external: postgres \}/, '- { external: postgres, port: 5432 }'),
    );
    expect(found.length).toBeGreaterThan(0);
    for (const problem of found)
      expect(problem).toMatch(
        /dependsOn\[\d\]\.port: unknown key "port"; did you mean "ports"\? allowed keys here: external, ports/,
      );
  });

  it('says what a probe port is when it is neither a name nor a number', () => {
    const found = problems((dir) =>
      edit(
        dir,
        'defaults.yaml',
        'readiness: { http: { path: /ready, port: http }',
        'readiness: { http: { path: /ready, port: Http }',
      ),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /services\.gateway\.probes\.readiness\.http\.port: "Http" is not valid; expected a port name declared in ports .* or a port number \(1-65535\)/,
      ),
    ]);
  });

  it('places an alias without an anchor at its line and says what it needs', () => {
    const found = problems((dir) => edit(dir, 'defaults.yaml', /^ {4}replicas: 1$/m, '    replicas: *nope'));
    expect(found).toEqual([
      expect.stringMatching(
        /defaults\.yaml:161: \(top level\): \*nope refers to no anchor: an alias needs "&nope" on a value above it in the same file; add the anchor or write the value out$/,
      ),
    ]);
  });

  it('says that a YAML merge key (<<: *anchor) merges nothing in, and what to write instead', () => {
    const found = problems((dir) => {
      edit(dir, 'defaults.yaml', /^ {4}resources:\n( {6}requests: .*\n {6}limits: .*\n)/m, '    resources: &res\n$1');
      edit(
        dir,
        'defaults.yaml',
        /(data-service:[\s\S]*?\n {4}resources:\n) {6}requests: .*\n {6}limits: .*\n/,
        '$1      <<: *res\n',
      );
    });
    expect(found).toEqual([
      expect.stringMatching(
        /defaults\.yaml:\d+: services\.data-service\.resources\.<<: "<<" is a YAML merge key, which YAML 1\.2 \(what these files are read as\) does not have: nothing is merged in\. Write the keys out here; an alias may still stand for a whole value \(key: \*anchor\)$/,
      ),
    ]);
  });

  it('says when an unknown key belongs under the key above it', () => {
    const under = problems((dir) => edit(dir, 'staging.yaml', '\n  nodes: {', '\nnodes: {'));
    expect(under.join('\n')).toMatch(
      /staging\.yaml:\d+: nodes: unknown key "nodes"; "nodes" is a key of "cluster", the key above it: indent it under cluster/,
    );
  });

  it('says when an unknown key belongs one level up (over-indented)', () => {
    const found = problems((dir) =>
      edit(dir, 'staging.yaml', '\n\nstorageClass: gp3-encrypted\n', '\n  storageClass: gp3-encrypted\n'),
    );
    expect(found.join('\n')).toMatch(
      /staging\.yaml:\d+: cluster\.storageClass: unknown key "storageClass"; "storageClass" is a key of the top level, one level up: it looks indented one level too deep/,
    );
  });

  it('suggests a near key name and no far one', () => {
    expect(
      problems((dir) => edit(dir, 'staging.yaml', 'namespace: trading-staging', 'namspace: trading-staging')).join(
        '\n',
      ),
    ).toMatch(/did you mean "namespace"\?/);
    const far = problems((dir) =>
      edit(dir, 'staging.yaml', 'storageClass: gp3-encrypted', 'storageClass: gp3-encrypted\nzzz: 1'),
    );
    expect(far.join('\n')).toMatch(/zzz: unknown key "zzz"; allowed keys here:/);
  });

  it('suggests values: a memory quantity, a near enum value, a declared service', () => {
    expect(problems((dir) => edit(dir, 'staging.yaml', 'memory: 40Gi', 'memory: 40GB')).join('\n')).toMatch(
      /quota\.requests\.memory: "40GB" is not valid; did you mean "40Gi"\?/,
    );
    expect(problems((dir) => edit(dir, 'staging.yaml', 'sync: automated', 'sync: automatic')).join('\n')).toMatch(
      /delivery\.sync: "automatic" is not allowed; did you mean "automated"\?/,
    );
    const qa = problems((dir) => edit(dir, 'staging.yaml', 'tier: staging', 'tier: qa')).join('\n');
    expect(qa).toMatch(
      /tier: "qa" is not allowed; allowed: "development", "staging", "production"; the tier is the set of policies that apply, not the environment's name/,
    );
    expect(
      problems((dir) =>
        edit(
          dir,
          'defaults.yaml',
          '      - { service: ml-service, port: http }\n      - { service: redis',
          '      - { service: ml-svc, port: http }\n      - { service: redis',
        ),
      ).join('\n'),
    ).toMatch(/depends on "ml-svc", which is not a declared service; did you mean "ml-service"\?/);
    expect(
      problems((dir) =>
        edit(dir, 'defaults.yaml', '      - { external: market-data }', '      - { external: market-dta }'),
      ).join('\n'),
    ).toMatch(/external peer "market-dta", which is not declared \(did you mean "market-data"\?\)/);
  });
});

describe('nearest', () => {
  it('takes a typo or an abbreviation, not a far name', () => {
    expect(nearest('risk-svc', ['risk-service', 'redis'])).toBe('risk-service');
    expect(nearest('exec-gateway', ['execution-gateway', 'gateway'])).toBe('execution-gateway');
    expect(nearest('replica', ['replicas', 'vpa'])).toBe('replicas');
    expect(nearest('min', ['vpa', 'qos', 'env'])).toBeUndefined();
    expect(nearest('risk-engine', ['data-service', 'redis'])).toBeUndefined();
  });
});

describe('suggestQuantity', () => {
  it.each([
    ['memory', '4GB', '4Gi'],
    ['memory', '512 mb', '512Mi'],
    ['memory', '2GiB', '2Gi'],
    ['memory', 'lots', undefined],
    ['cpu', '500 millicores', '500m'],
    ['cpu', '2 cores', '2'],
    ['cpu', 'fast', undefined],
    ['duration', '5 min', '5m'],
    ['duration', '30 seconds', '30s'],
    ['duration', '1 hour', '1h'],
    ['duration', 'soon', undefined],
  ] as const)('%s %s → %s', (kind, value, expected) => {
    expect(suggestQuantity(kind, value)).toBe(expected);
  });
});

describe('configuration errors on a platform of many services', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'many-'));
    generatePlatform(dir, 120, ENVIRONMENTS);
  });

  /** The problems of the 120-service platform after replacing `search` in defaults.yaml. */
  const problemsAfter = (search: string, replacement: string): string[] => {
    const copy = copyEnvironments(dir);
    edit(copy, 'defaults.yaml', search, replacement);
    return configIssues(copy).map(formatIssue);
  };

  it('names the likely service and the first declared ones, not all 120, for a misspelt flag owner', () => {
    const [found, ...rest] = problemsAfter('    owner: svc-0000\n', '    owner: svc-0000x\n');
    expect(rest).toEqual([]);
    expect(found).toMatch(
      /featureFlags\.smart-order-routing\.owner: "svc-0000x" is not a declared service; did you mean "svc-0000"\?/,
    );
    expect(found).toContain(`declared: svc-0000, svc-0001, svc-0002`);
    expect(found).toContain(` and ${120 - LISTED_NAMES} more`);
    // every declared name used to be listed: 120 names of 8 characters and their commas
    expect(found).not.toContain('svc-0119');
    expect(found.length).toBeLessThan(600);
  });

  it('lists the first declared services, not all 120, for a dependency on an undeclared one', () => {
    const found = problemsAfter('      - service: svc-0001\n', '      - service: svc-1001\n');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/depends on "svc-1001", which is not a declared service; did you mean "svc-0001"\?/);
    // the services, then the external peers: the first LISTED_NAMES of them, and how many more
    expect(found[0]).toMatch(
      /declared: svc-0000, svc-0001, [^;]*, svc-0009 and 1\d\d more\. Declare it under services/,
    );
    expect(found[0]).not.toContain('svc-0119');
    expect(found[0].length).toBeLessThan(700);
  });
});
