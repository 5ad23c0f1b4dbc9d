/**
 * Errors from an endpoint that is not AWS, in words a responder can act on. Without this, a
 * proxy's HTML error page reads "SyntaxError: Unexpected token '<' … inspect the hidden field
 * {error}.$response" and a closed port reads "connect ECONNREFUSED", neither naming the call,
 * the endpoint, or the setting (AWS_ENDPOINT_URL) that sent the request there.
 * Sits at `initialize`, outside the SDK's retry loop: it sees the final error once.
 */
import type { ClientPlugin } from './sdk.js';
import { FirebreakError } from '../core/errors.js';
import { iamActionOf } from './clients.js';

/** The endpoint answered, but not as AWS does. */
export class EndpointError extends FirebreakError {}

const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
};

export function endpointErrors(): ClientPlugin {
  return {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          try {
            return await next(args);
          } catch (err) {
            const why = describeFailure(err);
            if (!why) throw err;
            const call = iamActionOf(String(context.clientName), String(context.commandName));
            const url = (context as { endpointV2?: { url?: URL } }).endpointV2?.url?.href ?? 'its endpoint';
            const fromEnv = process.env.AWS_ENDPOINT_URL;
            throw new EndpointError(`failed to call ${call} at ${url}: ${why}`, {
              cause: err,
              hint: fromEnv
                ? `AWS_ENDPOINT_URL is set to ${fromEnv}: start the service there, or unset it to reach AWS`
                : 'check the endpoint (AWS_ENDPOINT_URL, endpoint_url in the profile) and the network',
            });
          }
        },
        { step: 'initialize', priority: 'high', name: 'firebreakEndpointErrors' },
      );
    },
  };
}

/** Why the call failed when the cause is the endpoint rather than AWS's answer; undefined for an AWS error. */
function describeFailure(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as {
    code?: string;
    name?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { statusCode?: number; headers?: Record<string, string> };
  };
  if (e.code && NETWORK[e.code]) return NETWORK[e.code];
  const response = e.$response;
  if (!response) return undefined;
  const type = response.headers?.['content-type'] ?? response.headers?.['Content-Type'];
  const status = response.statusCode ?? e.$metadata?.httpStatusCode;
  // AWS answers in XML or JSON; an HTML page or a body the SDK could not parse came from something else.
  const notAws =
    (type !== undefined && /html/i.test(type)) || e.name === 'SyntaxError' || e.name === 'Unknown' || e.name === 'UnknownError';
  if (!notAws) return undefined;
  return `the endpoint answered HTTP ${status ?? '?'}${type ? ` (${type.split(';')[0]})` : ''}, which is not an AWS response`;
}
