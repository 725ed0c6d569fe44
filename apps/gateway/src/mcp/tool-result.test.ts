import { describe, expect, it } from 'vitest';
import { fieldName, toToolResult } from './tool-result.ts';

describe('fieldName', () => {
  it.each([
    ['/body/eventName', 'body.eventName'],
    ['/body', 'body'],
    ['/body/attributes/plan', 'body.attributes.plan'],
    ['/body/tags/0', 'body.tags[0]'],
    ['/body/attributes/a~1b', 'body.attributes["a/b"]'],
    ['/body/attributes/t~0x', 'body.attributes["t~x"]'],
    ['/body/attributes/with space', 'body.attributes["with space"]'],
    ['', '(arguments)'],
  ])('%s -> %s', (pointer, field) => {
    expect(fieldName(pointer)).toBe(field);
  });
});

describe('toToolResult', () => {
  it('puts status, body and request id in structured content, with a JSON text copy', () => {
    const result = toToolResult('t', { ok: true, status: 201, body: { id: 'e1' }, requestId: 'r-1', attempts: 1 });
    expect(result.structuredContent).toEqual({ status: 201, body: { id: 'e1' }, requestId: 'r-1' });
    expect(JSON.parse(result.content[0]?.text ?? '')).toEqual(result.structuredContent);
    expect(result.isError).toBeUndefined();
  });

  it('leaves body out when the upstream answered nothing', () => {
    expect(toToolResult('t', { ok: true, status: 204, body: '', requestId: 'r', attempts: 1 }).structuredContent).toEqual({
      status: 204,
      requestId: 'r',
    });
  });

  it('lists every input problem by field', () => {
    const result = toToolResult('send', {
      ok: false,
      requestId: 'r',
      attempts: 0,
      failure: {
        kind: 'invalid-input',
        status: 400,
        title: 'Invalid input',
        detail: 'whatever',
        problems: [
          { pointer: '/body/eventName', message: 'is required' },
          { pointer: '/body/date', message: 'must be integer or string (date-time)' },
        ],
      },
    });
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toBe(
      'Invalid arguments for send; nothing was sent upstream. Fix these and call again:\n- body.eventName: is required\n- body.date: must be integer or string (date-time)',
    );
  });

  it('says the upstream status, retry delay, request id and, for pass-through failures, the upstream answer', () => {
    const result = toToolResult('send', {
      ok: false,
      requestId: 'r-9',
      attempts: 1,
      failure: {
        kind: 'upstream-status',
        status: 429,
        title: 'PX answered 429',
        detail: 'PX answered 429 (its answer is relayed unchanged).',
        upstreamStatus: 429,
        retryAfterSeconds: 3,
        upstreamBody: { error: 'slow down' },
      },
    });
    expect(result.isError).toBe(true);
    // The detail restates the title: said once, not "PX answered 429. PX answered 429 …".
    expect(result.content[0]?.text).toBe(
      'PX answered 429 (its answer is relayed unchanged).\n(upstream status 429; retry after 3 s; request id r-9)\nUpstream answer: {"error":"slow down"}',
    );
  });
});
