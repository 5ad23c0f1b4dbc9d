/**
 * `firebreak.config.yaml`: guardrails and notifications. Looked up in the working directory
 * (or `--config`); every field has a safe default, so no file is needed to start.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { InputError } from '../core/errors.js';
import { parseYamlSource, validateWith } from '../core/yaml-source.js';
import { readInputFile } from '../core/read-input.js';
import { StoreConfigSchema } from '../store/config.js';

/**
 * An account id, or an organizational unit (or the organization's root) standing for every active
 * account under it, resolved through AWS Organizations (AWS's id patterns).
 */
const AccountOrUnit = z
  .string()
  .regex(
    /^(\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/,
    'a 12-digit AWS account id, an organizational unit id (ou-a1b2-c3d4e5f6) or a root id (r-a1b2)',
  );

export const ConfigSchema = z.strictObject({
  guardrails: z
    .strictObject({
      /**
       * Refuse to change anything unless STS says the credentials belong to one of these accounts
       * (or to an account under one of these OUs); an alert from another account starts nothing.
       */
      allowedAccounts: z.array(AccountOrUnit).optional(),
      /** Never act in these accounts (checked as allowedAccounts is), whatever else allows it. */
      deniedAccounts: z.array(AccountOrUnit).optional(),
      /** Resources carrying this tag are never touched (value '*' = any value). */
      protectedTag: z
        .strictObject({ key: z.string().default('firebreak:protected'), value: z.string().default('true') })
        .default({ key: 'firebreak:protected', value: 'true' }),
      /** The most targets one map step may act on. */
      maxTargets: z.number().int().min(1).default(1000),
    })
    .default({ protectedTag: { key: 'firebreak:protected', value: 'true' }, maxTargets: 1000 }),
  notifications: z
    .strictObject({
      /** SNS topic that receives "run waiting for approval" messages. */
      snsTopicArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:sns:/)
        .optional(),
    })
    .default({}),
  /**
   * Responder role to assume for every AWS call (cross-account response). For alerts it may be a
   * template, `arn:aws:iam::{% account %}:role/FirebreakResponder`, filled from each alert.
   */
  roleArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::(\d{12}|\{%[^%]*%\}):role\//)
    .optional(),
  externalId: z.string().optional(),
  region: z.string().optional(),
  /** Where runs persist: the local folder (default) or DynamoDB + S3 (store/config.ts). */
  store: StoreConfigSchema,
});
export type Config = z.infer<typeof ConfigSchema>;

export const DEFAULT_CONFIG_FILE = 'firebreak.config.yaml';

export function loadConfig(file?: string): { config: Config; file?: string } {
  const path = resolve(file ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (file) throw new InputError(`config file ${file} does not exist`, { field: '--config' });
    return { config: ConfigSchema.parse({}) };
  }
  const source = parseYamlSource(readInputFile(path, 'config', '--config'), path);
  return { config: validateWith(ConfigSchema, source, path) as Config, file: path };
}
