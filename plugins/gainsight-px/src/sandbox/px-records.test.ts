import { afterEach, describe, expect, it } from 'vitest';
import { type RunningPxSandbox, startPxSandbox } from './px-sandbox.ts';

const KEY = 'write-key';
const READ_ONLY_KEY = 'read-key';
const running: RunningPxSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sandbox) => sandbox.close()));
});

async function start(): Promise<RunningPxSandbox> {
  const sandbox = await startPxSandbox({ apiKeys: [KEY], readOnlyKeys: [READ_ONLY_KEY] });
  running.push(sandbox);
  return sandbox;
}

async function call(sandbox: RunningPxSandbox, method: string, path: string, body?: unknown, key = KEY) {
  const response = await fetch(`${sandbox.baseUrl}${path}`, {
    method,
    headers: { 'X-APTRINSIC-API-KEY': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

describe('PX sandbox users and accounts', () => {
  it('answers as PX does: 201 create, 200 read, 204 update, 404 unknown, 204 delete', async () => {
    const sandbox = await start();
    expect(await call(sandbox, 'POST', '/users', { identifyId: 'u-1', propertyKeys: ['AP-1'], aptrinsicId: 'mine' })).toEqual({
      status: 201,
      json: undefined,
    });
    const read = await call(sandbox, 'GET', '/users/u-1');
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ identifyId: 'u-1', id: 'u-1', propertyKeys: ['AP-1'] });
    expect((read.json as { aptrinsicId: string }).aptrinsicId).not.toBe('mine');
    expect((await call(sandbox, 'PUT', '/users/u-1', { email: 'a@b.c' })).status).toBe(204);
    expect((await call(sandbox, 'PUT', '/users/update', { identifyId: 'u-1', title: 'CTO' })).status).toBe(204);
    expect(sandbox.users.get('u-1')).toMatchObject({ email: 'a@b.c', title: 'CTO' });
    expect(await call(sandbox, 'GET', '/users/u-2')).toEqual({
      status: 404,
      json: {
        externalapierror: { status: 'NOT_FOUND', message: 'User was not found for parameters {id=u-2}', debugMessage: null, subErrors: [] },
      },
    });
    expect((await call(sandbox, 'DELETE', '/users/delete', { identifyId: 'u-1' })).status).toBe(204);
    expect((await call(sandbox, 'DELETE', '/users/u-1')).status).toBe(404);
  });

  it("answers 400 with PX's error shape for missing or wrongly typed fields and for a duplicate", async () => {
    const sandbox = await start();
    const invalid = await call(sandbox, 'POST', '/accounts', { id: 'acme', numberOfEmployees: 'many' });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toEqual({
      externalapierror: {
        status: 'BAD_REQUEST',
        message: 'Validation error',
        debugMessage: null,
        subErrors: [
          { field: 'name', rejectedValue: null, message: 'must not be empty' },
          { field: 'propertyKeys', rejectedValue: null, message: 'must not be empty' },
          { field: 'numberOfEmployees', rejectedValue: 'many', message: 'must be an integer' },
        ],
      },
    });
    await call(sandbox, 'POST', '/accounts', { id: 'acme', name: 'Acme', propertyKeys: ['AP-1'] });
    const duplicate = await call(sandbox, 'POST', '/accounts', { id: 'acme', name: 'Acme', propertyKeys: ['AP-1'] });
    expect(duplicate.status).toBe(400);
    expect(JSON.stringify(duplicate.json)).toContain('possible duplicate');
  });

  it("lets a read-only key read but not write, and deletes an account's users with it", async () => {
    const sandbox = await start();
    await call(sandbox, 'POST', '/accounts', { id: 'acme', name: 'Acme', propertyKeys: ['AP-1'] });
    await call(sandbox, 'POST', '/users', { identifyId: 'u-1', accountId: 'acme', propertyKeys: ['AP-1'] });
    expect((await call(sandbox, 'GET', '/accounts/acme', undefined, READ_ONLY_KEY)).status).toBe(200);
    expect((await call(sandbox, 'PUT', '/accounts/acme', { plan: 'x' }, READ_ONLY_KEY)).status).toBe(403);
    expect((await call(sandbox, 'DELETE', '/accounts/acme')).status).toBe(204);
    expect(sandbox.users.has('u-1')).toBe(false);
  });
});
