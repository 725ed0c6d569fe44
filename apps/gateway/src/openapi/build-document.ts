import type { JsonSchema } from '@gateway/core';
import { type OpenAPIObject, OpenApiBuilder, type PathItemObject } from 'openapi3-ts/oas31';
import { addDeliveryComponents, DELIVERIES_TAG, withQueuedAnswer } from './delivery-paths.ts';
import { madeFrom } from '../gateway-plugin/local-operation.ts';
import { addGatewayPath } from './gateway-path.ts';
import { addLocalOperations } from './local-operations.ts';
import { buildOperation, openApiPath } from './operation.ts';
import { addSandboxReadPath } from './sandbox-paths.ts';
import {
  IDEMPOTENCY_KEY_PARAMETER,
  IDEMPOTENT_REPLAYED_HEADER,
  idempotencyKeyParameter,
  idempotentReplayedHeader,
  PROBLEM_SCHEMA,
  problemSchema,
  RATE_LIMIT_HEADER,
  RATE_LIMIT_POLICY_HEADER,
  rateLimitHeader,
  rateLimitPolicyHeader,
  REQUEST_ID_HEADER,
  REQUEST_ID_PARAMETER,
  RETRY_AFTER_HEADER,
  requestIdHeader,
  requestIdParameter,
  retryAfterHeader,
} from './problem-schema.ts';
import { SchemaNames } from './schema-names.ts';
import type { DocumentOptions, DocumentPlugin, DocumentSource, RestEntry } from './types.ts';

export const OPENAPI_VERSION = '3.1.1';

/**
 * The OpenAPI 3.1 document of the gateway's REST front door, from the loaded descriptors.
 * Pure: the same input gives the same document, and the input is never modified. Schemas are the
 * descriptors' own objects (by reference), so the document shows exactly what the validator checks.
 */
