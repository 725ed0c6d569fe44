import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { YamlPath } from './diagnostics.ts';

export interface Position {
  readonly line: number;
  readonly column: number;
}

export type ParsedYaml =
  | { readonly ok: true; readonly value: unknown; readonly locate: (path: YamlPath) => Position | undefined }
  | { readonly ok: false; readonly problems: readonly { readonly message: string; readonly position?: Position }[] };

/** Parses one YAML document (the `yaml` package, YAML 1.2), keeping a way back from a path to its line. */
export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        return { message: error.message.split('\n')[0] ?? error.message, position: { line: position.line, column: position.col } };
      }),
    };
  }
  const locate = (path: YamlPath): Position | undefined => {
    let node: unknown = document.contents;
    let offset: number | undefined = (document.contents as Node | null)?.range?.[0];
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else {
        break;
      }
    }
    if (offset === undefined) return undefined;
    const position = lineCounter.linePos(offset);
    return { line: position.line, column: position.col };
  };
  return { ok: true, value: document.toJS({ maxAliasCount: 100 }) as unknown, locate };
}
