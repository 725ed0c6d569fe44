import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Alpha2Document } from './alpha2.ts';
import { type Diagnostic, type DiagnosticSink, formatPath, type Locate, type Placement, type YamlPath } from './diagnostics.ts';
import { valueAt } from './deviations.ts';
import { IKANOS_VERSIONS, type IkanosVersion, type SchemaProblem, validateAgainstSchema } from './schema.ts';
import { parseYaml } from './yaml-document.ts';

/**
 * Reads an Ikanos (1.0.0-alpha3 … beta4) capability, already checked against its own schema, into the shape the
 * alpha2 interpreter reads: keyed maps become lists of named items, `display` becomes `label`, imports are read
 * from their files. Every node it builds remembers where it came from, so a diagnostic about the result points
 * at the YAML that was written (file, key, line).
 */

type Json = Record<string, any>;
type Section = 'consumes' | 'exposes' | 'aggregates' | 'binds';

interface Source {
  /** The name used in messages (the path as given for the root file, the resolved path for an import). */
  readonly file: string;
  /** Where `from` paths are resolved. */
  readonly directory: string;
  readonly locate: Locate;
  /** Absolute paths of the files being read, outermost first: a repeat is an import cycle. */
  readonly chain: readonly string[];
}

interface Origin extends Placement {
  /** An entry of a keyed map: its `name` is the key itself. */
  readonly keyed: boolean;
}

export interface IkanosReading {
  readonly document: Alpha2Document;
  /** Maps a path of `document` back to the file, path and line it was read from. */
  readonly place: (path: YamlPath) => Placement | undefined;
  /** Files read through imports, in the order they were read. */
  readonly imports: readonly string[];
}

const KEBAB = /^[a-zA-Z0-9-]+$/;

/** Whether a root key and version name an Ikanos version this package reads. */
export function isIkanosVersion(value: unknown): value is IkanosVersion {
  return typeof value === 'string' && (IKANOS_VERSIONS as readonly string[]).includes(value);
}

export function readIkanos(
  document: Json,
  version: IkanosVersion,
  file: string,
  locate: Locate,
  sink: DiagnosticSink,
): IkanosReading | undefined {
  const reader = new IkanosReader(sink);
  const root: Source = { file, directory: dirname(resolve(file)), locate, chain: [resolve(file)] };
  const normalized = reader.root(document, version, root);
  if (sink.hasErrors) return undefined;
  return { document: normalized as Alpha2Document, place: (path) => reader.place(normalized, path), imports: reader.imports };
}

class IkanosReader {
  private readonly origins = new WeakMap<object, Origin>();
  readonly imports: string[] = [];

  constructor(private readonly sink: DiagnosticSink) {}

  root(document: Json, version: IkanosVersion, source: Source): Json {
    const capability = document.capability as Json | undefined;
    const normalized: Json = {
      naftiko: version,
      ...(document.info ? { info: this.info(document.info, ['info'], source) } : {}),
      ...(document.binds ? { binds: this.section('binds', document.binds, ['binds'], source) } : {}),
      ...(document.consumes ? { consumes: this.section('consumes', document.consumes, ['consumes'], source) } : {}),
      ...(capability
        ? {
            capability: this.mark(
              {
                ...(capability.binds ? { binds: this.section('binds', capability.binds, ['capability', 'binds'], source) } : {}),
                ...(capability.consumes
                  ? { consumes: this.section('consumes', capability.consumes, ['capability', 'consumes'], source) }
                  : {}),
                ...(capability.exposes ? { exposes: this.section('exposes', capability.exposes, ['capability', 'exposes'], source) } : {}),
                ...(capability.aggregates
                  ? { aggregates: this.section('aggregates', capability.aggregates, ['capability', 'aggregates'], source) }
                  : {}),
              },
              source,
              ['capability'],
            ),
          }
        : {}),
    };
    if (!capability && (document.exposes || document.aggregates || document.binds)) {
      const section = document.exposes ? 'exposes' : document.aggregates ? 'aggregates' : 'binds';
      this.error(
        source,
        [section],
        `this is a shared ${section} file (root "${section}" without "capability"): capabilities import it with "from"; it serves nothing on its own`,
      );
    }
    return this.mark(normalized, source, []);
  }

