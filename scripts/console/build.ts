/**
 * Builds the operator console (console/) into static/console/, which
 * wrangler serves as the Worker's static assets. `npm run build` and
 * `npm run dev` run it first; the test setup does too.
 */
import { build } from "vite";

export async function buildConsole(): Promise<void> {
  await build({ configFile: new URL("../../console/vite.config.ts", import.meta.url).pathname });
}

if (import.meta.main) await buildConsole();
