import type { PluginFactory } from '@gateway/core';
import gainsightPx from '@gateway/plugin-gainsight-px';

/** Plugins that ship with the gateway, by the name `PLUGINS` uses. */
export const BUILTIN_PLUGINS: Readonly<Record<string, PluginFactory>> = {
  [gainsightPx.id]: gainsightPx,
};
