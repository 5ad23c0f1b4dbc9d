/**
 * Runbooks and reports are rendered from Eta templates in `templates/`, so their wording and
 * layout can change without touching code. Markdown templates escape by hand (table cells, code
 * spans: see markdown.ts); HTML templates escape every interpolation automatically, since
 * journal text reaches them.
 */
import { Eta } from 'eta';
import { join } from 'node:path';
import { projectRoot } from '../core/paths.js';

const templatesDir = (): string => join(projectRoot(), 'templates');

let md: Eta | undefined;
let html: Eta | undefined;

function engine(kind: 'md' | 'html'): Eta {
  if (kind === 'md') {
    md ??= new Eta({ views: templatesDir(), autoEscape: false, autoTrim: false, cache: true });
    return md;
  }
  html ??= new Eta({ views: templatesDir(), autoEscape: true, autoTrim: false, cache: true });
  return html;
}

/** Render `templates/<name>` (e.g. `runbook.md.eta`) with `it` = data. */
export function renderTemplate(name: string, data: object): string {
  const kind = name.endsWith('.html.eta') ? 'html' : 'md';
  try {
    return engine(kind).render(name, data);
  } catch (err) {
    throw new Error(`failed to render template ${name}: ${(err as Error).message}`, { cause: err });
  }
}
