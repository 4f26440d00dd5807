import { DEFAULT_EPHEMERAL_STORAGE, ResourceAmounts, Resources, ServiceConfig, TargetConfig } from './types';
import { cpuMillis, formatCpu, formatMemory, memoryBytes } from '../core/quantity';
import { isGuaranteed } from './model';

/**
 * The resources a service's container gets in a target: its configured requests scaled by the
 * environment's `requestScale` (limits unchanged). Guaranteed-QoS (and pinned) services are never scaled,
 * because requests must stay equal to limits. `resources` is a sidecar's, scaled the same way.
 */
export function effectiveResources(
  config: TargetConfig,
  service: ServiceConfig,
  resources: Resources = service.resources,
): Resources {
  const scale = isGuaranteed(service) ? 1 : config.requestScale;
  if (scale === 1) return resources;
  const requests: ResourceAmounts = {
    ...resources.requests,
    cpu: formatCpu(Math.max(1, Math.round(cpuMillis(resources.requests.cpu) * scale))),
    memory: formatMemory(Math.max(1024 * 1024, Math.round(memoryBytes(resources.requests.memory) * scale))),
  };
  return { requests, limits: resources.limits };
}

export { DEFAULT_EPHEMERAL_STORAGE };

/** The ephemeral-storage request and limit of a container with these resources. */
export function ephemeralStorageOf(config: TargetConfig, resources: Resources): { request: string; limit: string } {
  return {
    request:
      resources.requests.ephemeralStorage ??
      config.limitRange.defaultRequest.ephemeralStorage ??
      DEFAULT_EPHEMERAL_STORAGE.request,
    limit:
      resources.limits.ephemeralStorage ??
      config.limitRange.default.ephemeralStorage ??
      DEFAULT_EPHEMERAL_STORAGE.limit,
  };
}
