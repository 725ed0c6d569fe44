// The consumes section: each upstream adapter's base URI, authentication and the operations it offers.
import { pathTemplateNames, type SecretRef, type UpstreamAuth } from '@gateway/core';
import type { Alpha2Auth, Alpha2ConsumedParameter, Alpha2Consumes, Alpha2Document, Alpha2Type } from './alpha2.ts';
import type { Bindings } from './binds.ts';
import { type DiagnosticSink, formatPath, type YamlPath } from './diagnostics.ts';
import { splitTemplate } from './expressions.ts';
import type { InterpretOptions } from './interpret.ts';
import { type ConsumedOperation, type ConsumedParameter, singleBraces } from './plan.ts';
import { API_KEY_NEEDS_KEY } from './schema.ts';

/** A consumes adapter as the exposures see it: where it lives, how it authenticates, what it offers. */
export interface ConsumedAdapter {
  readonly namespace: string;
  readonly baseUrl: string;
  readonly auth?: UpstreamAuth;
  readonly description?: string;
  readonly operations: readonly ConsumedOperation[];
  readonly at: YamlPath;
}

/** The environment variable that overrides a consumes adapter's base URI: `CAPABILITY_BASE_URI_PX_CUSTOM_EVENTS`. */
export function baseUriVariable(namespace: string): string {
  return `CAPABILITY_BASE_URI_${namespace.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function readAdapters(
  document: Alpha2Document,
  bindings: Bindings,
  sink: DiagnosticSink,
  options: InterpretOptions,
): ConsumedAdapter[] {
  const lists: [YamlPath, readonly Alpha2Consumes[] | undefined][] = [
    [['consumes'], document.consumes],
    [['capability', 'consumes'], document.capability?.consumes],
  ];
  const adapters: ConsumedAdapter[] = [];
  for (const [listPath, list] of lists) {
    for (const [index, consumes] of (list ?? []).entries()) {
      const at = [...listPath, index];
      if ('location' in consumes) {
        sink.error([...at, 'location'], 'imported consumes ("location") are not supported by this gateway; declare the adapter inline');
        continue;
      }
      if (adapters.some((a) => a.namespace === consumes.namespace)) {
        sink.error([...at, 'namespace'], `consumes namespace "${consumes.namespace}" is declared twice`);
        continue;
      }
      const override = options.baseUris?.[consumes.namespace] ?? options.environment[baseUriVariable(consumes.namespace)];
      if (override !== undefined && !/^https?:\/\/[^/]+/.test(override)) {
        sink.error(
          [...at, 'baseUri'],
          `the override ${options.baseUris?.[consumes.namespace] !== undefined ? '' : `${baseUriVariable(consumes.namespace)} `}"${override}" is not an http(s) URL`,
        );
      }
      const auth = consumes.authentication
        ? readAuth(consumes.authentication, [...at, 'authentication'], bindings, sink, options.file)
        : undefined;
      const shared = readParameters(consumes.inputParameters, [...at, 'inputParameters'], sink);
      const operations: ConsumedOperation[] = [];
      for (const [r, resource] of (consumes.resources ?? []).entries()) {
        const resourceAt = [...at, 'resources', r];
        const resourceParameters = readParameters(resource.inputParameters, [...resourceAt, 'inputParameters'], sink);
        for (const [o, operation] of resource.operations.entries()) {
          const operationAt = [...resourceAt, 'operations', o];
          const parameters = mergeParameters(
            [...shared, ...resourceParameters, ...readParameters(operation.inputParameters, [...operationAt, 'inputParameters'], sink)],
            resource.path,
            [...resourceAt, 'path'],
            sink,
          );
          const bodyTemplate = operation.body === undefined ? undefined : readBodyTemplate(operation.body, [...operationAt, 'body'], sink);
          operations.push({
            namespace: consumes.namespace,
            resource: resource.name,
            name: operation.name,
            method: operation.method ?? 'GET',
            path: singleBraces(resource.path.startsWith('/') ? resource.path : `/${resource.path}`),
            ...(operation.label ? { label: operation.label } : {}),
            ...((operation.description ?? resource.description) ? { description: operation.description ?? resource.description } : {}),
            parameters,
            ...(bodyTemplate !== undefined ? { bodyTemplate } : {}),
            at: operationAt,
          });
          if (operation.outputRawFormat && operation.outputRawFormat !== 'json') {
            sink.warning(
              [...operationAt, 'outputRawFormat'],
              `"${operation.outputRawFormat}" answers are relayed as text; only json is mapped`,
            );
          }
        }
      }
      adapters.push({
        namespace: consumes.namespace,
        baseUrl: (override ?? fillBaseUri(consumes.baseUri, consumes.namespace, [...at, 'baseUri'], bindings, sink)).replace(/\/+$/, ''),
        ...(auth ? { auth } : {}),
        ...(consumes.description ? { description: consumes.description } : {}),
        operations,
        at,
      });
    }
  }
  return adapters;
}

/**
 * `{{VAR}}` in a baseUri reads a bound variable; a placeholder nothing fills (a catalog file's `{domain}`) would
 * make every call fail to resolve the host, so it is an error naming both fixes.
 */
function fillBaseUri(baseUri: string, namespace: string, at: YamlPath, bindings: Bindings, sink: DiagnosticSink): string {
  const unfilled: string[] = [];
  const filled = baseUri.replace(
    /\{\{\s*([^{}]+?)\s*\}\}|\{([^{}]+)\}/g,
    (placeholder, bound: string | undefined, plain: string | undefined) => {
      const variable = bound ? bindings.find(bound) : undefined;
      if (variable && variable !== 'ambiguous') return variable.value ?? placeholder;
      unfilled.push(bound ?? plain ?? placeholder);
      return placeholder;
    },
  );
  if (unfilled.length > 0) {
    const names = unfilled.map((name) => `{${name}}`).join(', ');
    sink.error(
      at,
      `${JSON.stringify(baseUri)} has ${unfilled.length > 1 ? 'placeholders' : 'a placeholder'} ${names} that nothing fills, so every call would fail; ` +
        `bind ${unfilled.length > 1 ? 'them' : 'it'} (write {{${unfilled[0]}}} and declare ${unfilled[0]} in binds) or set ${baseUriVariable(namespace)} to the full URL`,
    );
  }
  return filled;
}

const TYPES: readonly Alpha2Type[] = ['string', 'number', 'integer', 'boolean', 'array', 'object'];

function readParameters(list: readonly Alpha2ConsumedParameter[] | undefined, at: YamlPath, sink: DiagnosticSink): ConsumedParameter[] {
  return (list ?? []).map((parameter, index) => {
    const path = [...at, index];
    const type = TYPES.includes(parameter.type as Alpha2Type) ? (parameter.type as Alpha2Type) : undefined;
    if (parameter.type !== undefined && !type) sink.warning([...path, 'type'], `unknown type ${JSON.stringify(parameter.type)}; ignored`);
    if (parameter.required !== undefined && typeof parameter.required !== 'boolean')
      sink.warning([...path, 'required'], 'must be true or false; ignored');
    return {
      name: parameter.name,
      in: parameter.in,
      ...(parameter.value !== undefined ? { value: parameter.value } : {}),
      ...(type ? { type } : {}),
      ...(typeof parameter.required === 'boolean' ? { required: parameter.required } : {}),
      ...(typeof parameter.description === 'string' ? { description: parameter.description } : {}),
      declared: true,
      path,
    };
  });
}

/** Later levels win on the same name + location; path templates nobody declared become path parameters. */
function mergeParameters(list: ConsumedParameter[], path: string, pathAt: YamlPath, sink: DiagnosticSink): ConsumedParameter[] {
  const merged: ConsumedParameter[] = [];
  for (const parameter of list) {
    const existing = merged.findIndex((p) => p.name === parameter.name && p.in === parameter.in);
    if (existing >= 0) merged[existing] = parameter;
    else merged.push(parameter);
  }
  const templates = pathTemplateNames(path);
  for (const name of templates) {
    if (!merged.some((p) => p.in === 'path' && p.name.toLowerCase() === name.toLowerCase())) {
      merged.push({ name, in: 'path', type: 'string', declared: false, path: pathAt });
    }
  }
  for (const parameter of merged) {
    if (parameter.in === 'path' && parameter.declared && !templates.some((name) => name.toLowerCase() === parameter.name.toLowerCase())) {
      sink.warning(parameter.path, `declared "in: path" but the path ${path} has no {${parameter.name}}; never sent`);
    }
  }
  return merged;
}

function readBodyTemplate(body: { type: string; data: unknown } | string, at: YamlPath, sink: DiagnosticSink): unknown {
  if (typeof body !== 'string' && body.type !== 'json') {
    sink.error([...at, 'type'], `"${body.type}" request bodies are not supported by this gateway (JSON only)`);
    return undefined;
  }
  const data = typeof body === 'string' ? body : body.data;
  if (typeof data !== 'string') return data;
  for (const text of [data, data.replace(/(?<!")(\{\{\s*[^{}]+?\s*\}\})(?!")/g, '"$1"')]) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // try the next reading
    }
  }
  sink.error(typeof body === 'string' ? at : [...at, 'data'], 'is not JSON (with {{placeholders}} as values)');
  return undefined;
}

function readAuth(auth: Alpha2Auth, at: YamlPath, bindings: Bindings, sink: DiagnosticSink, file: string): UpstreamAuth | undefined {
  const secret = (field: string, text: string | undefined): SecretRef | undefined => {
    if (text === undefined) {
      sink.error([...at, field], `${auth.type} authentication needs "${field}"`);
      return undefined;
    }
    return readSecret(text, [...at, field], bindings, sink, file);
  };
  switch (auth.type) {
    case 'apikey': {
      // Both problems at once: a missing key is no reason to keep quiet about a missing value.
      if (!auth.key) sink.error([...at, 'key'], API_KEY_NEEDS_KEY);
      const value = secret('value', auth.value);
      return value && auth.key ? { type: 'apikey', in: auth.placement ?? 'header', name: auth.key, secret: value } : undefined;
    }
    case 'bearer': {
      const token = secret('token', auth.token);
      return token ? { type: 'bearer', secret: token } : undefined;
    }
    case 'basic': {
      const username = secret('username', auth.username);
      const password = secret('password', auth.password);
      return username && password ? { type: 'basic', username, secret: password } : undefined;
    }
    default:
      sink.error([...at, 'type'], `"${auth.type}" authentication is not supported by this gateway (apikey, bearer and basic are)`);
      return undefined;
  }
}

/** `{{VAR}}` / `{{namespace.VAR}}` (or `$namespace.VAR`) from binds; the variables' names are the source. */
function readSecret(text: string, at: YamlPath, bindings: Bindings, sink: DiagnosticSink, file: string): SecretRef | undefined {
  const dollar = /^\$([A-Za-z0-9-]+\.[A-Za-z0-9_]+)$/.exec(text.trim());
  const parts = splitTemplate(dollar ? `{{${dollar[1]}}}` : text);
  const sources: string[] = [];
  let value = '';
  let complete = true;
  for (const part of parts) {
    if ('text' in part) {
      value += part.text;
      continue;
    }
    const variable = bindings.find(part.reference);
    if (variable === 'ambiguous') {
      sink.error(at, `{{${part.reference}}} is bound by several bind namespaces; write {{namespace.${part.reference}}}`);
      return undefined;
    }
    if (!variable) {
      sink.error(at, `{{${part.reference}}} is not declared in binds`);
      return undefined;
    }
    sources.push(variable.providerKey);
    if (variable.value === undefined) complete = false;
    else value += variable.value;
  }
  if (sources.length === 0) {
    sink.warning(at, 'a credential written in the file; bind it from the environment instead ({{VAR}} with binds)');
    return { source: `${file} ${formatPath(at)}`, value: text };
  }
  return { source: [...new Set(sources)].join(', '), value: complete ? value : undefined };
}