  /** Maps a path of the normalized document to the file and path it was read from. */
  place(root: Json, path: YamlPath): Placement | undefined {
    let node: unknown = root;
    let origin = this.origins.get(root);
    let rest = 0;
    for (const [index, segment] of path.entries()) {
      node = node && typeof node === 'object' ? (node as Record<string | number, unknown>)[segment] : undefined;
      const own = node && typeof node === 'object' ? this.origins.get(node) : undefined;
      if (own) {
        origin = own;
        rest = index + 1;
      }
    }
    if (!origin) return undefined;
    const remaining = path.slice(rest).map((segment) => (segment === 'label' ? 'display' : segment));
    if (origin.keyed && remaining[0] === 'name') remaining.shift();
    return { file: origin.file, path: [...origin.path, ...remaining], locate: origin.locate };
  }

  // ---- sections -----------------------------------------------------------------------------------------

  private section(section: Section, list: readonly Json[], at: YamlPath, source: Source): Json[] {
    const items: Json[] = [];
    for (const [index, entry] of list.entries()) {
      const itemAt = [...at, index];
      const item = 'from' in entry ? this.importEntry(section, entry, itemAt, source) : this.item(section, entry, itemAt, source);
      if (item) items.push(item);
    }
    return this.mark(items, source, at);
  }

  private item(section: Section, entry: Json, at: YamlPath, source: Source): Json {
    switch (section) {
      case 'consumes':
        return this.consumes(entry, at, source);
      case 'exposes':
        return this.exposes(entry, at, source);
      case 'aggregates':
        return this.mark({ ...entry, ...(entry.display !== undefined ? { label: entry.display } : {}) }, source, at);
      case 'binds':
        return this.mark({ ...entry }, source, at);
    }
  }

