import { ComfyDouble, type DoubleScript } from './comfy-double.js';

/**
 * Runs the ComfyUI double as its own process, so that tests can kill it the way a ComfyUI process dies.
 * The script comes from COMFY_DOUBLE_SCRIPT (JSON); the URL is printed as the first line of stdout.
 */
const double = await ComfyDouble.start();
double.script = JSON.parse(process.env.COMFY_DOUBLE_SCRIPT ?? '{}') as DoubleScript;
process.stdout.write(`${double.url}\n`);
