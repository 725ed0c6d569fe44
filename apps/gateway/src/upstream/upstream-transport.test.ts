import type { GatewayConfig } from '../config.ts';
import { AxiosTransport, stockHttpConnections, undiciConnections } from './axios-transport.ts';
import { UpstreamClient } from './upstream-client.ts';
import { upstreamTransportContract } from './upstream-transport.contract.ts';

const TIMEOUT_MS = 5_000;

// The registered production class itself; with a test CA to trust, the same connections it builds.
upstreamTransportContract(
  'UpstreamClient: axios over the undici adapter (production)',
  ({ ca }) =>
    ca
      ? new AxiosTransport(undiciConnections({ timeoutMs: TIMEOUT_MS, ca }), { timeoutMs: TIMEOUT_MS })
      : new UpstreamClient({ upstreamTimeoutMs: TIMEOUT_MS } as GatewayConfig),
  { unencodableHeaderValue: 'refused', repeatedSingletonHeader: 'joined', truncatedCompressedBody: 'refused' },
);

upstreamTransportContract(
  'axios’s stock http adapter',
  (trust) => new AxiosTransport(stockHttpConnections({ timeoutMs: TIMEOUT_MS, ...trust }), { timeoutMs: TIMEOUT_MS }),
  { unencodableHeaderValue: 'stripped', repeatedSingletonHeader: 'first', truncatedCompressedBody: 'partial' },
);
