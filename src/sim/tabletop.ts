/**
 * The simulated cloud's interface for tabletop exercises, beyond the AWS API the players' and the
 * attacker's SDK clients call: what happens in a real account without an API call (EC2's metadata
 * service handing out role credentials, Data Lifecycle Manager's schedules running as time
 * passes), and questions about the world that no single API call answers (does this key still
 * work, would this subnet's network ACL let this flow through). Exported from `sim/index.ts`; the
 * tabletop imports nothing else from the simulation.
 *
 * These change or read `world` directly, so they are not written to a `persistTo` change log:
 * exercises keep their world in memory.
 */
import type { World } from './world.js';
import { awsStyleId, sequenceId } from './ids.js';
import { recordRoleSession } from './services/iam/index.js';
import { accountWorld } from './scopes.js';

export { findRole, isKeyUsable } from './services/iam/index.js';
export type { IamRole } from './services/iam/index.js';
export { interfaceOf, aclAllows } from './connections.js';
export { runDlmSchedules } from './services/dlm/index.js';
export type { DlmRunResult } from './services/dlm/index.js';

/**
 * Issue temporary credentials for a role as EC2's instance metadata service does for the role of
 * an instance profile: a new session (an `ASIA…` key id, unique in the world) that STS will
 * recognise, recorded in the world as AssumeRole would record it. Returns the key id.
 */
export function issueRoleSession(
  world: World,
  session: { roleArn: string; issuedAt: Date; expiresAt: Date; sessionName: string },
): { accessKeyId: string } {
  world.idCounter += 1;
  const seed = sequenceId(world.account.id, 'sts-session', world.idCounter);
  const accessKeyId = `ASIA${awsStyleId('', seed).slice(1)}`;
  // The session belongs to the role's account, as STS records it.
  const account = /^arn:aws[\w-]*:iam::(\d{12}):/.exec(session.roleArn)?.[1] ?? world.account.id;
  const owner = accountWorld(world, account);
  if (!owner) throw new Error(`failed to issue a role session for ${session.roleArn}: the world holds no account ${account}`);
  recordRoleSession(owner, { ...session, accessKeyId });
  return { accessKeyId };
}
