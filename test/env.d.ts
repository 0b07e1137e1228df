// Types `exports` and `env` of "cloudflare:workers" in tests from the Worker's own module.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../workers/index");
  }
  interface Env extends import("../workers/env").Env {}
}
