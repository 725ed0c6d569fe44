import { Document } from 'yaml';
import type { Diagnostic } from './diagnostics.ts';
import { MIGRATION_TARGET, NAFTIKO_VERSION, validateAgainstSchema } from './schema.ts';
import { parseYaml } from './yaml-document.ts';

/**
 * `gateway migrate`: a Naftiko 1.0.0-alpha2 capability rewritten as Ikanos 1.0.0-beta3. The rewrite is mechanical
 * (root key, keyed maps, kebab-case keys, renames, imports) plus the two things beta3 no longer lets a file say:
 * - `type` / `required` / `description` on a consumed parameter move to the exposures that feed it, as declared
 *   inputs (which is what the gateway read them as);
 * - an object output without `properties` gets `properties: {}`, which this gateway reads as before (the mapped
 *   value passed through).
 */

type Json = Record<string, any>;

export interface Migration {
  /** The beta3 YAML, when the input could be read. */
  readonly text?: string;
  /** Errors (the input is not an alpha2 file, or the result does not pass the beta3 schema) and what was changed beyond renaming. */
  readonly diagnostics: readonly Diagnostic[];
  readonly notes: readonly string[];
}

interface Hint {
  readonly in: string;
  readonly type?: string;
  readonly description?: string;
  readonly required?: boolean;
}

const KEBAB = /^[a-zA-Z0-9-]+$/;

export function migrateAlpha2(text: string, file = 'capability'): Migration {
  const parsed = parseYaml(text);
  const error = (message: string, path = ''): Migration => ({ diagnostics: [{ severity: 'error', file, path, message }], notes: [] });
  if (!parsed.ok) return error(`not valid YAML: ${parsed.problems[0]?.message ?? ''}`);
  const source = parsed.value as Json | null;
  if (!source || typeof source !== 'object' || source.naftiko !== NAFTIKO_VERSION) {
    return error(`is not a naftiko ${NAFTIKO_VERSION} capability (root key "naftiko: ${NAFTIKO_VERSION}"); only those are migrated`);
  }
  const migrator = new Migrator(source);
  const migrated = migrator.document();
  const dropped = dropDocumentation(migrated, migrator.notes);
  // YAML 1.1 output: Ikanos reads YAML 1.1, where an unquoted 2026-05-19 is a date and "on" a boolean.
  const document = new Document(migrated, { version: '1.1' });
  document.commentBefore = ` Migrated from ${file} (naftiko ${NAFTIKO_VERSION}) by "gateway migrate".`;
  for (const { path, text: comment } of dropped) {
    const node = document.getIn(path, true) as { commentBefore?: string | null } | undefined;
    if (node) node.commentBefore = ` ${comment}`;
  }
  const output = document.toString({ lineWidth: 0 }).replace(/^%YAML 1\.1\n---\n/m, '');
  const written = parseYaml(output);
  const diagnostics: Diagnostic[] = validateAgainstSchema(written.ok ? written.value : undefined, {
    family: 'ikanos',
    version: MIGRATION_TARGET,
  }).map((problem) => ({
    severity: 'error',
    file,
    path: problem.path.join('.'),
    message: `the migrated file does not pass the ikanos ${MIGRATION_TARGET} schema here: ${problem.message}; fix it by hand`,
  }));
  return { text: output, diagnostics, notes: migrator.notes };
}

/**
 * A `description` where beta3 has none (e.g. on a REST exposure) is documentation only: it becomes a YAML comment
 * on the same item instead of making the file invalid.
 */
function dropDocumentation(migrated: Json, notes: string[]): { path: (string | number)[]; text: string }[] {
  const dropped: { path: (string | number)[]; text: string }[] = [];
  for (const problem of validateAgainstSchema(migrated, { family: 'ikanos', version: MIGRATION_TARGET })) {
    if (problem.path.at(-1) !== 'description' || !/^unknown key/.test(problem.message)) continue;
    const parent = problem.path.slice(0, -1);
    const owner = parent.reduce<any>((node, segment) => node?.[segment], migrated) as Json | undefined;
    if (!owner || typeof owner.description !== 'string') continue;
    dropped.push({ path: parent, text: `description: ${owner.description}` });
    delete owner.description;
    notes.push(`${parent.join('.')}: "description" is not allowed there in beta3; kept as a YAML comment`);
  }
  return dropped;
}

