import { open } from 'node:fs/promises';

/** fsyncs a directory, so that a rename into it survives a power loss. */
export async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
