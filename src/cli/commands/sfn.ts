/** `firebreak sfn PLAYBOOK`: the playbook as an Amazon States Language definition (JSONPath; see src/sfn/compile.ts). */
import { writeFileSync } from 'node:fs';
import { approvalTimeoutSeconds as approvalTimeout } from '../../sfn/approval-timeout.js';
import { allStates, WORKER_PLACEHOLDER } from '../../sfn/compile.js';
import { aslText, compileLoaded, loadForSfn } from '../../sfn/playbooks.js';
import { c, err, printJson } from '../output.js';

export interface SfnOptions {
  out?: string;
  waitForApproval?: string;
  workerArn?: string;
  json?: boolean;
}

export async function sfn(playbook: string, opts: SfnOptions): Promise<void> {
  const loaded = loadForSfn(playbook);
  const approvalTimeoutSeconds = approvalTimeout(opts.waitForApproval);
  const asl = compileLoaded(loaded, {
    ...(approvalTimeoutSeconds ? { approvalTimeoutSeconds } : {}),
    ...(opts.workerArn ? { workerFunction: opts.workerArn } : {}),
  });
  const text = aslText(asl);
  if (opts.out) {
    writeFileSync(opts.out, text);
    err(c.dim(`wrote ${opts.out}: ${allStates(asl).length} states`));
  }
  if (opts.json) printJson({ playbook: loaded.playbook.id, file: opts.out ?? null, states: allStates(asl).length, definition: asl });
  else if (!opts.out) process.stdout.write(text);
  if (!opts.workerArn)
    err(
      c.dim(
        `# the worker Lambda is ${WORKER_PLACEHOLDER}: give --worker-arn, or deploy with firebreak deploy-template (DefinitionSubstitutions)`,
      ),
    );
}