class Migrator {
  readonly notes: string[] = [];
  /** Consumed-parameter hints per `namespace.operation` (and `namespace.resource.operation`), by parameter name. */
  private readonly hints = new Map<string, Map<string, Hint>>();
  private readonly namespaces = new Map<string, string>();

  constructor(private readonly source: Json) {}

  document(): Json {
    const { naftiko: _version, info, binds, consumes, capability, ...rest } = this.source;
    for (const list of [consumes, capability?.consumes]) {
      for (const adapter of list ?? []) if (typeof adapter?.namespace === 'string') this.namespace(adapter.namespace);
    }
    return {
      ikanos: MIGRATION_TARGET,
      ...(info ? { info: this.info(info) } : {}),
      ...(binds
        ? { binds: binds.map((binding: Json) => ({ ...binding, namespace: this.kebabValue(binding.namespace, 'bind namespace') })) }
        : {}),
      ...(consumes ? { consumes: consumes.map((entry: Json) => this.consumes(entry)) } : {}),
      ...(capability ? { capability: this.capability(capability) } : {}),
      ...rest,
    };
  }

  private info(info: Json): Json {
    const { label, description, ...rest } = info;
    if (label === undefined) this.notes.push('info has no "label": "display" (required in beta3) is set to the description');
    return { display: label ?? description ?? '', description: description ?? label ?? '', ...rest };
  }

  private capability(capability: Json): Json {
    const { binds, consumes, exposes, aggregates, ...rest } = capability;
    const migratedConsumes = consumes?.map((entry: Json) => this.consumes(entry));
    return {
      ...(binds
        ? { binds: binds.map((binding: Json) => ({ ...binding, namespace: this.kebabValue(binding.namespace, 'bind namespace') })) }
        : {}),
      ...(migratedConsumes ? { consumes: migratedConsumes } : {}),
      ...(exposes ? { exposes: exposes.map((entry: Json) => this.exposes(entry)) } : {}),
      ...(aggregates ? { aggregates: aggregates.map((entry: Json) => this.aggregate(entry)) } : {}),
      ...rest,
    };
  }

  // ---- consumes -----------------------------------------------------------------------------------------

  private consumes(entry: Json): Json {
    if ('location' in entry) {
      const { location, import: imported, as, ...rest } = entry;
      this.notes.push(
        `the import of "${imported}" from ${location} now reads "from: ${location}"; migrate that file too (gateway migrate ${location})`,
      );
      return { from: location, import: imported, ...(as !== undefined ? { as } : {}), ...rest };
    }
    const original = entry.namespace;
    const namespace = this.namespace(original);
    const { inputParameters, resources, ...rest } = entry;
    const shared = this.collect(inputParameters);
    const migratedResources = this.toMap(resources, 'consumed resource', (resource) => {
      const resourceHints = this.collect(resource.inputParameters);
      const { name: _name, label, inputParameters: resourceParameters, operations, ...resourceRest } = resource;
      return ordered(resource, {
        ...(label !== undefined ? { display: label } : {}),
        ...resourceRest,
        ...(resourceParameters ? { inputParameters: this.consumedParameters(resourceParameters) } : {}),
        operations: this.toMap(operations, 'consumed operation', (operation) => {
          const hints = new Map([...shared, ...resourceHints, ...this.collect(operation.inputParameters)]);
          this.hints.set(`${original}.${operation.name}`, hints);
          this.hints.set(`${original}.${resource.name}.${operation.name}`, hints);
          const { name: _op, label: opLabel, inputParameters: opParameters, outputParameters, ...operationRest } = operation;
          return ordered(operation, {
            ...(opLabel !== undefined ? { display: opLabel } : {}),
            ...operationRest,
            ...(opParameters ? { inputParameters: this.consumedParameters(opParameters) } : {}),
            ...(Array.isArray(outputParameters)
              ? { outputParameters: Object.fromEntries(outputParameters.map(({ name, ...output }: Json) => [name, output])) }
              : {}),
          });
        }),
      });
    });
    return ordered(entry, {
      ...rest,
      namespace,
      ...(inputParameters ? { inputParameters: this.consumedParameters(inputParameters) } : {}),
      ...(resources ? { resources: migratedResources } : {}),
    });
  }

