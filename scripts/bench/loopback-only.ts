/**
 * Preloaded into Portkey's gateway (`node --import`): its CLI listens on all
 * interfaces and takes no host flag, and everything the bench starts binds
 * 127.0.0.1 only. A listen given a port and no host gets 127.0.0.1.
 */
import { Server } from "node:net";

const listen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]) {
  const [first, second] = args;
  let bound = args;
  if (typeof first === "number" && typeof second !== "string") bound = [first, "127.0.0.1", ...args.slice(1).filter((a) => a !== undefined)];
  else if (first && typeof first === "object" && "port" in first && !("host" in first && first.host)) bound = [{ ...first, host: "127.0.0.1" }, ...args.slice(1)];
  return Reflect.apply(listen, this, bound);
} as typeof listen;
