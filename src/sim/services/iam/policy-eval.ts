/** Policy documents: IAM's checks on them, and the evaluation of the conditions and denies the simulation honours. */
import type * as z from 'zod';
import { AWS_MANAGED_POLICIES, type PolicyDocument, type WithIam } from './schema.js';

export const docText = (doc: z.infer<typeof PolicyDocument>): string => (typeof doc === 'string' ? doc : JSON.stringify(doc));

/**
 * IAM returns policy documents URL-encoded (RFC 3986) from GetUserPolicy, GetRolePolicy, GetRole
 * and the instance-profile calls, and the JavaScript SDK v3 hands that text over undecoded: a
 * caller must `decodeURIComponent(PolicyDocument)` before `JSON.parse`, exactly as against AWS.
 */
export function encodePolicy(doc: z.infer<typeof PolicyDocument>): string {
  return encodeURIComponent(docText(doc)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface Statement {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Condition?: unknown;
}

export function statementsOf(doc: unknown): Statement[] {
  const s = (doc as { Statement?: unknown } | null)?.Statement;
  if (Array.isArray(s)) return s as Statement[];
  return s && typeof s === 'object' ? [s as Statement] : [];
}

export function parseDoc(doc: z.infer<typeof PolicyDocument>): unknown {
  if (typeof doc !== 'string') return doc;
  try {
    return JSON.parse(doc);
  } catch {
    return undefined;
  }
}

/**
 * The checks IAM makes on a policy before storing it. Returns AWS's message for the first
 * problem, or undefined for a document IAM accepts. `kind` is 'trust' for a role's
 * AssumeRolePolicyDocument, whose grammar differs (Principal required, Resource forbidden).
 */
export function policyProblem(text: string, kind: 'identity' | 'trust'): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'Syntax errors in policy.';
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return 'Syntax errors in policy.';
  const version = (doc as { Version?: unknown }).Version;
  if (version !== undefined && version !== '2012-10-17' && version !== '2008-10-17') return 'The policy failed legacy parsing';
  const raw = (doc as { Statement?: unknown }).Statement;
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) return 'Syntax errors in policy.';
  for (const st of statementsOf(doc)) {
    if (!st || typeof st !== 'object') return 'Syntax errors in policy.';
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') return 'Syntax errors in policy.';
    if (st.Action === undefined && st.NotAction === undefined) return 'Syntax errors in policy.';
    if (kind === 'identity' && (st.Principal !== undefined || st.NotPrincipal !== undefined)) {
      return 'Policy document should not specify a principal.';
    }
    if (kind === 'trust' && st.Principal === undefined && st.NotPrincipal === undefined) return 'Missing required field Principal';
    if (kind === 'trust' && (st.Resource !== undefined || st.NotResource !== undefined)) return 'Has prohibited field Resource';
  }
  return undefined;
}

export const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** What a request carries that conditions may test. Keys absent here are absent from the request. */
export interface RequestContext {
  /** When the session's credentials were issued; long-term access keys carry no token, so none. */
  tokenIssueTime?: Date;
  now?: Date;
  externalId?: string;
  /** The ARN of the calling principal: a user's ARN, or for a role session its role's ARN (with path). */
  principalArn?: string;
  principalAccount?: string;
  /** The source identity the request carries (a session's, or the one AssumeRole is setting). */
  sourceIdentity?: string;
}

export function contextValue(key: string, rc: RequestContext): string | Date | undefined {
  switch (key.toLowerCase()) {
    case 'aws:tokenissuetime':
      return rc.tokenIssueTime;
    case 'aws:currenttime':
    case 'aws:epochtime':
      return rc.now;
    case 'sts:externalid':
      return rc.externalId;
    case 'aws:principalarn':
      return rc.principalArn;
    case 'aws:principalaccount':
      return rc.principalAccount;
    case 'aws:sourceidentity':
    case 'sts:sourceidentity':
      return rc.sourceIdentity;
    default:
      return undefined;
  }
}

