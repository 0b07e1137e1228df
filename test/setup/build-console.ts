import { buildConsole } from "../../scripts/console/build.ts";

/** The Worker serves the console's built files (wrangler.toml [assets]): build them before the suites start. */
export default async function setup() {
  await buildConsole();
}
