import type { InputProblem } from './errors.ts';

/** Why an operation did not succeed; each front door renders it in its own way. */
export type FailureKind =
  | 'invalid-input'
  | 'unknown-operation'
  | 'not-found'
  | 'upstream-rejected-input'
  | 'upstream-refused-gateway'
  | 'upstream-rate-limited'
  | 'upstream-failed'
  | 'upstream-timeout'
  | 'upstream-unreachable'
  | 'upstream-status'
  | 'idempotency-in-flight'
  | 'idempotency-key-reused'
  | 'delivery-unavailable'
  | 'too-many-pending'
  | 'delivery-busy'
  | 'delivery-not-dead'
  | 'store-unavailable';

export interface OperationFailure {
  readonly kind: FailureKind;
  /** The HTTP status a REST caller gets. */
  readonly status: number;
  readonly title: string;
  /** A sentence a person or an agent can act on. Never carries a credential. */
  readonly detail: string;
  readonly problems?: readonly InputProblem[];
  /** For invalid input: how many problems there were beyond the (at most MAX_REPORTED_PROBLEMS) listed ones. */
  readonly omittedProblems?: number;
  readonly upstreamStatus?: number;
  /** Upstream body, for pass-through operations only. */
  readonly upstreamBody?: unknown;
  readonly retryAfterSeconds?: number;
}

interface ResultFacts {
  readonly requestId: string;
  /** Upstream attempts made (0 when nothing was sent). */
  readonly attempts: number;
  /** True when this is the stored first result of an idempotent request, replayed without calling upstream. */
  readonly replayed?: boolean;
  /** For a replay: the request id of the first request, the one that called the upstream. */
  readonly originalRequestId?: string;
}

export type OperationResult =
  | (ResultFacts & { readonly ok: true; readonly status: number; readonly body: unknown })
  | (ResultFacts & { readonly ok: false; readonly failure: OperationFailure });

export interface ExecutionRequest {
  readonly pluginId: string;
  readonly operationId: string;
  readonly input: unknown;
  readonly requestId: string;
  readonly signal?: AbortSignal;
  /** With the same key and input within 24 h, the first result is returned without calling upstream again. */
  readonly idempotencyKey?: string;
  /** Who is calling (an inbound key id, or an address): idempotency keys are scoped to it. */
  readonly clientId?: string;
}

/** The one way every front door (REST, MCP) performs an operation. */
export interface OperationExecutor {
  execute(request: ExecutionRequest): Promise<OperationResult>;
}
