import type { OperationDescriptor, PluginDescriptor } from '@gateway/core';
import type { LocalOperation } from '../gateway-plugin/local-operation.ts';
import type { ContactObject, LicenseObject, SecurityRequirementObject, SecuritySchemeObject, ServerObject } from 'openapi3-ts/oas31';

/** What the document is built from: the loaded plugins (a `PluginRegistry` fits as is). */
export interface DocumentSource {
  readonly plugins: readonly DocumentPlugin[];
}

export interface DocumentPlugin {
  readonly descriptor: PluginDescriptor;
  readonly mode: 'live' | 'sandbox';
  /** Present in sandbox mode: read routes the gateway mounts under `/sandbox`. */
  readonly sandbox?: { readonly readRoutes: readonly string[] } | undefined;
}

export interface DocumentInfo {
  readonly title: string;
  readonly version: string;
  /** Lead paragraph; the builder appends what the loaded plugins add (modes, error format). */
  readonly description: string;
  readonly contact: ContactObject;
  readonly license: LicenseObject;
}

/**
 * The gateway's inbound authentication, once it exists: schemes go to `components.securitySchemes`,
 * requirements to the document's `security`. Absent = the gateway does not authenticate callers.
 */
export interface InboundSecurity {
  readonly schemes: Readonly<Record<string, SecuritySchemeObject>>;
  readonly requirements: readonly SecurityRequirementObject[];
}

export interface DocumentOptions {
  readonly info: DocumentInfo;
  /** Defaults to `[{ url: '/' }]` (the host the document is served from); the router sets the real one per request. */
  readonly servers?: readonly ServerObject[];
  readonly security?: InboundSecurity;
  /** The REST body limit (`BODY_LIMIT`), named in the 413 answer. */
  readonly bodyLimitBytes?: number;
  /** Present when the gateway runs its delivery queue: queueable operations, batch routes and `/v1/deliveries` are documented. */
  readonly deliveries?: { readonly queueByDefault: boolean };
  /** The gateway serves `GET /v1/gateway` (what runs here): document it. */
  readonly gatewayInfo?: boolean;
  /** The gateway's own operations (the delivery routes), documented from their declarations. */
  readonly localOperations?: readonly LocalOperation[];
  /** Where the gateway mounts sandbox read routes (`/sandbox` + route). */
  readonly sandboxPrefix?: string;
}

/** One REST exposure, with the plugin it belongs to. */
export interface RestEntry {
  readonly plugin: DocumentPlugin;
  readonly operation: OperationDescriptor<any>;
  readonly rest: Exclude<OperationDescriptor['rest'], false>;
}
