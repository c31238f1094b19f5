/**
 * Bad actors against dispatch, over the wire: every object it touches is recorded, and none may lie
 * outside the request's own prefixes; URLs in a manifest are never fetched; bombs and polyglots are
 * refused from their header and tail (ranged reads), never decoded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../contracts/ports.js';
import { processIntake } from '../../functions/dispatch/process-intake.js';
import { type BatchFake, fakeBatch } from '../../local/testkit/batch-fake.js';
import { pngWithDeclaredSize } from '../../local/testkit/images.js';
import { putImages, putManifest, putRequest, sampleImage } from '../../local/testkit/requests.js';
import { type Emulator, type EventListener, startEmulator } from '../support/emulator.js';
import { intakeDeps } from '../support/function-deps.js';
import { intakeRecord, sqsEvent } from '../support/intake-events.js';

interface Touch {
  op: 'get' | 'head' | 'put' | 'delete' | 'list';
  key: string;
  ranged?: boolean;
}

/** The real store, with a record of every key it was asked for. */
function recording(store: ObjectStore, touches: Touch[]): ObjectStore {
  return {
    head: (key) => {
      touches.push({ op: 'head', key });
      return store.head(key);
    },
    get: (key, range) => {
      touches.push({ op: 'get', key, ranged: range !== undefined });
      return store.get(key, range);
    },
    put: (key, body, options) => {
      touches.push({ op: 'put', key });
      return store.put(key, body, options);
    },
    delete: (key) => {
      touches.push({ op: 'delete', key });
      return store.delete(key);
    },
    list: (prefix) => {
      touches.push({ op: 'list', key: prefix });
      return store.list(prefix);
    },
  };
}

let emulator: Emulator;
let events: EventListener;
let batch: BatchFake;
let attacker: Server;
let attackerUrl: string;
let attackerHits = 0;
let ids = 0;

const newId = () => `bad-${++ids}-${Date.now().toString(36)}`;
const outside = (touches: Touch[], id: string) =>
  touches.filter((t) => !t.key.startsWith(`inbox/${id}/`) && !t.key.startsWith(`requests/${id}/`));

async function dispatch(key: string, touches: Touch[]) {
  const deps = intakeDeps(emulator, batch, { objects: recording(emulator.objects, touches) });
  return processIntake(deps, sqsEvent(intakeRecord(key)));
}

async function rejection(id: string) {
  const mine = (await events.drain()).filter((event) => event.request_id === id);
  expect(mine).toHaveLength(1);
  expect(mine[0]?.status).toBe('rejected');
  return mine[0]?.error?.code;
}