  /** Consumed parameters keep only `in` and `value` in beta3. */
  private consumedParameters(list: readonly Json[]): Json {
    return Object.fromEntries(
      list.map((parameter) => [parameter.name, { in: parameter.in, ...(parameter.value !== undefined ? { value: parameter.value } : {}) }]),
    );
  }

  private collect(list: readonly Json[] | undefined): Map<string, Hint> {
    const hints = new Map<string, Hint>();
    for (const parameter of list ?? []) {
      hints.set(parameter.name, {
        in: parameter.in,
        ...(typeof parameter.type === 'string' ? { type: parameter.type } : {}),
        ...(typeof parameter.description === 'string' ? { description: parameter.description } : {}),
        ...(typeof parameter.required === 'boolean' ? { required: parameter.required } : {}),
      });
    }
    return hints;
  }

  // ---- exposes ------------------------------------------------------------------------------------------

  private exposes(entry: Json): Json {
    if (entry.type === 'rest') {
      const { resources, ...rest } = entry;
      return ordered(entry, {
        ...rest,
        namespace: this.kebabValue(entry.namespace, 'exposure namespace'),
        ...(resources
          ? {
              resources: this.toMap(
                resources,
                'REST resource',
                (resource) => {
                  const { name: _name, label, inputParameters, operations, ...resourceRest } = resource;
                  return ordered(resource, {
                    ...(label !== undefined ? { display: label } : {}),
                    ...resourceRest,
                    ...(inputParameters ? { inputParameters: this.exposedParameters(inputParameters) } : {}),
                    ...(operations
                      ? {
                          operations: this.toMap(
                            operations,
                            'REST operation',
                            (operation) => this.exposure(operation, 'rest', entry.namespace, resource.inputParameters),
                            (operation) => String(operation.method ?? 'GET').toLowerCase(),
                          ),
                        }
                      : {}),
                  });
                },
                (resource) =>
                  String(resource.path)
                    .replace(/[{}]/g, '')
                    .replace(/[^A-Za-z0-9]+/g, '-')
                    .replace(/^-|-$/g, '') || 'root',
              ),
            }
          : {}),
      });
    }
    if (entry.type === 'mcp') {
      const { tools, resources, prompts, ...rest } = entry;
      return ordered(entry, {
        ...rest,
        namespace: this.kebabValue(entry.namespace, 'exposure namespace'),
        ...(tools ? { tools: this.toMap(tools, 'MCP tool', (tool) => this.exposure(tool, 'mcp', entry.namespace, undefined)) } : {}),
        ...(resources
          ? {
              resources: this.toMap(resources, 'MCP resource', ({ name: _name, label, ...resource }) => ({
                ...(label !== undefined ? { display: label } : {}),
                ...resource,
              })),
            }
          : {}),
        ...(prompts
          ? {
              prompts: this.toMap(prompts, 'MCP prompt', ({ name: _name, label, arguments: args, ...prompt }) => ({
                ...(label !== undefined ? { display: label } : {}),
                ...prompt,
                ...(args
                  ? {
                      arguments: this.toMap(
                        args,
                        'prompt argument',
                        ({ name: _arg, label: argLabel, ...argument }) => ({
                          ...(argLabel !== undefined ? { display: argLabel } : {}),
                          ...argument,
                        }),
                        undefined,
                        false,
                      ),
                    }
                  : {}),
              })),
            }
          : {}),
      });
    }
    if (entry.type === 'skill') {
      const { skills, ...rest } = entry;
      return {
        ...rest,
        ...(skills
          ? {
              skills: this.toMap(skills, 'skill', ({ name: _name, tools, ...skill }) => ({
                ...skill,
                ...(tools ? { tools: this.toMap(tools, 'skill tool', ({ name: _tool, ...tool }) => tool) } : {}),
              })),
            }
          : {}),
      };
    }
    return entry;
  }

