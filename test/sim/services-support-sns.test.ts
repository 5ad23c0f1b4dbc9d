import { describe, expect, it } from 'vitest';
import {
  AddCommunicationToCaseCommand,
  CreateCaseCommand,
  DescribeCasesCommand,
  DescribeCommunicationsCommand,
  DescribeServicesCommand,
  DescribeSeverityLevelsCommand,
  ResolveCaseCommand,
  SupportClient,
} from '@aws-sdk/client-support';
import { CreateTopicCommand, ListTopicsCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ACCOUNT, clientFor, createTestCloud, errorOf } from './services-harness.js';

const CALLER = `arn:aws:iam::${ACCOUNT}:user/responder`;

describe('Support', () => {
  const setup = (plan?: string, region?: string) => {
    const cloud = createTestCloud(plan ? { support: { plan } } : {});
    return { cloud, support: clientFor(cloud, SupportClient, region) };
  };

  it.each([
    ['basic (the default)', undefined],
    ['developer', 'developer'],
  ])('on a %s plan every call is SubscriptionRequiredException and no case is opened', async (_what, plan) => {
    const { cloud, support } = setup(plan);
    const err = await errorOf(
      support.send(new CreateCaseCommand({ subject: 'Compromised instance', communicationBody: 'i-0abc123def4567890 is beaconing' })),
    );
    expect(err.name).toBe('SubscriptionRequiredException');
    expect(err.message).toBe('Amazon Web Services Premium Support Subscription is required to use this service.');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(cloud.world.support.cases).toEqual([]);
    expect((await errorOf(support.send(new DescribeCasesCommand({})))).name).toBe('SubscriptionRequiredException');
    expect((await errorOf(support.send(new DescribeSeverityLevelsCommand({})))).name).toBe('SubscriptionRequiredException');
  });

  it.each(['business', 'enterprise-on-ramp', 'enterprise'])(
    'on a %s plan CreateCase opens a case that DescribeCases returns',
    async (plan) => {
      const { cloud, support } = setup(plan);
      const { caseId } = await support.send(
        new CreateCaseCommand({
          subject: 'Compromised instance',
          communicationBody: 'i-0abc123def4567890 is beaconing',
          severityCode: 'urgent',
          serviceCode: 'amazon-elastic-compute-cloud-linux',
          categoryCode: 'instance-issue',
        }),
      );
      expect(caseId).toMatch(new RegExp(`^case-${ACCOUNT}-2026-[0-9a-f]{16}$`));
      expect(cloud.world.support.cases).toHaveLength(1);
      const { cases } = await support.send(new DescribeCasesCommand({ caseIdList: [caseId!] }));
      expect(cases?.[0]).toMatchObject({
        caseId,
        subject: 'Compromised instance',
        status: 'opened',
        severityCode: 'urgent',
        serviceCode: 'amazon-elastic-compute-cloud-linux',
        submittedBy: CALLER,
        timeCreated: '2026-01-01T00:00:00.000Z',
      });
      expect(cases?.[0]?.recentCommunications?.communications?.map((c) => c.body)).toEqual(['i-0abc123def4567890 is beaconing']);
    },
  );

  it('answers a client built for another region too: the SDK sends every region to the us-east-1 endpoint', async () => {
    const { support } = setup('business', 'eu-west-1');
    expect((await support.send(new DescribeSeverityLevelsCommand({}))).severityLevels?.map((l) => l.code)).toEqual([
      'low',
      'normal',
      'high',
      'urgent',
      'critical',
    ]);
  });

  it('AddCommunicationToCase appends to the case; DescribeCommunications lists newest first', async () => {
    const { cloud, support } = setup('business');
    const { caseId } = await support.send(new CreateCaseCommand({ subject: 's', communicationBody: 'first' }));
    cloud.clock.advance(60_000);
    expect(
      await support.send(new AddCommunicationToCaseCommand({ caseId, communicationBody: 'second', ccEmailAddresses: ['soc@example.com'] })),
    ).toMatchObject({ result: true });
    expect(cloud.world.support.cases[0].communications.map((c: { body: string }) => c.body)).toEqual(['first', 'second']);
    expect(cloud.world.support.cases[0].ccEmailAddresses).toEqual(['soc@example.com']);
    expect((await support.send(new DescribeCommunicationsCommand({ caseId }))).communications?.map((c) => [c.body, c.timeCreated])).toEqual(
      [
        ['second', '2026-01-01T00:01:00.000Z'],
        ['first', '2026-01-01T00:00:00.000Z'],
      ],
    );
  });

  it('an unknown case id is CaseIdNotFound and changes nothing', async () => {
    const { cloud, support } = setup('business');
    const before = structuredClone(cloud.world.support);
    for (const call of [
      support.send(new DescribeCasesCommand({ caseIdList: ['case-000000000000-2026-0000000000000000'] })),
      support.send(new AddCommunicationToCaseCommand({ caseId: 'case-000000000000-2026-0000000000000000', communicationBody: 'x' })),
    ]) {
      expect((await errorOf(call)).name).toBe('CaseIdNotFound');
    }
    expect(cloud.world.support).toEqual(before);
  });

  it('DescribeCases leaves resolved cases out unless includeResolvedCases', async () => {
    const { support } = setup('enterprise');
    const { caseId } = await support.send(new CreateCaseCommand({ subject: 's', communicationBody: 'b' }));
    expect(await support.send(new ResolveCaseCommand({ caseId }))).toMatchObject({
      initialCaseStatus: 'opened',
      finalCaseStatus: 'resolved',
    });
    expect((await support.send(new DescribeCasesCommand({ caseIdList: [caseId!] }))).cases).toEqual([]);
    expect(
      (await support.send(new DescribeCasesCommand({ caseIdList: [caseId!], includeResolvedCases: true }))).cases?.map((c) => c.status),
    ).toEqual(['resolved']);
  });

  it('CreateCase without a subject, or with an unknown severity, is a ValidationException', async () => {
    const { cloud, support } = setup('business');
    expect((await errorOf(support.send(new CreateCaseCommand({ communicationBody: 'b' } as any)))).name).toBe('ValidationException');
    expect(
      (await errorOf(support.send(new CreateCaseCommand({ subject: 's', communicationBody: 'b', severityCode: 'apocalyptic' })))).name,
    ).toBe('ValidationException');
    expect(cloud.world.support.cases).toEqual([]);
  });

  it('DescribeServices lists services and their categories', async () => {
    const { support } = setup('business');
    const { services } = await support.send(new DescribeServicesCommand({ serviceCodeList: ['general-info'] }));
    expect(services?.map((s) => s.code)).toEqual(['general-info']);
    expect(services?.[0]?.categories?.map((c) => c.code)).toContain('security');
  });
});

