import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { resolveSourceToken } from '../../cli/models/source-token.js';

describe('resolveSourceToken', () => {
  it('reads HF_TOKEN when no secret is named', async () => {
    // Act
    const token = await resolveSourceToken({
      env: { HF_TOKEN: ' hf_from_env ' },
      secrets: () => {
        throw new Error('Secrets Manager must not be called');
      },
    });

    // Assess
    expect(token).toBe('hf_from_env');
  });

  it('reads the token field of the named secret, and prefers it to HF_TOKEN', async () => {
    // Prepare
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ token: 'hf_from_secret' }) });

    // Act
    const token = await resolveSourceToken({
      env: { HF_TOKEN: 'hf_from_env' },
      tokenSecret: 'heritage/hf-token',
      secrets: () => new SecretsManagerClient({ region: 'us-east-1' }),
    });

    // Assess
    expect(token).toBe('hf_from_secret');
    expect(secrets.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: 'heritage/hf-token' },
    ]);
    secrets.restore();
  });

  it('fails with CONFIG_INVALID, naming the secret but not its value, when the secret holds no token', async () => {
    // Prepare
    const secrets = mockClient(SecretsManagerClient);
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ other: 'hf_secret_value' }) });

    // Act
    const resolving = resolveSourceToken({
      env: {},
      tokenSecret: 'heritage/hf-token',
      secrets: () => new SecretsManagerClient({ region: 'us-east-1' }),
    });

    // Assess
    await expect(resolving).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.not.stringContaining('hf_secret_value'),
    });
    secrets.restore();
  });
});
