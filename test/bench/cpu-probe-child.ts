/**
 * A forked child for store-cpu.test.ts: answers CPU probes as the benchmark's store processes do, and
 * on `{ hashMiB }` hashes that many MiB, so that the parent can see its CPU time grow.
 */
import { createHash } from 'node:crypto';
import { answerCpuProbes } from '../../bench/store-cpu.js';

answerCpuProbes();
process.on('message', (message) => {
  if (typeof message !== 'object' || message === null || !('hashMiB' in message)) return;
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const hash = createHash('sha256');
  for (let done = 0; done < Number(message.hashMiB); done += 1) hash.update(chunk);
  process.send?.({ hashed: hash.digest('hex') });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
