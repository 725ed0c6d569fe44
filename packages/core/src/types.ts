/** A JSON Schema (draft 2020-12) as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A secret the gateway injects upstream; `value` is undefined when its variable is not set. */
export interface SecretRef {
  /** The environment variable (or binding) the value comes from; named in start-up errors. */
  readonly source: string;
  readonly value: string | undefined;
}

export type UpstreamAuth =
  | { readonly type: 'apikey'; readonly in: 'header' | 'query'; readonly name: string; readonly secret: SecretRef }
  | { readonly type: 'bearer'; readonly secret: SecretRef }
  | { readonly type: 'basic'; readonly username: SecretRef; readonly secret: SecretRef };

/** A query parameter's value; a list repeats the parameter (`filter=a&filter=b`). */
export type QueryValue = string | number | boolean | readonly (string | number | boolean)[];

/** What an operation asks the upstream client to send, relative to the plugin's base URL. */
export interface UpstreamRequest {
  readonly method: HttpMethod;
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** What the upstream answered, body parsed leniently (JSON when it parses, the raw text otherwise). */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface OperationContext {
  readonly requestId: string;
  /** `queued`: the shaped request is stored and sent later, maybe hours later (durable delivery); `direct`: sent now. */
  readonly delivery: 'direct' | 'queued';
  /**
   * Epoch milliseconds when the gateway accepted the call. A queued request reaches the upstream later, so whatever
   * the upstream would date on receipt (an event's time) must be dated from this instead.
   */
  readonly receivedAt: number;
}

/**
 * Where one input property travels over HTTP: a path segment, a query parameter, a header, or `body`, the whole
 * JSON body (at most one property per operation is placed there). REST reads it from there and, without a
 * `toRequest`, the gateway sends it upstream there too.
 */
export type InputPlacement = 'path' | 'query' | 'header' | 'body';

/** Where a REST caller's values land in the operation input (an `InputPlacement`). */
export type RestParameterSource = InputPlacement;

export interface RestExposure {
  readonly method: HttpMethod;
  /** Express-style path, e.g. `/v1/users/:userId` (`{userId}` works too). */
  readonly path: string;
  /**
   * Input property -> where a REST caller sends it. By default: a property named in `path` comes from the path,
   * every other property from where `upstream.inputs` places it upstream (`body` from the JSON body).
   * Query, path and header values arrive as text and are converted to their schema types (`?limit=5` -> 5).
   */
  readonly parameters?: Readonly<Record<string, RestParameterSource>>;
}

/** MCP tool annotations (the MCP spec's names). */
export interface ToolHints {
  readonly readOnlyHint: boolean;
  readonly destructiveHint: boolean;
  readonly idempotentHint: boolean;
  readonly openWorldHint: boolean;
}

export interface McpExposure {
  readonly tool: string;
  readonly title?: string;
  /** Longer guidance for agents; falls back to the operation description. */
  readonly description?: string;
  readonly hints: ToolHints;
}

/**
 * Store-and-forward for an operation that only sends (never a read): REST `Prefer: respond-async` (or
 * DELIVERY_MODE=queue) commits the shaped request to the delivery queue and answers 202; a worker delivers it.
 */
/** What a person recognises a queued delivery by: small, never secret (no key, no bound value, no free text body). */
export interface DeliverySummaryFields {
  readonly eventName?: string;
  readonly identifyId?: string;
  readonly accountId?: string;
}

export interface DeliveryExposure<Input = Record<string, unknown>> {
  /**
   * Pure: picks the summary a delivery record keeps from the validated input (the gateway adds the stored size).
   * Records are listed and counted from it; the stored request itself is never read for that.
   */
  readonly summarize?: (input: Input) => DeliverySummaryFields;
  /** Many at once, each item being the operation's `body` input: `POST <rest.path>` with `{"<itemsName>": [...]}`, and an MCP tool. */
  readonly batch?: {
    /** The JSON property holding the items, e.g. `events`. */
    readonly itemsName: string;
    /** At most this many items per REST batch (each item validated on its own). */
    readonly maxItems: number;
    readonly rest?: { readonly path: string };
    readonly mcp?: { readonly tool: string; readonly title: string; readonly description: string; readonly maxItems: number };
  };
}

/** How non-2xx upstream answers reach callers: the gateway's own error mapping, or passed through. */
export type UpstreamErrorPolicy = 'map' | 'passthrough';

/** What `toRequest` returns: `method` and `path` may be left out (then `upstream`'s are used). */
export type ShapedRequest = Omit<UpstreamRequest, 'method' | 'path'> & { readonly method?: HttpMethod; readonly path?: string };

/** The answers an operation declares; REST, MCP and the OpenAPI document all follow them. */
export interface OperationResponses {
  /**
   * The status REST answers on success, whatever 2xx the upstream gave (e.g. 204 for an upstream that answers a
   * delete with 200 or 204). Without it REST relays the upstream's own 2xx status. A 204 answers no body.
   */
  readonly successStatus?: number;
  /**
   * Upstream statuses meaning "the record this call names does not exist" (e.g. `[404]` for a lookup by id):
   * the caller gets 404 `not-found`. Without it an upstream 404 means the gateway's base URL is wrong (502).
   */
  readonly notFound?: readonly number[];
}

export interface OperationDescriptor<Input = Record<string, unknown>> {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  /** Extra OpenAPI tags, beside the plugin's own (e.g. an Ikanos capability's `tags`). */
  readonly tags?: readonly string[];
  /** Schema of the whole input object (e.g. `{ body: CustomEvent }`): validates REST and MCP alike. */
  readonly input: JsonSchema;
  /** Schema of the successful result body (after `fromResponse`), when known: documented in OpenAPI and MCP. */
  readonly output?: JsonSchema;
  /** The declared answers: success status, which upstream statuses mean "not found". */
  readonly responses?: OperationResponses;
  /** A valid input, used for documentation and trial calls. */
  readonly example?: Input;
  readonly upstream: {
    readonly method: HttpMethod;
    /** Relative to the plugin's base URL; `{name}` placeholders are filled from the input property `name`, percent-encoded. */
    readonly path: string;
    /**
     * Input property -> where it goes upstream when there is no `toRequest`. Defaults: a property named in `path`
     * fills it, `body` is the JSON body. Every other property must be placed (a descriptor error otherwise).
     */
    readonly inputs?: Readonly<Record<string, InputPlacement>>;
    /**
     * Shapes a validated input into the upstream request when placement is not enough; it then decides query,
     * headers and body. Leave out `method` and `path` to use the ones above (the path filled from the input as
     * without it). Throw `InputError` for semantic problems.
     */
    readonly toRequest?: (input: Input, context: OperationContext) => ShapedRequest;
    /** Maps a 2xx upstream body to the operation's result body. */
    readonly fromResponse?: (response: UpstreamResponse) => unknown;
    readonly errors?: UpstreamErrorPolicy;
  };
  readonly rest: RestExposure | false;
  /** Present when the operation may be queued for durable delivery. */
  readonly delivery?: DeliveryExposure<Input>;
  readonly mcp: McpExposure | false;
}

export interface SandboxOptions {
  readonly host?: string;
  readonly port?: number;
}

/** A running offline stand-in for a plugin's upstream. */
export interface RunningSandbox {
  /** Base URL the plugin's operations should be sent to. */
  readonly baseUrl: string;
  /** A credential the sandbox accepts. */
  readonly apiKey: string;
  /** Read-only routes worth exposing to people (e.g. `GET /v1/events/custom`), relative to the sandbox root. */
  readonly readRoutes: readonly string[];
  /** How it differs from the real upstream on purpose (e.g. injected faults), for the start-up log; absent when it does not. */
  readonly notice?: string;
  /** Serves a request against the sandbox, as if sent to its root (used to mount read routes elsewhere). */
  handle(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse): void;
  close(): Promise<void>;
}

export interface SandboxFactory {
  start(options?: SandboxOptions): Promise<RunningSandbox>;
}

export interface PluginDescriptor {
  readonly id: string;
  readonly title: string;
  readonly version: string;
  readonly description: string;
  /** What an MCP client is told about this plugin's tools (the server's instructions); `description` when absent. */
  readonly mcpInstructions?: string;
  /**
   * How long MCP clients may reuse the tool list of this plugin's tools (2026-07-28 `ttlMs`/`cacheScope`), e.g.
   * from an Ikanos MCP exposure. The gateway's one list takes the shortest TTL and `private` if any plugin asks.
   */
  readonly mcpListCache?: { readonly ttlMs?: number; readonly cacheScope?: 'public' | 'private' };
  readonly upstream: {
    readonly baseUrl: string;
    readonly auth?: UpstreamAuth;
    /** Other secret values the plugin's requests carry (e.g. bound from the environment): never echoed to callers. */
    readonly secrets?: readonly SecretRef[];
  };
  readonly operations: readonly OperationDescriptor<any>[];
  readonly sandbox?: SandboxFactory;
}

export type Environment = Readonly<Record<string, string | undefined>>;

/** A plugin package's entry: turns the process environment into a descriptor. */
export interface PluginFactory {
  readonly id: string;
  create(environment: Environment): PluginDescriptor;
}
