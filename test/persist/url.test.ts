import { describe, expect, it } from 'vitest';
import { InvalidTaskIdError, newTaskId } from '../../src/core/ids.ts';
import { memoryLocation, readTaskId, withTaskId } from '../../src/persist/url.ts';

describe('task ids in the URL', () => {
  const id = newTaskId();

  it('reads the id from the default _id parameter, or null when there is none', () => {
    expect(readTaskId(`https://shop.test/checkout?_id=${id}`)).toBe(id);
    expect(readTaskId('https://shop.test/checkout?step=2')).toBeNull();
  });

  it('reads and writes a configured parameter name', () => {
    const url = withTaskId('https://shop.test/checkout?step=2#top', id, 'task');
    expect(url.href).toBe(`https://shop.test/checkout?step=2&task=${id}#top`);
    expect(readTaskId(url, 'task')).toBe(id);
    expect(readTaskId(url)).toBeNull();
  });

  it.each([
    ['too short', 'abc'],
    ['too long', `${id}x`],
    ['not URL-safe', `${id.slice(0, 21)}+`],
    ['empty', ''],
    ['a path traversal', '../../etc/passwd'],
  ])('rejects a malformed id (%s) with InvalidTaskIdError, without looking it up', (_, value) => {
    const url = `https://shop.test/checkout?_id=${encodeURIComponent(value)}`;
    expect(() => readTaskId(url)).toThrow(InvalidTaskIdError);
    expect(() => readTaskId(url)).toThrow(/is not a task id.*start a new task/);
  });

  it('removes the id and keeps the rest of the URL', () => {
    expect(withTaskId(`https://shop.test/a?x=1&_id=${id}`, null).href).toBe('https://shop.test/a?x=1');
  });

  it('refuses to write a malformed id', () => {
    expect(() => withTaskId('https://shop.test/', 'nope')).toThrow(InvalidTaskIdError);
  });

  it('keeps a memory location for tests and servers', () => {
    const location = memoryLocation('https://shop.test/a');
    location.replace(withTaskId(location.read(), id).href);
    expect(readTaskId(location.read())).toBe(id);
  });

  it('makes ids of 128 random bits in 22 URL-safe characters that survive a URL round trip', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newTaskId()));
    expect(ids.size).toBe(1000);
    for (const made of ids) expect(readTaskId(withTaskId('https://x.test/', made))).toBe(made);
  });
});
