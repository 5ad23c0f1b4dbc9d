import * as z from 'zod';
import { isAwsError } from '../../core/errors.js';
import { defineAction, type Change, type Check } from '../define.js';
import { describeInstance, InstanceId, tagValue } from '../shared/ec2.js';
import { InstanceProfileRef, nameOf } from '../shared/iam.js';
import { currentAssociation, getInstanceProfile, ORIGINAL_PROFILE_TAG } from '../shared/instance-profile.js';
import {
  applyRevocation,
  checkRevocation,
  planRevocation,
  readRevocation,
  REVOKE_PERMISSIONS,
  REVOKE_POLICY_NAME,
  runStartedAt,
  type RevocationState,
} from '../shared/session-revocation.js';
import { EC2 } from '../../cloud/sdk.js';

const Input = z.strictObject({
  instanceId: InstanceId,
  /** A profile with a no-permissions role to put in place; without it the profile is removed. */
  quarantineProfile: InstanceProfileRef.optional(),
  /**
   * Also revoke the old role's sessions (the credentials the instance already fetched). False when a
   * playbook revokes in a step of its own, under its own approval.
   */
  revokeSessions: z.boolean().default(true),
});
type Input = z.infer<typeof Input>;

interface Facts {
  associationId?: string;
  currentProfileArn: string | null;
  /** The profile before Firebreak first replaced it (from the instance tag, else the current one). */
  originalProfileArn: string | null;
  taggedOriginal: boolean;
  quarantineProfileArn: string | null;
  profileDone: boolean;
  roleName?: string;
  revocation?: RevocationState & { done: boolean };
}
export interface ReplaceProfileOutput {
  instanceId: string;
  previousInstanceProfileArn: string | null;
  instanceProfileArn: string | null;
  roleName: string | null;
  revokedBefore: string | null;
}

