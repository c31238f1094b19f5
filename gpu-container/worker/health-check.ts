/**
 * The image's HEALTHCHECK: exit 0 when the worker is alive (and its ComfyUI answers), 1 otherwise,
 * with one line saying why. Reads only WORK_DIR, so it runs with the container's environment as is.
 */
import { DEFAULT_WORK_DIR } from './config.js';
import { checkHealth } from './liveness.js';

const verdict = await checkHealth(process.env.WORK_DIR?.trim() || DEFAULT_WORK_DIR);
console.log(`${verdict.healthy ? 'healthy' : 'unhealthy'}: ${verdict.reason}`);
process.exitCode = verdict.healthy ? 0 : 1;