export function buildOpenApiDocument(source: DocumentSource, options: DocumentOptions): OpenAPIObject {
  const entries = restEntries(source);
  const operationIds = uniqueOperationIds(entries);
  const tags = tagNames(source.plugins);
  const names = new SchemaNames([PROBLEM_SCHEMA]);
  const sandboxPrefix = options.sandboxPrefix ?? '/sandbox';

  const builder = OpenApiBuilder.create({
    openapi: OPENAPI_VERSION,
    info: {
      title: options.info.title,
      version: options.info.version,
      description: describeApi(options.info.description, source.plugins, options.security !== undefined),
      contact: options.info.contact,
      license: options.info.license,
    },
    servers: [...(options.servers ?? [{ url: '/', description: 'This gateway' }])],
    paths: {},
  });
  for (const plugin of source.plugins) {
    builder.addTag({ name: tags.get(plugin) as string, description: describePlugin(plugin) });
  }
  const queue = options.deliveries;
  const local = options.localOperations ?? [];
  const secured = options.security !== undefined;
  const schemaName = (schema: JsonSchema) => names.known(schema);
  if (queue && entries.some((entry) => entry.operation.delivery)) {
    addDeliveryComponents(builder);
    addLocalOperations(
      builder,
      local.filter((operation) => !operation.derivedFrom),
      { tags: [DELIVERIES_TAG], secured, schemaName },
    );
  }
  for (const plugin of source.plugins) {
    if (plugin.mode !== 'sandbox') continue;
    for (const route of plugin.sandbox?.readRoutes ?? [])
      addSandboxReadPath(builder, `${sandboxPrefix}${route}`, plugin.descriptor.title, tags.get(plugin) as string);
  }
  for (const [index, entry] of entries.entries()) {
    const built = buildOperation(entry, {
      operationId: operationIds[index] as string,
      tag: tags.get(entry.plugin) as string,
      schemaRef: (schema, fallback) => {
        const { name, isNew } = names.nameFor(schema, fallback);
        if (isNew) builder.addSchema(name, schema);
        return name;
      },
      sandboxReads:
        entry.plugin.mode === 'sandbox' ? (entry.plugin.sandbox?.readRoutes ?? []).map((route) => `${sandboxPrefix}${route}`) : [],
      secured: options.security !== undefined,
      ...(options.bodyLimitBytes !== undefined ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
    });
    const queueable = queue !== undefined && entry.operation.delivery !== undefined;
    const operation = queueable ? withQueuedAnswer(built, queue.queueByDefault) : built;
    builder.addPath(openApiPath(entry.rest.path), { [entry.rest.method.toLowerCase()]: operation } as PathItemObject);
    // Operations made from this one (its batch) follow it, under its plugin's tag too.
    const derived = local.filter((operation) => madeFrom(operation, entry.plugin.descriptor.id, entry.operation.id));
    if (queueable) addLocalOperations(builder, derived, { tags: [tags.get(entry.plugin) as string, DELIVERIES_TAG], secured, schemaName });
  }
  if (options.gatewayInfo) addGatewayPath(builder);
  builder
    .addSchema(PROBLEM_SCHEMA, problemSchema)
    .addHeader(REQUEST_ID_HEADER, requestIdHeader)
    .addHeader(RETRY_AFTER_HEADER, retryAfterHeader)
    .addHeader(IDEMPOTENT_REPLAYED_HEADER, idempotentReplayedHeader)
    .addHeader(RATE_LIMIT_HEADER, rateLimitHeader)
    .addHeader(RATE_LIMIT_POLICY_HEADER, rateLimitPolicyHeader)
    .addParameter(REQUEST_ID_PARAMETER, requestIdParameter)
    .addParameter(IDEMPOTENCY_KEY_PARAMETER, idempotencyKeyParameter);

  // Seam for the gateway's inbound authentication (not built yet): its schemes and requirements, when given;
  // until then `security: []` says what is true: calls need no credentials.
  for (const [name, scheme] of Object.entries(options.security?.schemes ?? {})) builder.addSecurityScheme(name, scheme);
  const document = builder.getSpec();
  document.security = [...(options.security?.requirements ?? [])];
  return document;
}

/** Every REST exposure of every loaded plugin, in load order. */
export function restEntries(source: DocumentSource): RestEntry[] {
  return source.plugins.flatMap((plugin) =>
    plugin.descriptor.operations.flatMap((operation) => (operation.rest ? [{ plugin, operation, rest: operation.rest }] : [])),
  );
}

/**
 * Swagger UI's deep link (`#/<tag>/<operationId>`, deepLinking is on) of every REST operation, from the same
 * tag and id rules as the document, so a link never points at an operation the page does not show.
 */
export function docsAnchors(source: DocumentSource): Map<RestEntry['operation'], string> {
  const entries = restEntries(source);
  const operationIds = uniqueOperationIds(entries);
  const tags = tagNames(source.plugins);
  return new Map(
    entries.map((entry, index) => [
      entry.operation,
      `#/${encodeURIComponent(tags.get(entry.plugin) as string)}/${encodeURIComponent(operationIds[index] as string)}`,
    ]),
  );
}

/** The operation id, or `<plugin>.<operation>` when two plugins use the same one. */
function uniqueOperationIds(entries: readonly RestEntry[]): string[] {
  const counts = new Map<string, number>();
  for (const { operation } of entries) counts.set(operation.id, (counts.get(operation.id) ?? 0) + 1);
  return entries.map(({ plugin, operation }) =>
    (counts.get(operation.id) ?? 0) > 1 ? `${plugin.descriptor.id}.${operation.id}` : operation.id,
  );
}

/** One tag per plugin: its title, or `title (id)` when two plugins share a title. */
function tagNames(plugins: readonly DocumentPlugin[]): Map<DocumentPlugin, string> {
  const titles = new Map<string, number>();
  for (const { descriptor } of plugins) titles.set(descriptor.title, (titles.get(descriptor.title) ?? 0) + 1);
  return new Map(
    plugins.map((plugin) => {
      const { title, id } = plugin.descriptor;
      return [plugin, (titles.get(title) ?? 0) > 1 ? `${title} (${id})` : title];
    }),
  );
}

function describePlugin(plugin: DocumentPlugin): string {
  const { descriptor } = plugin;
  const mode =
    plugin.mode === 'sandbox'
      ? `Sandbox mode: calls go to a local stand-in for ${descriptor.title}, not to the real service.`
      : `Live: calls go to ${descriptor.title}.`;
  return `${descriptor.description}\n\nPlugin \`${descriptor.id}\` ${descriptor.version}. ${mode}`;
}

function describeApi(lead: string, plugins: readonly DocumentPlugin[], secured: boolean): string {
  const sandboxed = plugins.filter((plugin) => plugin.mode === 'sandbox').map((plugin) => plugin.descriptor.title);
  const parts = [
    lead,
    'Each tag is one plugin. The gateway validates every request against the schema shown here, adds the upstream ' +
      'credentials itself (callers never hold them) and answers errors as RFC 9457 problem details ' +
      '(`application/problem+json`). Every answer carries an `X-Request-Id` header.',
  ];
  if (secured) parts.push('Calls must carry credentials: see the security schemes (**Authorize** in Swagger UI).');
  if (sandboxed.length > 0) {
    parts.push(
      `**Sandbox mode** for ${sandboxed.join(', ')}: calls go to a local sandbox and reach no real service, ` +
        'so trial calls are safe. Each operation links to where you can see what the sandbox received.',
    );
  }
  return parts.join('\n\n');
}
