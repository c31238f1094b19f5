/**
 * StsRequestAccess: STS through aws-sdk-client-mock (the emulator has no STS), S3 over the wire to the
 * emulator through a loopback proxy that records which credentials signed each call.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AssumeRoleCommand, type AssumeRoleCommandInput, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ROLE_CHAINING_MAX_SECONDS,
  StsRequestAccess,
  sessionName,
} from '../../adapters/aws/sts-request-access.js';
import { TransientError } from '../../contracts/errors.js';
import { requestKeys } from '../../contracts/keys.js';
import { REQUEST_SESSION_TAG, requestSessionPolicy } from '../../contracts/request-access-policy.js';
import { type Emulator, startEmulator } from '../support/emulator.js';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/heritage-request-access';
const sts = new STSClient({ region: 'us-east-1' });
const stsMock = mockClient(sts);

interface SigningProxy {
  endpoint: string;
  /** The access key id of every call's SigV4 Authorization header, in order. */
  signers: string[];
  close(): Promise<void>;
}

/** Forwards to the emulator and records the access key each call was signed with. */
async function signingProxy(upstream: string): Promise<SigningProxy> {
  const signers: string[] = [];
  const server = createServer((req, res) => {
    const signer = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    signers.push(signer ?? '(unsigned)');
    const target = new URL(upstream);
    const out = request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    signers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function issued(accessKeyId: string, expiresInMs: number) {
  return {
    Credentials: {
      AccessKeyId: accessKeyId,
      SecretAccessKey: `secret-${accessKeyId}`,
      SessionToken: `token-${accessKeyId}`,
      Expiration: new Date(Date.now() + expiresInMs),
    },
  };
}

let aws: Emulator;
let proxy: SigningProxy;
beforeAll(async () => {
  aws = await startEmulator();
  proxy = await signingProxy(aws.endpoint);
});
afterAll(async () => {
  await proxy.close();
  await aws.stop();
});
afterEach(() => {
  stsMock.reset();
  proxy.signers.length = 0;
});

function access(roleArn = ROLE_ARN): StsRequestAccess {
  return new StsRequestAccess({
    sts,
    roleArn,
    bucket: aws.bucket,
    s3Config: { endpoint: proxy.endpoint, region: 'us-east-1', forcePathStyle: true },
  });
}

function assumed(): AssumeRoleCommandInput[] {
  return stsMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
}

describe('StsRequestAccess', () => {
  it("assumes the request-access role with the request's session policy and signs its S3 calls with it", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(issued('ASIAREQUEST1', 3_600_000));
    const { store, statuses } = access().forRequest('scoped-1');
    const keys = requestKeys('scoped-1');

    // Act
    await store.put(keys.result, '{}', { contentType: 'application/json' });
    const status = await statuses.read('scoped-1');

    // Assess
    expect(status).toBeUndefined();
    expect(assumed()).toEqual([
      {
        RoleArn: ROLE_ARN,
        RoleSessionName: 'scoped-1',
        Policy: JSON.stringify(
          requestSessionPolicy({ bucketArn: `arn:aws:s3:::${aws.bucket}`, requestId: 'scoped-1' }),
        ),
        Tags: [{ Key: REQUEST_SESSION_TAG, Value: 'scoped-1' }],
        DurationSeconds: ROLE_CHAINING_MAX_SECONDS,
      },
    ]);
    expect(proxy.signers.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proxy.signers)).toEqual(new Set(['ASIAREQUEST1']));
    expect((await aws.objects.head(keys.result))?.size).toBe(2);
  });

  it('assumes the role again with the same policy when a long request outlives its first session', async () => {
    // Prepare
    stsMock
      .on(AssumeRoleCommand)
      .resolvesOnce(issued('ASIAFIRST', ROLE_CHAINING_MAX_SECONDS * 1000))
      // Issued at the 56th minute below, so it runs to two hours from now.
      .resolvesOnce(issued('ASIASECOND', 2 * ROLE_CHAINING_MAX_SECONDS * 1000));
    const { store } = access().forRequest('long-1');
    const keys = requestKeys('long-1');
    await store.put(keys.status, '{}');

    // Act: 56 minutes into the session, inside the SDK's five-minute refresh window (the clock only).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 56 * 60_000 });
    try {
      await store.put(keys.result, '{}');
    } finally {
      vi.useRealTimers();
    }

    // Assess
    const inputs = assumed();
    expect(inputs).toHaveLength(2);
    expect(inputs[1]).toEqual(inputs[0]);
    expect(proxy.signers).toEqual(['ASIAFIRST', 'ASIASECOND']);
  });

  it('gives each request a session of its own, named after it', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(issued('ASIAEACH', 3_600_000));
    const requests = access();

    // Act
    await requests.forRequest('first').store.head(requestKeys('first').status);
    await requests.forRequest('second').store.head(requestKeys('second').status);

    // Assess
    const inputs = assumed();
    expect(inputs.map((input) => input.RoleSessionName)).toEqual(['first', 'second']);
    expect(inputs[0]?.Policy).toContain('requests/first/*');
    expect(inputs[0]?.Policy).not.toContain('second');
    expect(inputs[1]?.Policy).toContain('requests/second/*');
  });

  it("names the bucket in the role's partition", async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(issued('ASIACN', 3_600_000));
    const { store } = access('arn:aws-cn:iam::123456789012:role/heritage-request-access').forRequest('cn-1');

    // Act
    await store.head(requestKeys('cn-1').status);

    // Assess
    expect(assumed()[0]?.Policy).toContain(`"arn:aws-cn:s3:::${aws.bucket}/inbox/cn-1/*"`);
  });

  it('fails the call with a retryable error when STS issues no credentials', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves({});
    const { store } = access().forRequest('empty-1');

    // Act
    const reading = store.get(requestKeys('empty-1').status);

    // Assess
    await expect(reading).rejects.toBeInstanceOf(TransientError);
    expect(proxy.signers).toEqual([]);
  });

  it('pads a one-character request id to the two characters STS requires of a session name', () => {
    // Assess
    expect(sessionName('a')).toBe('a_');
    expect(sessionName('ab')).toBe('ab');
    expect(sessionName('r'.repeat(64))).toHaveLength(64);
  });
});
