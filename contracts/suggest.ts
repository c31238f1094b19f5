/** "Did you mean" hints for unknown keys, commands and flags: the known one with the smallest edit distance. */

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0] ?? 0;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j] ?? 0;
      const left = previous[j - 1] ?? 0;
      previous[j] = Math.min(above + 1, left + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length] ?? 0;
}

/** The closest known name, when it is close enough to be a likely typo (a command, a flag). */
export function closestName(unknown: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(unknown, key);
    if (best === undefined || distance < best.distance) best = { key, distance };
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(best.key.length / 3));
  return best.distance <= limit ? best.key : undefined;
}

/** The closest known manifest key (snake_case), when it is close enough to be a likely typo. */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  return closestName(unknown.toLowerCase().replaceAll('-', '_'), known);
}
