import { defineOperation, InputError, type InputOf, type OperationDescriptor, type ToolHints } from '@gateway/core';
import {
  accountChangesSchema,
  accountIdSchema,
  accountSchema,
  accountsPageSchema,
  identifyIdSchema,
  newAccountSchema,
  newUserSchema,
  pagingProperties,
  userChangesSchema,
  userSchema,
  usersPageSchema,
} from './user-account-schemas.ts';

export const USER_TOOLS = {
  get: 'gainsight-get-user',
  list: 'gainsight-list-users',
  create: 'gainsight-create-user',
  update: 'gainsight-update-user',
  delete: 'gainsight-delete-user',
} as const;

export const ACCOUNT_TOOLS = {
  get: 'gainsight-get-account',
  list: 'gainsight-list-accounts',
  create: 'gainsight-create-account',
  update: 'gainsight-update-account',
} as const;

const READS: ToolHints = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
const CREATES: ToolHints = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };
// An update overwrites the values it sets (MCP: "destructive" is anything but additive); the same update twice changes nothing more.
const UPDATES: ToolHints = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true };
const DELETES: ToolHints = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true };

/** PX answers an unknown user or account id with 404. */
const LOOKUP = { notFound: [404] } as const;

const getUserInput = {
  type: 'object',
  additionalProperties: false,
  required: ['identifyId'],
  properties: { identifyId: identifyIdSchema },
} as const;

const listInput = { type: 'object', additionalProperties: false, properties: pagingProperties } as const;

const createUserInput = { type: 'object', additionalProperties: false, required: ['body'], properties: { body: newUserSchema } } as const;

const updateUserInput = {
  type: 'object',
  additionalProperties: false,
  required: ['identifyId', 'body'],
  properties: { identifyId: identifyIdSchema, body: userChangesSchema },
} as const;

const deleteUserInput = {
  type: 'object',
  additionalProperties: false,
  required: ['identifyId'],
  properties: {
    identifyId: identifyIdSchema,
    hardDelete: {
      type: 'boolean',
      description: 'true deletes the user for good. Otherwise (the default) PX soft-deletes it: it can be revived within 7 days.',
    },
  },
} as const;

const getAccountInput = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: accountIdSchema } } as const;

const createAccountInput = {
  type: 'object',
  additionalProperties: false,
  required: ['body'],
  properties: { body: newAccountSchema },
} as const;

const updateAccountInput = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'body'],
  properties: { id: accountIdSchema, body: accountChangesSchema },
} as const;

const LIST_GUIDE =
  "Page with pageSize (1-1000) and scrollId (the previous page's); the last page is shorter than pageSize. " +
  'Filter with filter: ["field==value", ...] (case-insensitive).';

/**
 * Users and accounts: the records custom events refer to (`identifyId`, `accountId`). Updates and deletes use
 * PX's id-in-the-body paths (`PUT /users/update`, `DELETE /users/delete`, `PUT /accounts/update`), so any id
 * works, even one with `/` or `?` that a path segment cannot carry to PX.
 */
