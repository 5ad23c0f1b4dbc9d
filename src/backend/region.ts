/**
 * The region a run acts in, resolved the way the SDK resolves it (a `--region` flag, AWS_REGION,
 * the profile's `region` in ~/.aws/config), before any run folder exists: a run with no region
 * would otherwise fail at its first call, with a run folder and a journal for nothing.
 */
import { STS } from '../cloud/sdk.js';
import { InputError } from '../core/errors.js';

export async function resolveRegion(spec: { region?: string; profile?: string }): Promise<string> {
  if (spec.region) return spec.region;
  // The SDK's own region chain, so a profile's config file counts exactly as it does for the run's clients.
  const client = new STS.STSClient({ ...(spec.profile ? { profile: spec.profile } : {}) });
  try {
    return await client.config.region();
  } catch (err) {
    const message = (err as Error).message;
    // The SDK's own words for a region that is absent, or set to what cannot be one (AWS_REGION='').
    if (/region not accepted/i.test(message))
      throw new InputError(`failed to start the run: the AWS region is not valid: ${message}`, {
        field: '--region',
        hint: 'pass --region us-east-1, or fix AWS_REGION or the region of the profile in ~/.aws/config',
      });
    if (!/region is missing/i.test(message)) throw err;
    const profile = spec.profile ?? process.env.AWS_PROFILE;
    const legacy = process.env.AWS_DEFAULT_REGION;
    throw new InputError(`failed to start the run: no AWS region is configured${profile ? ` (profile ${profile} has no region)` : ''}`, {
      field: '--region',
      hint:
        'pass --region us-east-1, set AWS_REGION, or set region in the profile of ~/.aws/config' +
        (legacy
          ? `; AWS_DEFAULT_REGION is set (${legacy}) but the AWS SDK for JavaScript v3 does not read it: set AWS_REGION instead`
          : ''),
    });
  } finally {
    client.destroy();
  }
}