  /** A REST operation or MCP tool: renames, keyed inputs, and the consumed-parameter hints it relies on declared. */
  private exposure(item: Json, kind: 'rest' | 'mcp', namespace: string, resourceParameters: readonly Json[] | undefined): Json {
    const { name: _name, label, inputParameters, outputParameters, steps, mappings, ...rest } = item;
    const declared = [...(inputParameters ?? [])] as Json[];
    const known = (name: string) =>
      [...declared, ...(resourceParameters ?? [])].some((parameter) => parameter.name.toLowerCase() === name.toLowerCase());
    for (const [parameter, hint] of this.hints.get(String(item.call)) ?? []) {
      if (hint.type === undefined && hint.description === undefined && hint.required === undefined) continue;
      if (hint.in === 'path' || hint.in === 'environment' || hint.in === 'cookie') continue;
      const input = this.feedingInput(item.with, parameter, namespace);
      if (!input || known(input)) continue;
      if (kind === 'mcp') {
        const required = hint.in === 'body' || input === 'body' ? hint.required !== false : hint.required === true;
        declared.push({
          name: input,
          type: hint.type ?? (hint.in === 'body' ? 'object' : 'string'),
          description: hint.description ?? '',
          required,
        });
      } else if (hint.in === 'body' && input === 'body') {
        declared.push({ name: input, in: 'body', type: hint.type ?? 'object', description: hint.description ?? '' });
      } else {
        continue;
      }
      this.notes.push(
        `${kind === 'rest' ? 'REST operation' : 'MCP tool'} "${item.name ?? item.method}": declared input "${input}" from the type/description/required of consumed parameter "${parameter}" (beta3 consumed parameters have only "in" and "value")`,
      );
    }
    const call =
      typeof item.call === 'string' ? item.call.replace(/^[^.]+/, (head: string) => this.namespaces.get(head) ?? head) : undefined;
    return ordered(item, {
      ...(label !== undefined ? { display: label } : {}),
      ...rest,
      ...(call !== undefined ? { call } : {}),
      ...(declared.length > 0
        ? {
            inputParameters:
              kind === 'rest'
                ? this.exposedParameters(declared)
                : Object.fromEntries(declared.map(({ name, ...parameter }) => [name, parameter])),
          }
        : {}),
      ...(steps ? { steps: this.toMap(steps, 'step', ({ name: _step, ...step }) => step) } : {}),
      ...(mappings
        ? {
            mappings: mappings.map(({ targetName, ...mapping }: Json) =>
              targetName !== undefined ? { target: targetName, ...mapping } : mapping,
            ),
          }
        : {}),
      ...(outputParameters !== undefined
        ? {
            outputParameters: Array.isArray(outputParameters)
              ? outputParameters.map((output: Json) => this.output(output))
              : outputParameters,
          }
        : {}),
    });
  }

  /** Which exposure input a `with` (or, without one, the same name) feeds into a consumed parameter. */
  private feedingInput(withMap: Json | undefined, parameter: string, namespace: string): string | undefined {
    const entry = Object.entries(withMap ?? {}).find(([key]) => key.toLowerCase() === parameter.toLowerCase());
    if (!entry) return parameter;
    const reference = new RegExp(`^(?:rest|tools|${namespace.replace(/[^A-Za-z0-9]/g, '\\$&')})\\.([A-Za-z0-9_-]+)$`).exec(
      String(entry[1]).trim(),
    );
    return reference?.[1];
  }

