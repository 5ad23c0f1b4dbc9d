/**
 * `firebreak iam-policy [PLAYBOOK…] [--routes FILE]`: the least-privilege IAM policy the playbooks'
 * steps need. With `--routes`, every playbook the routes start, plus what an automatic run adds:
 * `sns:Publish` on the notification topic of the config, and ec2:DescribeInstances when a route
 * matches on tags. The policy alone goes to stdout; what it covers, and why a resource stays "*",
 * to stderr.
 */
import { actions, actionIds, getAction } from '../../actions/registry.js';
import { InputError } from '../../core/errors.js';
import { actionsOfPlaybook, policyForPlaybook, whyWildcard, type ExtraPermissions } from '../../iam/policy.js';
import { PLAYBOOK_DIRS } from '../../core/paths.js';
import { findPlaybook, loadPlaybook } from '../../playbook/load.js';
import type { LoadedPlaybook } from '../../playbook/schema.js';
import { storeIamStatements } from '../../store/config.js';
import { OU_RESOLUTION_PERMISSIONS } from '../../cloud/organizations.js';
import { guardrailUnits } from '../../engine/guardrails.js';
import { c, err, printJson } from '../output.js';

export async function iamPolicy(
  playbooks: string[],
  opts: { withUndo?: boolean; json?: boolean; routes?: string; config?: string },
): Promise<void> {
  if (playbooks.length === 0 && !opts.routes) {
    throw new InputError('failed to derive a policy: name at least one playbook or --routes FILE', {
      hint: 'firebreak iam-policy ec2-instance-compromise',
    });
  }
  const loaded = new Map<string, LoadedPlaybook>();
  for (const name of playbooks) {
    const one = loadPlaybook(findPlaybook(name, PLAYBOOK_DIRS), { actionIds, actionInputs: (id) => actions.get(id)?.input });
    loaded.set(one.playbook.id, one);
  }
  const extra: ExtraPermissions = {};
  let topicNote: string | undefined;
  if (opts.routes) {
    const [{ loadRoutes }, { loadConfig }] = await Promise.all([import('../../triggers/routes.js'), import('../../config/config.js')]);
    const table = loadRoutes(opts.routes);
    for (const r of table.routes) loaded.set(r.loaded.playbook.id, r.loaded);
    extra.tagLookup = table.routes.some((r) => r.match.tags !== undefined && Object.keys(r.match.tags).length > 0);
    const { config, file } = loadConfig(opts.config);
    const topic = config.notifications.snsTopicArn;
    if (topic) extra.notificationTopics = [topic];
    topicNote = topic
      ? `sns:Publish on ${topic} only (notifications.snsTopicArn${file ? ` in ${file}` : ''})`
      : 'no sns:Publish: no notifications.snsTopicArn in the config, so runs waiting for approval notify no topic';
  }
  const withUndo = !!opts.withUndo;
  const all = [...loaded.values()];
  const derived = policyForPlaybook(all, getAction, { withUndo, extra });
  // With store: aws, the run store's table, bucket and key, each named (store/config.ts).
  const { config: cfg } = (await import('../../config/config.js')).loadConfig(opts.config);
  const storeStatements = cfg.store.kind === 'aws' ? storeIamStatements(cfg.store).responder : [];
  // Guardrails naming OUs are resolved through Organizations with the credentials Firebreak runs with.
  const units = guardrailUnits(cfg);
  const unitStatements =
    units.length > 0
      ? [
          {
            Sid: 'FirebreakResolveGuardrailUnits',
            Effect: 'Allow' as const,
            Action: [...OU_RESOLUTION_PERMISSIONS],
            Resource: '*' as const,
          },
        ]
      : [];
  const policy = { ...derived, Statement: [...derived.Statement, ...storeStatements, ...unitStatements] };
  const uses = all.map((l) => ({ playbook: l.playbook.id, file: l.file, actions: actionsOfPlaybook(l, getAction, { withUndo }) }));
  const wildcards = policy.Statement.filter((s) => s.Resource === '*').flatMap((s) =>
    s.Action.map((a) => ({ action: a, why: whyWildcard(a) })),
  );
  if (opts.json) {
    printJson({ playbooks: uses, withUndo, ...(opts.routes ? { routes: opts.routes } : {}), wildcards, policy });
    return;
  }
  // The policy alone on stdout, ready for `> policy.json`; what it covers goes to stderr.
  for (const u of uses) {
    err(c.dim(`# ${u.playbook}: ${u.actions.length} action steps${withUndo ? ' and their undo actions' : ''}`));
    for (const a of u.actions) err(c.dim(`#   ${a.step}: ${a.action}`));
  }
  if (!withUndo) err(c.dim('# add --with-undo to allow firebreak undo'));
  if (topicNote) err(c.dim(`# ${topicNote}`));
  if (cfg.store.kind === 'aws')
    err(
      c.dim(
        `# run store: table ${cfg.store.table}, bucket ${cfg.store.bucket} (runs/*), key ${cfg.store.kmsKeyId}; no delete or retention change on sealed objects`,
      ),
    );
  if (units.length > 0)
    err(
      c.dim(
        `# ${OU_RESOLUTION_PERMISSIONS.join(', ')}: guardrails name ${units.join(', ')}, resolved through AWS Organizations by the security account (a delegated administrator), not by a member account's responder role`,
      ),
    );
  if (extra.tagLookup) err(c.dim('# ec2:DescribeInstances: a route matches on tags, read from the instance when the alert carries none'));
  for (const why of ['no resource-level permission', 'resource known only at run time'] as const) {
    const names = wildcards.filter((w) => w.why === why).map((w) => w.action);
    if (names.length > 0) err(c.dim(`# Resource "*" — ${why}: ${names.join(', ')}`));
  }
  printJson(policy);
}