export function toTime(v: unknown): number | undefined {
  if (typeof v === 'number') return v * 1000; // epoch seconds, as IAM accepts
  if (typeof v !== 'string') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

export const DATE_OPS: Record<string, (a: number, b: number) => boolean> = {
  DateEquals: (a, b) => a === b,
  DateNotEquals: (a, b) => a !== b,
  DateLessThan: (a, b) => a < b,
  DateLessThanEquals: (a, b) => a <= b,
  DateGreaterThan: (a, b) => a > b,
  DateGreaterThanEquals: (a, b) => a >= b,
};
/** IAM's wildcards: `*` any run of characters, `?` one character. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's').test(value);
}

export const STRING_OPS: Record<string, (a: string, b: string) => boolean> = {
  StringEquals: (a, b) => a === b,
  StringNotEquals: (a, b) => a !== b,
  StringEqualsIgnoreCase: (a, b) => a.toLowerCase() === b.toLowerCase(),
  StringLike: (a, b) => globMatches(b, a),
  StringNotLike: (a, b) => !globMatches(b, a),
  ArnEquals: (a, b) => globMatches(b, a),
  ArnLike: (a, b) => globMatches(b, a),
  ArnNotEquals: (a, b) => !globMatches(b, a),
  ArnNotLike: (a, b) => !globMatches(b, a),
};

/**
 * IAM's condition semantics: every operator and every key must hold; any listed value may match.
 * A key missing from the request makes its condition false (unless the operator ends in
 * IfExists) — which is why a "revoke older sessions" deny never touches long-term access keys.
 * Operators this simulation does not know are treated as not holding.
 */
export function conditionsHold(condition: unknown, rc: RequestContext): boolean {
  if (condition === undefined) return true;
  if (!condition || typeof condition !== 'object') return false;
  for (const [opName, block] of Object.entries(condition as Record<string, unknown>)) {
    const ifExists = opName.endsWith('IfExists');
    const op = ifExists ? opName.slice(0, -'IfExists'.length) : opName;
    if (!block || typeof block !== 'object') return false;
    for (const [key, expected] of Object.entries(block as Record<string, unknown>)) {
      const actual = contextValue(key, rc);
      if (actual === undefined) {
        if (ifExists) continue;
        return false;
      }
      const values = asList(expected);
      let holds: boolean;
      if (DATE_OPS[op]) {
        const a = actual instanceof Date ? actual.getTime() : toTime(actual);
        holds =
          a !== undefined &&
          values.some((v) => {
            const b = toTime(v);
            return b !== undefined && DATE_OPS[op]!(a, b);
          });
      } else if (STRING_OPS[op]) {
        const a = actual instanceof Date ? actual.toISOString() : actual;
        holds = values.some((v) => typeof v === 'string' && STRING_OPS[op]!(a, v));
      } else {
        holds = false;
      }
      if (!holds) return false;
    }
  }
  return true;
}

/** True when `doc` holds a Deny of every action on every resource that applies to this request. */
export function deniesEverything(doc: unknown, rc: RequestContext): boolean {
  return statementsOf(doc).some(
    (st) =>
      st.Effect === 'Deny' &&
      st.NotAction === undefined &&
      st.NotResource === undefined &&
      asList(st.Action).includes('*') &&
      asList(st.Resource).includes('*') &&
      conditionsHold(st.Condition, rc),
  );
}

/** Documents of a managed policy ARN: AWS-managed ones built in, then the world's. */
export function managedPolicyDoc(world: WithIam, arn: string): unknown {
  const aws = AWS_MANAGED_POLICIES[arn];
  if (aws) return JSON.parse(aws.document);
  const own = world.iam.policies.find((p) => p.arn === arn || (!p.arn && arn.endsWith(`:policy${p.path}${p.name}`)));
  return own ? parseDoc(own.document) : undefined;
}

export function identityDocs(
  world: WithIam,
  entity: { inlinePolicies: Record<string, z.infer<typeof PolicyDocument>>; attachedPolicies: string[] },
): unknown[] {
  return [...Object.values(entity.inlinePolicies).map(parseDoc), ...entity.attachedPolicies.map((arn) => managedPolicyDoc(world, arn))];
}

/** Whether a statement's Action (or NotAction) covers `action`: action names ignore case, wildcards allowed. */
export function coversAction(st: Statement, action: string): boolean {
  const hit = (list: unknown) => asList(list).some((a) => typeof a === 'string' && globMatches(a, action, true));
  return st.NotAction !== undefined ? !hit(st.NotAction) : hit(st.Action);
}

function coversResource(st: Statement, resource: string): boolean {
  const hit = (list: unknown) => asList(list).some((r) => typeof r === 'string' && globMatches(r, resource));
  return st.NotResource !== undefined ? !hit(st.NotResource) : hit(st.Resource);
}

/**
 * What an identity's policies decide for one action on one resource: an explicit Deny wins, then
 * an Allow; neither is an implicit deny. (Permissions boundaries, SCPs and session policies are
 * not simulated.)
 */
export function identityDecision(docs: unknown[], action: string, resource: string, rc: RequestContext): 'allow' | 'deny' | 'implicit' {
  const matching = docs
    .flatMap((d) => statementsOf(d))
    .filter((st) => coversAction(st, action) && coversResource(st, resource) && conditionsHold(st.Condition, rc));
  if (matching.some((st) => st.Effect === 'Deny')) return 'deny';
  return matching.some((st) => st.Effect === 'Allow') ? 'allow' : 'implicit';
}
