/**
 * JSON-RPC over WebSocket for the dev chain, on the same port as its HTTP
 * JSON-RPC: every method answers as over HTTP, and `eth_subscribe`
 * (`newHeads`, `logs` with address/topics filters)
 * pushes `eth_subscription` notifications, which is what ethers'
 * WebSocketProvider and the seed's "Listening to Events" example need.
 *
 * The subscriptions are EDR's own: it keeps them and reports each event
 * through the single `subscriptionCallback` of its provider as the chain
 * mines, so nothing polls. This module only remembers which socket asked for
 * which subscription id, routes each event to that socket, and unsubscribes
 * what a socket left behind when it closes.
 */
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import type { SubscriptionEvent } from "@nomicfoundation/edr";
import { createRequire } from "node:module";
import type { WebSocket, WebSocketServer as WebSocketServerType } from "ws";

// Loaded through Node's own resolution: the test runner's global setup resolves packages with the
// browser condition, which gives ws's browser stub (no server) instead of the library.
const { WebSocketServer } = createRequire(import.meta.url)("ws") as { WebSocketServer: typeof WebSocketServerType };

export type JsonRpcRequest = { jsonrpc?: string; id?: unknown; method: string; params?: unknown[] };
type JsonRpcResponse = { id?: unknown; result?: unknown; error?: unknown };
export type Answer = (request: JsonRpcRequest) => Promise<JsonRpcResponse>;

/** EDR names a subscription by a number; over JSON-RPC it is that number in hex, as eth_subscribe answered it. */
const subscriptionId = (filterId: bigint) => `0x${filterId.toString(16)}`;

export function attachWebSocketRpc(server: Server, answer: Answer) {
  const owners = new Map<string, WebSocket>();
  const wss = new WebSocketServer({ noServer: true });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  };
  server.on("upgrade", onUpgrade);

  /** Answers one request; a successful eth_subscribe makes the socket the owner of the id, eth_unsubscribe releases it. */
  async function answerOn(ws: WebSocket, request: JsonRpcRequest): Promise<JsonRpcResponse> {
    if (typeof request !== "object" || request === null || typeof request.method !== "string") {
      return { jsonrpc: "2.0", id: (request as JsonRpcRequest | null)?.id ?? null, error: { code: -32600, message: "invalid request" } } as JsonRpcResponse;
    }
    if (request.method === "eth_unsubscribe") {
      const id = String(request.params?.[0] ?? "").toLowerCase();
      // A socket may only end its own subscriptions.
      if (owners.get(id) !== ws) return { jsonrpc: "2.0", id: request.id ?? null, result: false } as JsonRpcResponse;
      owners.delete(id);
    }
    const response = await answer(request);
    if (request.method === "eth_subscribe" && typeof response.result === "string") {
      // The socket may have closed while EDR answered: then nobody will unsubscribe later, so do it now.
      if (ws.readyState !== ws.OPEN) await answer({ method: "eth_unsubscribe", params: [response.result] });
      else owners.set(response.result.toLowerCase(), ws);
    }
    return response;
  }

  function serve(ws: WebSocket) {
    ws.on("message", async (data) => {
      let body: unknown;
      try {
        body = JSON.parse(data.toString());
      } catch {
        return send(ws, { jsonrpc: "2.0", id: null, error: { code: -32700, message: "parse error" } });
      }
      const result = Array.isArray(body) ? await Promise.all(body.map((r) => answerOn(ws, r as JsonRpcRequest))) : await answerOn(ws, body as JsonRpcRequest);
      send(ws, result);
    });
    ws.on("close", () => {
      for (const [id, owner] of owners) {
        if (owner !== ws) continue;
        owners.delete(id);
        void answer({ method: "eth_unsubscribe", params: [id] });
      }
    });
  }

  return {
    /** The provider's subscriptionCallback: `logs` events come as an array of logs, one notification each. */
    notify(event: SubscriptionEvent) {
      const subscription = subscriptionId(event.filterId);
      const ws = owners.get(subscription);
      if (!ws) return;
      const results = Array.isArray(event.result) ? event.result : [event.result];
      for (const result of results) send(ws, { jsonrpc: "2.0", method: "eth_subscription", params: { subscription, result } });
    },
    /** Subscriptions open now (a test checks that closing a socket ends its own). */
    openSubscriptions: () => owners.size,
    close() {
      server.off("upgrade", onUpgrade);
      for (const client of wss.clients) client.terminate();
      owners.clear();
      wss.close();
    },
  };
}

function send(ws: WebSocket, message: unknown) {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}
