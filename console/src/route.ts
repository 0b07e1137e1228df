import { useEffect, useState } from "hono/jsx/dom";

/**
 * Screens are addressed by the URL's fragment (#miners, #sessions/3,
 * #task/3/17): bookmarkable, never sent to the server, and never holding
 * the key.
 */
export type Route =
  | { screen: "overview" }
  | { screen: "miners" }
  | { screen: "sessions"; sessionId?: number }
  | { screen: "task"; sessionId: number; taskId: number }
  | { screen: "gateway"; customerId?: string }
  | { screen: "chain" }
  | { screen: "rewards" };

export function parseRoute(hash: string): Route {
  const [screen, a, b] = hash.replace(/^#\/?/, "").split("/");
  const n = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : undefined);
  switch (screen) {
    case "miners":
      return { screen: "miners" };
    case "sessions": {
      const sessionId = n(a);
      return sessionId === undefined ? { screen: "sessions" } : { screen: "sessions", sessionId };
    }
    case "task": {
      const sessionId = n(a);
      const taskId = n(b);
      return sessionId !== undefined && taskId !== undefined ? { screen: "task", sessionId, taskId } : { screen: "sessions" };
    }
    case "gateway":
      return a ? { screen: "gateway", customerId: decodeURIComponent(a) } : { screen: "gateway" };
    case "chain":
      return { screen: "chain" };
    case "rewards":
      return { screen: "rewards" };
    default:
      return { screen: "overview" };
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}
