import type { DeliveryService } from '../delivery/delivery-service.ts';
import type { Dispatch } from '../dispatch.ts';
import type { LoadedOperation } from '../plugins/plugin-registry.ts';
import { batchOperations } from './batch-operations.ts';
import { deliveryOperations } from './delivery-operations.ts';
import { type CompiledLocalOperation, compileLocalOperations } from './local-operation.ts';

/**
 * The built-in `gateway` plugin's operations, the same for every door: with a delivery queue, the delivery routes
 * and a batch of each plugin operation that declares one; without, none.
 */
export function gatewayOperations(parts: {
  readonly deliveries: DeliveryService | undefined;
  readonly dispatch: Dispatch;
  readonly operations: readonly LoadedOperation[];
  readonly bodyLimitBytes: number;
}): CompiledLocalOperation[] {
  if (!parts.deliveries) return [];
  return compileLocalOperations([
    ...deliveryOperations(parts.deliveries),
    ...batchOperations(parts.operations, parts.dispatch, parts.bodyLimitBytes),
  ]);
}
