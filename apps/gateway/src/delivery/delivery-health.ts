import type { DeliveryStoreUnavailableError } from './delivery-store.ts';

export type StoreCondition = 'ok' | 'full' | 'read-only' | 'unavailable';

/**
 * Whether the delivery store takes writes, as the latest write found it: the service and the worker report every
 * write's outcome here; `/readyz` and `gateway_delivery_store_condition` read it.
 */
export class DeliveryHealth {
  private current: StoreCondition = 'ok';

  get condition(): StoreCondition {
    return this.current;
  }

  wrote(): void {
    this.current = 'ok';
  }

  failed(error: DeliveryStoreUnavailableError): void {
    this.current = error.condition;
  }
}
