import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type WebSocket, WebSocketServer } from 'ws';

/**
 * A ComfyUI protocol double: a real HTTP + WebSocket server on loopback that speaks the message shapes of
 * ComfyUI a125cd84 (server.py routes, execution.py validation and execution events, main.py's
 * prompt_worker). It runs prompts for real in topological order, counting frames through the graph, so
 * the worker can be tested end to end without a GPU. `script` steers failures.
 */
export interface DoubleScript {
  /** Raise this exception when a node of this class runs (execution.py `execute` except branch). */
  failAt?: { classType: string; exceptionType: string; exceptionMessage: string };
  /** Stop making progress in a node of this class until interrupted. */
  hangAt?: string;
  /** Terminate every socket when a node of this class starts. */
  dropSocketsAt?: string;
  /** After dropping the sockets, hold the run until the client has reconnected. */
  holdUntilReconnect?: boolean;
  /** Refuse WebSocket upgrades (a proxy that does not pass them, or a socket that cannot come back). */
  refuseSockets?: boolean;
  /** Send no socket events for prompts: only /history tells the outcome. */
  silent?: boolean;
  /** Pause per node and per sampler step. */
  stepDelayMs?: number;
}

export interface DoubleRecord {
  prompts: Array<{ prompt_id: string; client_id?: string | undefined; prompt: Record<string, Node> }>;
  interrupts: Array<{ prompt_id?: string }>;
  frees: Array<{ unload_models?: boolean; free_memory?: boolean }>;
  historyDeletes: string[];
  queueDeletes: string[];
}

interface Node {
  class_type: string;
  inputs: Record<string, unknown>;
}
type ObjectInfo = Record<string, { input: { required?: Record<string, unknown[]> }; output_node?: boolean }>;
interface Item {
  number: number;
  id: string;
  prompt: Record<string, Node>;
  extra: { client_id?: string | undefined };
  outputs: string[];
}

