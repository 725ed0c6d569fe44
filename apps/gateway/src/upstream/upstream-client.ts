import { inject, injectable } from 'tsyringe';
import type { GatewayConfig } from '../config.ts';
import { CONFIG } from '../tokens.ts';
import { AxiosTransport, undiciConnections } from './axios-transport.ts';

/** The gateway's upstream transport (registered as UPSTREAM_CLIENT): axios over the undici adapter's keep-alive pools. */
@injectable()
export class UpstreamClient extends AxiosTransport {
  constructor(@inject(CONFIG) config: GatewayConfig) {
    const options = { timeoutMs: config.upstreamTimeoutMs };
    super(undiciConnections(options), options);
  }
}
