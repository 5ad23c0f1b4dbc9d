/**
 * The worker Lambda's entry (`worker.handler` in the package): the contract checks of `workerHandler`
 * around the engine (`engineWorker`), with what the deployment configures:
 *   FIREBREAK_CONFIG  firebreak.config.yaml: its `store:` must be the AWS store (table, bucket); also guardrails, notifications
 *   FIREBREAK_HOME    the run's working copy (default /tmp/firebreak); the truth is in the store
 *   FIREBREAK_APPROVAL_TOPIC  the SNS topic a waiting step is announced on
 *   FIREBREAK_SIM     a world file: rehearse against the simulated cloud; never set in production
 *
 * A Lambda's /tmp is not a run store: each execution environment has its own, and it goes when the
 * environment does, so a run's next task would find no journal (or an older one) and a completed step
 * could run again. The worker refuses to start (at cold start, before any task) unless the config
 * names the AWS store — except in a rehearsal against the simulated cloud (FIREBREAK_SIM), whose world
 * lives in /tmp as well.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { chooseBackend } from '../backend/backend.js';
import { withCallContext } from '../cloud/call-context.js';
import { SNS } from '../cloud/sdk.js';
import type { Config } from '../config/config.js';
import { runStoreFor } from '../engine/local-store.js';
import { engineWorker } from './engine-worker.js';
import { lambdaConfig } from './lambda-config.js';
import { prepareUndoTask } from './undo-machine.js';
import { workerHandler, type RunWorkerPhase } from './worker.js';

function lambdaWorker(config: Config, execution: string | undefined): RunWorkerPhase {
  process.env.FIREBREAK_HOME ||= '/tmp/firebreak';
  const topic = process.env.FIREBREAK_APPROVAL_TOPIC;
  const sim = process.env.FIREBREAK_SIM || undefined;
  return engineWorker({
    store: runStoreFor(config.store),
    backend: chooseBackend({ ...(sim ? { sim } : {}), ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}) }),
    sfn: new SFNClient({}),
    config,
    ...(execution ? { execution } : {}),
    ...(topic
      ? {
          // Published with the run's audited clients, so the notification is journaled like the step's own calls.
          onWaiting: async (w, run) => {
            await withCallContext({ step: w.step, action: 'firebreak.notify', permissions: new Set(['sns:Publish']) }, () =>
              run.aws.sns.send(
                new SNS.PublishCommand({
                  TopicArn: topic,
                  Subject: `Firebreak: run ${w.runId} waits on ${w.step}`.slice(0, 100),
                  Message: `Run ${w.runId} waits for ${w.kind === 'manual' ? 'a manual task' : 'approval'} of step ${w.step} (${w.title}).\n\nfirebreak approve ${w.runId} ${w.step}   [--deny | --abort]\n`,
                }),
              ),
            );
          },
        }
      : {}),
  });
}

// Checked at cold start: a misconfigured worker fails its initialization, before any task runs.
const config = lambdaConfig(process.env);
// One engine worker per execution: it records the execution (which the router put in the run) in run.started.
const workers = new Map<string, RunWorkerPhase>();

export const runWorkerPhaseInEngine: RunWorkerPhase = (task) => {
  const execution = typeof task.run.execution === 'string' ? task.run.execution : '';
  let worker = workers.get(execution);
  if (!worker) {
    worker = lambdaWorker(config, execution || undefined);
    workers.set(execution, worker);
  }
  return worker(task);
};

const checked = workerHandler(runWorkerPhaseInEngine);
/** An undo execution's task brings its plan: its generated playbook is written where the worker finds it (undo-machine.ts). */
export const handler = (event: unknown) => checked(prepareUndoTask(event));
