/**
 * The token for model sources that need one (gated Hugging Face repositories): from HF_TOKEN, or from a
 * Secrets Manager secret named on the command line. It is only ever put in a request header; nothing
 * prints it, and errors name where it came from, never what it is.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigInvalidError } from '../../contracts/errors.js';

export interface SourceTokenOptions {
  env: Record<string, string | undefined>;
  /** Secret id or ARN; its value is the token, or JSON with a `token` or `HF_TOKEN` field. */
  tokenSecret?: string;
  secrets: () => SecretsManagerClient;
}

export async function resolveSourceToken(options: SourceTokenOptions): Promise<string | undefined> {
  if (options.tokenSecret === undefined) {
    const token = options.env.HF_TOKEN?.trim();
    return token === undefined || token === '' ? undefined : token;
  }
  const out = await options.secrets().send(new GetSecretValueCommand({ SecretId: options.tokenSecret }));
  const token = tokenOf(out.SecretString);
  if (token === undefined) {
    throw new ConfigInvalidError(`secret ${options.tokenSecret} holds no token`, {
      details: { secret: options.tokenSecret },
    });
  }
  return token;
}

function tokenOf(value: string | undefined): string | undefined {
  const text = value?.trim();
  if (text === undefined || text === '') return undefined;
  if (!text.startsWith('{')) return text;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const token = parsed.token ?? parsed.HF_TOKEN;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}
