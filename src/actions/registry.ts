/**
 * Every action, by id. The registry is what playbooks are checked against, what
 * `firebreak iam-policy` reads and what the meta-tests walk (permissions declared and real).
 */
import type { ActionDef } from './define.js';
import { InputError } from '../core/errors.js';
import isolateInstance from './ec2/isolate-instance.js';
import restoreSecurityGroups from './ec2/restore-security-groups.js';
import { enableTerminationProtection, disableTerminationProtection } from './ec2/termination-protection.js';
import manualTask from './core/manual-task.js';
// ec2 action imports (more below this line)
import preserveInstance from './ec2/preserve-instance.js';
import restoreInstanceAttributes from './ec2/restore-instance-attributes.js';
import removeFromService from './asg/remove-from-service.js';
import returnToService from './asg/return-to-service.js';
import forensicSnapshots from './ec2/forensic-snapshots.js';
import raiseSnapshotFrequency from './dlm/raise-snapshot-frequency.js';
import lowerSnapshotFrequency from './dlm/lower-snapshot-frequency.js';
import denyNaclEntries from './ec2/deny-nacl-entries.js';
import removeNaclEntries from './ec2/remove-nacl-entries.js';
import findInstances from './ec2/find-instances.js';
import describeContainment from './ec2/describe-containment.js';
// iam and support action imports (more below this line)
import describeAccessKey from './iam/describe-access-key.js';
import disableAccessKey from './iam/disable-access-key.js';
import enableAccessKey from './iam/enable-access-key.js';
import quarantineUser from './iam/quarantine-user.js';
import releaseUser from './iam/release-user.js';
import revokeRoleSessions from './iam/revoke-role-sessions.js';
import removeSessionRevocation from './iam/remove-session-revocation.js';
import replaceInstanceProfile from './iam/replace-instance-profile.js';
import restoreInstanceProfile from './iam/restore-instance-profile.js';
import openSupportCase from './support/open-case.js';
import prepareAbuseReport from './support/abuse-report.js';

const all: ActionDef[] = [
  manualTask,
  // ec2 actions
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
  // iam and support actions
  describeAccessKey,
  disableAccessKey,
  enableAccessKey,
  quarantineUser,
  releaseUser,
  revokeRoleSessions,
  removeSessionRevocation,
  replaceInstanceProfile,
  restoreInstanceProfile,
  openSupportCase,
  prepareAbuseReport,
];

export const actions: ReadonlyMap<string, ActionDef> = new Map(all.map((a) => [a.id, a]));
export const actionIds: ReadonlySet<string> = new Set(actions.keys());

export function getAction(id: string): ActionDef {
  const a = actions.get(id);
  if (!a) throw new InputError(`unknown action '${id}'`, { hint: 'firebreak list --actions' });
  return a;
}
