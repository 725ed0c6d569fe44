import { defineOperation, definePlugin, definePluginFactory, type PluginDescriptor } from '@gateway/core';
import { customEventSchema } from './custom-event-schema.ts';
import { startPxSandbox } from './sandbox/index.ts';
import { readSandboxBehaviour, type SandboxBehaviour } from './sandbox/sandbox-settings.ts';
import { readPxSettings, type PxSettings } from './settings.ts';
import { type CustomEventInput, shapeCustomEvent } from './shape-custom-event.ts';
import { userAndAccountOperations } from './user-account-operations.ts';

export { customEventSchema, MAX_ATTRIBUTES, USER_TYPES } from './custom-event-schema.ts';
export { type CustomEventInput, type PxCustomEvent, shapeCustomEvent } from './shape-custom-event.ts';
export { readPxSettings, REGION_BASE_URLS, type PxSettings } from './settings.ts';
export { ACCOUNT_TOOLS, USER_TOOLS } from './user-account-operations.ts';

export const SEND_CUSTOM_EVENT_TOOL = 'gainsight-send-custom-event';
export const SEND_CUSTOM_EVENTS_TOOL = 'gainsight-send-custom-events';

const BATCH_TOOL_GUIDE = `Queue 1 to 100 Gainsight PX custom events (each one shaped exactly like the \`body\` of
${SEND_CUSTOM_EVENT_TOOL}) for durable delivery: the gateway stores them and sends them to PX at its pace, retrying
for hours while PX is down or rate limiting. Prefer this tool for several events, or when the event must not be lost.
Each event is validated on its own: valid ones are queued even when others are rejected.`;

// Each field's rules are in the input schema's own descriptions; the guide says only what no single field says.
const TOOL_GUIDE = `Record one product-analytics "custom event" in Gainsight PX: something a user did in the product
(e.g. "Signup", "Report Exported") that PX should count and segment. Pass the event as \`body\`: eventName (required) is a
short, stable name, reused for the same action; identifyId (required) is the PX user id of who did it; each field's rules
are in the input schema. Each call records one event; calling twice records it twice.`;

/** `sandboxBehaviour`: the rate limit and faults of the sandbox used when no PX key is set (none by default). */
export function gainsightPxPlugin(settings: PxSettings, sandboxBehaviour: SandboxBehaviour = {}): PluginDescriptor {
  const customEvent = customEventSchema({
    propertyKeyRequired: !settings.productKey,
    ...(settings.productKey ? { defaultPropertyKey: settings.productKey } : {}),
  });
  return definePlugin({
    id: 'gainsight-px',
    title: 'Gainsight PX',
    version: '0.1.0',
    description:
      'Send Gainsight PX custom events (product analytics), and read, create and update the PX users and accounts they refer to, without holding the PX API key: the gateway injects it.',
    upstream: {
      baseUrl: settings.baseUrl,
      auth: { type: 'apikey', in: 'header', name: 'X-APTRINSIC-API-KEY', secret: settings.apiKey },
    },
    sandbox: { start: (options) => startPxSandbox({ ...sandboxBehaviour, ...options }) },
    operations: [
      defineOperation<{ body: CustomEventInput }>({
        id: 'sendCustomEvent',
        title: 'Send a custom event',
        description: 'Records one custom event in Gainsight PX (POST /events/custom upstream). Answers 201 when PX accepted it.',
        input: {
          type: 'object',
          additionalProperties: false,
          required: ['body'],
          properties: { body: customEvent },
        },
        example: { body: { eventName: 'Signup', identifyId: 'u-1', propertyKey: 'AP-TEST-1' } },
        responses: { successStatus: 201 },
        upstream: {
          method: 'POST',
          path: '/events/custom',
          toRequest: (input, context) => ({
            body: shapeCustomEvent(input.body, {
              ...(settings.productKey ? { propertyKey: settings.productKey } : {}),
              // Sent now, PX dates an undated event on receipt; queued, it may arrive hours later, so it is dated here.
              ...(context.delivery === 'queued' ? { date: context.receivedAt } : {}),
            }),
          }),
        },
        rest: { method: 'POST', path: '/v1/custom-events' },
        delivery: {
          summarize: ({ body }) => ({
            eventName: body.eventName,
            identifyId: body.identifyId,
            ...(body.accountId !== undefined ? { accountId: body.accountId } : {}),
          }),
          batch: {
            itemsName: 'events',
            maxItems: 1000,
            rest: { path: '/v1/custom-events/batch' },
            mcp: { tool: SEND_CUSTOM_EVENTS_TOOL, title: 'Queue Gainsight PX custom events', description: BATCH_TOOL_GUIDE, maxItems: 100 },
          },
        },
        mcp: {
          tool: SEND_CUSTOM_EVENT_TOOL,
          title: 'Send a Gainsight PX custom event',
          description: TOOL_GUIDE,
          hints: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
        },
      }),
      ...userAndAccountOperations({ productKey: settings.productKey }),
    ],
  });
}

export default definePluginFactory({
  id: 'gainsight-px',
  create: (environment) => gainsightPxPlugin(readPxSettings(environment), readSandboxBehaviour(environment)),
});
