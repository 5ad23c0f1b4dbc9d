/**
 * The worker Lambda's configuration (FIREBREAK_CONFIG), checked at cold start: a Lambda's /tmp is not a
 * run store (each execution environment has its own, gone with it), so a run's next task would find no
 * journal, or an older one, and a completed step could run again. Unless the config names the AWS store,
 * the worker refuses to start — except in a rehearsal against the simulated cloud (FIREBREAK_SIM), whose
 * world lives in /tmp as well.
 */
import { loadConfig, type Config } from '../config/config.js';
import { InputError } from '../core/errors.js';
import { AwsStoreSchema } from '../store/config.js';

type Env = Record<string, string | undefined>;

/** The store the deployment names in the function's environment (firebreak deploy-template sets these). */
const STORE_ENV = {
  table: 'FIREBREAK_STORE_TABLE',
  bucket: 'FIREBREAK_STORE_BUCKET',
  kmsKeyId: 'FIREBREAK_STORE_KMS_KEY',
  mode: 'FIREBREAK_STORE_OBJECT_LOCK_MODE',
  days: 'FIREBREAK_STORE_OBJECT_LOCK_DAYS',
} as const;

/**
 * The worker's config: FIREBREAK_CONFIG's, with the run store the deployment's environment names when
 * the file names none; refused when the run store would be the Lambda's own /tmp.
 */
export function lambdaConfig(env: Env): Config {
  const file = env.FIREBREAK_CONFIG || undefined;
  const { config } = loadConfig(file);
  if (config.store.kind === 'aws') return config;
  if (env[STORE_ENV.table] || env[STORE_ENV.bucket]) {
    const store = AwsStoreSchema.safeParse({
      kind: 'aws',
      table: env[STORE_ENV.table],
      bucket: env[STORE_ENV.bucket],
      kmsKeyId: env[STORE_ENV.kmsKeyId],
      objectLock: {
        ...(env[STORE_ENV.mode] ? { mode: env[STORE_ENV.mode] } : {}),
        ...(env[STORE_ENV.days] ? { days: Number(env[STORE_ENV.days]) } : {}),
      },
    });
    if (!store.success) {
      const issue = store.error.issues[0]!;
      const name = STORE_ENV[issue.path[0] as keyof typeof STORE_ENV] ?? String(issue.path.join('.'));
      throw new InputError(`failed to start the worker: ${name}: ${issue.message}`, {
        field: name,
        hint: 'firebreak deploy-template sets it; deploy the template again',
      });
    }
    return { ...config, store: store.data };
  }
  if (env.FIREBREAK_SIM) return config;
  throw new InputError(
    `failed to start the worker: its run store would be the local folder ${env.FIREBREAK_HOME || '/tmp/firebreak'}, which does not outlive a Lambda execution environment; ${file ? `${file} names no store: kind: aws` : 'FIREBREAK_CONFIG names no config file'}, and ${STORE_ENV.table} / ${STORE_ENV.bucket} are not set`,
    {
      field: 'store',
      hint: 'set store: { kind: aws, table: …, bucket: …, kmsKeyId: … } in the firebreak.config.yaml FIREBREAK_CONFIG names, or deploy with firebreak deploy-template (it sets FIREBREAK_STORE_*)',
    },
  );
}
