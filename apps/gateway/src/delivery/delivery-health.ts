import type { DeliveryStoreUnavailableError } from './delivery-store.ts';

export type StoreCondition = 'ok' | 'full' | 'read-only' | 'unavailable';

/**
 * Whether the delivery store takes writes, as the latest write found it: the service and the worker report every
 * write's outcome here; `/readyz` and `gateway_delivery_store_condition` read it.
 */
export class DeliveryHealth {
  private current: StoreCondition = 'ok';
  private since: number | undefined;

  get condition(): StoreCondition {
    return this.current;
  }

  /** Epoch ms since when writes have been refused (undefined while `ok`). */
  get failingSince(): number | undefined {
    return this.since;
  }

  wrote(): void {
    this.current = 'ok';
    this.since = undefined;
  }

  failed(error: DeliveryStoreUnavailableError): void {
    if (this.current === 'ok') this.since = Date.now();
    this.current = error.condition;
  }
}
