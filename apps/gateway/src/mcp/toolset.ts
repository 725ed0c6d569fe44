import { ConfigError } from '../config.ts';

/**
 * MCP_TOOLS: which of the catalogue's tools the MCP door exposes. Each pattern is a tool name, or a glob where `*`
 * stands for any run of characters (`gainsight-send-*`). No pattern exposes every tool. A pattern that matches no
 * tool is a start-up error naming the tools there are, so a typo never silently hides a toolset.
 */
export function selectTools(names: readonly string[], patterns: readonly string[]): ReadonlySet<string> {
  if (patterns.length === 0) return new Set(names);
  const selected = new Set<string>();
  for (const pattern of patterns) {
    const glob = new RegExp(`^${pattern.replace(/[.]/g, '\\.').replaceAll('*', '.*')}$`);
    const matched = names.filter((name) => glob.test(name));
    if (matched.length === 0)
      throw new ConfigError(`MCP_TOOLS: "${pattern}" matches no tool of this gateway; its tools are ${names.join(', ') || 'none'}`);
    for (const name of matched) selected.add(name);
  }
  return selected;
}
