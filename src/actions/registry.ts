/**
 * Every action, by id. The registry is what playbooks are checked against, what
 * `firebreak iam-policy` reads and what the meta-tests walk (permissions declared and real).
 *
 * An action `<service>.<name>` lives in `./<service>/<name>.ts` and default-exports its definition;
 * adding one is that file plus one import and one entry here (test/actions/layout.test.ts checks both).
 */
import type { ActionDef } from './define.js';
import { InputError } from '../core/errors.js';
import manualTask from './core/manual-task.js';
import denyNaclEntries from './ec2/deny-nacl-entries.js';
import describeContainment from './ec2/describe-containment.js';
import disableTerminationProtection from './ec2/disable-termination-protection.js';
import enableTerminationProtection from './ec2/enable-termination-protection.js';
import findInstances from './ec2/find-instances.js';
import forensicSnapshots from './ec2/forensic-snapshots.js';
import isolateInstance from './ec2/isolate-instance.js';
import lowerSnapshotFrequency from './ec2/lower-snapshot-frequency.js';
import preserveInstance from './ec2/preserve-instance.js';
import raiseSnapshotFrequency from './ec2/raise-snapshot-frequency.js';
import removeFromService from './ec2/remove-from-service.js';
import removeNaclEntries from './ec2/remove-nacl-entries.js';
import replaceInstanceProfile from './ec2/replace-instance-profile.js';
import restoreInstanceAttributes from './ec2/restore-instance-attributes.js';
import restoreInstanceProfile from './ec2/restore-instance-profile.js';
import restoreSecurityGroups from './ec2/restore-security-groups.js';
import returnToService from './ec2/return-to-service.js';
import describeAccessKey from './iam/describe-access-key.js';
import disableAccessKey from './iam/disable-access-key.js';
import enableAccessKey from './iam/enable-access-key.js';
import quarantineUser from './iam/quarantine-user.js';
import releaseUser from './iam/release-user.js';
import removeSessionRevocation from './iam/remove-session-revocation.js';
import revokeRoleSessions from './iam/revoke-role-sessions.js';
import prepareAbuseReport from './support/prepare-abuse-report.js';
import openCase from './support/open-case.js';

const all: ActionDef[] = [
  manualTask,
  isolateInstance,
  restoreSecurityGroups,
  enableTerminationProtection,
  disableTerminationProtection,
  preserveInstance,
  restoreInstanceAttributes,
  removeFromService,
  returnToService,
  forensicSnapshots,
  raiseSnapshotFrequency,
  lowerSnapshotFrequency,
  denyNaclEntries,
  removeNaclEntries,
  findInstances,
  describeContainment,
  describeAccessKey,
  disableAccessKey,
  enableAccessKey,
  quarantineUser,
  releaseUser,
  revokeRoleSessions,
  removeSessionRevocation,
  replaceInstanceProfile,
  restoreInstanceProfile,
  openCase,
  prepareAbuseReport,
];

export const actions: ReadonlyMap<string, ActionDef> = new Map(all.map((a) => [a.id, a]));
export const actionIds: ReadonlySet<string> = new Set(actions.keys());

export function getAction(id: string): ActionDef {
  const a = actions.get(id);
  if (!a) throw new InputError(`unknown action '${id}'`, { hint: 'firebreak list --actions' });
  return a;
}
