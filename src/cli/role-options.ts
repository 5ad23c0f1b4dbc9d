/**
 * `--role-arn ARN [--external-id ID] [--mfa-serial ARN]`: respond in another account through a
 * role. Checked before anything runs; the MFA code is asked for at the terminal when STS needs it.
 */
import { InputError } from '../core/errors.js';
import { ask } from './prompts.js';

export interface RoleCliOptions {
  roleArn?: string;
  externalId?: string;
  mfaSerial?: string;
  auto?: boolean;
  dryRun?: boolean;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;
const MFA_SERIAL = /^(arn:aws[a-z-]*:iam::\d{12}:mfa\/[\w+=,.@/-]+|[A-Z0-9]{9,256})$/;
// AssumeRole's limits on ExternalId: 2–1224 characters from this set.
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

export function roleOptions(opts: RoleCliOptions): {
  roleArn?: string;
  externalId?: string;
  mfaSerial?: string;
  mfaCode?: (serial: string) => Promise<string>;
} {
  if (opts.roleArn !== undefined && !ROLE_ARN.test(opts.roleArn)) {
    throw new InputError(`'${opts.roleArn}' is not a role ARN`, {
      field: '--role-arn',
      hint: 'arn:aws:iam::123456789012:role/IncidentResponder',
    });
  }
  if (opts.externalId !== undefined && !EXTERNAL_ID.test(opts.externalId)) {
    throw new InputError('the external id must be 2 to 1224 letters, digits or _+=,.@:/-', { field: '--external-id' });
  }
  if ((opts.externalId !== undefined || opts.mfaSerial !== undefined) && opts.roleArn === undefined) {
    throw new InputError(`${opts.externalId !== undefined ? '--external-id' : '--mfa-serial'} only applies with --role-arn`, {
      field: '--role-arn',
    });
  }
  if (opts.mfaSerial !== undefined) {
    if (!MFA_SERIAL.test(opts.mfaSerial))
      throw new InputError(`'${opts.mfaSerial}' is not an MFA device serial number or ARN`, { field: '--mfa-serial' });
    if (opts.auto || opts.dryRun) {
      throw new InputError('--mfa-serial needs a person at the terminal to type the code', {
        field: '--mfa-serial',
        hint: 'run interactively, or use a role whose trust policy does not require MFA for automation',
      });
    }
  }
  return {
    ...(opts.roleArn ? { roleArn: opts.roleArn } : {}),
    ...(opts.externalId ? { externalId: opts.externalId } : {}),
    ...(opts.mfaSerial
      ? {
          mfaSerial: opts.mfaSerial,
          mfaCode: (serial: string) =>
            ask(`MFA code for ${serial}`, { validate: (v) => /^\d{6}$/.test(v.trim()) || 'six digits' }).then((v) => v.trim()),
        }
      : {}),
  };
}
