import { Construct } from 'constructs';
import { BackupSchedule, TargetConfig } from '../config/types';
import { Schedule } from '../imports/schedule-velero.io';
import { VELERO_NAMESPACE } from '../core/namespaces';
import { sharedLabels } from './labels';

export interface BackupSchedulesProps {
  readonly config: TargetConfig;
  /** @default config.backups */
  readonly schedules?: readonly BackupSchedule[];
}

/** The Schedule's name: prefixed with the target namespace, since Velero's namespace is shared. */
export const scheduleNameOf = (config: TargetConfig, schedule: BackupSchedule) => `${config.namespace}-${schedule.name}`;

/** The namespaces a schedule backs up: the target's first, then its extra ones in the order given. */
export function includedNamespacesOf(config: TargetConfig, schedule: BackupSchedule): string[] {
  return [...new Set([config.namespace, ...(schedule.extraNamespaces ?? [])])];
}

/**
 * Velero Schedules that back up the target's namespace (objects and volume snapshots) on a cron
 * in UTC, plus the schedule's `extraNamespaces` (a full system backup adds kube-system), each
 * backup kept for its `ttl`. The Schedules live in Velero's namespace. Backups are
 * not owned by their Schedule, so pruning or deleting a Schedule never deletes the backups.
 */
export class BackupSchedules extends Construct {
  constructor(scope: Construct, id: string, props: BackupSchedulesProps) {
    super(scope, id);
    const { config } = props;
    const schedules = props.schedules ?? config.backups;
    for (const schedule of schedules) {
      const labels = sharedLabels(config, 'backup');
      new Schedule(this, schedule.name, {
        metadata: { name: scheduleNameOf(config, schedule), namespace: VELERO_NAMESPACE, labels },
        spec: {
          schedule: schedule.schedule,
          useOwnerReferencesInBackup: false,
          template: {
            includedNamespaces: includedNamespacesOf(config, schedule),
            snapshotVolumes: true,
            ttl: schedule.ttl,
            metadata: { labels },
          },
        },
      });
    }
    this.node.addValidation({
      validate: () => {
        const seen = new Set<string>();
        const dupes = schedules.filter((s) => seen.size === seen.add(s.name).size).map((s) => s.name);
        return dupes.length ? [`backup schedule name(s) ${dupes.join(', ')} repeat in ${config.target}; give each entry of backups a unique name`] : [];
      },
    });
  }
}