beforeAll(async () => {
  emulator = await startEmulator();
  events = emulator.listen();
  attacker = createServer((_req, res) => {
    attackerHits += 1;
    res.end('not an image');
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => attacker.close(resolve));
  await emulator.stop();
});

beforeEach(() => {
  batch?.mock.restore();
  batch = fakeBatch();
});

describe('dispatch against bad actors', () => {
  it.each([['../victim/start.png'], ['..'], ['%2e%2e%2fvictim%2fstart.png'], ['/etc/passwd']])(
    'refuses image name %s and touches nothing outside its own prefix',
    async (name) => {
      // Prepare
      const victim = newId();
      await putRequest(emulator.objects, victim);
      const id = newId();
      await putImages(emulator.objects, id);
      const key = await putManifest(emulator.objects, id, { start_image: name });
      const touches: Touch[] = [];

      // Act
      await dispatch(key, touches);

      // Assess
      expect(await rejection(id)).toBe('MANIFEST_INVALID');
      expect(outside(touches, id)).toEqual([]);
      expect(await emulator.statuses.read(victim)).toBeUndefined();
    },
  );

  it.each([
    ['inbox/../requests/victim/manifest.json'],
    ['inbox/victim/../other/manifest.json'],
    ['inbox/a/b/manifest.json'],
  ])('acts on no object when the manifest key %s tries to leave its prefix', async (key) => {
    // Prepare
    await emulator.objects.put(key, JSON.stringify({}), { contentType: 'application/json' });
    const touches: Touch[] = [];

    // Act
    const response = await dispatch(key, touches);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(touches).toEqual([]);
    expect(await emulator.statuses.read('victim')).toBeUndefined();
  });

  it.each([['inbox/a b/manifest.json'], ['inbox/../manifest.json'], ['inbox/a..b/manifest.json']])(
    'answers a manifest under the invalid id in %s with one event under a derived id, reading nothing',
    async (key) => {
      // Prepare
      await emulator.objects.put(key, JSON.stringify({ client_reference: 'x' }), {
        contentType: 'application/json',
      });
      const touches: Touch[] = [];

      // Act: the event arrives twice.
      await dispatch(key, touches);
      await dispatch(key, touches);

      // Assess
      const published = (await events.drain()).filter((event) => event.error?.details?.key === key);
      expect(published).toHaveLength(1);
      expect(published[0]).toMatchObject({
        type: 'heritage.upload.rejected',
        status: 'rejected',
        client_reference: null,
        parameters: null,
        error: { code: 'REQUEST_ID_INVALID', details: { rule: expect.stringContaining('1-64 characters') } },
      });
      const derived = published[0]?.request_id ?? '';
      expect(derived).toMatch(/^invalid-id-[0-9a-f]{16}$/);
      const outbox = new RegExp(`^requests/${derived}/rejected-uploads/[A-Za-z0-9-]+\\.(json|published)$`);
      expect(touches.length).toBeGreaterThan(0);
      expect(touches.filter((t) => !outbox.test(t.key))).toEqual([]);
    },
  );

  it("refuses a manifest that names another request's images", async () => {
    // Prepare
    const victim = newId();
    await putRequest(emulator.objects, victim);
    const id = newId();
    const key = await putManifest(emulator.objects, id, {
      start_image: `../${victim}/start.png`,
      end_image: `inbox/${victim}/end.png`,
    });
    const touches: Touch[] = [];

    // Act
    await dispatch(key, touches);

    // Assess
    expect(await rejection(id)).toBe('MANIFEST_INVALID');
    expect(touches.filter((t) => t.key.includes(victim))).toEqual([]);
  });

  it.each([
    ['start_image as a URL', (url: string) => ({ start_image: `${url}/start.png` })],
    [
      'a legacy body with an image URL',
      (url: string) => ({ input: { start_image_url: `${url}/start.png` } }),
    ],
    ['an unknown URL field', (url: string) => ({ callback_url: `${url}/hook` })],
  ])('never fetches %s', async (_name, manifest) => {
    // Prepare
    const id = newId();
    await putImages(emulator.objects, id);
    const key = await putManifest(emulator.objects, id, manifest(attackerUrl));
    const touches: Touch[] = [];

    // Act
    await dispatch(key, touches);

    // Assess
    expect(await rejection(id)).toBe('MANIFEST_INVALID');
    expect(attackerHits).toBe(0);
    expect(outside(touches, id)).toEqual([]);
  });

  it.each([
    [
      'a decompression bomb (PNG declaring 100 000 x 100 000)',
      async () => pngWithDeclaredSize(100_000, 100_000),
    ],
    [
      'a polyglot (a valid PNG with a ZIP archive appended)',
      async () =>
        Buffer.concat([await sampleImage(), Buffer.from('PK\u0003\u0004'), Buffer.alloc(4096, 0x41)]),
    ],
    ['an HTML page named start.png', async () => Buffer.from('<!doctype html><script>alert(1)</script>')],
  ])('refuses %s from ranged reads of its header and tail, before any decode', async (_name, image) => {
    // Prepare
    const id = newId();
    await putImages(emulator.objects, id);
    await emulator.objects.put(`inbox/${id}/start.png`, await image(), { contentType: 'image/png' });
    const key = await putManifest(emulator.objects, id, {});
    const touches: Touch[] = [];

    // Act
    await dispatch(key, touches);

    // Assess
    expect(await rejection(id)).toMatch(/^IMAGE_/);
    const imageReads = touches.filter((t) => t.op === 'get' && t.key === `inbox/${id}/start.png`);
    expect(imageReads.length).toBeGreaterThan(0);
    expect(imageReads.every((t) => t.ranged)).toBe(true);
    expect(outside(touches, id)).toEqual([]);
  });
});
