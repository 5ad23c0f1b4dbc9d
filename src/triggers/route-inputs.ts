/**
 * A route's playbook inputs, mapped from the alert with JSONata (`{% resources.instanceIds[0] %}`,
 * the `{% … %}` syntax and compiler of playbook expressions). The alert is the expression's input
 * document and also `$alert`. Evaluated once, when the run starts: the run journals the values, so
 * a resumed run never evaluates them again.
 */
import { InputError, type SourcePos } from '../core/errors.js';
import { compileExpression, ExpressionError, expressionBody, isExpression, isJsonataError, jsonataMessage } from '../playbook/expr.js';
import { validateInputs } from '../playbook/inputs.js';
import type { LoadedPlaybook } from '../playbook/schema.js';
import { alertSummary, type Alert } from './alert.js';

export async function evaluateOverAlert(expr: string, alert: Alert, where: { field: string; pos?: SourcePos }): Promise<unknown> {
  const body = expressionBody(expr) ?? expr;
  const doc = { ...alertSummary(alert), raw: alert.raw };
  try {
    const result = await compileExpression(body).evaluate(doc, { alert: doc });
    // JSONata marks sequences with extra properties; the run journals plain JSON.
    return result === undefined ? undefined : JSON.parse(JSON.stringify(result));
  } catch (err) {
    const j = isJsonataError(err) ? err : undefined;
    throw new ExpressionError(`failed to evaluate ${where.field}: ${j ? jsonataMessage(j) : (err as Error).message}`, body, j?.code, {
      ...(where.pos ? { pos: where.pos } : {}),
      field: where.field,
      cause: err,
    });
  }
}

export interface MappedInputs {
  values: Record<string, unknown>;
}

/**
 * Evaluate every input of a route, then check them against the playbook's declarations. A value
 * that maps to nothing (the alert lacks that resource) is left out, so a required input reports
 * "missing required input" naming the route.
 */
export async function mapRouteInputs(
  inputs: Record<string, unknown>,
  alert: Alert,
  loaded: LoadedPlaybook,
  where: { route: string; posOf: (path: (string | number)[]) => SourcePos | undefined; index: number },
): Promise<Record<string, unknown>> {
  const values: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(inputs)) {
    const field = `routes[${where.index}].inputs.${name}`;
    const pos = where.posOf(['routes', where.index, 'inputs', name]);
    let v = isExpression(raw) ? await evaluateOverAlert(raw, alert, { field, ...(pos ? { pos } : {}) }) : raw;
    const decl = loaded.playbook.inputs?.[name];
    // One resource where the playbook takes a list: wrap it, as JSONata unwraps one-item lists.
    if (decl?.type === 'string[]' && typeof v === 'string') v = [v];
    if (v !== undefined && v !== null) values[name] = v;
  }
  try {
    return validateInputs(values, loaded.playbook.inputs ?? {}, { file: loaded.file, posOf: loaded.posOf });
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    throw new InputError(`route '${where.route}' cannot start ${loaded.playbook.id} for this alert: ${err.message}`, {
      ...(err.field ? { field: err.field } : {}),
      hint: `the alert (${alert.type}) lacks what the route maps to this input; fix the route's inputs in the routing table, or the alert`,
      more: err.more,
    });
  }
}
