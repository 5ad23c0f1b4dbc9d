/**
 * The worker Lambda's entry (`worker.handler` in the package): the contract checks of `workerHandler`
 * around the engine (`engineWorker`), with what the deployment configures:
 *   FIREBREAK_HOME    the run store's folder (default /tmp/firebreak)
 *   FIREBREAK_CONFIG  firebreak.config.yaml (guardrails, notifications)
 *   FIREBREAK_APPROVAL_TOPIC  the SNS topic a waiting step is announced on
 *   FIREBREAK_SIM     a world file: rehearse against the simulated cloud; never set in production
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { chooseBackend } from '../backend/backend.js';
import { withCallContext } from '../cloud/call-context.js';
import { SNS } from '../cloud/sdk.js';
import { localRunStore } from '../engine/local-store.js';
import { engineWorker } from './engine-worker.js';
import { workerHandler, type RunWorkerPhase } from './worker.js';

let worker: RunWorkerPhase | undefined;

function lambdaWorker(): RunWorkerPhase {
  process.env.FIREBREAK_HOME ||= '/tmp/firebreak';
  const topic = process.env.FIREBREAK_APPROVAL_TOPIC;
  const sim = process.env.FIREBREAK_SIM || undefined;
  return engineWorker({
    store: localRunStore(),
    backend: chooseBackend({ ...(sim ? { sim } : {}), ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}) }),
    sfn: new SFNClient({}),
    ...(process.env.FIREBREAK_CONFIG ? { configFile: process.env.FIREBREAK_CONFIG } : {}),
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

export const runWorkerPhaseInEngine: RunWorkerPhase = (task) => {
  worker ??= lambdaWorker();
  return worker(task);
};

export const handler = workerHandler(runWorkerPhaseInEngine);
