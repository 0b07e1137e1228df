/**
 * A PLAIN OpenAI-compatible server, as vLLM or llama.cpp's server is to the
 * miner node: it knows nothing of Cortensor (it ignores every `x-cortensor-*`
 * header and signs nothing), answers deterministically (the prompt's words in
 * reverse order, so two nodes in front of it agree), streams its answers as
 * OpenAI servers do, and records the headers it received.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type PlainUpstream = {
  url: string;
  requests: { path: string; headers: IncomingMessage["headers"]; body: unknown }[];
  /** Lets every held request (a prompt containing "HOLD") answer; says how many there were. */
  release(): number;
  close(): Promise<void>;
};

/** The plain server's answer to a prompt. */
export const plainAnswer = (prompt: string) => `plain answer: ${prompt.split(/\s+/).filter(Boolean).reverse().join(" ")}`;

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = "";
    req.on("data", (chunk) => {
      text += chunk;
    });
    req.on("end", () => resolve(text));
  });

function promptOf(body: Record<string, unknown>, chat: boolean): string {
  if (chat) return ((body["messages"] as { content: string }[] | undefined) ?? []).map((m) => m.content).join("\n");
  return String(body["prompt"] ?? "");
}

export function startPlainUpstream(models: string[]): Promise<PlainUpstream> {
  const requests: PlainUpstream["requests"] = [];
  const held: (() => void)[] = [];
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer(async (req, res) => {
    const raw = req.method === "POST" ? await readBody(req) : "";
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    requests.push({ path: req.url ?? "", headers: req.headers, body });
    if (req.method === "GET" && req.url === "/v1/models") return json(res, 200, { object: "list", data: models.map((id) => ({ id, object: "model", owned_by: "plain" })) });
    if (req.method === "POST" && req.url === "/v1/embeddings") {
      return json(res, 200, { object: "list", model: body["model"], data: [{ object: "embedding", index: 0, embedding: [0.25, 0.5, 0.25] }] });
    }
    const chat = req.url === "/v1/chat/completions";
    if (req.method !== "POST" || (!chat && req.url !== "/v1/completions")) return json(res, 404, { error: { message: "not found", type: "invalid_request_error" } });
    const model = String(body["model"]);
    if (!models.includes(model)) return json(res, 404, { error: { message: `model ${model} does not exist`, type: "invalid_request_error", code: "model_not_found" } });
    if (promptOf(body, chat).includes("HOLD")) await new Promise<void>((resolve) => held.push(resolve));
    const text = plainAnswer(promptOf(body, chat));
    const usage = { prompt_tokens: promptOf(body, chat).split(/\s+/).length, completion_tokens: text.split(" ").length, total_tokens: 0 };
    const id = `plain-${requests.length}`;
    if (body["stream"] !== true) {
      return json(
        res,
        200,
        chat
          ? { id, object: "chat.completion", created: 1, model, choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }], usage }
          : { id, object: "text_completion", created: 1, model, choices: [{ index: 0, text, finish_reason: "stop", logprobs: null }], usage },
      );
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
    const pieces = text.match(/\S+\s*/g) ?? [text];
    for (const [i, piece] of pieces.entries()) {
      send(
        chat
          ? {
              id,
              object: "chat.completion.chunk",
              created: 1,
              model,
              choices: [{ index: 0, delta: i === 0 ? { role: "assistant", content: piece } : { content: piece }, finish_reason: null }],
            }
          : { id, object: "text_completion", created: 1, model, choices: [{ index: 0, text: piece, finish_reason: null }] },
      );
      await new Promise((r) => setTimeout(r, 2));
    }
    send(
      chat
        ? { id, object: "chat.completion.chunk", created: 1, model, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }
        : { id, object: "text_completion", created: 1, model, choices: [{ index: 0, text: "", finish_reason: "stop" }] },
    );
    res.end("data: [DONE]\n\n");
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        requests,
        release: () => held.splice(0).map((done) => done()).length,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
