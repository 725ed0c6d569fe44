import type { OperationDescriptor, OperationResult } from '@gateway/core';
import type { DeliveryService } from './delivery/delivery-service.ts';
import { invalidInput, type TracedRequest } from './executor.ts';

export interface DispatchParts {
  /** The shared executor: a call sent now. */
  readonly executor: { execute(request: TracedRequest): Promise<OperationResult> };
  /** The delivery queue, when the gateway runs one: a call stored and sent later. */
  readonly deliveries?: DeliveryService | undefined;
  /** DELIVERY_MODE: `queue` queues every queueable call, asked or not. */
  readonly mode: 'sync' | 'queue';
  readonly operations: { find(pluginId: string, operationId: string): { readonly operation: OperationDescriptor<any> } | undefined };
}

/** A call as a door hands it over: always with its client (clientIdOf), which scopes idempotency and deliveries, and
 * the span the door opened for it (tracing on). */
export type DispatchRequest = TracedRequest & { readonly clientId: string };

/** What a door needs to answer: the result, and whether it was queued (REST adds Location and Preference-Applied). */
export interface Dispatched {
  readonly result: OperationResult;
  readonly queued: boolean;
}

/**
 * Direct or queued, decided here for every door (REST, MCP): an operation that may be queued is queued when the
 * caller asks (REST `Prefer: respond-async`) or DELIVERY_MODE=queue; everything else runs through the executor now.
 * The doors only translate their request into a call and the result into their answer.
 */
export class Dispatch {
  constructor(private readonly parts: DispatchParts) {}

  /** Whether this operation's calls can be queued on this gateway. */
  canQueue(operation: OperationDescriptor<any>): boolean {
    return this.parts.deliveries !== undefined && operation.delivery !== undefined;
  }

  /** Whether its calls are queued without being asked to (DELIVERY_MODE=queue). */
  queuesByDefault(operation: OperationDescriptor<any>): boolean {
    return this.parts.mode === 'queue' && this.canQueue(operation);
  }

  async call(request: DispatchRequest, options: { readonly preferAsync?: boolean } = {}): Promise<Dispatched> {
    const operation = this.parts.operations.find(request.pluginId, request.operationId)?.operation;
    const { deliveries } = this.parts;
    if (deliveries && operation && this.canQueue(operation) && (options.preferAsync === true || this.parts.mode === 'queue')) {
      const { signal: _signal, ...accepted } = request;
      return { result: await deliveries.acceptOne(accepted), queued: true };
    }
    return { result: await this.parts.executor.execute(request), queued: false };
  }

  /**
   * Many inputs of one operation, each its `body`, always queued: 1 to `maxItems` items (the door's declared limit;
   * a streaming door stops reading at the same number), each validated on its own. `unreadable`: items the door
   * could not parse, by index, with why. Problem pointers are relative to the items (`/3/eventName`); each door
   * prefixes where its items are.
   */
  async batch(
    request: Omit<DispatchRequest, 'input' | 'signal'>,
    items: readonly unknown[],
    limits: { readonly maxItems: number; readonly unreadable?: ReadonlyMap<number, string> },
  ): Promise<OperationResult> {
    const { deliveries } = this.parts;
    if (!deliveries) throw new Error('a batch without a delivery queue');
    if (items.length < 1 || items.length > limits.maxItems) {
      const failure = invalidInput([{ pointer: '', message: `must hold 1 to ${limits.maxItems} items (got ${items.length})` }]);
      return { ok: false, failure, requestId: request.requestId, attempts: 0 };
    }
    return deliveries.acceptBatch({ ...request, items, ...(limits.unreadable ? { unreadable: limits.unreadable } : {}) });
  }
}