  private exposedParameters(list: readonly Json[]): Json {
    return Object.fromEntries(list.map(({ name, ...parameter }) => [name, parameter]));
  }

  /** beta3 requires `properties` on an object output: `{}` keeps the gateway's reading (the value passed through). */
  private output(output: Json): Json {
    const migrated: Json = { ...output };
    if (migrated.type === 'object') {
      if (migrated.properties === undefined) {
        migrated.properties = {};
        this.notes.push(
          `an object output (mapping ${output.mapping ?? '$'}) had no "properties": "properties: {}" added, which this gateway reads as before (the value passed through); Ikanos itself answers {} for it, as it did for the alpha2 file`,
        );
      } else {
        migrated.properties = Object.fromEntries(
          Object.entries(migrated.properties as Json).map(([name, property]) => [name, this.output(property as Json)]),
        );
      }
    }
    if (migrated.type === 'array' && migrated.items) migrated.items = this.output(migrated.items);
    return migrated;
  }

  private aggregate(entry: Json): Json {
    const { label, functions, flows, ...rest } = entry;
    const list = functions ?? flows;
    return {
      ...(label !== undefined ? { display: label } : {}),
      ...rest,
      ...(list
        ? {
            flows: Array.isArray(list)
              ? this.toMap(list, 'aggregate flow', ({ name: _name, ...flow }) => this.exposure(flow, 'mcp', '', undefined))
              : list,
          }
        : {}),
    };
  }

  // ---- names --------------------------------------------------------------------------------------------

  /** A list of named items as a map keyed by (kebab-case) name; `fallback` names an item without one. */
  private toMap(
    list: readonly Json[] | undefined,
    what: string,
    each: (item: Json, key: string) => Json,
    fallback?: (item: Json) => string,
    kebabKeys = true,
  ): Json {
    const map: Json = {};
    for (const item of list ?? []) {
      const wanted = typeof item.name === 'string' ? item.name : (fallback?.(item) ?? what.replace(/\s+/g, '-'));
      let key = kebabKeys ? this.kebabKey(wanted) : wanted;
      if (typeof item.name === 'string' && key !== item.name)
        this.notes.push(`${what} "${item.name}" is keyed "${key}" (beta3 keys are kebab-case)`);
      if (typeof item.name !== 'string') this.notes.push(`${what} without a name is keyed "${key}"`);
      for (let n = 2; key in map; n++) key = `${wanted}-${n}`;
      map[key] = each(item, key);
    }
    return map;
  }

  private kebabKey(name: string): string {
    return KEBAB.test(name) ? name : name.replace(/[^A-Za-z0-9-]+/g, '-');
  }

  private namespace(namespace: string): string {
    const renamed = this.namespaces.get(namespace) ?? String(this.kebabValue(namespace, 'consumes namespace'));
    this.namespaces.set(namespace, renamed);
    return renamed;
  }

  private kebabValue<T>(value: T, what: string): T | string {
    if (typeof value !== 'string' || KEBAB.test(value)) return value;
    const renamed = this.kebabKey(value);
    this.notes.push(`${what} "${value}" is now "${renamed}": update every "call" and reference that names it`);
    return renamed;
  }
}

const RENAMED: Readonly<Record<string, string>> = { label: 'display', location: 'from', functions: 'flows', targetName: 'target' };

/** The migrated keys in the order the alpha2 item wrote them (renamed ones in place), new ones last. */
function ordered(original: Json, migrated: Json): Json {
  const result: Json = {};
  for (const key of Object.keys(original)) {
    const name = RENAMED[key] ?? key;
    if (name in migrated) result[name] = migrated[name];
  }
  for (const [key, value] of Object.entries(migrated)) if (!(key in result)) result[key] = value;
  return result;
}
