/**
 * What players do by hand, outside a playbook: a Firebreak action run plan → apply → verify with
 * the action's declared permissions enforced (as the engine runs it, but without a run around
 * it), or one raw AWS call as a person makes it in the console or the AWS CLI. Both go through
 * the responder's SDK clients to the same simulated cloud, so a naive fix has its real effect.
 */
import { getAction } from '../actions/registry.js';
import { ManualTaskRequired, type ActionContext, type Guardrails } from '../actions/define.js';
import { withCallContext } from '../cloud/call-context.js';
import type { AwsClients, ServiceName } from '../cloud/clients.js';
import { utilityClients } from '../backend/backend.js';
import { permissionGuard } from '../cloud/middleware.js';
import { awsErrorCode, FirebreakError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { SimCloud } from '../sim/index.js';
import type { PlayerActionT } from './decisions.js';
import { sendRaw } from './sdk-commands.js';

export interface PlayerOutcome {
  ok: boolean;
  text: string;
  detail?: string;
}

export class Players {
  private readonly aws: AwsClients;

  constructor(
    sim: SimCloud,
    private readonly clock: Clock,
    private readonly guard: Guardrails,
    private readonly incident: string,
    random: () => number,
  ) {
    // Retries wait on the exercise's clock, as the runs' do.
    this.aws = utilityClients({ simCloud: sim, clock, random }, { userAgent: 'firebreak-tabletop players', plugins: [permissionGuard()] });
  }

  async perform(a: PlayerActionT, key: string): Promise<PlayerOutcome> {
    const label = a.title ?? (a.action ? `${a.action}` : `${a.call!.service}:${a.call!.operation}`);
    try {
      if (a.call) {
        await sendRaw(this.aws, a.call.service as ServiceName, a.call.operation, a.call.input);
        return { ok: true, text: `${label}: done by hand (${a.call.service}:${a.call.operation})` };
      }
      return await this.runAction(a.action!, a.with ?? {}, key, label);
    } catch (err) {
      // A player's move that AWS (or a guardrail) refuses is an event of the exercise, shown on
      // the timeline as it happened; anything else is a fault of Firebreak and propagates.
      const code = awsErrorCode(err);
      if (code) return { ok: false, text: `${label}: failed: ${code}: ${(err as Error).message}` };
      if (err instanceof FirebreakError) return { ok: false, text: `${label}: failed: ${err.message}` };
      throw err;
    }
  }

  private async runAction(id: string, withValues: Record<string, unknown>, key: string, label: string): Promise<PlayerOutcome> {
    const def = getAction(id);
    const input = def.input.parse(withValues);
    const notes: string[] = [];
    const ctx: ActionContext = {
      aws: this.aws,
      run: { id: 'players', incident: this.incident, playbook: '(by hand)', step: key, actor: 'players' },
      clock: this.clock,
      guard: this.guard,
      log: (message) => void notes.push(message),
      signal: new AbortController().signal,
    };
    return withCallContext({ step: key, action: def.id, permissions: new Set(def.permissions) }, async () => {
      const plan = await def.plan(ctx, input);
      if (plan.changes.length === 0) return { ok: true, text: `${label}: nothing to change (already done)` };
      let output: unknown;
      try {
        output = await def.apply(ctx, input, plan);
      } catch (err) {
        if (err instanceof ManualTaskRequired) return { ok: false, text: `${label}: cannot be done by API: ${err.reason}` };
        throw err;
      }
      const checks = await def.verify(ctx, input, output);
      const bad = checks.filter((c) => !c.ok);
      const changes = plan.changes.map((c) => `${c.resource} ${c.field}`).join('; ');
      return bad.length === 0
        ? { ok: true, text: `${label}: applied (${changes})` }
        : { ok: false, text: `${label}: applied, but verification failed: ${bad.map((c) => c.name).join('; ')}` };
    });
  }
}