export function userAndAccountOperations(options: { readonly productKey: string | undefined }): OperationDescriptor<any>[] {
  /** The product keys PX requires on create: the caller's, else the configured default. */
  const withPropertyKeys = <Body extends { readonly propertyKeys?: readonly string[] }>(
    body: Body,
  ): Body & { propertyKeys: readonly string[] } => {
    if (body.propertyKeys) return { ...body, propertyKeys: body.propertyKeys };
    if (options.productKey) return { ...body, propertyKeys: [options.productKey] };
    throw new InputError([
      { pointer: '/body/propertyKeys', message: 'is required: this gateway has no default product key (GAINSIGHT_PX_PRODUCT_KEY)' },
    ]);
  };

  return [
    defineOperation<InputOf<typeof getUserInput>>({
      id: 'getUser',
      title: 'Get a user',
      description: 'One Gainsight PX user by identifyId (GET /users/{identifyId} upstream). Answers 404 when PX has no such user.',
      input: getUserInput,
      output: userSchema,
      responses: LOOKUP,
      example: { identifyId: 'u-1' },
      upstream: { method: 'GET', path: '/users/{identifyId}' },
      rest: { method: 'GET', path: '/v1/users/:identifyId' },
      mcp: {
        tool: USER_TOOLS.get,
        title: 'Get a Gainsight PX user',
        description: 'Read one Gainsight PX user by identifyId, e.g. the user a custom event names. Not found is an error that says so.',
        hints: READS,
      },
    }),
    defineOperation<InputOf<typeof listInput>>({
      id: 'listUsers',
      title: 'List users',
      description: `Gainsight PX users, one page at a time (GET /users upstream). ${LIST_GUIDE}`,
      input: listInput,
      output: usersPageSchema,
      example: { filter: ['email==ada@example.com'], pageSize: 25 },
      upstream: { method: 'GET', path: '/users', inputs: { filter: 'query', pageSize: 'query', scrollId: 'query', sort: 'query' } },
      rest: { method: 'GET', path: '/v1/users' },
      mcp: { tool: USER_TOOLS.list, title: 'List Gainsight PX users', description: `List Gainsight PX users. ${LIST_GUIDE}`, hints: READS },
    }),
    defineOperation<InputOf<typeof createUserInput>>({
      id: 'createUser',
      title: 'Create a user',
      description:
        'Creates a Gainsight PX user (POST /users upstream). Answers 201; 400 when PX refuses it (also when the user may already exist: update it instead).',
      input: createUserInput,
      responses: { successStatus: 201 },
      example: { body: { identifyId: 'u-1', email: 'ada@example.com', accountId: 'acme', propertyKeys: ['AP-TEST-1'] } },
      upstream: { method: 'POST', path: '/users', toRequest: (input) => ({ body: withPropertyKeys(input.body) }) },
      rest: { method: 'POST', path: '/v1/users' },
      mcp: {
        tool: USER_TOOLS.create,
        title: 'Create a Gainsight PX user',
        description:
          'Create a Gainsight PX user. body.identifyId is the id the product uses for the person (custom events carry it); set accountId to put the user in an account. Fails when the user exists: use the update tool then.',
        hints: CREATES,
      },
    }),
    defineOperation<InputOf<typeof updateUserInput>>({
      id: 'updateUser',
      title: 'Update a user',
      description:
        'Changes the fields sent of a Gainsight PX user (PUT /users/update upstream, the id in the body so that any id works). Answers 204; 404 when PX has no such user.',
      input: updateUserInput,
      responses: { successStatus: 204, ...LOOKUP },
      example: { identifyId: 'u-1', body: { title: 'CTO' } },
      upstream: { method: 'PUT', path: '/users/update', toRequest: (input) => ({ body: { ...input.body, identifyId: input.identifyId } }) },
      rest: { method: 'PUT', path: '/v1/users/:identifyId' },
      mcp: {
        tool: USER_TOOLS.update,
        title: 'Update a Gainsight PX user',
        description: 'Change some fields of a Gainsight PX user; fields not in body keep their value. Not found is an error that says so.',
        hints: UPDATES,
      },
    }),
    defineOperation<InputOf<typeof deleteUserInput>>({
      id: 'deleteUser',
      title: 'Delete a user',
      description:
        'Deletes a Gainsight PX user (DELETE /users/delete upstream, the id in the body). Soft delete (revivable for 7 days) unless hardDelete is true. Answers 204; 404 when PX has no such user.',
      input: deleteUserInput,
      responses: { successStatus: 204, ...LOOKUP },
      example: { identifyId: 'u-1' },
      upstream: {
        method: 'DELETE',
        path: '/users/delete',
        toRequest: (input) => ({ body: { identifyId: input.identifyId }, ...(input.hardDelete ? { query: { hardDelete: true } } : {}) }),
      },
      rest: { method: 'DELETE', path: '/v1/users/:identifyId' },
      mcp: {
        tool: USER_TOOLS.delete,
        title: 'Delete a Gainsight PX user',
        description:
          'Delete a Gainsight PX user. By default PX soft-deletes (revivable within 7 days); hardDelete: true removes the user and its history for good. Only on an explicit request.',
        hints: DELETES,
      },
    }),
    defineOperation<InputOf<typeof getAccountInput>>({
      id: 'getAccount',
      title: 'Get an account',
      description: 'One Gainsight PX account by id (GET /accounts/{id} upstream). Answers 404 when PX has no such account.',
      input: getAccountInput,
      output: accountSchema,
      responses: LOOKUP,
      example: { id: 'acme' },
      upstream: { method: 'GET', path: '/accounts/{id}' },
      rest: { method: 'GET', path: '/v1/accounts/:id' },
      mcp: {
        tool: ACCOUNT_TOOLS.get,
        title: 'Get a Gainsight PX account',
        description:
          'Read one Gainsight PX account by id, e.g. the accountId a custom event or a user names. Not found is an error that says so.',
        hints: READS,
      },
    }),
    defineOperation<InputOf<typeof listInput>>({
      id: 'listAccounts',
      title: 'List accounts',
      description: `Gainsight PX accounts, one page at a time (GET /accounts upstream). ${LIST_GUIDE}`,
      input: listInput,
      output: accountsPageSchema,
      example: { filter: ['name==Acme Corp'], pageSize: 25 },
      upstream: { method: 'GET', path: '/accounts', inputs: { filter: 'query', pageSize: 'query', scrollId: 'query', sort: 'query' } },
      rest: { method: 'GET', path: '/v1/accounts' },
      mcp: {
        tool: ACCOUNT_TOOLS.list,
        title: 'List Gainsight PX accounts',
        description: `List Gainsight PX accounts. ${LIST_GUIDE}`,
        hints: READS,
      },
    }),
    defineOperation<InputOf<typeof createAccountInput>>({
      id: 'createAccount',
      title: 'Create an account',
      description: 'Creates a Gainsight PX account (POST /accounts upstream). Answers 201; 400 when PX refuses it.',
      input: createAccountInput,
      responses: { successStatus: 201 },
      example: { body: { id: 'acme', name: 'Acme Corp', propertyKeys: ['AP-TEST-1'] } },
      upstream: { method: 'POST', path: '/accounts', toRequest: (input) => ({ body: withPropertyKeys(input.body) }) },
      rest: { method: 'POST', path: '/v1/accounts' },
      mcp: {
        tool: ACCOUNT_TOOLS.create,
        title: 'Create a Gainsight PX account',
        description: 'Create a Gainsight PX account (body.id and body.name required). Fails when it exists: use the update tool then.',
        hints: CREATES,
      },
    }),
    defineOperation<InputOf<typeof updateAccountInput>>({
      id: 'updateAccount',
      title: 'Update an account',
      description:
        'Changes the fields sent of a Gainsight PX account (PUT /accounts/update upstream, the id in the body so that any id works). Answers 204; 404 when PX has no such account.',
      input: updateAccountInput,
      responses: { successStatus: 204, ...LOOKUP },
      example: { id: 'acme', body: { plan: 'enterprise' } },
      upstream: { method: 'PUT', path: '/accounts/update', toRequest: (input) => ({ body: { ...input.body, id: input.id } }) },
      rest: { method: 'PUT', path: '/v1/accounts/:id' },
      mcp: {
        tool: ACCOUNT_TOOLS.update,
        title: 'Update a Gainsight PX account',
        description:
          'Change some fields of a Gainsight PX account; fields not in body keep their value. Not found is an error that says so.',
        hints: UPDATES,
      },
    }),
  ];
}
