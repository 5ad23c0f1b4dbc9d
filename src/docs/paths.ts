/**
 * Firebreak's own files the docs and reports use (templates, the demo world), whichever way it
 * runs. Playbooks, runbooks and schemas are the project's, found from the working directory.
 */
import { join } from 'node:path';
import { projectRoot } from '../core/paths.js';

export const packageRoot = projectRoot;
export const templatesDir = (): string => join(projectRoot(), 'templates');
export const demoWorldFile = (): string => join(projectRoot(), 'worlds', 'demo.yaml');
