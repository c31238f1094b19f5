/** Placeholder until the dispatch issue lands: the infra stack bundles this entry point. */
export async function handler(): Promise<void> {
  throw new Error('dispatch: not implemented yet');
}
