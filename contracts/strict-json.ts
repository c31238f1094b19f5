/**
 * What JSON.parse forgives: an object that names a key twice, where the last value silently wins. A
 * manifest with `"steps": 4, ..., "steps": 20` would run with 20 while a reader of the file sees 4, so
 * Heritage refuses it. Reads text that JSON.parse has already accepted.
 */

/** Paths (`a.b`) of the keys that appear more than once in the same object, in order of discovery. */
export function findDuplicateKeys(text: string): string[] {
  const duplicates: string[] = [];
  const stack: { keys: Set<string> | undefined; path: string; pendingKey?: string }[] = [];
  let i = 0;
  const readString = (): string => {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i += 1;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const childPath = (frame: (typeof stack)[number] | undefined): string => {
    if (frame === undefined) return '';
    const name = frame.keys === undefined ? '[]' : (frame.pendingKey ?? '');
    return frame.path === '' ? name : `${frame.path}.${name}`;
  };
  let expectingKey = false;
  while (i < text.length) {
    const c = text[i];
    const top = stack.at(-1);
    if (c === '"') {
      const value = readString();
      if (expectingKey && top?.keys !== undefined) {
        if (top.keys.has(value)) duplicates.push(top.path === '' ? value : `${top.path}.${value}`);
        top.keys.add(value);
        top.pendingKey = value;
        expectingKey = false;
      }
      continue;
    }
    if (c === '{') {
      stack.push({ keys: new Set(), path: childPath(top) });
      expectingKey = true;
    } else if (c === '[') {
      stack.push({ keys: undefined, path: childPath(top) });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      expectingKey = top?.keys !== undefined;
    }
    i += 1;
  }
  return duplicates;
}
