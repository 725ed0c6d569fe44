import type { InjectionToken } from 'tsyringe';
import type { OperationExecutor } from '@gateway/core';
import type { Logger } from 'pino';
import type { GatewayConfig } from './config.ts';
import type { PluginRegistry } from './plugins/plugin-registry.ts';
import type { UpstreamClient } from './upstream/upstream-client.ts';

export const CONFIG: InjectionToken<GatewayConfig> = Symbol('GatewayConfig');
export const LOGGER: InjectionToken<Logger> = Symbol('Logger');
export const PLUGIN_REGISTRY: InjectionToken<PluginRegistry> = Symbol('PluginRegistry');
export const UPSTREAM_CLIENT: InjectionToken<UpstreamClient> = Symbol('UpstreamClient');
export const EXECUTOR: InjectionToken<OperationExecutor> = Symbol('OperationExecutor');
