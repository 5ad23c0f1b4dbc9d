/**
 * Simulated AWS Step Functions: state machines, their executions, task tokens and redrive — what the
 * alert router, `firebreak approve`, `resume`, `undo` and `runs` call. Executions run in process only
 * when a runtime is attached to the world (`attachStatesRuntime`: the definition executed by
 * aws-local-stepfunctions, each Lambda task calling the function given); see runtime.ts.
 */
import type { SimService } from '../../service.js';
import { SFN } from '../../../cloud/sdk.js';
import { handlers } from './handlers.js';
import { schema, type StatesWorld } from './schema.js';
export { schema } from './schema.js';
export type { StatesWorld, ExecutionT, StateMachineT } from './schema.js';
export { attachStatesRuntime, runtimeOf, type StatesRuntime, type InvokeLambda } from './runtime.js';

export const service: SimService<StatesWorld> = {
  clientName: 'SFNClient',
  key: 'states',
  scope: 'regional',
  schema,
  handlers,
  // A getter: the SDK package loads when the simulated service first fails a call, not when the simulation loads.
  get exception() {
    return SFN.SFNServiceException;
  },
};
