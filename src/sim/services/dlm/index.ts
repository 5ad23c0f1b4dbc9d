/**
 * Simulated Amazon Data Lifecycle Manager: EBS snapshot lifecycle policies — the way a responder
 * raises the snapshot frequency of a suspicious instance's volumes — and, on the simulated
 * clock, the snapshots those policies take (`runDlmSchedules`).
 *
 * A policy's PolicyDetails is kept in AWS's own shape (as the API and CloudFormation write it),
 * so GetLifecyclePolicy returns what was given. Error names given to `ctx.fail` are the SDK's:
 * DLM is a JSON protocol, so codes and exception names coincide.
 */
import type { SimService } from '../../service.js';
import { DLM } from '../../../cloud/sdk.js';
import { handlers } from './handlers.js';
import { schema, type DlmWorld } from './schema.js';
export { DLM_INTERVALS, policyDetailsProblem, schema } from './schema.js';
export type { DlmWorld, DlmPolicy } from './schema.js';
export { runDlmSchedules } from './schedules.js';
export type { DlmRunResult } from './schedules.js';

export const service: SimService<DlmWorld> = {
  clientName: 'DLMClient',
  key: 'dlm',
  scope: 'regional',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return DLM.DLMServiceException;
  },
};
