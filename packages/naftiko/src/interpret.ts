// Interprets a schema-checked alpha2 document: its consumes, then its exposes, then the gateway plugin descriptors.
import type { PluginDescriptor } from '@gateway/core';
import type { Alpha2Document } from './alpha2.ts';
import type { Bindings, Environment } from './binds.ts';
import { readAdapters } from './consumes.ts';
import { toDescriptors } from './descriptors.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import { type DeclaredPort, readExposures } from './exposes.ts';

export interface InterpretOptions {
  readonly file: string;
  readonly environment: Environment;
  /** Base URI per consumes namespace, overriding the file (and `CAPABILITY_BASE_URI_<NAMESPACE>`). */
  readonly baseUris?: Readonly<Record<string, string>>;
}

export interface InterpretedCapability {
  readonly title: string;
  readonly description: string;
  /** One descriptor per consumed adapter that some exposure calls (one for a single-upstream capability). */
  readonly descriptors: readonly PluginDescriptor[];
  readonly ports: { readonly rest: readonly DeclaredPort[]; readonly mcp: readonly DeclaredPort[] };
  /** `exposes[type=mcp].description`: what the reference engine sends as the MCP server's instructions. */
  readonly mcpInstructions: readonly string[];
}

/** Maps a schema-checked alpha2 document to plugin descriptors, reporting what it cannot serve. */
export function interpret(
  document: Alpha2Document,
  bindings: Bindings,
  sink: DiagnosticSink,
  options: InterpretOptions,
): InterpretedCapability | undefined {
  if (!document.capability) {
    sink.error(['consumes'], 'this is a shared consumer file (root "consumes" without "capability"): it exposes nothing to serve');
    return undefined;
  }
  const adapters = readAdapters(document, bindings, sink, options);
  const { exposures, ports, mcpInstructions } = readExposures(document.capability, adapters, bindings, sink);
  if (exposures.length === 0 && !sink.hasErrors) sink.error(['capability'], 'exposes no REST operation and no MCP tool: nothing to serve');

  const title = document.info?.label ?? adapters[0]?.namespace ?? 'Naftiko capability';
  const description = document.info?.description ?? title;
  const descriptors = toDescriptors(document, adapters, exposures, bindings, sink, { title, description });
  return { title, description, descriptors, ports, mcpInstructions };
}
