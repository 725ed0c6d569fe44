import type { Environment } from '@gateway/core';
import type { PxSandboxOptions } from './px-sandbox.ts';

/** What the sandbox's variables may change, whether it runs on its own (`npm run sandbox`) or inside the gateway. */
export type SandboxBehaviour = Pick<PxSandboxOptions, 'ratePerSecond' | 'faults'>;

/**
 * The sandbox's rate limit and faults from SANDBOX_RATE_LIMIT, SANDBOX_FAULT_RATE, SANDBOX_FAULT_STATUSES,
 * SANDBOX_DROP_RATE (1: the upstream is down) and SANDBOX_DELAY_MS (slow); a bad value is an error naming the variable.
 */
export function readSandboxBehaviour(environment: Environment): SandboxBehaviour {
  const number = (name: string, fallback: number, max: number): number => {
    const raw = environment[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || value > max) throw new Error(`${name} must be a number from 0 to ${max} (got "${raw}")`);
    return value;
  };
  const statuses = (environment.SANDBOX_FAULT_STATUSES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => {
      const status = Number(raw);
      if (!Number.isInteger(status) || status < 400 || status > 599)
        throw new Error(`SANDBOX_FAULT_STATUSES must list HTTP error statuses from 400 to 599 (got "${raw}")`);
      return status;
    });
  return {
    ratePerSecond: number('SANDBOX_RATE_LIMIT', 200, 1_000_000),
    faults: {
      errorRate: number('SANDBOX_FAULT_RATE', 0, 1),
      statuses,
      dropRate: number('SANDBOX_DROP_RATE', 0, 1),
      delayMs: number('SANDBOX_DELAY_MS', 0, 600_000),
    },
  };
}

/** The faults in force, for a start-up line ("none" when the sandbox behaves). */
export function describeFaults({ faults = {} }: SandboxBehaviour): string {
  const parts = [
    faults.errorRate
      ? `${faults.errorRate * 100}% of events answered ${faults.statuses?.length ? faults.statuses.join('/') : '500/502/503'}`
      : '',
    faults.dropRate ? `${faults.dropRate * 100}% of connections dropped` : '',
    faults.delayMs ? `every answer delayed ${faults.delayMs} ms` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
