import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { BackupSchedule } from '../config/types';
import { Schedule } from '../imports/schedule-velero.io';
import { VELERO_NAMESPACE } from '../core/namespaces';

export interface BackupSchedulesProps {
  /** The namespace backed up (the target's); it also prefixes the Schedules' names. */
  readonly namespace: string;
  readonly schedules: readonly BackupSchedule[];
  /** Labels of the Schedules and of the backups they make. @default - none (the chart's) */
  readonly labels?: Record<string, string>;
}

/** The Schedule's name: prefixed with the target namespace, since Velero's namespace is shared. */
export const scheduleNameOf = (namespace: string, schedule: BackupSchedule) => `${namespace}-${schedule.name}`;

/** The namespaces a schedule backs up: the target's first, then its extra ones in the order given. */
export function includedNamespacesOf(namespace: string, schedule: BackupSchedule): string[] {
  return [...new Set([namespace, ...(schedule.extraNamespaces ?? [])])];
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
    const { namespace, schedules } = props;
    for (const schedule of schedules) {
      const labels = props.labels;
      new Schedule(this, schedule.name, {
        metadata: { name: scheduleNameOf(namespace, schedule), namespace: VELERO_NAMESPACE, labels },
        spec: {
          schedule: schedule.schedule,
          useOwnerReferencesInBackup: false,
          template: {
            includedNamespaces: includedNamespacesOf(namespace, schedule),
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
        return dupes.length
          ? [
              `backup schedule name(s) ${dupes.join(', ')} repeat in ${Chart.of(this).node.id}; give each entry of backups a unique name`,
            ]
          : [];
      },
    });
  }
}
