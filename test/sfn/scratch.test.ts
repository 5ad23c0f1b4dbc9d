import { it } from 'vitest';
import { sfnRun, worlds } from './real-worker.js';

it('fleet3', async () => {
  const w = worlds(3);
  const sfn = await sfnRun('ec2-fleet-compromise', { imageIds: ['ami-0c55b159cbfafe1f0'] }, {}, w.fleet);
  console.log('TASKS', sfn.tasks.map((t) => `${t.phase} ${t.stepKey ?? t.stepId}${t.index ?? ''}`).join(', '));
  console.log(
    'EV',
    sfn.events
      .filter((e) => String(e.step ?? '').startsWith('detach'))
      .map((e) => `${e.seq} ${e.type} ${e.step} ${e.index ?? ''}`)
      .join('\n'),
  );
}, 60000);
