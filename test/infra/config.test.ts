import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, readConfig } from '../../infra/config.js';

describe('infra configuration', () => {
  it('defaults to one p5.48xlarge type, 8 workers, on-demand capacity and a created VPC and model bucket', () => {
    // Act
    const config = parseConfig({});

    // Assess
    expect(config).toMatchObject({
      stackName: 'Heritage',
      instanceTypes: ['p5.48xlarge'],
      maxWorkers: 8,
      spot: false,
      workerIdleTimeoutSeconds: 300,
      requestTimeoutSeconds: 900,
      modelPrefix: 'models/',
      workflow: 'wan22-flf2v-rife',
    });
    expect(config.vpcId).toBeUndefined();
    expect(config.modelBucketName).toBeUndefined();
    expect(config.alarmEmail).toBeUndefined();
  });

  it('parses the strings that `-c key=value` passes on the command line', () => {
    // Prepare
    const context: Record<string, string> = {
      instanceTypes: 'p5e.48xlarge, p5en.48xlarge',
      maxWorkers: '16',
      spot: 'true',
      workerIdleTimeoutSeconds: '0',
      outputRetentionDays: '7',
    };

    // Act
    const config = readConfig((key) => context[key]);

    // Assess
    expect(config.instanceTypes).toEqual(['p5e.48xlarge', 'p5en.48xlarge']);
    expect(config.maxWorkers).toBe(16);
    expect(config.spot).toBe(true);
    expect(config.workerIdleTimeoutSeconds).toBe(0);
    expect(config.outputRetentionDays).toBe(7);
  });

  it.each([
    [{ instanceTypes: ['g5.xlarge'] }, 'instanceTypes.0'],
    [{ maxWorkers: 0 }, 'maxWorkers'],
    [{ maxWorkers: '2.5' }, 'maxWorkers'],
    [{ spot: 'yes' }, 'spot'],
    [{ requestTimeoutSeconds: 30 }, 'requestTimeoutSeconds'],
    [{ logRetentionDays: 10 }, 'logRetentionDays'],
    [{ alarmEmail: 'ops-at-example' }, 'alarmEmail'],
    [{ vpcId: 'my-vpc' }, 'vpcId'],
    [{ modelBucketName: 'Not_A_Bucket' }, 'modelBucketName'],
    [{ modelPrefix: 'models' }, 'modelPrefix'],
    [{ maxWorker: 4 }, 'maxWorker'],
  ])('refuses %j and names the key %s', (raw, key) => {
    // Act
    const parse = () => parseConfig(raw);

    // Assess
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(`  - ${key}:`);
  });

  it('reports every bad key at once', () => {
    // Act
    const parse = () => parseConfig({ maxWorkers: -1, spot: 'maybe' });

    // Assess
    expect(parse).toThrow(/maxWorkers:[\s\S]*spot:/);
  });
});
