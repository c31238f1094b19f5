/**
 * CloudWatch metric math, evaluated here so that tests can run an alarm's own expression on real
 * datapoints. It covers what Heritage's alarms and widgets use: numbers, metric ids, + - * /,
 * comparisons (1 when true, 0 when false), AND / OR (&& / ||), IF(condition, then, else) and
 * FILL(series, value). Series are evaluated period by period; a missing value stays missing through
 * arithmetic, comparisons and IF, and only FILL replaces it (CloudWatch's documented semantics).
 */

/** One value per evaluation period, undefined where the series has no datapoint. */
export type Series = (number | undefined)[];

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'call'; name: string; args: Node[] }
  | { kind: 'unary'; op: '-'; operand: Node }
  | { kind: 'binary'; op: string; left: Node; right: Node };

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(&&|\|\||==|!=|>=|<=|[-+*/(),<>]))/y;

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expression.trimEnd().length) {
    const match = TOKEN.exec(expression);
    if (match === null) throw new Error(`metric math: cannot read "${expression.slice(TOKEN.lastIndex)}"`);
    tokens.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return tokens;
}

/** Lowest to highest precedence, each level left-associative. */
const LEVELS: string[][] = [
  ['OR', '||'],
  ['AND', '&&'],
  ['==', '!=', '<', '>', '<=', '>='],
  ['+', '-'],
  ['*', '/'],
];

export function parseMetricMath(expression: string): Node {
  const tokens = tokenize(expression);
  let at = 0;
  const peek = (): string | undefined => tokens[at];
  const take = (expected?: string): string => {
    const token = tokens[at];
    if (token === undefined || (expected !== undefined && token !== expected)) {
      throw new Error(`metric math: expected ${expected ?? 'more'} at token ${at} of "${expression}"`);
    }
    at += 1;
    return token;
  };
  const level = (n: number): Node => {
    if (n === LEVELS.length) return unary();
    let left = level(n + 1);
    for (;;) {
      const op = peek();
      if (op === undefined || !LEVELS[n]?.includes(op)) return left;
      take();
      left = { kind: 'binary', op, left, right: level(n + 1) };
    }
  };
  const unary = (): Node => {
    if (peek() === '-') {
      take();
      return { kind: 'unary', op: '-', operand: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const token = take();
    if (token === '(') {
      const inner = level(0);
      take(')');
      return inner;
    }
    if (/^\d/.test(token)) return { kind: 'number', value: Number(token) };
    if (peek() === '(') {
      take('(');
      const args: Node[] = [];
      while (peek() !== ')') {
        args.push(level(0));
        if (peek() === ',') take(',');
      }
      take(')');
      return { kind: 'call', name: token.toUpperCase(), args };
    }
    return { kind: 'id', name: token };
  };
  const tree = level(0);
  if (at !== tokens.length) throw new Error(`metric math: unexpected "${tokens[at]}" in "${expression}"`);
  return tree;
}

function binary(op: string, a: number, b: number): number | undefined {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : a / b;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case 'AND':
    case '&&':
      return a !== 0 && b !== 0 ? 1 : 0;
    default:
      return a !== 0 || b !== 0 ? 1 : 0;
  }
}

/** Evaluates `expression` over `periods` periods, with `series` naming the metric ids it uses. */
export function evaluateMetricMath(
  expression: string,
  series: Record<string, Series>,
  periods: number,
): Series {
  const indices = Array.from({ length: periods }, (_, i) => i);
  const evaluate = (node: Node): Series => {
    switch (node.kind) {
      case 'number':
        return indices.map(() => node.value);
      case 'id': {
        const values = series[node.name];
        if (values === undefined) throw new Error(`metric math: no metric with id ${node.name}`);
        return indices.map((i) => values[i]);
      }
      case 'unary':
        return evaluate(node.operand).map((value) => (value === undefined ? undefined : -value));
      case 'binary': {
        const left = evaluate(node.left);
        const right = evaluate(node.right);
        return indices.map((i) => {
          const a = left[i];
          const b = right[i];
          return a === undefined || b === undefined ? undefined : binary(node.op, a, b);
        });
      }
      case 'call': {
        const args = node.args.map(evaluate);
        if (node.name === 'FILL' && args.length === 2) {
          return indices.map((i) => args[0]?.[i] ?? args[1]?.[i]);
        }
        if (node.name === 'IF' && args.length === 3) {
          return indices.map((i) => {
            const condition = args[0]?.[i];
            if (condition === undefined) return undefined;
            return condition !== 0 ? args[1]?.[i] : args[2]?.[i];
          });
        }
        throw new Error(`metric math: ${node.name} with ${node.args.length} arguments is not supported here`);
      }
    }
  };
  return evaluate(parseMetricMath(expression));
}
