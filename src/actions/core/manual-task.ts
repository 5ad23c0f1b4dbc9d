import * as z from 'zod';
import { defineAction, ManualTaskRequired } from '../define.js';

const Input = z.strictObject({ title: z.string().min(1), instructions: z.string().min(1) });
type Input = z.infer<typeof Input>;

/**
 * A task only a person can do (collect memory, call the owner, file a police report). The run
 * asks a responder to confirm it is done; in automatic mode it waits for `firebreak approve`.
 */
export default defineAction<Input, unknown, null>({
  id: 'core.manual-task',
  summary: 'A task a person does by hand and confirms',
  controls: ['CC18'],
  input: Input,
  mutating: true,
  permissions: [],
  async plan(_ctx, input) {
    return { changes: [], alreadyDone: false, notes: [input.title], facts: null };
  },
  async apply(_ctx, input) {
    throw new ManualTaskRequired('manual task', { title: input.title, instructions: input.instructions });
  },
  async verify() {
    return [];
  },
});
