import type { Obj } from '../core/manifest';
/**
 * The Kubernetes Pod Security Standards, "baseline" and "restricted" profiles (v1.28), evaluated
 * over a pod spec as an object. Mirrors k8s.io/pod-security-admission/policy, check by check, so
 * that tests and the synth-time policy find what admission would reject.
 */

export interface PodSecurityFinding {
  /** The check's name in pod-security-admission, e.g. `runAsNonRoot`. */
  readonly check: string;
  /** Path inside the pod spec, e.g. `containers[0].securityContext.capabilities.drop`. */
  readonly field: string;
  readonly message: string;
}

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Every violation of the "restricted" profile (which includes "baseline") in a pod spec. */
export function checkRestricted(podSpec: Obj, podAnnotations: Record<string, string> = {}): PodSecurityFinding[] {
  const findings: PodSecurityFinding[] = [];
  const add = (check: string, field: string, message: string) => findings.push({ check, field, message });
  const pod = podSpec.securityContext ?? {};
  const containers: Array<[string, Obj]> = [
    ...(podSpec.initContainers ?? []).map((c: Obj, i: number) => [`initContainers[${i}]`, c] as [string, Obj]),
    ...(podSpec.containers ?? []).map((c: Obj, i: number) => [`containers[${i}]`, c] as [string, Obj]),
    ...(podSpec.ephemeralContainers ?? []).map(
      (c: Obj, i: number) => [`ephemeralContainers[${i}]`, c] as [string, Obj],
    ),
  ];

  // baseline
  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (podSpec[ns] === true) add('hostNamespaces', ns, `${ns} must not be true`);
  }
  (podSpec.volumes ?? []).forEach((v: Obj, i: number) => {
    if (v.hostPath) add('hostPathVolumes', `volumes[${i}].hostPath`, 'hostPath volumes are forbidden');
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type && !RESTRICTED_VOLUME_TYPES.has(type))
      add(
        'restrictedVolumes',
        `volumes[${i}].${type}`,
        `volume type ${type} is not allowed; allowed: ${[...RESTRICTED_VOLUME_TYPES].join(', ')}`,
      );
  });
  for (const [key, value] of Object.entries(podAnnotations)) {
    if (
      key.startsWith('container.apparmor.security.beta.kubernetes.io/') &&
      value !== 'runtime/default' &&
      !value.startsWith('localhost/')
    ) {
      add('appArmorProfile', `metadata.annotations.${key}`, `AppArmor profile ${value} is not allowed`);
    }
  }
  for (const sysctl of pod.sysctls ?? []) {
    if (!SAFE_SYSCTLS.has(sysctl.name))
      add('sysctls', 'securityContext.sysctls', `sysctl ${sysctl.name} is not in the safe set`);
  }
  checkSeLinux(pod.seLinuxOptions, 'securityContext.seLinuxOptions', add);
  if (pod.windowsOptions?.hostProcess)
    add('windowsHostProcess', 'securityContext.windowsOptions.hostProcess', 'hostProcess must not be true');

  // restricted, pod level
  if (pod.runAsUser === 0) add('runAsUser', 'securityContext.runAsUser', 'runAsUser must not be 0');
  const podSeccomp = pod.seccompProfile?.type;
  if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost') {
    add(
      'seccompProfile',
      'securityContext.seccompProfile.type',
      `seccompProfile ${podSeccomp} is not allowed; use RuntimeDefault`,
    );
  }

  for (const [at, c] of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged === true) add('privileged', `${at}.securityContext.privileged`, 'privileged must not be true');
    for (const cap of sc.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap))
        add('capabilities_baseline', `${at}.securityContext.capabilities.add`, `capability ${cap} is not allowed`);
      if (cap !== 'NET_BIND_SERVICE')
        add(
          'capabilities_restricted',
          `${at}.securityContext.capabilities.add`,
          `only NET_BIND_SERVICE may be added, not ${cap}`,
        );
    }
    if (!(sc.capabilities?.drop ?? []).includes('ALL'))
      add('capabilities_restricted', `${at}.securityContext.capabilities.drop`, 'must drop ALL capabilities');
    for (const p of c.ports ?? []) {
      if (p.hostPort) add('hostPorts', `${at}.ports`, `hostPort ${p.hostPort} is forbidden`);
    }
    if (sc.procMount && sc.procMount !== 'Default')
      add('procMount', `${at}.securityContext.procMount`, `procMount ${sc.procMount} is not allowed`);
    checkSeLinux(sc.seLinuxOptions, `${at}.securityContext.seLinuxOptions`, add);
    if (sc.windowsOptions?.hostProcess)
      add('windowsHostProcess', `${at}.securityContext.windowsOptions.hostProcess`, 'hostProcess must not be true');
    if (sc.allowPrivilegeEscalation !== false)
      add('allowPrivilegeEscalation', `${at}.securityContext.allowPrivilegeEscalation`, 'must be set to false');
    const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
    if (nonRoot !== true)
      add(
        'runAsNonRoot',
        `${at}.securityContext.runAsNonRoot`,
        'runAsNonRoot must be true (on the pod or the container)',
      );
    if (sc.runAsUser === 0) add('runAsUser', `${at}.securityContext.runAsUser`, 'runAsUser must not be 0');
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') {
      add(
        'seccompProfile',
        `${at}.securityContext.seccompProfile.type`,
        'seccompProfile must be RuntimeDefault or Localhost (on the pod or the container)',
      );
    }
  }
  return findings;
}

function checkSeLinux(
  options: Obj | undefined,
  field: string,
  add: (check: string, field: string, message: string) => void,
): void {
  if (!options) return;
  if (options.type && !['container_t', 'container_init_t', 'container_kvm_t'].includes(options.type))
    add('seLinuxOptions', `${field}.type`, `SELinux type ${options.type} is not allowed`);
  if (options.user) add('seLinuxOptions', `${field}.user`, 'SELinux user must not be set');
  if (options.role) add('seLinuxOptions', `${field}.role`, 'SELinux role must not be set');
}

/** The pod template of a workload manifest, with its path, or undefined for other kinds. */
export function podTemplateOf(
  manifest: Obj,
): { spec: Obj; annotations: Record<string, string>; path: string } | undefined {
  switch (manifest.kind) {
    case 'Pod':
      return { spec: manifest.spec ?? {}, annotations: manifest.metadata?.annotations ?? {}, path: 'spec' };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
    case 'Rollout':
      return manifest.spec?.template
        ? {
            spec: manifest.spec.template.spec ?? {},
            annotations: manifest.spec.template.metadata?.annotations ?? {},
            path: 'spec.template.spec',
          }
        : undefined;
    case 'CronJob':
      return {
        spec: manifest.spec?.jobTemplate?.spec?.template?.spec ?? {},
        annotations: {},
        path: 'spec.jobTemplate.spec.template.spec',
      };
    default:
      return undefined;
  }
}
