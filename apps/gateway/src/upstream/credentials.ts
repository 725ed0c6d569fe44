import type { SecretRef, UpstreamAuth } from '@gateway/core';

/** How a plugin's upstream credential is attached to every call. */
export interface Credentials {
  readonly headers: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Raw secret values, so that no message can ever echo them. */
  readonly secrets: readonly string[];
}

export const NO_CREDENTIALS: Credentials = { headers: {}, query: {}, secrets: [] };

/** The secrets an auth scheme is made of. */
export function secretRefs(auth: UpstreamAuth | undefined): SecretRef[] {
  if (!auth) return [];
  return auth.type === 'basic' ? [auth.username, auth.secret] : [auth.secret];
}

/** The variables an auth scheme needs that are not set. */
export function missingSecrets(auth: UpstreamAuth | undefined): string[] {
  return secretRefs(auth)
    .filter((ref) => ref.value === undefined)
    .map((ref) => ref.source);
}

export function resolveCredentials(auth: UpstreamAuth | undefined, override?: string): Credentials {
  if (!auth) return NO_CREDENTIALS;
  const secret = override ?? auth.secret.value ?? '';
  switch (auth.type) {
    case 'apikey':
      return auth.in === 'header'
        ? { headers: { [auth.name]: secret }, query: {}, secrets: [secret] }
        : { headers: {}, query: { [auth.name]: secret }, secrets: [secret] };
    case 'bearer':
      return { headers: { Authorization: `Bearer ${secret}` }, query: {}, secrets: [secret] };
    case 'basic': {
      const user = auth.username.value ?? '';
      const token = Buffer.from(`${user}:${secret}`).toString('base64');
      return { headers: { Authorization: `Basic ${token}` }, query: {}, secrets: [secret, token] };
    }
  }
}
