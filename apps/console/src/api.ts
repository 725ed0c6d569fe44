/** The gateway's public REST API as the console uses it: the same routes and key header a program uses. */

export type DeliveryStatus = 'queued' | 'delivering' | 'delivered' | 'dead';
export const STATUSES: readonly DeliveryStatus[] = ['queued', 'delivering', 'delivered', 'dead'];

export interface OperationInfo {
  readonly id: string;
  readonly title: string;
  readonly method: string;
  readonly path: string;
  readonly tool?: string;
  readonly docs?: string;
}

export interface GatewayInfo {
  readonly version: string;
  readonly mode: 'live' | 'sandbox';
  readonly plugins: readonly {
    readonly id: string;
    readonly title: string;
    readonly mode?: string;
    /** The gateway's own operations (its delivery routes): no deliveries belong to it. */
    readonly builtIn?: boolean;
    readonly operations: readonly OperationInfo[];
  }[];
  readonly mcp?: { readonly url: string };
  readonly ready: boolean;
  readonly readiness?: string;
  readonly pausedPlugins: readonly string[];
  readonly inboundKeys: boolean;
  /** False when no loaded operation can be queued: there is no delivery queue to show. */
  readonly deliveries?: boolean;
}

export type Counts = Readonly<Record<DeliveryStatus, number>>;

export interface DeliveriesSummary {
  readonly byStatus: Counts;
  readonly byPlugin: Readonly<Record<string, Counts>>;
  readonly oldestQueuedAgeMs: number | null;
  readonly deliveredLastMinute: number;
  readonly pausedPlugins: readonly string[];
}

export interface Delivery {
  readonly id: string;
  readonly operation: string;
  readonly plugin?: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly nextAttemptAt?: string;
  readonly deliveredAt?: string;
  readonly lastError?: { readonly status?: number; readonly type: string; readonly detail: string };
  readonly summary?: { readonly eventName?: string; readonly identifyId?: string; readonly accountId?: string; readonly bytes?: number };
}

/** Which deliveries a bulk action touches: a filter (`status`, `plugin`) or the selected `ids`. */
export interface DeliveryFilter {
  readonly status?: 'queued' | 'dead';
  readonly plugin?: string;
  readonly ids?: readonly string[];
}

/** A refused request: the problem+json detail when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const KEY_STORAGE = 'gateway-console.api-key';

export class Api {
  get key(): string | null {
    return sessionStorage.getItem(KEY_STORAGE);
  }

  set key(value: string | null) {
    if (value === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, value);
  }

  gateway(): Promise<GatewayInfo> {
    return this.request('GET', '/v1/gateway');
  }

  summary(): Promise<DeliveriesSummary> {
    return this.request('GET', '/v1/deliveries/summary');
  }

  list(filter: { status?: string; plugin?: string; limit: number }): Promise<{ items: Delivery[]; nextCursor?: string }> {
    const query = new URLSearchParams({ limit: String(filter.limit) });
    if (filter.status) query.set('status', filter.status);
    if (filter.plugin) query.set('plugin', filter.plugin);
    return this.request('GET', `/v1/deliveries?${query}`);
  }

  retry(filter: DeliveryFilter): Promise<{ matched: number; retried: number }> {
    return this.request('POST', '/v1/deliveries/retry', filter);
  }

  discard(filter: DeliveryFilter): Promise<{ matched: number; discarded: number }> {
    return this.request('POST', '/v1/deliveries/discard', filter);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const key = this.key;
    if (key) headers['x-api-key'] = key;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const detail = (parsed as { detail?: unknown } | undefined)?.detail;
      throw new ApiError(response.status, typeof detail === 'string' ? detail : `${method} ${path} answered ${response.status}`);
    }
    return parsed as T;
  }
}
