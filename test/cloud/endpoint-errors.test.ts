/**
 * An endpoint that is not AWS (a proxy's HTML error page, a closed port) gives an error naming the
 * operation, the endpoint and what it answered, with a hint at the setting that chose it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClients } from '../../src/cloud/clients.js';

let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const creds = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'x' };

describe('endpoint errors', () => {
  it('names the operation, the HTTP status and the endpoint when the answer is not an AWS response', async () => {
    const clients = createClients({ region: 'us-east-1', credentials: creds, endpoint: url, maxAttempts: 1 });
    const err = (await clients.ec2.send(new DescribeInstancesCommand({})).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toBe(
      `failed to call ec2:DescribeInstances at ${url}/: the endpoint answered HTTP 502 (text/html), which is not an AWS response`,
    );
    expect(err.hint).toMatch(/AWS_ENDPOINT_URL/);
  });

  it('says the connection was refused, and where the endpoint came from', async () => {
    const clients = createClients({ region: 'us-east-1', credentials: creds, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const err = (await clients.ec2.send(new DescribeInstancesCommand({})).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toBe('failed to call ec2:DescribeInstances at http://127.0.0.1:9/: connection refused');
    expect(err.hint).toMatch(/AWS_ENDPOINT_URL/);
  });
});
