/** `runbooks/actions.md`: every action of the registry — what it does, its input, permissions, undo, controls. */
import * as z from 'zod';
import type { ActionDef } from '../actions/define.js';
import { controlInfo, type ControlInfo } from './controls.js';
import * as md from '../render/markdown.js';
import { renderTemplate } from '../render/templates.js';
import { actionDoc, DOCS_MARKER, type ActionDoc } from './runbook.js';

export interface ActionInputField {
  name: string;
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

export interface ActionsModel {
  marker: string;
  actions: Array<ActionDoc & { controlsInfo: ControlInfo[]; input: ActionInputField[]; fallback?: string[]; usedBy: string[] }>;
  md: typeof md;
}

function typeOf(s: Record<string, unknown>): string {
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (s.type === 'array') {
    const items = (s.items ?? {}) as Record<string, unknown>;
    return `${typeOf(items)}[]`;
  }
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.anyOf)) return (s.anyOf as Record<string, unknown>[]).map(typeOf).join(' or ');
  return 'any';
}

/** The action's input fields, from its zod schema (as a file or a playbook's `with` would give them). */
export function inputFields(a: ActionDef): ActionInputField[] {
  const schema = z.toJSONSchema(a.input, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeOf(p),
    required: required.has(name),
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(typeof p.description === 'string' ? { description: p.description } : {}),
  }));
}

export function actionsModel(actions: Iterable<ActionDef>, usedBy: (id: string) => string[]): ActionsModel {
  const list = [...actions].sort((a, b) => a.id.localeCompare(b.id));
  return {
    marker: DOCS_MARKER,
    actions: list.map((a) => {
      const input = inputFields(a);
      return {
        ...actionDoc(a),
        controlsInfo: (a.controls ?? []).map(controlInfo),
        input,
        ...(a.fallback ? { fallback: a.fallback(Object.fromEntries(input.map((f) => [f.name, `<${f.name}>`]))) } : {}),
        usedBy: usedBy(a.id),
      };
    }),
    md,
  };
}

export function renderActions(model: ActionsModel): string {
  return md.tidy(renderTemplate('runbook.actions.md.eta', model));
}
