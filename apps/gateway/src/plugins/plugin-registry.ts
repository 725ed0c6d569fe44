import {
  type CompiledOperation,
  compileDescriptors,
  createSchemaCompiler,
  type PluginDescriptor,
  type PluginFactory,
  type RunningSandbox,
} from '@gateway/core';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import { ConfigError, type GatewayConfig } from '../config.ts';
import { CONFIG, LOGGER } from '../tokens.ts';
import { type Credentials, missingSecrets, resolveCredentials } from '../upstream/credentials.ts';
import { BUILTIN_PLUGINS } from './builtin-plugins.ts';

export interface LoadedPlugin {
  readonly descriptor: PluginDescriptor;
  readonly mode: 'live' | 'sandbox';
  readonly baseUrl: string;
  readonly credentials: Credentials;
  readonly sandbox?: RunningSandbox;
}

export interface LoadedOperation extends CompiledOperation {
  readonly loaded: LoadedPlugin;
}

/** Loads the configured plugins, checks their descriptors together, and decides live or sandbox per plugin. */
@injectable()
export class PluginRegistry {
  private loadedPlugins: LoadedPlugin[] = [];
  private byKey = new Map<string, LoadedOperation>();
  private secretValues: readonly string[] = [];

  constructor(
    @inject(CONFIG) private readonly config: GatewayConfig,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  get plugins(): readonly LoadedPlugin[] {
    return this.loadedPlugins;
  }

  get operations(): readonly LoadedOperation[] {
    return [...this.byKey.values()];
  }

  find(pluginId: string, operationId: string): LoadedOperation | undefined {
    return this.byKey.get(`${pluginId}/${operationId}`);
  }

  /** Every upstream secret in use, for scrubbing messages. */
  secrets(): readonly string[] {
    return this.secretValues;
  }

  async load(extra: readonly PluginDescriptor[] = []): Promise<void> {
    const descriptors = [...(await Promise.all(this.config.plugins.map((name) => this.create(name)))), ...extra];
    const compiled = compileDescriptors(descriptors, createSchemaCompiler());
    for (const descriptor of descriptors) {
      const loaded = await this.connect(descriptor);
      this.loadedPlugins.push(loaded);
      for (const entry of compiled.filter((c) => c.plugin === descriptor)) {
        this.byKey.set(`${descriptor.id}/${entry.operation.id}`, { ...entry, loaded });
      }
    }
    this.secretValues = this.loadedPlugins
      .flatMap((plugin) => [...plugin.credentials.secrets, ...(plugin.descriptor.upstream.secrets ?? []).map((ref) => ref.value ?? '')])
      .filter((secret) => secret.length > 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.loadedPlugins.map((plugin) => plugin.sandbox?.close()));
  }

  private async create(name: string): Promise<PluginDescriptor> {
    const factory = BUILTIN_PLUGINS[name] ?? (await importFactory(name));
    try {
      return factory.create(this.config.environment);
    } catch (error) {
      throw new ConfigError(`plugin "${name}": ${(error as Error).message}`);
    }
  }

  /** Live when the upstream credential is configured; otherwise the plugin's sandbox, outside production. */
  private async connect(descriptor: PluginDescriptor): Promise<LoadedPlugin> {
    const missing = missingSecrets(descriptor.upstream.auth);
    if (missing.length === 0) {
      return {
        descriptor,
        mode: 'live',
        baseUrl: descriptor.upstream.baseUrl,
        credentials: resolveCredentials(descriptor.upstream.auth),
      };
    }
    const variables = missing.join(', ');
    if (this.config.production) {
      throw new ConfigError(`${variables} is not set: plugin "${descriptor.id}" cannot reach ${descriptor.title} in production`);
    }
    if (!descriptor.sandbox) {
      throw new ConfigError(`${variables} is not set, and plugin "${descriptor.id}" has no sandbox to use instead`);
    }
    const sandbox = await descriptor.sandbox.start({ host: '127.0.0.1', port: 0 });
    this.logger.warn(
      { plugin: descriptor.id, missing },
      `${variables} not set: ${descriptor.title} calls go to the local sandbox${sandbox.notice ? ` (${sandbox.notice})` : ''}`,
    );
    return {
      descriptor,
      mode: 'sandbox',
      baseUrl: sandbox.baseUrl,
      credentials: resolveCredentials(descriptor.upstream.auth, sandbox.apiKey),
      sandbox,
    };
  }
}

async function importFactory(specifier: string): Promise<PluginFactory> {
  let module: { default?: PluginFactory };
  try {
    module = (await import(specifier)) as { default?: PluginFactory };
  } catch (error) {
    const known = Object.keys(BUILTIN_PLUGINS).join(', ');
    throw new ConfigError(`PLUGINS: cannot load "${specifier}" (built-in plugins: ${known}): ${(error as Error).message}`);
  }
  if (!module.default || typeof module.default.create !== 'function') {
    throw new ConfigError(`PLUGINS: "${specifier}" has no default export created with definePluginFactory`);
  }
  return module.default;
}
