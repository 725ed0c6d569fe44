import type { Alpha2Binding, Alpha2Document } from './alpha2.ts';
import type { DiagnosticSink, YamlPath } from './diagnostics.ts';

import type { Environment } from '@gateway/core';

export type { Environment };

/** One variable a `binds` entry declares: `{{variable}}` / `{{namespace.variable}}` read it. */
export interface BoundVariable {
  readonly namespace: string;
  readonly variable: string;
  /** The key read from the provider: the environment variable's name. */
  readonly providerKey: string;
  /** Undefined when the environment does not set it (or sets it empty). */
  readonly value: string | undefined;
  readonly path: YamlPath;
}

export interface Bindings {
  readonly variables: readonly BoundVariable[];
  readonly namespaces: ReadonlySet<string>;
  /** `VAR` or `namespace.VAR`; `ambiguous` when an unqualified name is bound by several namespaces. */
  find(reference: string): BoundVariable | 'ambiguous' | undefined;
}

/**
 * Reads `binds` (root and `capability.binds`) from the environment. Without `location` a key is an
 * environment variable; other providers (vault://, file://, ...) are not available to this gateway.
 */
export function readBindings(document: Alpha2Document, environment: Environment, sink: DiagnosticSink, requireValues: boolean): Bindings {
  const variables: BoundVariable[] = [];
  const namespaces = new Set<string>();
  const lists: [YamlPath, readonly Alpha2Binding[] | undefined][] = [
    [['binds'], document.binds],
    [['capability', 'binds'], document.capability?.binds],
  ];
  for (const [listPath, list] of lists) {
    for (const [index, binding] of (list ?? []).entries()) {
      const at = [...listPath, index];
      if (namespaces.has(binding.namespace)) sink.error([...at, 'namespace'], `bind namespace "${binding.namespace}" is declared twice`);
      namespaces.add(binding.namespace);
      if (binding.location !== undefined) {
        sink.error(
          [...at, 'location'],
          `bind location "${binding.location}" is not supported: this gateway reads binds from the process environment only (remove "location")`,
        );
        continue;
      }
      for (const [variable, providerKey] of Object.entries(binding.keys)) {
        const raw = environment[providerKey];
        const value = raw === undefined || raw === '' ? undefined : raw;
        const path = [...at, 'keys', variable];
        if (value === undefined) {
          const message = `${providerKey} is not set in the environment${providerKey === variable ? '' : ` (bound as ${variable})`}`;
          if (requireValues) sink.error(path, message);
          else sink.warning(path, `${message}; the gateway will refuse to start without it`);
        }
        variables.push({ namespace: binding.namespace, variable, providerKey, value, path });
      }
    }
  }
  return {
    variables,
    namespaces,
    find(reference) {
      const dot = reference.indexOf('.');
      if (dot > 0 && namespaces.has(reference.slice(0, dot))) {
        const namespace = reference.slice(0, dot);
        const variable = reference.slice(dot + 1);
        return variables.find((v) => v.namespace === namespace && v.variable === variable);
      }
      const matches = variables.filter((v) => v.variable === reference);
      if (matches.length > 1 && new Set(matches.map((m) => m.providerKey)).size > 1) return 'ambiguous';
      return matches[0];
    },
  };
}
