import { fillPathTemplate, type UpstreamRequest, type UpstreamResponse } from '@gateway/core';
import { asText, evaluate } from './expressions.ts';
import { mapOutput } from './output-mapping.ts';
import type { ConsumedOperation, OperationPlan } from './plan.ts';

/** The upstream request for one validated input, per the plan. */
export function buildRequest(operation: ConsumedOperation, plan: OperationPlan, rawInput: Record<string, unknown>): UpstreamRequest {
  const input = coerceInput(plan, rawInput);
  const params = new Map<string, unknown>();
  for (const { parameter, expr, fallback } of plan.parameters) {
    const value = (expr ? evaluate(expr, { input }) : undefined) ?? (fallback ? evaluate(fallback, { input }) : undefined);
    if (value !== undefined) params.set(parameter.name, value);
  }

  const path = fillPathTemplate(operation.path, (name) => {
    const planned = plan.parameters.find((p) => p.parameter.in === 'path' && p.parameter.name.toLowerCase() === name.toLowerCase());
    const value = planned ? params.get(planned.parameter.name) : undefined;
    // Name the input the caller sent (a REST `{userid}` fills the upstream `{userId}`).
    const source = planned?.expr?.kind === 'input' && planned.expr.path.length === 0 ? planned.expr.name : name;
    return { text: value === undefined || value === null ? undefined : asText(value), pointer: `/${source}` };
  });

  const query: Record<string, string | number | boolean> = {};
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const bodyParts: [string, unknown][] = [];
  for (const { parameter } of plan.parameters) {
    if (!params.has(parameter.name)) continue;
    const value = params.get(parameter.name);
    switch (parameter.in) {
      case 'query':
        query[parameter.name] =
          typeof value === 'number' || typeof value === 'boolean'
            ? value
            : Array.isArray(value)
              ? value.map(asText).join(',')
              : asText(value);
        break;
      case 'header':
        headers[parameter.name] = asText(value);
        break;
      case 'cookie':
        cookies.push(`${parameter.name}=${encodeURIComponent(asText(value))}`);
        break;
      case 'body':
        bodyParts.push([parameter.name, value]);
        break;
      default:
        break;
    }
  }
  if (cookies.length > 0) headers.Cookie = cookies.join('; ');

  let body: unknown;
  if (plan.body) body = evaluate(plan.body, { input, params });
  else if (bodyParts.length === 1) body = bodyParts[0]?.[1];
  else if (bodyParts.length > 1) body = Object.fromEntries(bodyParts);

  return {
    method: operation.method,
    path,
    ...(Object.keys(query).length > 0 ? { query } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(body !== undefined ? { body } : {}),
  };
}

/** The exposed result of a 2xx answer: an empty body stays empty (204 is success), otherwise the mapping. */
export function mapResponse(plan: OperationPlan, response: UpstreamResponse): unknown {
  if (response.body === undefined || response.body === '') return undefined;
  return plan.output ? mapOutput(plan.output, response.body) : response.body;
}

/** REST path/query/header values are text; typed ones are converted before they are used. */
function coerceInput(plan: OperationPlan, input: Record<string, unknown>): Record<string, unknown> {
  const coerced = { ...input };
  for (const spec of plan.inputs) {
    const value = coerced[spec.name];
    if (!spec.coerce || typeof value !== 'string') continue;
    coerced[spec.name] = spec.coerce === 'boolean' ? value === 'true' : Number(value);
  }
  return coerced;
}
