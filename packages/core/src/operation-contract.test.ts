import { describe, expect, it } from 'vitest';
import { definePlugin } from './define.ts';
import { DescriptorError } from './errors.ts';
import { restParameterSources, upstreamPlacements } from './rest-parameters.ts';
import { createSchemaCompiler } from './schema-validator.ts';
import type { OperationDescriptor, PluginDescriptor } from './types.ts';
import { compileDescriptors } from './validate-descriptors.ts';

const hints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };

const listUsers = (overrides: Partial<OperationDescriptor> = {}): OperationDescriptor => ({
  id: 'listUsers',
  title: 'List users',
  description: 'Lists users.',
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      pageSize: { type: 'integer', minimum: 1 },
      filter: { type: 'array', items: { type: 'string' } },
      hardDelete: { type: 'boolean' },
      traceId: { type: 'string' },
    },
  },
  upstream: { method: 'GET', path: '/users', inputs: { pageSize: 'query', filter: 'query', hardDelete: 'query', traceId: 'header' } },
  rest: { method: 'GET', path: '/v1/users' },
  mcp: { tool: 'list-users', hints },
  ...overrides,
});

const getUser = (restPath: string, overrides: Partial<OperationDescriptor> = {}): OperationDescriptor => ({
  id: `get${restPath.length}`,
  title: 'Get a user',
  description: 'Gets a user.',
  input: { type: 'object', required: ['identifyId'], properties: { identifyId: { type: 'string' } } },
  upstream: { method: 'GET', path: '/users/{identifyId}' },
  rest: { method: 'GET', path: restPath },
  mcp: false,
  ...overrides,
});

const plugin = (operations: OperationDescriptor[]): PluginDescriptor =>
  definePlugin({ id: 'p', title: 'P', version: '1.0.0', description: 'p', upstream: { baseUrl: 'http://127.0.0.1:1' }, operations });

function loadError(operations: OperationDescriptor[]): DescriptorError {
  try {
    compileDescriptors([plugin(operations)], createSchemaCompiler());
  } catch (error) {
    expect(error).toBeInstanceOf(DescriptorError);
    return error as DescriptorError;
  }
  throw new Error('expected a DescriptorError');
}

describe('the operation contract', () => {
  it('places inputs upstream and reads REST parameters from the same declaration', () => {
    expect(upstreamPlacements(listUsers())).toEqual({ pageSize: 'query', filter: 'query', hardDelete: 'query', traceId: 'header' });
    expect(restParameterSources(listUsers())).toEqual({ pageSize: 'query', filter: 'query', hardDelete: 'query', traceId: 'header' });
    expect(upstreamPlacements(getUser('/v1/users/:identifyId'))).toEqual({ identifyId: 'path' });
    expect(restParameterSources(getUser('/v1/users/:identifyId'))).toEqual({ identifyId: 'path' });
  });

  it('converts REST text to the schema types (integer, boolean, a single value for an array)', () => {
    const [compiled] = compileDescriptors([plugin([listUsers()])], createSchemaCompiler());
    const input: Record<string, unknown> = { pageSize: '5', filter: 'email==a@b.c', hardDelete: 'true', traceId: '7' };
    compiled?.coerceRestText?.(input);
    expect(input).toEqual({ pageSize: 5, filter: ['email==a@b.c'], hardDelete: true, traceId: '7' });
    const wrong: Record<string, unknown> = { pageSize: 'five' };
    compiled?.coerceRestText?.(wrong);
    expect(compiled?.validateInput(wrong)).toEqual([{ pointer: '/pageSize', message: 'must be integer' }]);
  });

  it('refuses an input that would never reach the upstream without toRequest', () => {
    const operation = listUsers({ upstream: { method: 'GET', path: '/users', inputs: { pageSize: 'query' } } });
    const error = loadError([operation]);
    expect(error.field).toBe('operations[0].upstream.inputs');
    expect(error.message).toContain('filter, hardDelete, traceId would never reach the upstream');
  });

  it('refuses a path placeholder that names no input, and a path placement the path lacks', () => {
    expect(loadError([getUser('/v1/users/:identifyId', { upstream: { method: 'GET', path: '/users/{userId}' } })]).message).toContain(
      'upstream.path: {userId} names no input property',
    );
    const misplaced = getUser('/v1/users/:identifyId', { upstream: { method: 'GET', path: '/users', inputs: { identifyId: 'path' } } });
    expect(loadError([misplaced]).message).toContain('upstream.path "/users" has no {identifyId}');
  });

  it('detects REST routes that differ only in parameter names', () => {
    const error = loadError([
      getUser('/v1/users/:id', {
        input: { type: 'object', properties: { id: { type: 'string' } } },
        upstream: { method: 'GET', path: '/users/{id}' },
      }),
      getUser('/v1/users/:identifyId'),
    ]);
    expect(error.message).toContain('duplicate REST route "GET /v1/users/:identifyId"');
    expect(error.message).toContain('parameter names do not tell routes apart');
    expect(loadError([getUser('/v1/users/:identifyId'), getUser('/v1/users/{identifyId}', { id: 'other' })]).field).toBe(
      'operations[1].rest',
    );
  });

  it('refuses a REST path parameter that is not an input read from the path', () => {
    const operation = getUser('/v1/users/:userId');
    expect(loadError([operation]).message).toContain('the REST path parameter "userId" must be an input property read from the path');
  });

  it('checks declared responses', () => {
    expect(loadError([getUser('/v1/users/:identifyId', { responses: { successStatus: 404 } })]).field).toBe(
      'operations[0].responses.successStatus',
    );
    expect(loadError([getUser('/v1/users/:identifyId', { responses: { notFound: [500] } })]).message).toContain('500 is not a 4xx status');
  });
});
