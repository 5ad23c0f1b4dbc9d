/** Simulated EC2: IAM instance profile associations (which role an instance's credentials come from). */
import type { SimHandler } from '../../service.js';
import type { AssociationT } from './schema.js';
import { instanceProfileFacts } from '../iam/facts.js';
import { applyFilters, awsStyleId, date, ec2Of, find, findAll, missing, paginate, type Ctx, type Filter } from './common.js';

interface ProfileRef {
  Arn?: string;
  Name?: string;
}
interface Profile {
  arn: string;
  id: string;
}

/** The instance profile must exist in the IAM slice, as in AWS. */
async function resolveProfile(ctx: Ctx, ref: ProfileRef | undefined): Promise<Profile> {
  if (!ref || (!ref.Arn && !ref.Name)) missing(ctx, 'iamInstanceProfile');
  const name = ref.Arn ? /^arn:aws[\w-]*:iam::\d{12}:instance-profile\/(?:.*\/)?([\w+=,.@-]+)$/.exec(ref.Arn)?.[1] : ref.Name;
  const invalid = (): never => {
    if (ref.Arn)
      ctx.fail(
        'InvalidParameterValue',
        `Value (${ref.Arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`,
      );
    ctx.fail(
      'InvalidParameterValue',
      `Value (${ref.Name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
    );
  };
  if (!name || !ctx.world.iam.instanceProfiles.some((p) => p.name === name)) invalid();
  const facts = await instanceProfileFacts(ctx, name!);
  if (ref.Arn && facts.Arn !== ref.Arn) invalid();
  return { arn: facts.Arn, id: facts.InstanceProfileId };
}

function shape(a: AssociationT, state: string) {
  return {
    AssociationId: a.id,
    InstanceId: a.instanceId,
    IamInstanceProfile: { Arn: a.instanceProfileArn, Id: a.instanceProfileId ?? awsStyleId('AIPA', a.instanceProfileArn) },
    State: state,
    ...(a.associatedAt ? { Timestamp: date(a.associatedAt) } : {}),
  };
}

const describeAssociations: SimHandler = (
  ctx: Ctx,
  input: { AssociationIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
) => {
  const w = ec2Of(ctx);
  let list = input.AssociationIds?.length
    ? findAll(ctx, 'association', w.iamInstanceProfileAssociations, input.AssociationIds)
    : [...w.iamInstanceProfileAssociations];
  list = applyFilters(ctx, list, input.Filters, { 'instance-id': (a) => a.instanceId, state: () => 'associated' });
  const { page, NextToken } = paginate(ctx, list, input);
  return { IamInstanceProfileAssociations: page.map((a) => shape(a, 'associated')), ...(NextToken ? { NextToken } : {}) };
};

const associate: SimHandler = async (ctx: Ctx, input: { IamInstanceProfile?: ProfileRef; InstanceId?: string }) => {
  const w = ec2Of(ctx);
  const inst = find(ctx, 'instance', w.instances, input.InstanceId);
  const profile = await resolveProfile(ctx, input.IamInstanceProfile);
  if (inst.state !== 'running' && inst.state !== 'stopped') {
    ctx.fail('IncorrectInstanceState', `The instance '${inst.id}' is not in the 'running' or 'stopped' state.`);
  }
  if (w.iamInstanceProfileAssociations.some((a) => a.instanceId === inst.id)) {
    ctx.fail('IncorrectState', `There is an existing association for instance ${inst.id}`);
  }
  const a: AssociationT = {
    id: ctx.newId('iip-assoc'),
    instanceId: inst.id,
    instanceProfileArn: profile.arn,
    instanceProfileId: profile.id,
    associatedAt: ctx.clock.now().toISOString(),
  };
  w.iamInstanceProfileAssociations.push(a);
  ctx.changed();
  return { IamInstanceProfileAssociation: shape(a, 'associating') };
};

const replace: SimHandler = async (ctx: Ctx, input: { IamInstanceProfile?: ProfileRef; AssociationId?: string }) => {
  const w = ec2Of(ctx);
  const old = find(ctx, 'association', w.iamInstanceProfileAssociations, input.AssociationId);
  const profile = await resolveProfile(ctx, input.IamInstanceProfile);
  const a: AssociationT = {
    id: ctx.newId('iip-assoc'),
    instanceId: old.instanceId,
    instanceProfileArn: profile.arn,
    instanceProfileId: profile.id,
    associatedAt: ctx.clock.now().toISOString(),
  };
  w.iamInstanceProfileAssociations = w.iamInstanceProfileAssociations.map((x) => (x === old ? a : x));
  ctx.changed();
  return { IamInstanceProfileAssociation: shape(a, 'associating') };
};

const disassociate: SimHandler = (ctx: Ctx, input: { AssociationId?: string }) => {
  const w = ec2Of(ctx);
  const a = find(ctx, 'association', w.iamInstanceProfileAssociations, input.AssociationId);
  w.iamInstanceProfileAssociations = w.iamInstanceProfileAssociations.filter((x) => x !== a);
  ctx.changed();
  return { IamInstanceProfileAssociation: shape(a, 'disassociating') };
};

export const profileHandlers: Record<string, SimHandler> = {
  DescribeIamInstanceProfileAssociations: describeAssociations,
  AssociateIamInstanceProfile: associate,
  ReplaceIamInstanceProfileAssociation: replace,
  DisassociateIamInstanceProfile: disassociate,
};
