// Makes text from outside (feed topics, ret_msg, exchange errors, file names inside archives, symbols, model
// metadata) safe to print on a terminal: control characters and bidirectional overrides become visible escapes,
// so a hostile string cannot retitle or clear the terminal, move the cursor, or forge a progress line.

/**
 * C0 controls (U+0000–U+001F), DEL, C1 controls (U+0080–U+009F, U+009B is a one-byte CSI), the Arabic letter mark
 * and LRM/RLM, the line and paragraph separators, and the bidi embeddings, overrides and isolates.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is this module's job
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same without newline and tab: for whole multi-line messages of our own that embed outside text. */
const UNSAFE_KEEP_LINES =
  // eslint-disable-next-line no-control-regex -- as above
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * C0 as `\xHH` (readable: `\x1b`), the rest as `\uHHHH`: JSON output (`--json`) already escapes C0, and a raw
 * DEL, C1 or bidi character turned into `\u…` stays a valid JSON escape of the same character.
 */
function escape(ch: string): string {
  const code = ch.charCodeAt(0);
  return code < 0x20
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

export interface SafeTextOptions {
  /** Keep newlines and tabs (a message of several lines); every other control character is still escaped. */
  keepNewlines?: boolean;
}

/** `text` with every terminal control character written as a visible escape (ESC → `\x1b`, U+202E → `\u202e`). */
export function safeText(text: string, opts: SafeTextOptions = {}): string {
  return text.replace(opts.keepNewlines ? UNSAFE_KEEP_LINES : UNSAFE, escape);
}
