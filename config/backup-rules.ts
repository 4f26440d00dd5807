import { cronProblem } from '../core/cron';
import { PathSegment, show } from './errors';
import { TargetConfig } from './types';

/**
 * Backup rules the schema cannot express: each schedule's cron fields hold values Velero's parser
 * (robfig/cron v3) accepts, in range and in order (core/cron.ts); the schema checks only their
 * shape. Velero would leave a Schedule it cannot parse in FailedValidation and never back up.
 */
export function checkBackupRules(config: TargetConfig, at: (p: PathSegment[], message: string) => void): void {
  config.backups.forEach((backup, i) => {
    const problem = cronProblem(backup.schedule);
    if (problem)
      at(
        ['backups', i, 'schedule'],
        `${show(backup.schedule)} is not a schedule Velero accepts for backup "${backup.name}": ${problem}`,
      );
  });
}
