// Reads an HTTP request target (`/path?query`) from an untrusted client without ever throwing: a target that is
// not an origin-form path, or that no URL parser accepts, is null and the caller answers 400.
export interface RequestTarget {
  /** The path as sent (still percent-encoded). */
  pathname: string;
  searchParams: URLSearchParams;
}

/** Longer targets are refused outright (Node's parser already caps the header block at 16 KiB). */
const MAX_TARGET = 8 * 1024;

/**
 * `/path?query` in RFC 3986 characters only, not starting `//`. Our own page only ever asks for `/`, its assets and
 * `/ws?token=…` (base64url), so anything else (`[`, `\\`, `{`, raw UTF-8) is refused rather than interpreted.
 */
const ORIGIN_FORM = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;

export function parseRequestTarget(raw: string | undefined): RequestTarget | null {
  // Origin-form only: `//host` or `http://…` must never be read as an authority (`GET //[` once threw here).
  if (typeof raw !== 'string' || raw.length > MAX_TARGET || !ORIGIN_FORM.test(raw)) return null;
  try {
    const url = new URL(`http://target.invalid${raw}`);
    return { pathname: url.pathname, searchParams: url.searchParams };
  } catch {
    return null;
  }
}

/**
 * The decoded path of a static file request, or null when it is not a plain relative file name: bad
 * percent-encoding, a NUL or other control character, a backslash, or a `..` segment.
 */
export function staticFilePath(pathname: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return null; // URIError: `%E0%A4%A` and friends
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(rel)) return null;
  if (rel.split('/').some((seg) => seg === '..' || seg === '.')) return null;
  return rel === '/' || rel === '' ? '/index.html' : rel;
}
