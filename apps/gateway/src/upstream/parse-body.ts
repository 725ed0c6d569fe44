/** JSON when it parses, undefined when empty, the raw text otherwise (HTML error pages included). */
export function parseLeniently(text: string | undefined, contentType: string | undefined): unknown {
  if (text === undefined || text.length === 0) return undefined;
  if (contentType === undefined || /json/i.test(contentType) || /^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A short human message from any upstream error body: PX's externalapierror, other JSON, HTML or text. */
export function upstreamMessage(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return textOf(body);
  if (typeof body !== 'object') return String(body);
  const record = body as Record<string, unknown>;
  const pxError = record.externalapierror as Record<string, unknown> | undefined;
  if (pxError && typeof pxError === 'object') {
    const subErrors = Array.isArray(pxError.subErrors) ? pxError.subErrors : [];
    const details = subErrors
      .map((sub) => {
        const s = sub as Record<string, unknown>;
        return s.field ? `${String(s.field)} ${String(s.message ?? 'is invalid')}` : String(s.message ?? '');
      })
      .filter(Boolean);
    const base = String(pxError.message ?? pxError.status ?? 'error');
    return details.length ? `${base}: ${details.join('; ')}` : base;
  }
  for (const field of ['message', 'detail', 'error_description', 'error', 'title']) {
    const value = record[field];
    if (typeof value === 'string' && value) return value;
    if (value && typeof value === 'object') return upstreamMessage(value);
  }
  return JSON.stringify(body).slice(0, 300);
}

function textOf(body: string): string | undefined {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1];
  const text = (title ?? body.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>|<[^>]+>/gi, ' ')).replace(/\s+/g, ' ').trim();
  return text ? text.slice(0, 300) : undefined;
}
