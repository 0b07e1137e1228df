import type { Vars } from "../../domain/config/config";
import type { SessionObject } from "./session-object";

/** What a client of the session objects needs: their namespace (the Worker's routes and the chain index use it). */
export type SessionsEnv = Vars & { SESSIONS: DurableObjectNamespace<SessionObject> };
