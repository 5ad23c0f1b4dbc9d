/** Instance profile associations, shared by ec2.replace-instance-profile and ec2.restore-instance-profile. */
import type { EC2Client, IamInstanceProfileAssociation } from '@aws-sdk/client-ec2';
import type { IAMClient, InstanceProfile } from '@aws-sdk/client-iam';
import { nameOf } from './iam.js';
import { EC2, IAM } from '../../cloud/sdk.js';

/** Where the profile an instance had before Firebreak replaced it is recorded (read by a re-plan and by people). */
export const ORIGINAL_PROFILE_TAG = 'firebreak:original-instance-profile';

/** The instance's live association, if any. `disassociating` ones are on their way out and do not count. */
export async function currentAssociation(ec2: EC2Client, instanceId: string): Promise<IamInstanceProfileAssociation | undefined> {
  const out = await ec2.send(
    new EC2.DescribeIamInstanceProfileAssociationsCommand({
      Filters: [
        { Name: 'instance-id', Values: [instanceId] },
        { Name: 'state', Values: ['associating', 'associated'] },
      ],
    }),
  );
  return out.IamInstanceProfileAssociations?.[0];
}

/** The profile by name or ARN; NoSuchEntityException for an unknown one propagates. */
export async function getInstanceProfile(iam: IAMClient, ref: string): Promise<InstanceProfile> {
  return (await iam.send(new IAM.GetInstanceProfileCommand({ InstanceProfileName: nameOf(ref) }))).InstanceProfile!;
}
