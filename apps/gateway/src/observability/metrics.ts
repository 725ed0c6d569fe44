import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { DELIVERY_STATUSES, type DeliveryStats } from '../delivery/delivery-store.ts';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Prometheus metrics of one gateway instance (its own registry, so instances never share counters). */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'REST requests answered, by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'REST request latency, by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamRequests = new Counter({
    name: 'gateway_upstream_requests_total',
    help: 'Upstream attempts, by plugin, operation and status (or failure: timeout, refused, reset, unreachable).',
    labelNames: ['plugin', 'operation', 'status'] as const,
    registers: [this.registry],
  });

  readonly upstreamDuration = new Histogram({
    name: 'gateway_upstream_request_duration_seconds',
    help: 'Upstream attempt latency, by plugin, operation and status.',
    labelNames: ['plugin', 'operation', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly upstreamRetries = new Counter({
    name: 'gateway_upstream_retries_total',
    help: 'Upstream attempts that were retries, by plugin and operation.',
    labelNames: ['plugin', 'operation'] as const,
    registers: [this.registry],
  });

  readonly mcpToolCalls = new Counter({
    name: 'gateway_mcp_tool_calls_total',
    help: 'MCP tool calls, by tool and outcome (success, invalid_input, upstream_error, error).',
    labelNames: ['tool', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryAttempts = new Counter({
    name: 'gateway_delivery_attempts_total',
    help: 'Queued delivery attempts, by plugin and result (delivered, retry, refused, rejected).',
    labelNames: ['plugin', 'result'] as const,
    registers: [this.registry],
  });

  readonly deliveries = new Counter({
    name: 'gateway_deliveries_total',
    help: 'Queued deliveries finished, by plugin and outcome (delivered, dead).',
    labelNames: ['plugin', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly deliveryLatency = new Histogram({
    name: 'gateway_delivery_latency_seconds',
    help: 'From acceptance to delivery, by plugin.',
    labelNames: ['plugin'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21_600, 86_400],
    registers: [this.registry],
  });

  readonly deliveryPaused = new Gauge({
    name: 'gateway_delivery_paused',
    help: '1 while deliveries to a plugin are paused because its upstream refused the gateway key, else 0.',
    labelNames: ['plugin'] as const,
    registers: [this.registry],
  });

  /** Queue depth and age, records held by status, and whether the store takes writes, read at scrape time. */
  observeDeliveryQueue(parts: {
    readonly stats: () => Promise<DeliveryStats>;
    readonly condition: () => string;
    readonly unsettled: () => number;
  }): void {
    let latest: Promise<DeliveryStats> | undefined;
    // The gauges are collected in one scrape: read the store once for all of them.
    const read = () => {
      latest ??= parts.stats().finally(() =>
        setImmediate(() => {
          latest = undefined;
        }),
      );
      return latest;
    };
    new Gauge({
      name: 'gateway_delivery_queued',
      help: 'Deliveries waiting or being delivered.',
      registers: [this.registry],
      async collect() {
        this.set((await read()).pending);
      },
    });
    new Gauge({
      name: 'gateway_deliveries',
      help: 'Delivery records held now, by status (queued, delivering, delivered, dead).',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const { byStatus } = await read();
        for (const status of DELIVERY_STATUSES) this.set({ status }, byStatus[status]);
      },
    });
    new Gauge({
      name: 'gateway_delivery_oldest_queued_age_seconds',
      help: 'Age of the oldest delivery not yet delivered or dead (0 when none).',
      registers: [this.registry],
      async collect() {
        const { oldestPendingAt } = await read();
        this.set(oldestPendingAt === undefined ? 0 : Math.max(0, (Date.now() - oldestPendingAt) / 1000));
      },
    });
    new Gauge({
      name: 'gateway_delivery_store_condition',
      help: 'The delivery store as its latest write found it: 1 for the current condition (ok, full, read-only, unavailable).',
      labelNames: ['condition'] as const,
      registers: [this.registry],
      collect() {
        const current = parts.condition();
        for (const condition of ['ok', 'full', 'read-only', 'unavailable']) this.set({ condition }, condition === current ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gateway_delivery_unsettled',
      help: 'Finished deliveries whose outcome the store refused (a full disk): kept in memory and written before anything else is sent.',
      registers: [this.registry],
      collect() {
        this.set(parts.unsettled());
      },
    });
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'gateway_' });
  }
}
