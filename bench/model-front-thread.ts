/** A further thread of the model front (model-front.ts): one more server on the same port. */
import { parentPort, workerData } from 'node:worker_threads';
import { type ModelFrontOptions, serveModelFront } from './model-front.js';

const { options, port } = workerData as { options: ModelFrontOptions; port: number };
await serveModelFront(options, port);
parentPort?.postMessage('ready');
