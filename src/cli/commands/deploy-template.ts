/** `firebreak deploy-template`: the CloudFormation template of a deployment, from the routing table. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approvalTimeoutSeconds as approvalTimeout } from '../../sfn/approval-timeout.js';
import { toYaml } from '../../deploy/cfn.js';
import { deploymentTemplate } from '../../deploy/template.js';
import { responderRoleTemplate } from '../../deploy/responder-role.js';
import { loadConfig } from '../../config/config.js';
import { DEFAULT_ROUTES_FILE, loadRoutes } from '../../triggers/routes.js';
import { c, err, printJson } from '../output.js';

export interface DeployTemplateOptions {
  routes?: string;
  out?: string;
  waitForApproval?: string;
  /** The member-account responder role instead of the deployment (a StackSet template). */
  responderRole?: boolean;
  withUndo?: boolean;
  config?: string;
  json?: boolean;
}

export async function deployTemplate(opts: DeployTemplateOptions): Promise<void> {
  const table = loadRoutes(opts.routes ?? DEFAULT_ROUTES_FILE);
  if (opts.responderRole)
    return writeTemplate(opts, 'responder-role.yaml', responderRole(table.routes, opts), table.file, [
      `deploy to every member account: aws cloudformation create-stack-set --stack-set-name firebreak-responder --template-body file://<file> --capabilities CAPABILITY_NAMED_IAM --parameters ParameterKey=TrustedPrincipalArns,ParameterValue=<security account's Firebreak role ARNs> ParameterKey=ExternalId,ParameterValue=<external id>`,
    ]);
  const approvalTimeoutSeconds = approvalTimeout(opts.waitForApproval);
  const template = deploymentTemplate(table.routes, approvalTimeoutSeconds ? { approvalTimeoutSeconds } : {});
  // CloudFormation takes a template body of at most 51,200 bytes inline; larger ones go through S3.
  writeTemplate(opts, 'template.yaml', template, table.file, [
    `deploy: aws cloudformation deploy --template-file <file> --stack-name firebreak --s3-bucket <code bucket> --capabilities CAPABILITY_IAM --parameter-overrides CodeBucket=<code bucket> CodeKey=<key from firebreak package>`,
  ]);
}

function responderRole(routes: Parameters<typeof responderRoleTemplate>[0], opts: DeployTemplateOptions) {
  const { config } = loadConfig(opts.config);
  return responderRoleTemplate(routes, config, { withUndo: !!opts.withUndo });
}

/** The template on stdout or in `--out`; with `--json`, one document naming it (schemas/output/deploy-template.schema.json). */
function writeTemplate(
  opts: DeployTemplateOptions,
  name: string,
  template: Parameters<typeof toYaml>[0],
  from: string,
  next: string[],
): void {
  const text = toYaml(template);
  const json = (file: string | null) => printJson({ routes: from, file, bytes: Buffer.byteLength(text), template });
  if (!opts.out) {
    if (opts.json) json(null);
    else process.stdout.write(text);
    return;
  }
  mkdirSync(opts.out, { recursive: true });
  const file = join(opts.out, name);
  writeFileSync(file, text);
  if (opts.json) json(file);
  err(c.dim(`wrote ${file} (${Buffer.byteLength(text)} bytes) from ${from}`));
  for (const line of next) err(c.dim(line.replace('<file>', file)));
}
