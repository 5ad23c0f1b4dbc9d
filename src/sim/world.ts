/**
 * The simulated world: a home account in a home Region (the top-level slices), the identity that
 * calls, a start time, faults, and one slice per simulated service; optionally more Regions of the
 * home account (`regions`) and more accounts (`accounts`), each slice kept where AWS keeps it
 * (see scopes.ts). Loaded from YAML or JSON, validated with zod; every
 * problem is reported with file:line:col and the dotted path of the field.
 */
import { promises as fs } from 'node:fs';
import * as z from 'zod';
import { LineCounter, parseDocument, isMap, isPair, isScalar, stringify, type Document } from 'yaml';
import { InputError } from '../core/errors.js';
import { writeFileDurably } from '../core/durable-write.js';
import { FaultSchema } from './faults.js';
import { RateLimitsSchema } from './ratelimit.js';
import { awsStyleId } from './ids.js';
import { services } from './services/index.js';
import { readChangeLog } from './change-log.js';
import { replayChanges } from './cloud.js';
import type { schema as ec2Schema } from './services/ec2/index.js';
import type { schema as stsSchema } from './services/sts/index.js';
import type { schema as iamSchema } from './services/iam/index.js';
import type { schema as autoscalingSchema } from './services/autoscaling/index.js';
import type { schema as elbv2Schema } from './services/elbv2/index.js';
import type { schema as dlmSchema } from './services/dlm/index.js';
import type { schema as supportSchema } from './services/support/index.js';
import type { schema as snsSchema } from './services/sns/index.js';
import type { schema as s3Schema } from './services/s3/schema.js';
import type { schema as statesSchema } from './services/states/schema.js';
import type { schema as organizationsSchema } from './services/organizations/schema.js';
import { readInputFile } from '../core/read-input.js';

const AccountId = z.string().regex(/^\d{12}$/, 'an AWS account id is 12 digits');
const Region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, 'a region such as us-east-1');

const base = {
  account: z.strictObject({
    id: AccountId,
    alias: z.string().optional(),
  }),
  region: Region.default('us-east-1'),
  caller: z
    .strictObject({
      arn: z.string().regex(/^arn:aws[\w-]*:(iam|sts)::\d{12}:.+$/, 'an IAM or STS ARN'),
      userId: z.string().min(1),
    })
    .optional()
    .describe('who STS GetCallerIdentity says is calling; default: IAM user "responder" in the account'),
  time: z.iso
    .datetime({ offset: true })
    .default('2026-01-01T00:00:00Z')
    .describe('simulated time (ISO 8601); kept current when the world is saved'),
  faults: z.array(FaultSchema).default([]),
  rateLimits: RateLimitsSchema.optional(),
  latencyMs: z.number().int().nonnegative().optional().describe('real delay added to every call (benchmarks)'),
  idCounter: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('how many ids the simulation has handed out; keeps new ids unique across saves'),
};

const BaseShape = z.strictObject(base);
type BaseWorld = Omit<z.output<typeof BaseShape>, 'caller'> & { caller: { arn: string; userId: string } };

/** One typed slice per service, keyed by the service's world key. */
export interface WorldSlices {
  ec2: z.output<typeof ec2Schema>;
  sts: z.output<typeof stsSchema>;
  iam: z.output<typeof iamSchema>;
  autoscaling: z.output<typeof autoscalingSchema>;
  elbv2: z.output<typeof elbv2Schema>;
  dlm: z.output<typeof dlmSchema>;
  support: z.output<typeof supportSchema>;
  sns: z.output<typeof snsSchema>;
  s3: z.output<typeof s3Schema>;
  states: z.output<typeof statesSchema>;
  organizations: z.output<typeof organizationsSchema>;
}

type RegionalKey = 'ec2' | 'autoscaling' | 'elbv2' | 'dlm' | 'sns' | 'states';
/** The slices AWS keeps per account and Region. */
export type RegionSlices = Pick<WorldSlices, RegionalKey>;
/** Another account: its account-wide slices (IAM, S3, Support) and its Regions. */
export type WorldAccount = { id: string; alias?: string | undefined; regions: Record<string, RegionSlices> } & Omit<
  WorldSlices,
  RegionalKey | 'sts' | 'organizations'
> & {
    s3?: unknown;
  };

export type World = BaseWorld &
  WorldSlices & {
    /** More Regions of the home account, by name (the home Region's slices are the top-level ones). */
    regions?: Record<string, RegionSlices>;
    /** Accounts beyond the home account. */
    accounts?: WorldAccount[];
  };

/** The IAM user a world calls as when it names no caller. */
export function defaultCaller(accountId: string): { arn: string; userId: string } {
  const arn = `arn:aws:iam::${accountId}:user/responder`;
  return { arn, userId: awsStyleId('AIDA', arn) };
}

