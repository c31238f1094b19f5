// A stand-in for ComfyUI's main.py, for supervisor tests: records its arguments, serves
// GET /system_stats, and exits when asked (POST /die) or at start when FAKE_COMFY_FAIL_START is set.
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const args = process.argv.slice(2);
const flag = (name) => args[args.indexOf(name) + 1];
if (process.env.FAKE_COMFY_LOG)
  appendFileSync(process.env.FAKE_COMFY_LOG, `${JSON.stringify({ pid: process.pid, args })}\n`);
if (process.env.FAKE_COMFY_FAIL_START) process.exit(3);

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/system_stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ system: { comfyui_version: 'fake', python_version: '3', os: 'posix' }, devices: [] }),
    );
  } else if (req.method === 'POST' && req.url === '/die') {
    res.end('bye');
    setImmediate(() => process.exit(1));
  } else {
    res.writeHead(404).end();
  }
});
server.listen(Number(flag('--port')), flag('--listen'));
// Output as ComfyUI writes it: log lines on stderr, and a progress bar redrawn with carriage returns.
process.stderr.write('Total VRAM 81559 MB, total RAM 2063822 MB\n');
process.stdout.write(' 50%|#####     | 4/8\r100%|##########| 8/8\n');
