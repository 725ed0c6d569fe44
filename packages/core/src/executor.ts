import type { InputProblem } from './errors.ts';

/** Why an operation did not succeed; each front door renders it in its own way. */
export type FailureKind =
  | 'invalid-input'
  | 'unknown-operation'
  | 'upstream-rejected-input'
  | 'upstream-refused-gateway'
  | 'upstream-rate-limited'
  | 'upstream-failed'
  | 'upstream-timeout'
  | 'upstream-unreachable'
  | 'upstream-status';

export interface OperationFailure {
  readonly kind: FailureKind;
  /** The HTTP status a REST caller gets. */
  readonly status: number;
  readonly title: string;
  /** A sentence a person or an agent can act on. Never carries a credential. */
  readonly detail: string;
  readonly problems?: readonly InputProblem[];
  readonly upstreamStatus?: number;
  /** Upstream body, for pass-through operations only. */
  readonly upstreamBody?: unknown;
  readonly retryAfterSeconds?: number;
}

export type OperationResult =
  | { readonly ok: true; readonly status: number; readonly body: unknown; readonly requestId: string; readonly attempts: number }
  | { readonly ok: false; readonly failure: OperationFailure; readonly requestId: string; readonly attempts: number };

export interface ExecutionRequest {
  readonly pluginId: string;
  readonly operationId: string;
  readonly input: unknown;
  readonly requestId: string;
  readonly signal?: AbortSignal;
}

/** The one way every front door (REST, MCP) performs an operation. */
export interface OperationExecutor {
  execute(request: ExecutionRequest): Promise<OperationResult>;
}
