/** Where the REST app serves the API documentation. */
export const OPENAPI_JSON_PATH = '/openapi.json';
export const OPENAPI_YAML_PATH = '/openapi.yaml';
export const DOCS_PATH = '/docs';
export const POSTMAN_JSON_PATH = '/postman.json';
/** What runs here (the console's first read). */
export const GATEWAY_PATH = '/v1/gateway';