function buildSchema() {
  const slices: Record<string, z.ZodType> = {};
  const regional: Record<string, z.ZodType> = {};
  const accountWide: Record<string, z.ZodType> = {};
  for (const s of services) {
    slices[s.key] = s.schema as z.ZodType;
    if (s.scope === 'regional') regional[s.key] = s.schema as z.ZodType;
    if (s.scope === 'account') accountWide[s.key] = s.schema as z.ZodType;
  }
  const RegionSlices = z
    .strictObject(regional)
    .describe('the slices AWS keeps per account and Region (ec2, autoscaling, elbv2, dlm, sns, states)');
  const Regions = z.record(Region, RegionSlices);
  const Account = z
    .strictObject({ id: AccountId, alias: z.string().optional(), ...accountWide, regions: Regions.default({}) })
    .describe("another account: its account-wide slices (iam, s3, support) and its Regions' slices");
  return z
    .strictObject({
      ...base,
      ...slices,
      regions: Regions.optional().describe("more Regions of the home account (the home Region's slices are the top-level ones)"),
      accounts: z.array(Account).optional().describe('accounts beyond the home account'),
    })
    .superRefine((w, check) => {
      if (w.regions?.[w.region]) {
        check.addIssue({
          code: 'custom',
          path: ['regions', w.region],
          message: `${w.region} is the home Region: its slices are the top-level ones`,
        });
      }
      const seen = new Set([w.account.id]);
      (w.accounts ?? []).forEach((a, i) => {
        if (seen.has(a.id)) {
          const message =
            a.id === w.account.id
              ? `${a.id} is the home account: declare its other Regions under the top-level 'regions'`
              : `duplicate account ${a.id}`;
          check.addIssue({ code: 'custom', path: ['accounts', i, 'id'], message });
        }
        seen.add(a.id);
      });
    })
    .transform((w) => ({ ...w, caller: w.caller ?? defaultCaller(w.account.id) }));
}

/** The world's zod schema (output: World). */
export const worldSchema = buildSchema() as unknown as z.ZodType<World>;

/** The JSON Schema editors use for world files (`# yaml-language-server: $schema=…`). */
export function worldJsonSchema(): Record<string, unknown> {
  // Slices repeat under `regions` and `accounts`: each is written once, in $defs.
  return z.toJSONSchema(worldSchema, { io: 'input', unrepresentable: 'any', reused: 'ref' }) as Record<string, unknown>;
}

type PathKey = string | number;

function dotted(p: readonly PropertyKey[]): string {
  return p.map(String).join('.');
}

/** The node a zod issue points at, or the nearest node above it that exists. */
function locate(doc: Document, lines: LineCounter, file: string, p: readonly PathKey[], unknownKey?: string) {
  let node: unknown = doc.contents;
  for (const key of p) {
    if (!isMap(node) && !(node && typeof node === 'object' && 'items' in node)) break;
    const next = (node as unknown as { get(k: unknown, keep: boolean): unknown }).get(key, true);
    if (next === undefined) break;
    node = next;
  }
  let range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (unknownKey && isMap(node)) {
    const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === unknownKey);
    const keyRange = pair && isScalar(pair.key) ? pair.key.range : undefined;
    if (keyRange) range = keyRange;
  }
  const at = lines.linePos(range?.[0] ?? 0);
  return { file, line: at.line, col: at.col };
}

/** Parse and validate a world from YAML or JSON text. `file` names it in error messages. */
export function parseWorld(text: string, file: string): World {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const errs = doc.errors.map((e) => {
      const at = lines.linePos(e.pos[0]);
      return new InputError(`failed to parse world: ${e.message.split('\n')[0]}`, { pos: { file, line: at.line, col: at.col } });
    });
    throw new InputError(errs[0]!.message, { pos: errs[0]!.pos!, more: errs.slice(1) });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // The yaml library refuses an alias bomb ("billion laughs") with a ReferenceError and no position.
    throw new InputError(`failed to parse world: ${(err as Error).message}`, { pos: { file, line: 1, col: 1 }, cause: err });
  }
  if (data === null || data === undefined) {
    throw new InputError('failed to load world: the file is empty', { pos: { file, line: 1, col: 1 } });
  }
  const parsed = worldSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const errs = parsed.error.issues.map((issue) => {
    const p = issue.path as PathKey[];
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      return new InputError(
        `unknown field '${key}'${
          issue.keys.length > 1
            ? ` (and ${issue.keys
                .slice(1)
                .map((k) => `'${k}'`)
                .join(', ')})`
            : ''
        }`,
        {
          pos: locate(doc, lines, file, p, key),
          field: dotted([...p, key]),
        },
      );
    }
    return new InputError(issue.message, { pos: locate(doc, lines, file, p), field: dotted(p) || undefined } as {
      pos: ReturnType<typeof locate>;
      field?: string;
    });
  });
  const first = errs[0]!;
  throw new InputError(first.message, { pos: first.pos!, ...(first.field ? { field: first.field } : {}), more: errs.slice(1) });
}

/**
 * Read and validate a world file (YAML or JSON). A world kept with `persistTo` comes back with
 * every change its calls answered: those still in its change log are applied (change-log.ts).
 */
export async function loadWorld(file: string): Promise<World> {
  const text = readInputFile(file, 'world');
  const world = parseWorld(text, file);
  const changes = readChangeLog(file, text);
  if (changes.length > 0) await replayChanges(world, changes, file);
  return world;
}

const HEADER = /^# yaml-language-server:.*\n/;

/**
 * Write the world atomically and durably (see core/durable-write.ts): a crash leaves either the
 * old world or the new one, never half of each.
 * JSON for `.json` files, YAML otherwise (keeping an existing schema comment line).
 */
export async function saveWorld(world: World, file: string): Promise<void> {
  const isJson = file.toLowerCase().endsWith('.json');
  let text: string;
  if (isJson) {
    text = `${JSON.stringify(world, null, 2)}\n`;
  } else {
    let header = '';
    try {
      const old = await fs.readFile(file, 'utf8');
      header = HEADER.exec(old)?.[0] ?? '';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    text = header + stringify(world, { lineWidth: 0 });
  }
  try {
    await writeFileDurably(file, text);
  } catch (err) {
    throw new Error(`failed to save world ${file}: ${(err as Error).message}`, { cause: err });
  }
}