export default defineAction<Input, ReplaceProfileOutput, Facts>({
  id: 'ec2.replace-instance-profile',
  summary:
    "Take an instance's IAM role away: replace its instance profile with a quarantine profile (or remove it) and revoke the old role's sessions",
  description: [
    "Finds the instance's instance-profile association and either replaces it with the given quarantine profile",
    '(ReplaceIamInstanceProfileAssociation) or removes it (DisassociateIamInstanceProfile). From then on IMDS hands the',
    'instance no credentials of the old role.',
    '',
    '**The trap:** credentials the instance (or an attacker on it) already fetched from IMDS stay valid until they expire, hours',
    `later, and work from anywhere. So the old role's sessions are revoked too, with the same \`${REVOKE_POLICY_NAME}\` policy as`,
    '`iam.revoke-role-sessions`, written *after* the swap so that nothing the instance fetched before it survives. That',
    'revocation hits every session of the role: other instances using the same profile get AccessDenied until their SDKs fetch',
    'the next credentials from IMDS, which they do only as the cached ones near expiry (hours) or when the application',
    'restarts; and AssumeRole keeps issuing new sessions to whoever the trust policy allows. Prefer a dedicated role per',
    'workload. With `revokeSessions: false` only the profile changes, and a playbook revokes in a step of its own',
    "(`iam.revoke-role-sessions` with this action's `roleName` output) under its own approval.",
    '',
    `The original profile is tagged on the instance (\`${ORIGINAL_PROFILE_TAG}\`) before the swap and journaled;`,
    '`firebreak undo` (`ec2.restore-instance-profile`) puts it back. Undo does not lift the session revocation.',
    "Replacing needs `iam:PassRole` on the quarantine profile's role.",
  ].join('\n'),
  controls: ['CC8', 'CC18'],
  input: Input,
  mutating: true,
  permissions: [
    'ec2:DescribeInstances',
    'ec2:DescribeIamInstanceProfileAssociations',
    'ec2:ReplaceIamInstanceProfileAssociation',
    'ec2:DisassociateIamInstanceProfile',
    'ec2:CreateTags',
    'iam:GetInstanceProfile',
    'iam:PassRole',
    ...REVOKE_PERMISSIONS,
  ],
  targets: (i) => [{ kind: 'instance', id: i.instanceId }],

  async plan(ctx, input) {
    const { ec2, iam } = ctx.aws;
    const [inst, assoc, quarantine] = await Promise.all([
      describeInstance(ec2, input.instanceId),
      currentAssociation(ec2, input.instanceId),
      input.quarantineProfile ? getInstanceProfile(iam, input.quarantineProfile) : undefined,
    ]);
    ctx.guard.assertNotProtected(input.instanceId, inst.Tags);
    const currentArn = assoc?.IamInstanceProfile?.Arn ?? null;
    const quarantineArn = quarantine?.Arn ?? null;
    const tagged = tagValue(inst.Tags, ORIGINAL_PROFILE_TAG);
    const originalArn = tagged !== undefined ? tagged || null : currentArn !== quarantineArn ? currentArn : null;
    const profileDone = currentArn === quarantineArn || (currentArn === null && quarantineArn !== null);
    const changes: Change[] = [];
    const notes: string[] = [];
    if (!profileDone) {
      changes.push({
        resource: `${input.instanceId} (${assoc!.AssociationId})`,
        field: 'instance profile',
        before: currentArn,
        after: quarantineArn,
      });
      if (tagged === undefined)
        changes.push({ resource: input.instanceId, field: `tag ${ORIGINAL_PROFILE_TAG}`, before: null, after: currentArn });
    }
    if (currentArn === null && quarantineArn !== null)
      notes.push('the instance has no instance profile: nothing to replace, no quarantine profile is associated');
    if (currentArn === null && originalArn === null) notes.push('the instance has no instance profile: IMDS serves it no role credentials');

    let roleName: string | undefined;
    let revocation: Facts['revocation'];
    // The role is looked up even without revocation: a later step (or a person) revokes it by name.
    if (originalArn) {
      const original = await getInstanceProfile(iam, originalArn).catch((err) => {
        // The profile was deleted while still associated: its role cannot be known from it.
        if (!isAwsError(err, 'NoSuchEntityException')) throw err;
        return undefined;
      });
      roleName = original?.Roles?.[0]?.RoleName;
      if (!original)
        notes.push(`instance profile ${originalArn} no longer exists: revoke its role's sessions by hand (iam.revoke-role-sessions)`);
      else if (!roleName) notes.push(`instance profile ${originalArn} holds no role: no sessions to revoke`);
      if (roleName && input.revokeSessions) {
        const { state, role } = await readRevocation(iam, roleName);
        ctx.guard.assertNotProtected(state.roleArn, role.Tags);
        const p = planRevocation(state, runStartedAt(ctx));
        revocation = { ...state, done: p.done };
        if (p.change) changes.push(p.change);
        notes.push(
          ...p.notes,
          `credentials already fetched from IMDS for ${roleName} are cut by the revocation; every other user of ${roleName} must fetch new ones`,
        );
      }
    }
    return {
      changes,
      alreadyDone: changes.length === 0,
      notes,
      facts: {
        ...(assoc?.AssociationId ? { associationId: assoc.AssociationId } : {}),
        currentProfileArn: currentArn,
        originalProfileArn: originalArn,
        taggedOriginal: tagged !== undefined,
        quarantineProfileArn: quarantineArn,
        profileDone,
        ...(roleName ? { roleName } : {}),
        ...(revocation ? { revocation } : {}),
      },
    };
  },

  async apply(ctx, input, plan) {
    const { ec2, iam } = ctx.aws;
    const f = plan.facts;
    if (!f.profileDone) {
      // Recorded before the swap: a later plan (or a person) can still tell what to restore.
      if (!f.taggedOriginal)
        await ec2.send(
          new EC2.CreateTagsCommand({
            Resources: [input.instanceId],
            Tags: [{ Key: ORIGINAL_PROFILE_TAG, Value: f.currentProfileArn ?? '' }],
          }),
        );
      if (f.quarantineProfileArn) {
        await ec2.send(
          new EC2.ReplaceIamInstanceProfileAssociationCommand({
            AssociationId: f.associationId!,
            IamInstanceProfile: { Arn: f.quarantineProfileArn },
          }),
        );
      } else {
        await ec2.send(new EC2.DisassociateIamInstanceProfileCommand({ AssociationId: f.associationId! }));
      }
    }
    // After the swap, so credentials IMDS handed out up to the swap are all older than the instant.
    let revokedBefore = f.revocation?.revokedBefore ?? null;
    if (f.roleName && f.revocation && !f.revocation.done) {
      const at = ctx.clock.now();
      await applyRevocation(iam, f.roleName, at);
      revokedBefore = at.toISOString();
    }
    return {
      instanceId: input.instanceId,
      previousInstanceProfileArn: f.originalProfileArn,
      instanceProfileArn: f.profileDone ? f.currentProfileArn : f.quarantineProfileArn,
      roleName: f.roleName ?? null,
      revokedBefore,
    };
  },

  predict: (input, plan) => ({
    instanceId: input.instanceId,
    previousInstanceProfileArn: plan.facts.originalProfileArn,
    instanceProfileArn: plan.facts.profileDone ? plan.facts.currentProfileArn : plan.facts.quarantineProfileArn,
    roleName: plan.facts.roleName ?? null,
    // The instant is the apply's own clock: a plan cannot know it.
    revokedBefore: plan.facts.revocation?.revokedBefore ?? null,
  }),

  async verify(ctx, input, output) {
    const assoc = await currentAssociation(ctx.aws.ec2, input.instanceId);
    const now = assoc?.IamInstanceProfile?.Arn ?? null;
    const checks: Check[] = [
      {
        name: `${input.instanceId} instance profile is ${output.instanceProfileArn ?? 'none'}`,
        ok: now === output.instanceProfileArn,
        detail: now ?? 'none',
      },
    ];
    if (output.roleName && output.revokedBefore)
      checks.push(await checkRevocation(ctx.aws.iam, output.roleName, new Date(output.revokedBefore)));
    return checks;
  },

  undo: {
    action: 'ec2.restore-instance-profile',
    input: (out) => ({ instanceId: out.instanceId, instanceProfileArn: out.previousInstanceProfileArn }),
  },

  fallback: (i) => [
    `aws ec2 describe-iam-instance-profile-associations --filters Name=instance-id,Values=${i.instanceId ?? '<instance-id>'}`,
    `aws ec2 create-tags --resources ${i.instanceId ?? '<instance-id>'} --tags Key=${ORIGINAL_PROFILE_TAG},Value=<old-profile-arn>`,
    i.quarantineProfile
      ? `aws ec2 replace-iam-instance-profile-association --association-id <iip-assoc-id> --iam-instance-profile Name=${nameOf(i.quarantineProfile)}`
      : 'aws ec2 disassociate-iam-instance-profile --association-id <iip-assoc-id>',
    `# then revoke the old role's sessions (credentials already fetched from IMDS): see iam.revoke-role-sessions`,
  ],
});
