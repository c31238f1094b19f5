import { describe, expect, it } from 'vitest';
import { ConfigInvalidError } from '../../contracts/errors.js';
import { loadWorkerConfig } from '../../gpu-container/worker/config.js';

const base = {
  REQUEST_BUCKET: 'b',
  WORK_QUEUE_URL: 'http://127.0.0.1:1/q',
  COMPLETIONS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t',
};

describe('worker configuration: the request-access role', () => {
  it('takes a role ARN in any partition, and none where there is no IAM (the local stack)', () => {
    // Act
    const cloud = loadWorkerConfig({
      ...base,
      REQUEST_ACCESS_ROLE_ARN: 'arn:aws-us-gov:iam::123456789012:role/Heritage-RequestAccess-1',
    });
    const local = loadWorkerConfig({ ...base, REQUEST_ACCESS_ROLE_ARN: '' });

    // Assess
    expect(cloud.REQUEST_ACCESS_ROLE_ARN).toBe(
      'arn:aws-us-gov:iam::123456789012:role/Heritage-RequestAccess-1',
    );
    expect(local.REQUEST_ACCESS_ROLE_ARN).toBeUndefined();
  });

  it('refuses anything but a role ARN, naming the variable', () => {
    // Act
    const load = () =>
      loadWorkerConfig({ ...base, REQUEST_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:user/someone' });

    // Assess
    expect(load).toThrow(ConfigInvalidError);
    expect(load).toThrow(/REQUEST_ACCESS_ROLE_ARN: must be an IAM role ARN/);
  });
});

describe('worker configuration: overlapped delivery', () => {
  it('is off by default, on with true, and refuses a value that is not a boolean', () => {
    // Act
    const byDefault = loadWorkerConfig(base);
    const on = loadWorkerConfig({ ...base, OVERLAP_DELIVERY: 'true' });
    const bad = () => loadWorkerConfig({ ...base, OVERLAP_DELIVERY: 'sometimes' });

    // Assess
    expect(byDefault.OVERLAP_DELIVERY).toBe(false);
    expect(on.OVERLAP_DELIVERY).toBe(true);
    expect(bad).toThrow(ConfigInvalidError);
    expect(bad).toThrow(/OVERLAP_DELIVERY/);
  });
});
