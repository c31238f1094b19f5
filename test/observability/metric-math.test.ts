/** The metric math the alarm tests evaluate with: CloudWatch's semantics for what Heritage uses. */
import { describe, expect, it } from 'vitest';
import { evaluateMetricMath } from '../support/metric-math.js';

describe('metric math as the alarm tests evaluate it', () => {
  it('keeps a missing value missing through arithmetic, and FILL replaces it', () => {
    // Act
    const plain = evaluateMetricMath('100 * f / (s + f)', { s: [3, undefined], f: [1, 2] }, 2);
    const filled = evaluateMetricMath(
      '100 * FILL(f, 0) / (FILL(s, 0) + FILL(f, 0))',
      { s: [3, undefined], f: [1, 2] },
      2,
    );

    // Assess
    expect(plain).toEqual([25, undefined]);
    expect(filled).toEqual([25, 100]);
  });

  it('gives comparisons and AND the value 1 or 0, and IF picks by them, with * before + and before >', () => {
    // Act
    const values = evaluateMetricMath(
      'IF(FILL(r, 0) > 0 AND FILL(n, 0) == 0, 1 + 2 * 3, 0)',
      { r: [2, 2, 0, undefined], n: [0, 1, 0, undefined] },
      4,
    );

    // Assess
    expect(values).toEqual([7, 0, 0, 0]);
  });

  it('refuses what it does not implement rather than guess', () => {
    expect(() => evaluateMetricMath('RATE(m)', { m: [1] }, 1)).toThrow(/RATE/);
    expect(() => evaluateMetricMath('m +', { m: [1] }, 1)).toThrow(/metric math/);
  });
});
