/**
 * The simulated S3 over HTTP on loopback: S3's REST API (path-style) answered by the simulated
 * cloud's S3 handlers, so that any process — a CLI run, an auditor's `audit verify` — reaches the
 * same versioned, Object Lock bucket through the SDK's standard endpoint configuration
 * (`AWS_ENDPOINT_URL_S3=http://127.0.0.1:PORT`). Requests are not authenticated (a rehearsal
 * double, bound to loopback). Operations: CreateBucket, PutObject (with If-None-Match and the
 * Object Lock and SSE headers), GetObject, HeadObject, GetObjectRetention, DeleteObject,
 * ListObjectVersions; anything else is 501 NotImplemented, never a made-up answer.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3 } from '../cloud/sdk.js';
import type { SimCloud } from './cloud.js';

export interface S3Server {
  /** `http://127.0.0.1:PORT`: the value for AWS_ENDPOINT_URL_S3. */
  endpoint: string;
  close(): Promise<void>;
}

type Headers = Record<string, string | number>;
interface Answer {
  status: number;
  headers: Headers;
  body?: Buffer | string;
}

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

export async function serveSimS3(cloud: SimCloud, opts: { port?: number } = {}): Promise<S3Server> {
  const client = new S3.S3Client({ region: cloud.region, credentials: cloud.credentials, forcePathStyle: true, maxAttempts: 1 });
  client.middlewareStack.use(cloud.plugin);
  const server = createServer((req, res) => {
    answer(client, req).then(
      (a) => send(res, req.method === 'HEAD', a),
      (err: unknown) => send(res, req.method === 'HEAD', errorAnswer(err)),
    );
  });
  await new Promise<void>((resolve, reject) => server.listen(opts.port ?? 0, '127.0.0.1', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, head: boolean, a: Answer): void {
  const body = a.body === undefined ? undefined : Buffer.isBuffer(a.body) ? a.body : Buffer.from(a.body, 'utf8');
  res.writeHead(a.status, { ...(body && !('content-length' in a.headers) ? { 'content-length': body.length } : {}), ...a.headers });
  res.end(head ? undefined : body);
}

function errorAnswer(err: unknown): Answer {
  const e = err as Error & { $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ?? 500;
  const code = status === 500 && !e.$metadata ? 'InternalError' : e.name;
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `${XML_HEAD}<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(e.message)}</Message></Error>`,
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const raw = Buffer.concat(chunks);
  const sha = String(req.headers['x-amz-content-sha256'] ?? '');
  const encoding = String(req.headers['content-encoding'] ?? '');
  return sha.startsWith('STREAMING-') || encoding.includes('aws-chunked') ? unchunk(raw) : raw;
}

/** The payload of an aws-chunked body (`<hex size>[;chunk-signature=…]\r\n<bytes>\r\n`… `0\r\n` + trailers). */
function unchunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) throw Object.assign(new Error('the aws-chunked body ends inside a chunk header'), { name: 'IncompleteBody' });
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) throw Object.assign(new Error('an aws-chunked chunk header is not a size'), { name: 'InvalidRequest' });
    if (size === 0) return Buffer.concat(parts);
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const objectHeaders = (o: {
  ETag?: string;
  VersionId?: string;
  ContentType?: string;
  LastModified?: Date;
  ObjectLockMode?: string;
  ObjectLockRetainUntilDate?: Date;
  ServerSideEncryption?: string;
  SSEKMSKeyId?: string;
}): Headers => ({
  ...(o.ETag ? { etag: o.ETag } : {}),
  ...(o.VersionId ? { 'x-amz-version-id': o.VersionId } : {}),
  ...(o.ContentType ? { 'content-type': o.ContentType } : {}),
  ...(o.LastModified ? { 'last-modified': o.LastModified.toUTCString() } : {}),
  ...(o.ObjectLockMode ? { 'x-amz-object-lock-mode': o.ObjectLockMode } : {}),
  ...(o.ObjectLockRetainUntilDate ? { 'x-amz-object-lock-retain-until-date': o.ObjectLockRetainUntilDate.toISOString() } : {}),
  ...(o.ServerSideEncryption ? { 'x-amz-server-side-encryption': o.ServerSideEncryption } : {}),
  ...(o.SSEKMSKeyId ? { 'x-amz-server-side-encryption-aws-kms-key-id': o.SSEKMSKeyId } : {}),
});

async function answer(client: InstanceType<typeof S3.S3Client>, req: IncomingMessage): Promise<Answer> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const [, bucketPart = '', ...keyParts] = url.pathname.split('/');
  const Bucket = decodeURIComponent(bucketPart);
  const Key = keyParts.length ? keyParts.map(decodeURIComponent).join('/') : undefined;
  const q = url.searchParams;
  const versionId = q.get('versionId') ?? undefined;
  const VersionId = versionId !== undefined ? { VersionId: versionId } : {};
  const method = req.method ?? 'GET';
  const body = await readBody(req);

  if (Key === undefined || Key === '') {
    if (method === 'PUT' && !url.search) {
      const lock = header(req, 'x-amz-bucket-object-lock-enabled') === 'true';
      await client.send(new S3.CreateBucketCommand({ Bucket, ...(lock ? { ObjectLockEnabledForBucket: true } : {}) }));
      return { status: 200, headers: { location: `/${Bucket}` } };
    }
    if (method === 'GET' && q.has('versions')) {
      const prefix = q.get('prefix') ?? undefined;
      const out = await client.send(new S3.ListObjectVersionsCommand({ Bucket, ...(prefix !== undefined ? { Prefix: prefix } : {}) }));
      const common = (v: { Key?: string; VersionId?: string; IsLatest?: boolean; LastModified?: Date }) =>
        `<Key>${xmlEscape(v.Key ?? '')}</Key><VersionId>${xmlEscape(v.VersionId ?? '')}</VersionId><IsLatest>${v.IsLatest}</IsLatest>` +
        `<LastModified>${v.LastModified?.toISOString()}</LastModified>`;
      const versions = (out.Versions ?? []).map(
        (v) =>
          `<Version>${common(v)}<ETag>${xmlEscape(v.ETag ?? '')}</ETag><Size>${v.Size}</Size><StorageClass>${v.StorageClass}</StorageClass></Version>`,
      );
      const markers = (out.DeleteMarkers ?? []).map((m) => `<DeleteMarker>${common(m)}</DeleteMarker>`);
      return {
        status: 200,
        headers: { 'content-type': 'application/xml' },
        body:
          `${XML_HEAD}<ListVersionsResult ${NS}><Name>${xmlEscape(Bucket)}</Name><Prefix>${xmlEscape(prefix ?? '')}</Prefix>` +
          `<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${versions.join('')}${markers.join('')}</ListVersionsResult>`,
      };
    }
  } else if (method === 'PUT' && ![...q.keys()].some((k) => k !== 'x-id')) {
    const mode = header(req, 'x-amz-object-lock-mode');
    const until = header(req, 'x-amz-object-lock-retain-until-date');
    const ifNoneMatch = header(req, 'if-none-match');
    const sse = header(req, 'x-amz-server-side-encryption');
    const kms = header(req, 'x-amz-server-side-encryption-aws-kms-key-id');
    const type = header(req, 'content-type');
    const out = await client.send(
      new S3.PutObjectCommand({
        Bucket,
        Key,
        Body: body,
        ...(type ? { ContentType: type } : {}),
        ...(ifNoneMatch ? { IfNoneMatch: ifNoneMatch } : {}),
        ...(mode ? { ObjectLockMode: mode as 'GOVERNANCE' | 'COMPLIANCE' } : {}),
        ...(until ? { ObjectLockRetainUntilDate: new Date(until) } : {}),
        ...(sse ? { ServerSideEncryption: sse as 'aws:kms' } : {}),
        ...(kms ? { SSEKMSKeyId: kms } : {}),
      }),
    );
    return { status: 200, headers: objectHeaders(out) };
  } else if (method === 'GET' && q.has('retention')) {
    const out = await client.send(new S3.GetObjectRetentionCommand({ Bucket, Key, ...VersionId }));
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: `${XML_HEAD}<Retention ${NS}><Mode>${out.Retention?.Mode}</Mode><RetainUntilDate>${out.Retention?.RetainUntilDate?.toISOString()}</RetainUntilDate></Retention>`,
    };
  } else if ((method === 'GET' || method === 'HEAD') && ![...q.keys()].some((k) => k !== 'versionId' && k !== 'x-id')) {
    if (method === 'HEAD') {
      const out = await client.send(new S3.HeadObjectCommand({ Bucket, Key, ...VersionId }));
      return { status: 200, headers: { ...objectHeaders(out), 'content-length': out.ContentLength ?? 0 } };
    }
    const out = await client.send(new S3.GetObjectCommand({ Bucket, Key, ...VersionId }));
    const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    return { status: 200, headers: objectHeaders(out), body: bytes };
  } else if (method === 'DELETE' && ![...q.keys()].some((k) => k !== 'versionId' && k !== 'x-id')) {
    const bypass = header(req, 'x-amz-bypass-governance-retention') === 'true';
    const out = await client.send(
      new S3.DeleteObjectCommand({ Bucket, Key, ...VersionId, ...(bypass ? { BypassGovernanceRetention: true } : {}) }),
    );
    return {
      status: 204,
      headers: {
        ...(out.DeleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
        ...(out.VersionId ? { 'x-amz-version-id': out.VersionId } : {}),
      },
    };
  }
  return errorAnswer(
    Object.assign(new Error(`the simulated S3 server does not answer ${method} ${url.pathname}${url.search}`), {
      name: 'NotImplemented',
      $metadata: { httpStatusCode: 501 },
    }),
  );
}
