/**
 * The README's deploy walkthrough runs `npx heritage models sync` against the deployed stack. On a
 * synthesized stack, with its outputs resolved as CloudFormation would, every model key that command
 * writes must be one the worker role may read: the prefix comes from the stack, not from a guess.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelsSyncTarget } from '../../cli/commands/models-sync.js';
import { readModelList } from '../../cli/models/model-list.js';
import { modelKey } from '../../contracts/model-source.js';
import { buildHeritage, logicalId, resourcesOfType } from './support/heritage-app.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The arguments the README's deploy walkthrough gives `heritage models sync`. */
function readmeModelsSyncArgs(): string[] {
  const line = /^npx heritage models sync(.*)$/m.exec(readme.slice(readme.indexOf('## Deploy')))?.[1];
  if (line === undefined) throw new Error('the README Deploy section runs no `npx heritage models sync`');
  return (line.split('#')[0] ?? '').trim().split(/\s+/).filter(Boolean);
}

/** A CloudFormation value as the deployed stack would have it: Ref X is X's name, GetAtt X.Arn its ARN. */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (typeof node.Ref === 'string') return `deployed-${node.Ref.toLowerCase()}`;
  const getAtt = node['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt?.[1] === 'Arn') return `arn:aws:s3:::deployed-${getAtt[0].toLowerCase()}`;
  const join = node['Fn::Join'] as [string, unknown[]] | undefined;
  if (join !== undefined) return join[1].map(resolve).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

interface PolicyDocument {
  Statement: { Effect: string; Action: unknown; Resource: unknown }[];
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const globMatches = (glob: string, text: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(text);

describe('heritage models sync on a deployed stack', () => {
  it.each([
    ['the default modelPrefix', {}],
    ['modelPrefix set at deploy time', { modelPrefix: 'weights/wan22/' }],
  ])('uploads every model where the worker role may read it, with %s', async (_name, context) => {
    // Prepare
    const { template, stack } = buildHeritage(context);
    const outputs = template.findOutputs('*') as Record<string, { Value: unknown }>;
    const role = logicalId(stack.workers.jobRole);
    const readable = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(`"${role}"`))
      .flatMap((policy) => (policy.Properties?.PolicyDocument as PolicyDocument | undefined)?.Statement ?? [])
      .filter(
        (statement) => statement.Effect === 'Allow' && asList(statement.Action).includes('s3:GetObject'),
      )
      .flatMap((statement) => asList(statement.Resource).map(resolve));
    const { models } = await readModelList('gpu-container/models.json');

    // Act: the command exactly as the README runs it, with nothing set but the stack's outputs.
    const target = await modelsSyncTarget(readmeModelsSyncArgs(), {}, async (stackName) => {
      expect(stackName).toBe(stack.stackName);
      return {
        ModelBucketName: resolve(outputs.ModelBucketName?.Value),
        ModelPrefix: resolve(outputs.ModelPrefix?.Value),
      };
    });

    // Assess
    expect(target.warning).toBeUndefined();
    expect(models.length).toBeGreaterThan(0);
    const unreadable = models
      .map((model) => `arn:aws:s3:::${target.bucket}/${modelKey(target.prefix, model)}`)
      .filter((arn) => !readable.some((glob) => globMatches(glob, arn)));
    expect(unreadable).toEqual([]);
  });

  it('warns when --prefix puts the models where the stack workers do not read', async () => {
    // Act
    const target = await modelsSyncTarget(['--prefix', 'elsewhere/'], {}, async () => ({
      ModelBucketName: 'deployed-models',
      ModelPrefix: 'models/',
    }));

    // Assess
    expect(target).toMatchObject({ bucket: 'deployed-models', prefix: 'elsewhere/' });
    expect(target.warning).toContain('read models under models/ only');
  });

  it("uses the stack's default prefix when --bucket skips the lookup", async () => {
    // Act
    const target = await modelsSyncTarget(['--bucket', 'my-models'], {}, async () => {
      throw new Error('no lookup expected');
    });

    // Assess
    expect(target).toMatchObject({ bucket: 'my-models', prefix: 'models/' });
  });
});
