/**
 * JSON text read strictly: a syntax error, or a key repeated within one
 * object, refuses it. JSON.parse keeps a repeated key's last value and other
 * parsers its first, so two readers of one receipt could see two outputs
 * under one signature; a receipt with a repeated key is refused whole.
 */
export type StrictJson = { ok: true; value: unknown } | { ok: false; error: string };

type Frame = { kind: "object"; keys: Set<string>; key: string | null; expectKey: boolean } | { kind: "array"; index: number };

export function parseStrictJson(text: string): StrictJson {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  const repeated = firstRepeatedKey(text);
  return repeated ? { ok: false, error: `key ${JSON.stringify(repeated.key)} appears more than once in ${repeated.at}` } : { ok: true, value };
}

/**
 * Scans text JSON.parse has accepted for the first key repeated within an
 * object (keys compared decoded, so `"a"` and `"\u0061"` are one key), and
 * where: the path of the object it is in.
 */
function firstRepeatedKey(text: string): { key: string; at: string } | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const top = stack[stack.length - 1];
    if (ch === "{") stack.push({ kind: "object", keys: new Set(), key: null, expectKey: true });
    else if (ch === "[") stack.push({ kind: "array", index: 0 });
    else if (ch === "}" || ch === "]") stack.pop();
    else if (ch === ",") {
      if (top?.kind === "object") top.expectKey = true;
      else if (top?.kind === "array") top.index += 1;
    } else if (ch === '"') {
      const end = stringEnd(text, i);
      if (top?.kind === "object" && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return { key, at: pathOf(stack) };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    }
  }
  return null;
}

/** The index of the quote closing the string that opens at `start` (valid JSON: it exists). */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}

/** The path of the innermost object, as `receipt.miners[0]`. */
function pathOf(stack: Frame[]): string {
  let path = "receipt";
  for (const frame of stack.slice(0, -1)) path += frame.kind === "array" ? `[${frame.index}]` : `.${frame.key}`;
  return path;
}
