/**
 * The parts of a Naftiko 1.0.0-alpha2 capability document this package reads, as they are once the document
 * passed the schema (with the tolerated deviations: `type`/`required`/`description` on consumed parameters,
 * objects without `properties`, underscores in names, `description` where alpha2 has none).
 */
export type Alpha2HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Alpha2Type = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

export interface Alpha2Document {
  readonly naftiko: string;
  readonly info?: { readonly label?: string; readonly description?: string; readonly modified?: string; readonly created?: string };
  readonly binds?: readonly Alpha2Binding[];
  readonly consumes?: readonly Alpha2Consumes[];
  readonly capability?: {
    readonly binds?: readonly Alpha2Binding[];
    readonly consumes?: readonly Alpha2Consumes[];
    readonly exposes?: readonly Alpha2Exposes[];
    readonly aggregates?: readonly unknown[];
  };
}

export interface Alpha2Binding {
  readonly namespace: string;
  readonly location?: string;
  readonly keys: Readonly<Record<string, string>>;
}

export type Alpha2Auth =
  | { readonly type: 'apikey'; readonly key?: string; readonly value?: string; readonly placement?: 'header' | 'query' }
  | { readonly type: 'bearer'; readonly token?: string }
  | { readonly type: 'basic'; readonly username?: string; readonly password?: string }
  | { readonly type: 'digest' | 'oauth2' };

export interface Alpha2ConsumedParameter {
  readonly name: string;
  readonly in: 'query' | 'header' | 'path' | 'cookie' | 'body' | 'environment';
  readonly value?: string;
  /** Not alpha2 (tolerated with a warning): the catalog writes them. */
  readonly type?: unknown;
  readonly required?: unknown;
  readonly description?: unknown;
}

export type Alpha2Consumes =
  | {
      readonly type: 'http';
      readonly namespace: string;
      readonly baseUri: string;
      readonly description?: string;
      readonly inputParameters?: readonly Alpha2ConsumedParameter[];
      readonly authentication?: Alpha2Auth;
      readonly resources?: readonly Alpha2ConsumedResource[];
    }
  | { readonly location: string; readonly import: string; readonly as?: string };

export interface Alpha2ConsumedResource {
  readonly name: string;
  readonly label?: string;
  readonly description?: string;
  readonly path: string;
  readonly inputParameters?: readonly Alpha2ConsumedParameter[];
  readonly operations: readonly Alpha2ConsumedOperation[];
}

export interface Alpha2ConsumedOperation {
  readonly name: string;
  readonly label?: string;
  readonly description?: string;
  readonly method?: Alpha2HttpMethod;
  readonly inputParameters?: readonly Alpha2ConsumedParameter[];
  readonly outputRawFormat?: string;
  readonly body?: { readonly type: string; readonly data: unknown } | string;
}

export interface Alpha2ExposedParameter {
  readonly name: string;
  readonly in: 'query' | 'header' | 'path' | 'cookie' | 'body';
  readonly type: Alpha2Type;
  readonly description?: string;
  readonly pattern?: string;
  readonly value?: string;
}

export interface Alpha2ToolParameter {
  readonly name: string;
  readonly type: Alpha2Type;
  readonly description?: string;
  readonly required?: boolean;
}

export interface Alpha2MappedOutput {
  readonly type: 'string' | 'number' | 'boolean' | 'object' | 'array';
  readonly mapping?: string;
  readonly value?: string;
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, Alpha2MappedOutput>>;
  readonly items?: Alpha2MappedOutput;
}

export type Alpha2With = Readonly<Record<string, string | number>>;

export interface Alpha2ExposedOperation {
  readonly name?: string;
  readonly label?: string;
  /** Ikanos only: the resource's and the operation's tags. */
  readonly tags?: readonly string[];
  readonly description?: string;
  readonly method: Alpha2HttpMethod;
  readonly inputParameters?: readonly Alpha2ExposedParameter[];
  readonly call?: string;
  readonly ref?: string;
  readonly steps?: readonly unknown[];
  readonly with?: Alpha2With;
  readonly outputParameters?: readonly Alpha2MappedOutput[];
}

export interface Alpha2ExposedResource {
  readonly name?: string;
  readonly label?: string;
  readonly description?: string;
  readonly path: string;
  readonly inputParameters?: readonly Alpha2ExposedParameter[];
  readonly operations?: readonly Alpha2ExposedOperation[];
  readonly forward?: unknown;
}

export interface Alpha2ToolHints {
  readonly readOnly?: boolean;
  readonly destructive?: boolean;
  readonly idempotent?: boolean;
  readonly openWorld?: boolean;
}

export interface Alpha2Tool {
  readonly name?: string;
  readonly label?: string;
  /** Ikanos only. */
  readonly tags?: readonly string[];
  readonly description?: string;
  readonly inputParameters?: readonly Alpha2ToolParameter[];
  readonly call?: string;
  readonly ref?: string;
  readonly steps?: readonly unknown[];
  readonly with?: Alpha2With;
  readonly hints?: Alpha2ToolHints;
  readonly outputParameters?: readonly Alpha2MappedOutput[];
}

export type Alpha2Exposes =
  | {
      readonly type: 'rest';
      readonly namespace: string;
      readonly port: number;
      readonly address?: string;
      readonly description?: string;
      readonly authentication?: Alpha2Auth;
      readonly resources?: readonly Alpha2ExposedResource[];
    }
  | {
      readonly type: 'mcp';
      readonly namespace: string;
      readonly port?: number;
      readonly transport?: 'http' | 'stdio';
      readonly address?: string;
      readonly description?: string;
      readonly authentication?: Alpha2Auth;
      readonly tools: readonly Alpha2Tool[];
      readonly resources?: readonly unknown[];
      readonly prompts?: readonly unknown[];
    }
  | { readonly type: 'skill'; readonly port?: number }
  | { readonly type: 'control'; readonly port?: number };
