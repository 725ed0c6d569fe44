import type { OpenAPIObject } from 'openapi3-ts/oas31';
import type { IRouter, Request, Response } from 'express';
import { stringify } from 'yaml';
import { buildOpenApiDocument } from './build-document.ts';
import { DEFAULT_INFO } from './document-info.ts';
import { DOCS_PATH, OPENAPI_JSON_PATH, OPENAPI_YAML_PATH, POSTMAN_JSON_PATH } from './paths.ts';
import { buildPostmanCollection } from './postman-collection.ts';
import { serverUrlFrom } from './servers.ts';
import { mountSwaggerUi } from './swagger-ui.ts';
import type { DocumentOptions, DocumentSource } from './types.ts';

export interface OpenApiRouterParts {
  readonly source: DocumentSource;
  /** `info`, `security` (the inbound-auth seam), body limit...; `info` defaults to the gateway's. */
  readonly options?: Partial<DocumentOptions>;
  /** Behind a trusted reverse proxy (TRUST_PROXY): `servers` follows its X-Forwarded-Proto / X-Forwarded-Host. */
  readonly trustForwardedHeaders?: boolean;
}

/** Renderings per server URL; the Host header is the caller's, so the cache is small and bounded. */
const MAX_RENDERINGS = 16;

/**
 * Mounts `GET /openapi.json`, `GET /openapi.yaml` and Swagger UI at `/docs/`. The document is built once;
 * only `servers` changes per request (the host the caller reached), so trial calls go back to that host.
 */
export function mountOpenApi(router: IRouter, { source, options = {}, trustForwardedHeaders = false }: OpenApiRouterParts): void {
  const document = withCollectionLink(buildOpenApiDocument(source, { info: DEFAULT_INFO, ...options }));
  const renderings = new Map<string, { json?: string; yaml?: string; postman?: string }>();
  const render = (request: Request, format: 'json' | 'yaml' | 'postman'): string => {
    const url = serverUrlFrom(request.headers, 'encrypted' in request.socket && request.socket.encrypted === true, trustForwardedHeaders);
    let rendering = renderings.get(url);
    if (!rendering) {
      if (renderings.size >= MAX_RENDERINGS) renderings.clear();
      rendering = {};
      renderings.set(url, rendering);
    }
    const served = withServer(document, url);
    if (format === 'postman') rendering.postman ??= JSON.stringify(buildPostmanCollection(served, url));
    else if (format === 'json') rendering.json ??= JSON.stringify(served);
    else rendering.yaml ??= stringify(served, { aliasDuplicateObjects: false, lineWidth: 0 });
    return rendering[format] as string;
  };
  const send = (response: Response, type: string, body: string) => {
    response.setHeader('Cache-Control', 'no-cache');
    response.setHeader('Vary', trustForwardedHeaders ? 'Host, X-Forwarded-Host, X-Forwarded-Proto' : 'Host');
    response.type(type).send(body);
  };

  router.get(OPENAPI_JSON_PATH, (request, response) => send(response, 'application/json', render(request, 'json')));
  router.get(OPENAPI_YAML_PATH, (request, response) => send(response, 'application/yaml', render(request, 'yaml')));
  router.get(POSTMAN_JSON_PATH, (request, response) => {
    response.setHeader('Content-Disposition', 'inline; filename="postman_collection.json"');
    send(response, 'application/json', render(request, 'postman'));
  });
  mountSwaggerUi(router, DOCS_PATH, OPENAPI_JSON_PATH, `${document.info.title}: API documentation`);
}

/** Swagger UI shows the description at the top of `/docs`: the collection is one click away. */
function withCollectionLink(document: OpenAPIObject): OpenAPIObject {
  const link = `Postman collection (import, or \`newman run\`): [${POSTMAN_JSON_PATH}](${POSTMAN_JSON_PATH})`;
  return { ...document, info: { ...document.info, description: `${document.info.description ?? ''}\n\n${link}`.trim() } };
}

function withServer(document: OpenAPIObject, url: string): OpenAPIObject {
  return { ...document, servers: [{ url, description: 'This gateway' }] };
}
