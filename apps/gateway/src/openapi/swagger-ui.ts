import express, { type IRouter } from 'express';
import swaggerUi, { type SwaggerUiOptions } from 'swagger-ui-express';

/** The files Swagger UI's page loads; anything else under the docs path is not served. */
const ASSETS = new Set([
  '/swagger-ui.css',
  '/swagger-ui-bundle.js',
  '/swagger-ui-standalone-preset.js',
  '/swagger-ui-init.js',
  '/favicon-16x16.png',
  '/favicon-32x32.png',
]);

/**
 * Mounts Swagger UI at `<path>/` bound to the served document. Per-instance init script (`serveFiles`), so several
 * gateways in one process never share it; `<path>` redirects to `<path>/`, the page's assets are relative.
 */
export function mountSwaggerUi(router: IRouter, path: string, documentUrl: string, title: string): void {
  const options: SwaggerUiOptions = {
    customSiteTitle: title,
    swaggerUrl: documentUrl,
    swaggerOptions: {
      url: documentUrl,
      validatorUrl: null,
      displayRequestDuration: true,
      deepLinking: true,
    },
  };
  const page = swaggerUi.setup(null, options);
  const assets = express.Router();
  assets.use(...swaggerUi.serveFiles(undefined, options));

  router.get([path, `${path}/`], (request, response, next) => {
    if (!request.path.endsWith('/')) {
      const query = request.originalUrl.indexOf('?');
      return response.redirect(301, `${path.slice(path.lastIndexOf('/') + 1)}/${query >= 0 ? request.originalUrl.slice(query) : ''}`);
    }
    response.setHeader('Cache-Control', 'no-cache');
    page(request, response, next);
  });
  router.use(path, (request, response, next) => (ASSETS.has(request.path) ? assets(request, response, next) : next()));
}
