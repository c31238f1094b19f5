/**
 * npm run smoke:image [-- IMAGE]: the container smoke checks (container-smoke.ts) against the built
 * worker image (default heritage-gpu:dev, or HERITAGE_IMAGE), one line per check. Exit 1 if any fails.
 */
import { DEFAULT_IMAGE, imagePresent, runContainerSmoke } from './container-smoke.js';

const image = process.argv[2] ?? process.env.HERITAGE_IMAGE ?? DEFAULT_IMAGE;
if (!(await imagePresent(image))) {
  console.error(`smoke:image: no image ${image} in the local Docker engine; build it with npm run image`);
  process.exit(1);
}
console.log(`smoke:image: ${image}`);
const checks = await runContainerSmoke(image, (check) =>
  console.log(
    `${check.ok ? 'ok  ' : 'FAIL'} ${check.name.padEnd(8)} ${(check.ms / 1000).toFixed(1).padStart(6)} s  ${check.detail}`,
  ),
);
process.exitCode = checks.every((check) => check.ok) ? 0 : 1;
