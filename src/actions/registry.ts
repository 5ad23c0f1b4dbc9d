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
// iam and support action imports (more below this line)

const all: ActionDef[] = [
  manualTask,
  // ec2 actions
  isolateInstance,
  restoreSecurityGroups,
  enableTerminationProtection,
  disableTerminationProtection,
  // iam and support actions
];

export const actions: ReadonlyMap<string, ActionDef> = new Map(all.map((a) => [a.id, a]));
export const actionIds: ReadonlySet<string> = new Set(actions.keys());

export function getAction(id: string): ActionDef {
  const a = actions.get(id);
  if (!a) throw new InputError(`unknown action '${id}'`, { hint: 'firebreak list --actions' });
  return a;
}
