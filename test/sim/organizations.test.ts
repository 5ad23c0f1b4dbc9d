/**
 * Simulated AWS Organizations through the real SDK client: the tree of worlds/organization.yaml
 * read by its delegated administrator (the security account), page by page, and the errors AWS
 * gives for a malformed id, an id that names nothing, a caller that may not read the
 * organization and an account outside any organization.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  DescribeAccountCommand,
  DescribeOrganizationalUnitCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  OrganizationsClient,
  paginateListChildren,
} from '@aws-sdk/client-organizations';
import { STSClient, AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { createSimCloud, parseWorld, type SimCloud, type World } from '../../src/sim/index.js';
import { InputError } from '../../src/core/errors.js';
import { rejection } from './helpers.js';

const ORG_FILE = fileURLToPath(new URL('../../worlds/organization.yaml', import.meta.url));
const ORG_TEXT = readFileSync(ORG_FILE, 'utf8');
const ARN = 'arn:aws:organizations::123412341234';

function cloud(edit?: (w: World) => void) {
  const w = parseWorld(ORG_TEXT, ORG_FILE);
  edit?.(w);
  return createSimCloud(w);
}

function orgs(sim: SimCloud, credentials: AwsCredentialIdentity = sim.credentials, region = 'eu-west-1') {
  const c = new OrganizationsClient({ region, credentials, maxAttempts: 1 });
  c.middlewareStack.use(sim.plugin as never);
  return c;
}

async function asMember(sim: SimCloud): Promise<AwsCredentialIdentity> {
  const sts = new STSClient({ region: 'us-east-1', credentials: sim.credentials, maxAttempts: 1 });
  sts.middlewareStack.use(sim.plugin as never);
  const r = await sts.send(
    new AssumeRoleCommand({
      RoleArn: 'arn:aws:iam::222222222222:role/FirebreakResponder',
      RoleSessionName: 'run-1',
      ExternalId: 'firebreak-222222222222-7f3a9c',
    }),
  );
  const c = r.Credentials!;
  return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
}

describe('Organizations, read by the delegated administrator', () => {
  it('walks the tree: roots, OUs, accounts, parents', async () => {
    const sim = cloud();
    const o = orgs(sim);
    const { Roots } = await o.send(new ListRootsCommand({}));
    expect(Roots).toEqual([{ Id: 'r-7k2q', Arn: `${ARN}:root/o-7k2qexample/r-7k2q`, Name: 'Root', PolicyTypes: [] }]);
    const top = await o.send(new ListOrganizationalUnitsForParentCommand({ ParentId: 'r-7k2q' }));
    expect(top.OrganizationalUnits?.map((u) => [u.Id, u.Name])).toEqual([
      ['ou-7k2q-s3cur1ty', 'Security'],
      ['ou-7k2q-w0rk1oad', 'Workloads'],
    ]);
    const { OrganizationalUnit } = await o.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-7k2q-pr0d0001' }));
    expect(OrganizationalUnit).toEqual({
      Id: 'ou-7k2q-pr0d0001',
      Arn: `${ARN}:ou/o-7k2qexample/ou-7k2q-pr0d0001`,
      Name: 'Prod',
      Path: 'o-7k2qexample/r-7k2q/ou-7k2q-w0rk1oad/ou-7k2q-pr0d0001/',
    });
    const { Accounts } = await o.send(new ListAccountsForParentCommand({ ParentId: 'ou-7k2q-sandb0x1' }));
    expect(Accounts?.map((a) => [a.Id, a.Name, a.State, a.Status])).toEqual([
      ['444444444444', 'sandbox-old', 'SUSPENDED', 'SUSPENDED'],
      ['555555555555', 'sandbox', 'ACTIVE', 'ACTIVE'],
    ]);
    expect(Accounts?.[1]?.Arn).toBe(`${ARN}:account/o-7k2qexample/555555555555`);
    expect(Accounts?.[1]?.JoinedTimestamp).toBeInstanceOf(Date);
    const { Account } = await o.send(new DescribeAccountCommand({ AccountId: '222222222222' }));
    expect(Account).toMatchObject({ Id: '222222222222', Name: 'payments-prod', Email: 'aws-payments-prod@example.com', State: 'ACTIVE' });
    expect((await o.send(new ListParentsCommand({ ChildId: '333333333333' }))).Parents).toEqual([
      { Id: 'ou-7k2q-pr0d0001', Type: 'ORGANIZATIONAL_UNIT' },
    ]);
    expect((await o.send(new ListParentsCommand({ ChildId: 'ou-7k2q-w0rk1oad' }))).Parents).toEqual([{ Id: 'r-7k2q', Type: 'ROOT' }]);
    // The management account sits where the world puts it: directly under the root.
    const atRoot = await o.send(new ListChildrenCommand({ ParentId: 'r-7k2q', ChildType: 'ACCOUNT' }));
    expect(atRoot.Children).toEqual([{ Id: '123412341234', Type: 'ACCOUNT' }]);
    // A global service: every call was answered, whatever Region the client named, and changed nothing.
    expect(sim.calls.map((c) => c.error)).toEqual(sim.calls.map(() => undefined));
  });

  it('pages with MaxResults and NextToken; the paginator gathers every page', async () => {
    const sim = cloud();
    const o = orgs(sim);
    const first = await o.send(new ListChildrenCommand({ ParentId: 'ou-7k2q-w0rk1oad', ChildType: 'ORGANIZATIONAL_UNIT', MaxResults: 1 }));
    expect(first.Children).toEqual([{ Id: 'ou-7k2q-pr0d0001', Type: 'ORGANIZATIONAL_UNIT' }]);
    expect(first.NextToken).toBeTruthy();
    const second = await o.send(
      new ListChildrenCommand({
        ParentId: 'ou-7k2q-w0rk1oad',
        ChildType: 'ORGANIZATIONAL_UNIT',
        MaxResults: 1,
        NextToken: first.NextToken!,
      }),
    );
    expect(second.Children).toEqual([{ Id: 'ou-7k2q-sandb0x1', Type: 'ORGANIZATIONAL_UNIT' }]);
    expect(second.NextToken).toBeUndefined();
    const ids: string[] = [];
    for await (const p of paginateListChildren({ client: o, pageSize: 1 }, { ParentId: 'ou-7k2q-pr0d0001', ChildType: 'ACCOUNT' })) {
      ids.push(...(p.Children ?? []).map((c) => c.Id!));
    }
    expect(ids).toEqual(['222222222222', '333333333333']);
    // A token is bound to the listing it came from.
    const e = await rejection(o.send(new ListAccountsForParentCommand({ ParentId: 'ou-7k2q-sandb0x1', NextToken: first.NextToken! })));
    expect(e.name).toBe('InvalidInputException');
    expect(e.message).toMatch(/invalid value for nextToken/);
  });

  it.each([
    [
      'a malformed parent id',
      new ListChildrenCommand({ ParentId: 'ou-XYZ', ChildType: 'ACCOUNT' }),
      'InvalidInputException',
      /required pattern/,
    ],
    ['MaxResults above 20', new ListAccountsForParentCommand({ ParentId: 'r-7k2q', MaxResults: 21 }), 'InvalidInputException', /maximum/],
    [
      'an unknown ChildType',
      new ListChildrenCommand({ ParentId: 'r-7k2q', ChildType: 'POLICY' as never }),
      'InvalidInputException',
      /ChildType/,
    ],
    [
      'a parent that does not exist',
      new ListAccountsForParentCommand({ ParentId: 'ou-7k2q-n0th1ngh3re' }),
      'ParentNotFoundException',
      /ParentId/,
    ],
    [
      'an OU that does not exist',
      new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-7k2q-n0th1ngh3re' }),
      'OrganizationalUnitNotFoundException',
      /OrganizationalUnitId/,
    ],
    [
      'a root given as an OU',
      new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'r-7k2q' }),
      'InvalidInputException',
      /pattern/,
    ],
    [
      'an account outside the organization',
      new DescribeAccountCommand({ AccountId: '999999999999' }),
      'AccountNotFoundException',
      /AccountId/,
    ],
    ['a child that does not exist', new ListParentsCommand({ ChildId: '999999999999' }), 'ChildNotFoundException', /ChildId/],
  ])('%s', async (_what, command, code, message) => {
    const sim = cloud();
    const e = await rejection(orgs(sim).send(command as never));
    expect(e.name).toBe(code);
    expect(e.message).toMatch(message);
    expect((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
    expect((e as { $fault?: string }).$fault).toBe('client');
  });
});

describe('Organizations, read by anyone else', () => {
  it('a member account that is not a delegated administrator is denied', async () => {
    const sim = cloud();
    const e = await rejection(orgs(sim, await asMember(sim)).send(new ListRootsCommand({})));
    expect(e.name).toBe('AccessDeniedException');
    expect((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
  });

  it('the security account, no longer a delegated administrator, is denied', async () => {
    const sim = cloud((w) => {
      w.organizations!.delegatedAdministrators = [];
    });
    expect((await rejection(orgs(sim).send(new ListAccountsForParentCommand({ ParentId: 'r-7k2q' })))).name).toBe('AccessDeniedException');
  });

  it('a world without an organization answers AWSOrganizationsNotInUseException', async () => {
    const sim = cloud((w) => {
      w.organizations = undefined;
    });
    const e = await rejection(orgs(sim).send(new ListRootsCommand({})));
    expect(e.name).toBe('AWSOrganizationsNotInUseException');
    expect(e.message).toBe('Your account is not a member of an organization.');
  });
});

describe('an organization in a world file', () => {
  it.each([
    ['an OU id of another root', 'id: ou-7k2q-pr0d0001', 'id: ou-9z9z-pr0d0001', /under root r-7k2q/],
    ['a malformed OU id', 'id: ou-7k2q-pr0d0001', 'id: ou-PROD', /OU id such as/],
    ['an account in two places', '"555555555555", name: sandbox', '"222222222222", name: sandbox', /222222222222 appears twice/],
  ])('%s is refused with its place', (_what, from, to, message) => {
    const text = ORG_TEXT.replace(from, to);
    const e = (() => {
      try {
        parseWorld(text, ORG_FILE);
      } catch (err) {
        return err;
      }
      throw new Error('the world was accepted');
    })() as InputError;
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(message);
    expect(e.pos?.file).toBe(ORG_FILE);
    expect(e.pos?.line).toBeGreaterThan(1);
  });
});