const OBJECT_INFO_FIXTURE = new URL(
  '../fixtures/comfyui/object_info.derived-from-source.json',
  import.meta.url,
);
/** A 1×1 PNG, served for every saved frame. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const PREVIEW_IMAGE = 1; // protocol.py BinaryEventTypes.PREVIEW_IMAGE

export class ComfyDouble {
  script: DoubleScript = {};
  received: DoubleRecord = emptyRecord();
  /** Called when a node starts; a test can crash the double there. */
  onNodeStart: ((nodeId: string, classType: string) => void) | undefined;

  private server: Server | undefined;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Map<string, WebSocket>();
  private readonly objectInfo: ObjectInfo;
  private port = 0;
  private generation = 0;
  private queue: Item[] = [];
  private running: Item | undefined;
  private history = new Map<string, Record<string, unknown>>();
  private uploads = new Map<string, Buffer>();
  private outputs = new Map<string, Buffer>();
  private number = 0;
  private interruptFlag = false;
  private lastNodeId: string | undefined;
  private clientId: string | undefined;

  private constructor(objectInfo: ObjectInfo) {
    this.objectInfo = objectInfo;
  }

  static async start(options: { objectInfo?: ObjectInfo } = {}): Promise<ComfyDouble> {
    const objectInfo = options.objectInfo ?? JSON.parse(readFileSync(OBJECT_INFO_FIXTURE, 'utf8'));
    const double = new ComfyDouble(objectInfo);
    await double.listen();
    return double;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What a dead process looks like from outside: every connection drops and nothing answers. */
  async crash(): Promise<void> {
    this.generation += 1;
    for (const socket of this.sockets.values()) socket.terminate();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  /** A new ComfyUI on the same port: empty queue and history. */
  async restart(): Promise<void> {
    await this.crash();
    this.queue = [];
    this.running = undefined;
    this.history.clear();
    await this.listen(this.port);
  }

  dropSockets(): void {
    for (const socket of this.sockets.values()) socket.terminate();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    await this.crash();
    this.wss.close();
  }

  private async listen(port = 0): Promise<void> {
    const server = createServer((request, response) => {
      this.route(request, response).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
    server.on('upgrade', (request, socket, head) => {
      const url = new URL(request.url ?? '/', 'http://double');
      if (url.pathname !== '/ws' || this.script.refuseSockets) return socket.destroy();
      this.wss.handleUpgrade(request, socket, head, (ws) => this.onSocket(ws, url));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** server.py:188-246: sid from ?clientId, a status message, and the current node on reconnect. */
  private onSocket(ws: WebSocket, url: URL): void {
    const sid = url.searchParams.get('clientId') || randomUUID().replaceAll('-', '');
    this.sockets.get(sid)?.terminate();
    this.sockets.set(sid, ws);
    ws.on('close', () => {
      if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
    });
    this.sendTo(sid, 'status', { status: this.queueInfo(), sid });
    if (this.clientId === sid && this.lastNodeId !== undefined)
      this.sendTo(sid, 'executing', { node: this.lastNodeId });
  }

  private sendTo(sid: string | undefined, type: string, data: unknown): void {
    if (sid === undefined) return;
    this.sockets.get(sid)?.send(JSON.stringify({ type, data }));
  }

  private send(type: string, data: unknown): void {
    if (!this.script.silent) this.sendTo(this.clientId, type, data);
  }

  private queueInfo() {
    return { exec_info: { queue_remaining: this.queue.length + (this.running ? 1 : 0) } };
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<unknown> {
    const url = new URL(request.url ?? '/', 'http://double');
    const route = `${request.method} ${url.pathname}`;
    const json = (status: number, body: unknown) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const body = await readBody(request);
    const parsed = () => (body.length === 0 ? {} : JSON.parse(body.toString('utf8')));

    if (route === 'GET /system_stats') return json(200, systemStats());
    if (route === 'GET /object_info') return json(200, this.currentObjectInfo());
    if (route === 'GET /queue') {
      const row = (item: Item) => [item.number, item.id, item.prompt, item.extra, item.outputs];
      return json(200, {
        queue_running: this.running ? [row(this.running)] : [],
        queue_pending: this.queue.map(row),
      });
    }
    if (route === 'GET /history') return json(200, Object.fromEntries(this.history));
    if (request.method === 'GET' && url.pathname.startsWith('/history/')) {
      const id = decodeURIComponent(url.pathname.slice('/history/'.length));
      const entry = this.history.get(id);
      return json(200, entry === undefined ? {} : { [id]: entry });
    }
    if (route === 'POST /history') {
      const { delete: ids = [], clear } = parsed();
      if (clear) this.history.clear();
      for (const id of ids) this.history.delete(id);
      this.received.historyDeletes.push(...ids);
      return response.writeHead(200).end();
    }
    if (route === 'POST /queue') {
      const { delete: ids = [] } = parsed();
      this.queue = this.queue.filter((item) => !ids.includes(item.id));
      this.received.queueDeletes.push(...ids);
      return response.writeHead(200).end();
    }
    if (route === 'POST /interrupt') {
      const { prompt_id } = parsed();
      this.received.interrupts.push({ prompt_id });
      if (prompt_id === undefined || this.running?.id === prompt_id) this.interruptFlag = true;
      return response.writeHead(200).end();
    }
    if (route === 'POST /free') {
      this.received.frees.push(parsed());
      return response.writeHead(200).end();
    }
    if (route === 'POST /upload/image') {
      const form = await new Request('http://double/upload', {
        method: 'POST',
        headers: { 'content-type': request.headers['content-type'] ?? '' },
        body,
      }).formData();
      const image = form.get('image');
      if (!(image instanceof File) || image.name === '') return response.writeHead(400).end();
      const subfolder = String(form.get('subfolder') ?? '');
      this.uploads.set(posix.join(subfolder, image.name), Buffer.from(await image.arrayBuffer()));
      return json(200, { name: image.name, subfolder, type: String(form.get('type') ?? 'input') });
    }
    if (route === 'GET /view') {
      const key = posix.join(url.searchParams.get('subfolder') ?? '', url.searchParams.get('filename') ?? '');
      const bytes = url.searchParams.get('type') === 'input' ? this.uploads.get(key) : this.outputs.get(key);
      if (bytes === undefined) return response.writeHead(404).end();
      return response.writeHead(200, { 'content-type': 'image/png' }).end(bytes);
    }
    if (route === 'POST /prompt') return this.postPrompt(parsed(), json);
    response.writeHead(404).end();
  }

  private currentObjectInfo(): ObjectInfo {
    const info = structuredClone(this.objectInfo);
    const loadImage = info.LoadImage?.input.required?.image;
    if (loadImage !== undefined) loadImage[0] = [...this.uploads.keys()].sort();
    return info;
  }

  /** server.py:674-720 post_prompt. */
  private postPrompt(
    body: { prompt?: Record<string, Node>; client_id?: string; prompt_id?: string },
    json: (status: number, body: unknown) => unknown,
  ): unknown {
    if (body.prompt === undefined) {
      const error = {
        type: 'no_prompt',
        message: 'No prompt provided',
        details: 'No prompt provided',
        extra_info: {},
      };
      return json(400, { error, node_errors: {} });
    }
    const id = body.prompt_id ?? randomUUID();
    this.received.prompts.push({ prompt_id: id, client_id: body.client_id, prompt: body.prompt });
    const result = validatePrompt(body.prompt, this.currentObjectInfo(), (name) => this.uploads.has(name));
    if (!result.valid) return json(400, { error: result.error, node_errors: result.nodeErrors });
    const number = this.number++;
    this.queue.push({
      number,
      id,
      prompt: body.prompt,
      extra: { client_id: body.client_id },
      outputs: result.outputs,
    });
    json(200, { prompt_id: id, number, node_errors: {} });
    void this.work();
  }

  /** main.py:170-229 prompt_worker: one prompt at a time. */
  private async work(): Promise<void> {
    if (this.running !== undefined) return;
    const item = this.queue.shift();
    if (item === undefined) return;
    this.running = item;
    const generation = this.generation;
    const status = await this.execute(item, generation);
    if (generation !== this.generation) return; // the process "died": nothing more is written
    this.history.set(item.id, {
      prompt: [item.number, item.id, item.prompt, item.extra, item.outputs],
      outputs: status.outputs,
      status: {
        status_str: status.ok ? 'success' : 'error',
        completed: status.ok,
        messages: status.messages,
      },
      meta: {},
    });
    this.running = undefined;
    this.send('executing', { node: null, prompt_id: item.id });
    this.lastNodeId = undefined;
    void this.work();
  }

  /** execution.py:649-722 execute_async, with per-node behaviour from `script`. */
  private async execute(item: Item, generation: number) {
    const messages: Array<[string, unknown]> = [];
    const add = (event: string, data: Record<string, unknown>) => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      this.send(event, stamped);
    };
    this.interruptFlag = false;
    this.clientId = item.extra.client_id;
    const outputs: Record<string, unknown> = {};
    const frames = new Map<string, number>();
    const executed: string[] = [];
    add('execution_start', { prompt_id: item.id });
    add('execution_cached', { nodes: [], prompt_id: item.id });
    const pause = () => sleep(this.script.stepDelayMs ?? 1);
    for (const nodeId of executionOrder(item.prompt, item.outputs)) {
      if (generation !== this.generation) return { ok: false, outputs, messages };
      const node = item.prompt[nodeId] as Node;
      const base = {
        prompt_id: item.id,
        node_id: nodeId,
        node_type: node.class_type,
        executed: [...executed],
      };
      if (this.interruptFlag) {
        add('execution_interrupted', base);
        return { ok: false, outputs, messages };
      }
      this.lastNodeId = nodeId;
      this.send('executing', { node: nodeId, display_node: nodeId, prompt_id: item.id });
      this.onNodeStart?.(nodeId, node.class_type);
      if (this.script.dropSocketsAt === node.class_type) {
        this.dropSockets();
        while (
          this.script.holdUntilReconnect &&
          !this.sockets.has(this.clientId ?? '') &&
          generation === this.generation
        ) {
          await pause();
        }
      }
      await pause();
      const steps = node.class_type === 'KSamplerAdvanced' ? Number(node.inputs.steps) : 0;
      for (let step = 1; step <= steps && !this.interruptFlag; step += 1) {
        this.send('progress', { value: step, max: steps, prompt_id: item.id, node: nodeId });
        if (!this.script.silent) this.sockets.get(this.clientId ?? '')?.send(previewFrame());
        await pause();
      }
      while (
        this.script.hangAt === node.class_type &&
        !this.interruptFlag &&
        generation === this.generation
      ) {
        await pause();
      }
      if (this.interruptFlag) {
        add('execution_interrupted', base);
        return { ok: false, outputs, messages };
      }
      const failure = this.failureOf(node);
      if (failure !== undefined) {
        add('execution_error', {
          ...base,
          exception_message: failure.exceptionMessage,
          exception_type: failure.exceptionType,
          traceback: ['  File "execution.py", line 496, in execute\n'],
          current_inputs: {},
          current_outputs: [],
        });
        return { ok: false, outputs, messages };
      }
      frames.set(nodeId, frameCount(node, frames));
      if (node.class_type === 'SaveImage') {
        const images = this.save(String(node.inputs.filename_prefix), frames.get(nodeId) ?? 0);
        outputs[nodeId] = { images };
        this.send('executed', { node: nodeId, display_node: nodeId, output: { images }, prompt_id: item.id });
      }
      executed.push(nodeId);
    }
    add('execution_success', { prompt_id: item.id });
    return { ok: true, outputs, messages };
  }

  private failureOf(node: Node) {
    const fail = this.script.failAt;
    if (fail !== undefined && fail.classType === node.class_type) return fail;
    if (node.class_type === 'LoadImage') {
      const bytes = this.uploads.get(String(node.inputs.image));
      if (bytes === undefined || !isImage(bytes)) {
        return {
          exceptionType: 'PIL.UnidentifiedImageError',
          exceptionMessage: `cannot identify image file '/comfyui/input/${String(node.inputs.image)}'\n`,
        };
      }
    }
    return undefined;
  }

  /** nodes.py SaveImage + folder_paths.get_save_image_path: `<subfolder>/<name>_00001_.png`. */
  private save(prefix: string, count: number) {
    const subfolder = posix.dirname(prefix) === '.' ? '' : posix.dirname(prefix);
    const name = posix.basename(prefix);
    return Array.from({ length: count }, (_, index) => {
      const filename = `${name}_${String(index + 1).padStart(5, '0')}_.png`;
      this.outputs.set(posix.join(subfolder, filename), TINY_PNG);
      return { filename, subfolder, type: 'output' };
    });
  }
}

function emptyRecord(): DoubleRecord {
  return { prompts: [], interrupts: [], frees: [], historyDeletes: [], queueDeletes: [] };
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function systemStats() {
  return {
    system: {
      os: 'posix',
      ram_total: 2 ** 37,
      ram_free: 2 ** 36,
      comfyui_version: '0.3.64',
      python_version: '3.12.3',
      pytorch_version: '2.8.0+cu128',
      embedded_python: false,
      argv: ['main.py', '--listen', '127.0.0.1'],
    },
    devices: [
      {
        name: 'cuda:0 NVIDIA H100 80GB HBM3 : cudaMallocAsync',
        type: 'cuda',
        index: 0,
        vram_total: 85_045_346_304,
        vram_free: 84_000_000_000,
        torch_vram_total: 0,
        torch_vram_free: 0,
      },
    ],
  };
}

function isLink(value: unknown): value is [string, number] {
  return (
    Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number'
  );
}

function isImage(bytes: Buffer): boolean {
  const png = bytes.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  const jpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  const webp = bytes.subarray(8, 12).toString('latin1') === 'WEBP';
  return png || jpeg || webp;
}

/** Frames carried by a node's first output: Wan's length, RIFE's (n − 1) × m + 1, EmptyImage's batch. */
function frameCount(node: Node, frames: Map<string, number>): number {
  const upstream = (input: string) => {
    const link = node.inputs[input];
    return isLink(link) ? (frames.get(link[0]) ?? 0) : 0;
  };
  switch (node.class_type) {
    case 'WanFirstLastFrameToVideo':
      return Number(node.inputs.length);
    case 'KSamplerAdvanced':
      return upstream('latent_image');
    case 'VAEDecode':
      return upstream('samples');
    case 'RIFE VFI':
      return (upstream('frames') - 1) * Number(node.inputs.multiplier) + 1;
    case 'SaveImage':
      return upstream('images');
    case 'ImageScaleBy':
      return upstream('image');
    case 'EmptyImage':
      return Number(node.inputs.batch_size);
    case 'LoadImage':
      return 1;
    default:
      return 0;
  }
}

function executionOrder(prompt: Record<string, Node>, outputs: string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (nodeId: string) => {
    if (seen.has(nodeId)) return;
    seen.add(nodeId);
    for (const value of Object.values(prompt[nodeId]?.inputs ?? {})) if (isLink(value)) visit(value[0]);
    order.push(nodeId);
  };
  for (const output of outputs) visit(output);
  return order;
}

function previewFrame(): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(PREVIEW_IMAGE, 0);
  header.writeUInt32BE(1, 4); // JPEG
  return Buffer.concat([header, Buffer.from([0xff, 0xd8, 0xff, 0xd9])]);
}

type Problem = { type: string; message: string; details: string; extra_info: Record<string, unknown> };

/** execution.py:725-1075 validate_inputs / validate_prompt, for the checks the worker relies on. */
function validatePrompt(prompt: Record<string, Node>, info: ObjectInfo, uploaded: (name: string) => boolean) {
  const invalid = (type: string, message: string, details: string) => ({
    valid: false as const,
    error: { type, message, details, extra_info: {} },
    nodeErrors: {},
    outputs: [],
  });
  const outputs: string[] = [];
  for (const [nodeId, node] of Object.entries(prompt)) {
    if (node.class_type === undefined) {
      return invalid(
        'invalid_prompt',
        'Cannot execute because a node is missing the class_type property.',
        `Node ID '#${nodeId}'`,
      );
    }
    const nodeInfo = info[node.class_type];
    if (nodeInfo === undefined) {
      return invalid(
        'invalid_prompt',
        `Cannot execute because node ${node.class_type} does not exist.`,
        `Node ID '#${nodeId}'`,
      );
    }
    if (nodeInfo.output_node) outputs.push(nodeId);
  }
  if (outputs.length === 0) return invalid('prompt_no_outputs', 'Prompt has no outputs', '');

  const nodeErrors: Record<string, { errors: Problem[]; dependent_outputs: string[]; class_type: string }> =
    {};
  for (const nodeId of Object.keys(prompt)) {
    const node = prompt[nodeId] as Node;
    const errors = nodeProblems(node, info, uploaded);
    if (errors.length > 0)
      nodeErrors[nodeId] = { errors, dependent_outputs: outputs, class_type: node.class_type };
  }
  if (Object.keys(nodeErrors).length > 0) {
    const details = Object.values(nodeErrors)
      .flatMap((node) => node.errors.map((error) => `${error.message}: ${error.details}`))
      .join('\n');
    return {
      valid: false as const,
      error: {
        type: 'prompt_outputs_failed_validation',
        message: 'Prompt outputs failed validation',
        details,
        extra_info: {},
      },
      nodeErrors,
      outputs: [],
    };
  }
  return { valid: true as const, error: undefined, nodeErrors: {}, outputs };
}

function nodeProblems(node: Node, info: ObjectInfo, uploaded: (name: string) => boolean): Problem[] {
  const problems: Problem[] = [];
  const required = info[node.class_type]?.input.required ?? {};
  for (const [name, spec] of Object.entries(required)) {
    const value = node.inputs[name];
    const extra = { input_name: name };
    if (value === undefined) {
      problems.push({
        type: 'required_input_missing',
        message: 'Required input is missing',
        details: name,
        extra_info: extra,
      });
      continue;
    }
    if (isLink(value)) continue;
    const [type, options = {}] = spec as [unknown, { min?: number; max?: number }];
    if (node.class_type === 'LoadImage' && name === 'image') {
      // nodes.py LoadImage.VALIDATE_INPUTS replaces the list check.
      if (!uploaded(String(value))) {
        const message = 'Custom validation failed for node';
        problems.push({
          type: 'custom_validation_failed',
          message,
          details: `image - Invalid image file: ${value}`,
          extra_info: extra,
        });
      }
      continue;
    }
    if (typeof value === 'number' && options.min !== undefined && value < options.min) {
      const message = `Value ${value} smaller than min of ${options.min}`;
      problems.push({ type: 'value_smaller_than_min', message, details: name, extra_info: extra });
    } else if (typeof value === 'number' && options.max !== undefined && value > options.max) {
      const message = `Value ${value} bigger than max of ${options.max}`;
      problems.push({ type: 'value_bigger_than_max', message, details: name, extra_info: extra });
    } else if (Array.isArray(type) && !type.includes(value)) {
      const details = `${name}: '${String(value)}' not in ${JSON.stringify(type)}`;
      problems.push({ type: 'value_not_in_list', message: 'Value not in list', details, extra_info: extra });
    }
  }
  return problems;
}
