import type { RouterConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError, fieldError } from "../../domain/errors";
import type { DelegateRequest } from "../../domain/schemas/work";
import { fetchPage, type FetchedPage } from "../web/fetch-page";
import type { TaskBilling } from "../../domain/rewards/task-billing";
import type { Caller } from "../../domain/sessions/caller";
import { submitWork } from "./submit-work";
import { resolvePolicy } from "../../domain/work/tiers";
import { delegatePrompt } from "./work-prompts";

/** Page text beyond this is not sent to miners (the fetch itself is capped in bytes). */
const MAX_INPUT_CHARS = 50_000;

async function pageFor(body: Pick<DelegateRequest, "fetch_web" | "input">, config: RouterConfig): Promise<FetchedPage | undefined> {
  const wantsFetch = body.fetch_web || body.input?.kind === "url";
  if (!wantsFetch) return undefined;
  if (!config.webFetch.enabled) {
    throw new ApiError(400, "web_fetch_disabled", 'this router is not configured for web fetch (fetch_web, input.kind "url")');
  }
  const url = body.input?.payload.trim();
  if (!url || !/^https?:\/\//i.test(url)) {
    throw new ApiError(400, "invalid_request", "invalid body: input.payload: must be the http(s) URL to fetch", {
      issues: [{ field: "input.payload", message: "must be an http(s) URL" }],
    });
  }
  return fetchPage(url, config.webFetch);
}

/**
 * Turns a delegate request (objective and input, or a ready task input) into
 * a task for the session's miners and answers with the result and its
 * consensus record.
 */
export async function runDelegate(
  env: Env,
  config: RouterConfig,
  sessionId: number,
  body: Omit<DelegateRequest, "session_id">,
  flow: string,
  caller: Caller,
  billing?: TaskBilling,
) {
  const page = await pageFor(body, config);
  const input = page
    ? { kind: "url" as const, payload: page.text.slice(0, MAX_INPUT_CHARS), source: page.finalUrl }
    : body.input
      ? { kind: body.input.kind, payload: body.input.payload }
      : undefined;
  const prompt = body.task_request_input ?? (body.objective === undefined ? undefined : delegatePrompt({ objective: body.objective, ...(input ? { input } : {}) }));
  if (prompt === undefined) throw fieldError("objective", "give objective (with input) or task_request_input");
  const policy = resolvePolicy({ tier: body.policy.tier, redundancy: body.policy.redundancy, timeoutS: body.policy.timeout, precommitS: body.policy.precommit_timeout });
  const { completion, replayed } = await submitWork(env, {
    sessionId,
    caller,
    flow,
    prompt,
    requestId: body.request_id,
    billing,
    maxTokens: body.model_policy.max_tokens,
    temperature: body.model_policy.temperature,
    timeoutS: policy.timeoutS,
    precommitS: policy.precommitS,
    policy: {
      ...(policy.redundancy !== undefined ? { redundancy: policy.redundancy } : {}),
      ...(policy.commitPolicy ? { commitPolicy: policy.commitPolicy } : {}),
      ...(policy.selection ? { selection: policy.selection } : {}),
    },
  });
  const result = {
    request_id: body.request_id ?? null,
    session_id: completion.session_id,
    task_id: completion.task_id,
    status: "completed" as const,
    result: completion.choices[0]?.text ?? "",
    objective: body.objective ?? null,
    input: input ? { kind: input.kind, ...("source" in input ? { source: input.source } : {}) } : null,
    fetched: page ? { url: page.url, final_url: page.finalUrl, content_type: page.contentType, bytes: page.bytes, truncated: page.truncated } : null,
    policy: {
      tier: body.policy.tier ?? null,
      redundancy: completion.consensus.redundancy,
      timeout: policy.timeoutS ?? null,
      precommit_timeout: policy.precommitS ?? null,
      commit_policy: policy.commitPolicy ?? null,
    },
    consensus: completion.consensus,
    miners: completion.miners,
    usage: completion.usage,
  };
  return { result, replayed };
}
