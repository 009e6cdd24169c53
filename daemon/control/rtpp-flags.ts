/**
 * The `rtpp-flags` string (Kamailio's module sends it instead of a dictionary): space-separated
 * tokens, `key=value`, `key=[a b c]` lists and nested `key=[sub=[a b] other=[c]]` dictionaries.
 * The result is merged into the message as if it had been sent as dictionary keys and flags.
 */
export type RtppValue = string | RtppValue[] | { [key: string]: RtppValue };

export interface RtppParsed {
  keys: Record<string, RtppValue>;
  flags: string[];
}

const TRANSPORT_PROTOCOLS = new Set(['RTP/AVP', 'RTP/SAVP', 'RTP/AVPF', 'RTP/SAVPF', 'UDP/TLS/RTP/SAVP', 'UDP/TLS/RTP/SAVPF']);

export function parseRtppFlags(text: string): RtppParsed {
  const tokens = tokenize(text);
  const out: RtppParsed = { keys: {}, flags: [] };
  let i = 0;
  const parseList = (): RtppValue[] | Record<string, RtppValue> => {
    const items: string[] = [];
    const dict: Record<string, RtppValue> = {};
    let isDict = false;
    while (i < tokens.length && tokens[i] !== ']') {
      const tok = tokens[i++] as string;
      const eq = tok.indexOf('=');
      if (eq > 0) {
        isDict = true;
        const key = tok.slice(0, eq);
        const rest = tok.slice(eq + 1);
        if (rest === '' && tokens[i] === '[') {
          i++;
          dict[key] = parseList();
        } else dict[key] = rest;
      } else items.push(tok);
    }
    i++; // ]
    return isDict ? dict : items;
  };
  while (i < tokens.length) {
    const tok = tokens[i++] as string;
    const eq = tok.indexOf('=');
    if (eq > 0) {
      const key = tok.slice(0, eq);
      const rest = tok.slice(eq + 1);
      if (rest === '' && tokens[i] === '[') {
        i++;
        out.keys[key] = parseList();
      } else out.keys[key] = rest;
    } else if (TRANSPORT_PROTOCOLS.has(tok)) {
      out.keys['transport-protocol'] = tok;
    } else if (tok !== '[' && tok !== ']') {
      out.flags.push(tok);
    }
  }
  return out;
}

/** Splits on whitespace, with `[` and `]` as their own tokens (`key=[a` → `key=`, `[`, `a`). */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const word of text.trim().split(/\s+/)) {
    if (word === '') continue;
    let w = word;
    for (let open = w.indexOf('=['); open > 0; open = w.indexOf('=[')) {
      tokens.push(w.slice(0, open + 1), '[');
      w = w.slice(open + 2);
    }
    while (w.startsWith('[')) {
      tokens.push('[');
      w = w.slice(1);
    }
    let closing = 0;
    while (w.endsWith(']')) {
      w = w.slice(0, -1);
      closing++;
    }
    if (w !== '') tokens.push(w);
    for (let k = 0; k < closing; k++) tokens.push(']');
  }
  return tokens;
}
