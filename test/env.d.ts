// Types `exports` and `env` of "cloudflare:workers" in tests from the Worker's own module.
import type { Env as WorkerEnv } from "../workers/env";

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("../workers/index");
    }
    interface Env extends WorkerEnv {}
  }
}
