/** Runs every Heritage benchmark, one after another. */
import { runDispatchBurst } from './dispatch-burst.js';

await runDispatchBurst();