  /** `{from, import, as}`: the entry named `import` in the file `from` (relative to the importing file), renamed `as`. */
  private importEntry(section: Section, entry: Json, at: YamlPath, source: Source): Json | undefined {
    const from = String(entry.from);
    const wanted = String(entry.import);
    const target = importPath(from, source.directory);
    if (!target) {
      this.error(
        source,
        [...at, 'from'],
        `"${from}" is not a file this gateway can read (a relative or absolute path, or a file: URI); remote imports are not fetched`,
      );
      return undefined;
    }
    if (source.chain.includes(target)) {
      const cycle = [...source.chain.slice(source.chain.indexOf(target)), target].map(shortName).join(' -> ');
      this.error(
        source,
        [...at, 'from'],
        `import cycle: ${source.file} imports ${shortName(target)}, which imports ${source.file} back (${cycle})`,
      );
      return undefined;
    }
    let text: string;
    try {
      text = readFileSync(target, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
      this.error(source, [...at, 'from'], `cannot import "${from}" into ${source.file}: ${shortName(target)}: ${reason}`);
      return undefined;
    }
    if (!this.imports.includes(target)) this.imports.push(target);
    const parsed = parseYaml(text);
    if (!parsed.ok) {
      this.adopt(
        parsed.problems.map((problem) => ({
          severity: 'error',
          file: shortName(target),
          path: '',
          ...(problem.position ?? {}),
          message: `not valid YAML: ${problem.message}`,
        })),
      );
      this.error(source, [...at, 'from'], `cannot import "${from}": ${target} is not valid YAML`);
      return undefined;
    }
    const imported: Source = {
      file: shortName(target),
      directory: dirname(target),
      locate: parsed.locate,
      chain: [...source.chain, target],
    };
    const document = (parsed.value && typeof parsed.value === 'object' ? parsed.value : {}) as Json;
    const version = document.ikanos;
    if (!isIkanosVersion(version)) {
      this.error(
        imported,
        'ikanos' in document ? ['ikanos'] : [],
        `imported by ${source.file}, but not an Ikanos file this gateway reads (root "ikanos: ${IKANOS_VERSIONS[0]}" … "${IKANOS_VERSIONS.at(-1)}")`,
      );
      return undefined;
    }
    const problems = validateAgainstSchema(document, { family: 'ikanos', version });
    for (const problem of problems) {
      const hint = alpha2Leftover(problem, document);
      if (hint !== 'covered') this.error(imported, problem.path, hint ?? problem.message);
    }
    if (problems.length > 0) {
      this.error(source, [...at, 'from'], `cannot import "${from}": ${target} does not pass the ikanos ${version} schema`);
      return undefined;
    }
    const listAt: YamlPath = document[section] ? [section] : ['capability', section];
    const list = (valueAt(document, listAt) ?? []) as Json[];
    const index = list.findIndex(
      (candidate) => ('from' in candidate ? (candidate.as ?? candidate.import) : candidate.namespace) === wanted,
    );
    if (index < 0) {
      const names = list
        .map((candidate) => ('from' in candidate ? (candidate.as ?? candidate.import) : candidate.namespace))
        .filter(Boolean);
      this.error(
        source,
        [...at, 'import'],
        `${target} has no ${section} entry with namespace "${wanted}" (it has: ${names.join(', ') || 'none'})`,
      );
      return undefined;
    }
    const found = list[index] as Json;
    const errorsBefore = this.sink.diagnostics.filter((d) => d.severity === 'error').length;
    const item =
      'from' in found
        ? this.importEntry(section, found, [...listAt, index], imported)
        : this.item(section, found, [...listAt, index], imported);
    if (!item || this.sink.diagnostics.filter((d) => d.severity === 'error').length > errorsBefore) {
      this.error(source, [...at, 'from'], `cannot import "${wanted}" from ${shortName(target)}: see the errors there`);
      return undefined;
    }
    if (entry.as === undefined) return item;
    return this.mark({ ...item, namespace: entry.as }, imported, [...listAt, index]);
  }

  // ---- consumes -----------------------------------------------------------------------------------------

  private consumes(entry: Json, at: YamlPath, source: Source): Json {
    if (entry.tunnel !== undefined) {
      this.error(
        source,
        [...at, 'tunnel'],
        `tunnels ("tunnel", type ${entry.tunnel?.type ?? 'ziti'}) are not supported by this gateway: it calls baseUri directly; remove "tunnel" to call it directly`,
      );
    }
    const resources = this.keyed(entry.resources, [...at, 'resources'], source, (resource, name, resourceAt) =>
      this.mark(
        {
          name,
          ...documented(resource),
          path: resource.path,
          inputParameters: this.keyed(resource.inputParameters, [...resourceAt, 'inputParameters'], source, (parameter, key, parameterAt) =>
            this.mark({ name: key, ...parameter }, source, parameterAt, true),
          ),
          operations: this.keyed(resource.operations, [...resourceAt, 'operations'], source, (operation, key, operationAt) =>
            this.consumedOperation(operation, key, operationAt, source),
          ),
        },
        source,
        resourceAt,
        true,
      ),
    );
    return this.mark(
      {
        type: entry.type,
        namespace: entry.namespace,
        baseUri: entry.baseUri,
        ...(entry.description !== undefined ? { description: entry.description } : {}),
        ...(entry.authentication ? { authentication: entry.authentication } : {}),
        inputParameters: this.keyed(entry.inputParameters, [...at, 'inputParameters'], source, (parameter, key, parameterAt) =>
          this.mark({ name: key, ...parameter }, source, parameterAt, true),
        ),
        resources,
      },
      source,
      at,
    );
  }

  private consumedOperation(operation: Json, name: string, at: YamlPath, source: Source): Json {
    for (const keyword of ['outputMediaType', 'maxBinarySize'] as const) {
      if (operation[keyword] !== undefined) this.binary(source, [...at, keyword], keyword);
    }
    if (operation.outputRawFormat === 'binary') this.binary(source, [...at, 'outputRawFormat'], 'outputRawFormat: binary');
    return this.mark(
      {
        name,
        ...documented(operation),
        method: operation.method ?? 'GET',
        inputParameters: this.keyed(operation.inputParameters, [...at, 'inputParameters'], source, (parameter, key, parameterAt) =>
          this.mark({ name: key, ...parameter }, source, parameterAt, true),
        ),
        ...(operation.outputRawFormat !== undefined ? { outputRawFormat: operation.outputRawFormat } : {}),
        ...(operation.body !== undefined ? { body: operation.body } : {}),
      },
      source,
      at,
      true,
    );
  }

  // ---- exposes ------------------------------------------------------------------------------------------

  private exposes(entry: Json, at: YamlPath, source: Source): Json {
    if (entry.maxBinarySize !== undefined) this.binary(source, [...at, 'maxBinarySize'], 'maxBinarySize');
    if (entry.type === 'rest') {
      const resources = this.keyed(entry.resources, [...at, 'resources'], source, (resource, name, resourceAt) =>
        this.mark(
          {
            ...resource,
            name,
            ...documented(resource),
            inputParameters: this.keyed(
              resource.inputParameters,
              [...resourceAt, 'inputParameters'],
              source,
              (parameter, key, parameterAt) => this.mark({ name: key, ...parameter }, source, parameterAt, true),
            ),
            operations: this.keyed(resource.operations, [...resourceAt, 'operations'], source, (operation, key, operationAt) =>
              this.restOperation(operation, key, resource.tags, operationAt, source),
            ),
          },
          source,
          resourceAt,
          true,
        ),
      );
      return this.mark({ ...entry, resources }, source, at);
    }
    if (entry.type === 'mcp') {
      // ttlMs and cacheScope (beta4) stay on the exposure: the gateway applies them to its tools/list (exposes.ts).
      const tools = this.keyed(entry.tools, [...at, 'tools'], source, (tool, name, toolAt) => {
        this.scripts(tool.steps, [...toolAt, 'steps'], source);
        return this.mark(
          {
            ...tool,
            name,
            ...documented(tool),
            inputParameters: this.keyed(tool.inputParameters, [...toolAt, 'inputParameters'], source, (parameter, key, parameterAt) =>
              this.mark({ name: key, ...parameter }, source, parameterAt, true),
            ),
            ...this.outputs(tool, toolAt, source),
          },
          source,
          toolAt,
          true,
        );
      });
      const named = (map: Json | undefined, key: string) =>
        map
          ? { [key]: this.keyed(map, [...at, key], source, (value, name, valueAt) => this.mark({ ...value, name }, source, valueAt, true)) }
          : {};
      return this.mark({ ...entry, tools, ...named(entry.resources, 'resources'), ...named(entry.prompts, 'prompts') }, source, at);
    }
    return this.mark({ ...entry }, source, at);
  }

  private restOperation(operation: Json, name: string, resourceTags: readonly string[] | undefined, at: YamlPath, source: Source): Json {
    for (const keyword of ['responses', 'responseBinary'] as const) {
      if (operation[keyword] !== undefined) this.binary(source, [...at, keyword], keyword);
    }
    this.scripts(operation.steps, [...at, 'steps'], source);
    const tags = [...new Set([...(resourceTags ?? []), ...(operation.tags ?? [])])];
    return this.mark(
      {
        ...operation,
        name,
        ...documented(operation),
        ...(tags.length > 0 ? { tags } : {}),
        inputParameters: this.keyed(operation.inputParameters, [...at, 'inputParameters'], source, (parameter, key, parameterAt) =>
          this.mark({ name: key, ...parameter }, source, parameterAt, true),
        ),
        ...this.outputs(operation, at, source),
      },
      source,
      at,
      true,
    );
  }

  /**
   * Call-mode outputs are a list of mapped outputs, as in alpha2. A map of named outputs beside a `call` (the REST
   * schema allows it) is read as one object whose properties are those outputs; with `steps` or without a call
   * (a mock) the interpreter refuses the exposure anyway.
   */
  private outputs(exposure: Json, at: YamlPath, source: Source): Json {
    const outputs = exposure.outputParameters;
    if (outputs === undefined || Array.isArray(outputs)) return {};
    if (exposure.call === undefined) return { outputParameters: undefined };
    const asObject = this.mark({ type: 'object', properties: outputs }, source, [...at, 'outputParameters']);
    return { outputParameters: this.mark([asObject], source, [...at, 'outputParameters']) };
  }

  private scripts(steps: Json | undefined, at: YamlPath, source: Source): void {
    for (const [name, step] of Object.entries(steps ?? {})) {
      if (step?.type === 'script')
        this.error(
          source,
          [...at, name, 'type'],
          `script steps ("type: script", ${step.language ?? 'javascript'}) are not run by this gateway`,
        );
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------

  private info(info: Json, at: YamlPath, source: Source): Json {
    return this.mark({ ...info, ...(info.display !== undefined ? { label: info.display } : {}) }, source, at);
  }

  /** A keyed map as a list in key order, each entry built by `each` (which marks it). */
  private keyed(map: Json | undefined, at: YamlPath, source: Source, each: (value: Json, key: string, at: YamlPath) => Json): Json[] {
    return this.mark(
      Object.entries(map ?? {}).map(([key, value]) => each(value as Json, key, [...at, key])),
      source,
      at,
    );
  }

  private mark<T extends object>(node: T, source: Source, path: YamlPath, keyed = false): T {
    this.origins.set(node, { file: source.file, path, locate: source.locate, keyed });
    return node;
  }

  private binary(source: Source, at: YamlPath, keyword: string): void {
    this.error(source, at, `binary content ("${keyword}") is not served by this gateway: it relays JSON and text answers only`);
  }

  private error(source: Source, path: YamlPath, message: string): void {
    this.report('error', source, path, message);
  }

  private report(severity: Diagnostic['severity'], source: Source, path: YamlPath, message: string): void {
    this.adopt([{ severity, file: source.file, path: formatPath(path), ...(source.locate(path) ?? {}), message }]);
  }

  private adopt(diagnostics: readonly Diagnostic[]): void {
    this.sink.adopt(diagnostics);
  }
}

/** `display`, `description` and `tags` of a named thing, with `display` read as the alpha2 `label`. */
function documented(node: Json): Json {
  return {
    ...(node.display !== undefined ? { label: node.display } : {}),
    ...(node.description !== undefined ? { description: node.description } : {}),
    ...(Array.isArray(node.tags) && node.tags.length > 0 ? { tags: node.tags } : {}),
  };
}

/** An imported file as messages name it: relative to the working directory when below it. */
function shortName(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith('..') && !isAbsolute(shown) ? shown : path;
}

/** `./x.yaml`, `/abs/x.yaml`, `file:///abs/x.yaml` or `file:///./x.yaml` (Ikanos's relative form); anything else is remote. */
function importPath(from: string, directory: string): string | undefined {
  if (from.startsWith('file://')) {
    const rest = decodeURIComponent(from.slice('file://'.length));
    return /^\/\.\.?\//.test(rest) ? resolve(directory, rest.slice(1)) : resolve(rest);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(from)) return undefined;
  return isAbsolute(from) ? from : resolve(directory, from);
}

// ---- alpha2 leftovers -----------------------------------------------------------------------------------

/** Keys that are lists of named items in alpha2 and maps keyed by name since alpha3. */
const KEYED = new Set(['resources', 'operations', 'tools', 'prompts', 'skills', 'steps', 'flows', 'inputParameters', 'arguments']);

function kebab(name: string): string {
  return name.replace(/_/g, '-');
}

/**
 * A schema problem that an alpha2 habit explains, reworded to name the fix; `covered` when another problem's
 * message already names it (the `from` a renamed `location` lacks, the `display` a `label` stands for).
 */
export function alpha2Leftover(problem: SchemaProblem, document: unknown): string | 'covered' | undefined {
  const { path, message } = problem;
  const last = path.at(-1);
  const parent = path.slice(0, -1);
  const parentValue = valueAt(document, parent) as Json | undefined;
  const unknownKey = /^unknown key "([^"]+)"/.exec(message)?.[1];
  const missing = /^missing required key "([^"]+)"/.exec(message)?.[1];
  const since = 'since Ikanos 1.0.0-alpha3';
  if (unknownKey === 'name' && typeof parent.at(-1) === 'string' && KEYED.has(String(parent.at(-2)))) {
    const value = parentValue?.name;
    const key = String(parent.at(-1));
    return `an alpha2 leftover: ${since} the map key is the name; remove "name: ${value}"${value !== key ? ` (or rename the key "${key}" to "${kebab(String(value))}")` : ''}`;
  }
  if (unknownKey === 'label') return `renamed ${since}: write "display: ${parentValue?.label}" instead of "label"`;
  const owner = valueAt(document, path) as Json | undefined;
  if (missing === 'display' && owner && typeof owner === 'object' && 'label' in owner) return 'covered';
  if (unknownKey === 'location' && parentValue && 'import' in parentValue) {
    return `imports are {from, import, as} ${since}: rename "location" to "from" (a path relative to this file)`;
  }
  if (missing === 'from' && owner && typeof owner === 'object' && 'location' in owner) return 'covered';
  if (unknownKey === 'functions') return `renamed ${since}: write "flows", a map keyed by flow name`;
  if (unknownKey === 'targetName') return `renamed ${since}: write "target"`;
  if (unknownKey === 'naftiko') return `the root key is "ikanos" ${since}; remove "naftiko"`;
  const badKey = /^key "([^"]*)" does not match/.exec(message)?.[1];
  if (badKey?.includes('_') && KEBAB.test(kebab(badKey))) {
    return `"${badKey}" has an underscore: ${since} ${String(parent.at(-1))} keys are kebab-case; write "${kebab(badKey)}" (and the same in every "call" that names it)`;
  }
  if (/does not match/.test(message) && (last === 'namespace' || last === 'import' || last === 'as' || last === 'call' || last === 'ref')) {
    const value = valueAt(document, path);
    if (typeof value === 'string' && value.includes('_'))
      return `"${value}" has an underscore: ${since} names are kebab-case; write "${kebab(value)}"`;
  }
  if (message === 'must be object' && typeof last === 'string' && KEYED.has(last)) {
    const list = valueAt(document, path);
    if (Array.isArray(list)) {
      const names = list.map((item: Json) => item?.name).filter((name) => typeof name === 'string') as string[];
      const example = names.length > 0 ? ` (${names.map((name) => `"${kebab(name)}:"`).join(', ')})` : '';
      return `an alpha2 list: ${since} "${last}" is a map keyed by name; turn each "- name: x" item into a key "x:"${example} and remove its "name"`;
    }
  }
  if (missing === 'properties' && parentValue !== undefined && path.includes('outputParameters')) {
    const value = valueAt(document, path) as Json | undefined;
    if (value?.type === 'object')
      return `an object output needs "properties" in Ikanos; to pass the mapped value through as is, write "properties: {}" (Ikanos itself then answers {}), or remove the output`;
  }
  return undefined;
}
