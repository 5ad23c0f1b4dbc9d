/** STS keeps no state of its own: the sessions it issues are recorded in the IAM slice. */
import * as z from 'zod';

export const schema = z.strictObject({}).default({});
export type StsWorld = z.output<typeof schema>;
