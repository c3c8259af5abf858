/** How deep a JSON request body may nest; our bodies are flat objects, so this is generous. */
export const MAX_JSON_DEPTH = 8;

/**
 * The deepest nesting of objects and arrays in a JSON text, counted on the bytes before parsing,
 * stopping as soon as `limit` is passed. JSON.parse's reviver and class-transformer both recurse
 * once per level, so a 64 kB body of brackets would otherwise exhaust the stack (a 500) before
 * any validation could answer; body-parser has no depth option, hence this scan.
 */
export function exceedsJsonDepth(body: Buffer, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: the next byte is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** body-parser `verify` hook: a body nested too deeply is a 400 before it is parsed. */
export function refuseDeepJson(_req: unknown, _res: unknown, body: Buffer): void {
  if (exceedsJsonDepth(body)) {
    throw Object.assign(new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), { status: 400, type: 'entity.too.deep' });
  }
}
