import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { isLegacyRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { isModernRequest } from './transport-handler.ts';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

function post(headers: Record<string, string>, body: unknown): { request: IncomingMessage; body: unknown } {
  const request = new IncomingMessage(new Socket());
  request.method = 'POST';
  request.url = '/mcp';
  request.headers = { host: '127.0.0.1', 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers };
  return { request, body };
}

const CASES: [string, ReturnType<typeof post>][] = [
  [
    '2025 initialize',
    post({}, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } }),
  ],
  [
    '2025 tools/call',
    post({ 'mcp-protocol-version': '2025-11-25' }, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 't' } }),
  ],
  ['2025 with a traceparent in _meta', post({}, { jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { traceparent: 'x' } } })],
  [
    '2026 tools/list',
    post(
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' },
      { jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: ENVELOPE } },
    ),
  ],
  ['2026 header, no envelope', post({ 'mcp-protocol-version': '2026-07-28' }, { jsonrpc: '2.0', id: 5, method: 'tools/list' })],
  [
    'envelope without a version',
    post({}, { jsonrpc: '2.0', id: 6, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/clientInfo': {} } } }),
  ],
  [
    'a batch',
    post({}, [
      { jsonrpc: '2.0', id: 7, method: 'tools/list' },
      { jsonrpc: '2.0', id: 8, method: 'tools/list', params: { _meta: ENVELOPE } },
    ]),
  ],
];

describe('isModernRequest', () => {
  it.each(CASES)('routes %s as the SDK classifies it', async (_name, { request, body }) => {
    const web = new Request('http://127.0.0.1/mcp', {
      method: 'POST',
      headers: request.headers as Record<string, string>,
      body: JSON.stringify(body),
    });
    expect(await isModernRequest(request, body)).toBe(!(await isLegacyRequest(web, body)));
  });
});
