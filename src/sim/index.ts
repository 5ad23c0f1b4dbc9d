/** The simulated cloud: a typed world served to the real SDK clients through their middleware stack. */
export { createSimCloud, NotImplemented } from './cloud.js';
export type { SimCloud, SimCloudOptions, SimCall, SimFaults } from './cloud.js';
export { loadWorld, parseWorld, saveWorld, worldSchema, worldJsonSchema, defaultCaller } from './world.js';
export type { World, WorldSlices, WorldAccount, RegionSlices } from './world.js';
export { scopesOf, accountIds, regionsOf, scopedWorld } from './scopes.js';
export type { Scope } from './scopes.js';
export type { Fault, FaultHandle } from './faults.js';
export type { RateLimits } from './ratelimit.js';
export { openConnection, isConnectionOpen } from './connections.js';
export type { OpenConnectionSpec } from './connections.js';
export type { Ec2World, ConnectionT as Connection } from './services/ec2/schema.js';
export { FaultSchema } from './faults.js';

/** For tabletop exercises: moves outside the AWS API and inspection of the world (see tabletop.ts). */
export { issueRoleSession, findRole, isKeyUsable, interfaceOf, aclAllows, runDlmSchedules } from './tabletop.js';
export type { IamRole, DlmRunResult } from './tabletop.js';

/** Step Functions executions run in process (rehearsals and tests): see services/states/runtime.ts. */
export { attachStatesRuntime, type StatesRuntime, type InvokeLambda } from './services/states/index.js';
export type { ExecutionT as SimExecution } from './services/states/index.js';
