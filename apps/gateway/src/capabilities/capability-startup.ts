import type { Environment, PluginDescriptor } from '@gateway/core';
import type { Diagnostic } from '@gateway/naftiko';
import { CapabilityLoadError, loadCapabilities } from './load-capabilities.ts';

export interface CapabilityStartup {
  /** Descriptors to pass as `extraPlugins`. */
  readonly plugins: readonly PluginDescriptor[];
  /** The environment the gateway should start with: declared ports and the plugin list filled in. */
  readonly environment: Environment;
  readonly warnings: readonly Diagnostic[];
  /** Sentences for the terminal: which ports and plugins were chosen, and why. */
  readonly notes: readonly string[];
}

/**
 * Loads capability files for serving (a missing bound variable is an error), and decides:
 * - ports: the capabilities' declared REST / MCP ports, unless PORT / MCP_PORT are set;
 * - plugins: with capability files and no PLUGINS, only the capabilities are served (PLUGINS=none);
 *   set PLUGINS to serve built-in plugins beside them.
 */
export function capabilityStartup(files: readonly string[], environment: Environment): CapabilityStartup {
  if (files.length === 0) return { plugins: [], environment, warnings: [], notes: [] };
  const set = loadCapabilities(files, { environment, requireBindings: true });
  if (!set.ok) throw new CapabilityLoadError(set.diagnostics);
  const chosen: Record<string, string> = {};
  const notes: string[] = [];
  const declared = (kind: 'rest' | 'mcp', variable: 'PORT' | 'MCP_PORT') => {
    const ports = set.capabilities.flatMap((capability) => capability.ports[kind].map((p) => ({ ...p, file: capability.file })));
    if (ports.length === 0) return;
    if ((environment[variable] ?? '').trim() !== '') {
      notes.push(`${variable}=${environment[variable]} overrides the port the capability declares (${ports[0]?.port})`);
      return;
    }
    const distinct = [...new Set(ports.map((p) => p.port))];
    if (distinct.length > 1) {
      const where = ports.map((p) => `${p.port} at ${p.file} ${p.path}`).join(', ');
      throw new CapabilityLoadError([
        {
          severity: 'error',
          file: files.join(', '),
          path: '',
          message: `the capabilities declare different ${kind.toUpperCase()} ports (${where}); the gateway has one: set ${variable}`,
        },
      ]);
    }
    chosen[variable] = String(distinct[0]);
    notes.push(
      `${kind === 'rest' ? 'REST' : 'MCP'} port ${distinct[0]} as the capability declares (${ports[0]?.path}); set ${variable} to change it`,
    );
  };
  declared('rest', 'PORT');
  declared('mcp', 'MCP_PORT');
  if ((environment.PLUGINS ?? '').trim() === '') {
    chosen.PLUGINS = 'none';
    notes.push('serving the capability files only; set PLUGINS (e.g. PLUGINS=gainsight-px) to load built-in plugins beside them');
  }
  return {
    plugins: set.descriptors,
    environment: { ...environment, ...chosen },
    warnings: set.diagnostics.filter((d) => d.severity === 'warning'),
    notes,
  };
}
