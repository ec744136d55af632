import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../src/core/store.ts';
import { makeRecord } from '../persist/contract.ts';
import { browserFetch, pgliteHarness, type StorageHarness, testApp } from './harness.ts';

let harness: StorageHarness;
beforeAll(async () => {
  harness = await pgliteHarness();
});
afterAll(() => harness.close());

const ID = makeRecord().id;
const BASE = 'http://wayflow.test';
/** Any JSON, with every kind of string: NUL, lone surrogates, astral characters. */
const anyJson = fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 });
const anyText = fc.string({ unit: 'binary', maxLength: 40 });

/** A record the API must accept: arbitrary task data and step inputs in a valid shape. */
const validRecord = fc
  .record({
    data: fc.dictionary(anyText, anyJson, { maxKeys: 5 }),
    inputs: fc.dictionary(anyText, anyJson, { maxKeys: 3 }),
    flowId: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
    actor: fc.option(anyText),
    step: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  })
  .map(({ data, inputs, flowId, actor, step }): TaskRecord => {
    const base = makeRecord({ flowId, data, lastActiveAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    return {
      ...base,
      snapshot: { value: { [flowId]: { [step]: '$ready' } }, context: { ...base.snapshot.context, inputs } },
      history: [{ at: base.createdAt, event: 'start', from: null, to: step, actor }],
    };
  });

/** Bodies the API must refuse: a valid record with one field replaced, removed or added, any JSON, broken text. */
const body = fc.oneof(
  { weight: 3, arbitrary: validRecord.map((record) => ({ record, text: JSON.stringify(record) })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(validRecord, fc.constantFrom(...Object.keys(makeRecord()), 'extra'), fc.option(anyJson, { nil: undefined }))
      .map(([record, key, value]) => {
        const broken: Record<string, unknown> = { ...record };
        if (value === undefined) delete broken[key];
        else broken[key] = value;
        return { record: null, text: JSON.stringify(broken) };
      }),
  },
  { weight: 1, arbitrary: anyJson.map((value) => ({ record: null, text: JSON.stringify(value) })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ record: null, text })) },
  { weight: 1, arbitrary: validRecord.map((record) => ({ record: null, text: JSON.stringify(record).slice(0, -1) })) },
);

const request = fc.record({
  method: fc.constantFrom('PUT', 'PUT', 'PUT', 'GET', 'DELETE', 'POST'),
  body,
  /** How far If-Match is from the right version; null: a garbage header. */
  skew: fc.option(fc.integer({ min: -2, max: 2 }), { freq: 5 }),
  garbage: fc.string({ unit: 'grapheme-ascii', maxLength: 12 }),
  contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', ''),
});

describe('tasks API under fuzzed bodies', () => {
  it('never answers 500, always answers errors as { error: { code, message } }, and loses no acknowledged write', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 12 }), async (requests) => {
        await harness.reset();
        const app = testApp(harness.storage);
        const send = browserFetch((req) => app.fetch(req));
        /** The record the server acknowledged last, as sent. */
        let stored: unknown = null;
        for (const { method, body, skew, garbage, contentType } of requests) {
          const version = (stored as { version?: number } | null)?.version ?? 0;
          const headers: Record<string, string> = { 'wayflow-binder': 'binder-a' };
          if (contentType) headers['content-type'] = contentType;
          headers['if-match'] = skew === null ? garbage : `"${Math.max(0, version + skew)}"`;
          let text = body.text;
          if (body.record && skew !== null) text = JSON.stringify({ ...body.record, version: Math.max(0, version + skew) + 1 });
          const path = method === 'POST' ? '/tasks/sweep' : `/tasks/${ID}`;
          const response = await send(`${BASE}${path}`, { method, headers, ...(method === 'GET' ? {} : { body: text }) });
          expect(response.status).toBeLessThan(500);
          if (response.status >= 400) {
            const answer = (await response.json()) as { error: { code: unknown; message: unknown } };
            seen.set(String(answer.error.code), (seen.get(String(answer.error.code)) ?? 0) + 1);
            expect(typeof answer.error.code).toBe('string');
            expect(typeof answer.error.message).toBe('string');
          } else if (method === 'PUT') {
            seen.set('written', (seen.get('written') ?? 0) + 1);
            stored = JSON.parse(text);
          } else if (method === 'DELETE') {
            stored = null;
          }
          const read = await send(`${BASE}/tasks/${ID}`, { headers: { 'wayflow-binder': 'binder-a' } });
          // A record written with an expiry already past is stored, but reads as expired, like any expired task.
          const live = stored !== null && (stored as { expiresAt: number }).expiresAt > Date.now();
          if (!live) expect(read.status).toBe(404);
          else expect(((await read.json()) as { task: unknown }).task).toEqual(stored);
        }
      }),
      { numRuns: 150 },
    );
    // The fuzz reached both sides: accepted writes and each kind of refusal.
    for (const outcome of ['written', 'invalid-body', 'malformed-json', 'version-conflict', 'unsupported-media-type', 'invalid-if-match']) {
      expect(seen.get(outcome), outcome).toBeGreaterThan(0);
    }
  });

  /** Stores a task whose `data` is the JSON text `data`, as sent, and returns the text the API answers when it is read back. */
  async function roundTrip(data: string): Promise<{ sent: string; read: string }> {
    const app = testApp(harness.storage);
    const send = browserFetch((req) => app.fetch(req));
    const sent = JSON.stringify(makeRecord({ lastActiveAt: Date.now(), expiresAt: Date.now() + 60_000 })).replace('"data":{"item":"book"}', `"data":${data}`);
    await harness.reset();
    const put = await send(`${BASE}/tasks/${ID}`, { method: 'PUT', headers: { 'content-type': 'application/json', 'wayflow-binder': 'binder-a', 'if-match': '0' }, body: sent });
    expect(put.status).toBe(201);
    const read = await send(`${BASE}/tasks/${ID}`, { headers: { 'wayflow-binder': 'binder-a' } });
    return { sent, read: await read.text() };
  }

  it('keeps keys such as __proto__ and NUL characters exactly as sent', async () => {
    const { sent, read } = await roundTrip('{"__proto__":{"polluted":true},"nul":"a\\u0000b","lone":"\\ud800","emoji":"🦊"}');
    expect(JSON.parse(read)).toEqual({ task: JSON.parse(sent) });
    expect(read).toContain('"__proto__":{"polluted":true}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stores numbers and duplicate keys as JSON.parse reads them, as docs/server.md says: -0 as 0, big integers rounded, the last of equal keys', async () => {
    const { read } = await roundTrip('{"zero":-0,"big":12345678901234567890,"twice":"first","twice":"last","small":1e-7}');
    expect(read).toContain('"data":{"zero":0,"big":12345678901234567000,"twice":"last","small":1e-7}');
  });
});