describe('SNS', () => {
  const setup = () => {
    const cloud = createTestCloud({ sns: { topics: [{ name: 'security-alerts' }] } });
    return { cloud, sns: clientFor(cloud, SNSClient) };
  };
  const TOPIC = `arn:aws:sns:us-east-1:${ACCOUNT}:security-alerts`;

  it('Publish records the message in the log and returns its id', async () => {
    const { cloud, sns } = setup();
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: TOPIC,
        Subject: 'IR-7 contained',
        Message: 'i-0abc123def4567890 isolated',
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      }),
    );
    expect(MessageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(cloud.world.sns.published).toEqual([
      {
        messageId: MessageId,
        topicArn: TOPIC,
        subject: 'IR-7 contained',
        message: 'i-0abc123def4567890 isolated',
        messageAttributes: { severity: { dataType: 'String', value: 'high' } },
        at: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  it.each([
    ['a topic that does not exist', { TopicArn: `arn:aws:sns:us-east-1:${ACCOUNT}:nope`, Message: 'm' }, 'NotFoundException', 404],
    ['a malformed topic ARN', { TopicArn: 'security-alerts', Message: 'm' }, 'InvalidParameterException', 400],
    ['an empty message', { TopicArn: TOPIC, Message: '' }, 'InvalidParameterException', 400],
    ['a subject over 100 characters', { TopicArn: TOPIC, Message: 'm', Subject: 'x'.repeat(101) }, 'InvalidParameterException', 400],
  ])('Publish to %s fails (%s) and logs nothing', async (_what, input, code, status) => {
    const { cloud, sns } = setup();
    const err = await errorOf(sns.send(new PublishCommand(input)));
    expect([err.name, err.$metadata?.httpStatusCode]).toEqual([code, status]);
    expect(cloud.world.sns.published).toEqual([]);
  });

  it('CreateTopic is idempotent and ListTopics lists topic ARNs', async () => {
    const { cloud, sns } = setup();
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'ir-notifications' }));
    expect(TopicArn).toBe(`arn:aws:sns:us-east-1:${ACCOUNT}:ir-notifications`);
    expect((await sns.send(new CreateTopicCommand({ Name: 'ir-notifications' }))).TopicArn).toBe(TopicArn);
    expect(cloud.world.sns.topics.map((t: { name: string }) => t.name)).toEqual(['security-alerts', 'ir-notifications']);
    expect((await sns.send(new ListTopicsCommand({}))).Topics).toEqual([{ TopicArn: TOPIC }, { TopicArn }]);
    const bad = await errorOf(sns.send(new CreateTopicCommand({ Name: 'bad name!' })));
    expect([bad.name, bad.message]).toEqual(['InvalidParameterException', 'Invalid parameter: Topic Name']);
  });
});
