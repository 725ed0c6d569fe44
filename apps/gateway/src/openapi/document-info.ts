import gatewayPackage from '../../package.json' with { type: 'json' };
import type { DocumentInfo } from './types.ts';

/** The document's `info` unless the caller passes its own: the gateway's name and version. */
export const DEFAULT_INFO: DocumentInfo = {
  title: 'Integration Gateway',
  version: gatewayPackage.version,
  description:
    'The REST front door of a plugin-based API gateway: each operation below is declared by a plugin and forwarded ' +
    'to its upstream service. Use **Try it out** on an operation to make a trial call.',
  contact: { name: 'The team that hosts this gateway' },
  license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
};
