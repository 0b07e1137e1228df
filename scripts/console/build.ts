/**
 * Builds the operator console (console/, Vite) in memory: its files, named
 * as the Worker serves them under static/console/. scripts/build-static.ts
 * writes them with the rest of the static assets.
 */
import { build, type Rolldown } from "vite";

export async function consoleFiles(): Promise<{ name: string; content: Uint8Array | string }[]> {
  const result = await build({ configFile: new URL("../../console/vite.config.ts", import.meta.url).pathname, build: { write: false } });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  return outputs.flatMap((o) => o.output.map((f) => ({ name: f.fileName, content: f.type === "chunk" ? f.code : f.source })));
}
