/**
 * CloudFormation values: the intrinsic functions in their long JSON form (what the template model
 * holds and tests inspect), written to YAML in the short form people read (`!Ref`, `!Sub`, `!GetAtt`),
 * and read back from it.
 */
import { Document, isScalar, parse, Scalar, visit, type ScalarTag } from 'yaml';

export type Cfn = unknown;

export const Ref = (name: string) => ({ Ref: name });
export const Sub = (text: string) => ({ 'Fn::Sub': text });
export const GetAtt = (resource: string, attribute: string) => ({ 'Fn::GetAtt': [resource, attribute] });

/** The long forms as short tags; each is a scalar (`!GetAtt Res.Attr`, `!Sub text`). */
const SHORT: Array<{ key: string; tag: string; toScalar: (v: unknown) => string | undefined; fromScalar: (s: string) => unknown }> = [
  { key: 'Ref', tag: '!Ref', toScalar: (v) => (typeof v === 'string' ? v : undefined), fromScalar: (s) => s },
  { key: 'Fn::Sub', tag: '!Sub', toScalar: (v) => (typeof v === 'string' ? v : undefined), fromScalar: (s) => s },
  {
    key: 'Fn::GetAtt',
    tag: '!GetAtt',
    toScalar: (v) => (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string') ? `${v[0]}.${v[1]}` : undefined),
    fromScalar: (s) => [s.slice(0, s.indexOf('.')), s.slice(s.indexOf('.') + 1)],
  },
];

/** A template as YAML, intrinsic functions in short form; key order as given (deterministic). */
export function toYaml(template: Cfn): string {
  const doc = new Document(template, { aliasDuplicateObjects: false });
  visit(doc, {
    // YAML 1.1 readers (CloudFormation's among them) take an unquoted 2012-10-17 for a date; IAM wants the string.
    Scalar(_, node) {
      if (typeof node.value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
    Map(_, node) {
      if (node.items.length !== 1) return undefined;
      const pair = node.items[0]!;
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const short = SHORT.find((s) => s.key === key);
      if (!short) return undefined;
      const value = short.toScalar((pair.value as { toJSON(): unknown } | null)?.toJSON());
      if (value === undefined) return undefined;
      const scalar = new Scalar(value);
      scalar.tag = short.tag;
      return scalar;
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Custom tags that read the short forms back into the long ones. */
export const CFN_TAGS: ScalarTag[] = SHORT.map((s) => ({
  tag: s.tag,
  resolve: (str: string) => ({ [s.key]: s.fromScalar(str) }),
  identify: () => false,
}));

export function parseTemplate(text: string): Cfn {
  return parse(text, { customTags: CFN_TAGS });
}
