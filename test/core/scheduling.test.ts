import { mayRunOn, preferenceFor, selectsNode, tolerates, untoleratedTaints } from '../../core/scheduling';

const spot = { key: 'karpenter.sh/capacity-type', value: 'spot', effect: 'NoSchedule' };

describe("the scheduler's filters (core/scheduling.ts)", () => {
  it('tolerates a taint with Equal on key, value and effect, or with Exists on the key', () => {
    expect(tolerates({ key: spot.key, operator: 'Equal', value: 'spot', effect: 'NoSchedule' }, spot)).toBe(true);
    expect(tolerates({ key: spot.key, operator: 'Exists' }, spot)).toBe(true);
    // an empty key with Exists tolerates every taint
    expect(tolerates({ operator: 'Exists' }, spot)).toBe(true);
  });

  it('does not tolerate another value, key or effect', () => {
    expect(tolerates({ key: spot.key, operator: 'Equal', value: 'on-demand', effect: 'NoSchedule' }, spot)).toBe(false);
    expect(tolerates({ key: 'other', operator: 'Exists' }, spot)).toBe(false);
    expect(tolerates({ key: spot.key, operator: 'Exists', effect: 'NoExecute' }, spot)).toBe(false);
    expect(tolerates({ operator: 'Equal', value: 'spot' }, spot)).toBe(false);
  });

  it('keeps a pod without the toleration off a tainted node, whatever its affinity prefers', () => {
    const prefers = {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, preference: { matchExpressions: [{ key: spot.key, operator: 'In', values: ['spot'] }] } },
          ],
        },
      },
    };
    const node = { labels: { [spot.key]: 'spot' }, taints: [spot] };
    expect(untoleratedTaints(prefers, node)).toEqual([spot]);
    expect(mayRunOn(prefers, node)).toBe(false);
    expect(mayRunOn({ ...prefers, tolerations: [{ key: spot.key, operator: 'Exists' }] }, node)).toBe(true);
    expect(preferenceFor(prefers, node.labels)).toBe(100);
    expect(preferenceFor(prefers, {})).toBe(0);
    // PreferNoSchedule only scores
    expect(mayRunOn({}, { labels: {}, taints: [{ ...spot, effect: 'PreferNoSchedule' }] })).toBe(true);
  });

  it('admits a node only when nodeSelector and one required term match its labels', () => {
    expect(selectsNode({ nodeSelector: { cpumanager: 'true' } }, { cpumanager: 'true', zone: 'a' })).toBe(true);
    expect(selectsNode({ nodeSelector: { cpumanager: 'true' } }, { zone: 'a' })).toBe(false);
    const required = (operator: string, values?: string[]) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: spot.key, operator, values }] }],
          },
        },
      },
    });
    expect(selectsNode(required('In', ['spot']), {})).toBe(false);
    expect(selectsNode(required('NotIn', ['spot']), {})).toBe(true);
    expect(selectsNode(required('NotIn', ['spot']), { [spot.key]: 'spot' })).toBe(false);
    expect(selectsNode(required('Exists'), { [spot.key]: 'on-demand' })).toBe(true);
    expect(selectsNode(required('DoesNotExist'), { [spot.key]: 'on-demand' })).toBe(false);
  });
});
