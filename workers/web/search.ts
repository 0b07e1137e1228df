import { z } from "zod";
import { ApiError } from "../../domain/errors";

export type Evidence = { title: string; url: string; snippet: string };

const ResultsSchema = z.object({
  results: z
    .array(
      z.object({
        title: z.string().default(""),
        url: z.string(),
        snippet: z.string().optional(),
        content: z.string().optional(),
        description: z.string().optional(),
      }),
    )
    .default([]),
});

/**
 * Asks the configured search provider for evidence: `GET {url}?q=…&count=…`
 * answering `{"results": [{"title", "url", "snippet" | "content" | "description"}]}`
 * (the shape of common search APIs and of SearXNG's JSON output).
 */
export async function searchEvidence(
  provider: { url: string; apiKey?: string },
  query: string,
  options: { count?: number; timeoutMs?: number; fetcher?: typeof fetch } = {},
): Promise<Evidence[]> {
  const fetcher = options.fetcher ?? fetch;
  const url = new URL(provider.url);
  url.searchParams.set("q", query);
  url.searchParams.set("count", String(options.count ?? 5));
  url.searchParams.set("format", "json");
  let response: Response;
  try {
    response = await fetcher(url, {
      headers: { accept: "application/json", ...(provider.apiKey ? { authorization: `Bearer ${provider.apiKey}` } : {}) },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch {
    throw new ApiError(502, "search_failed", "the search provider could not be reached");
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ApiError(502, "search_failed", `the search provider answered ${response.status}`);
  }
  const parsed = ResultsSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) throw new ApiError(502, "search_failed", "the search provider sent no results list");
  return parsed.data.results.slice(0, options.count ?? 5).map((r) => ({
    title: r.title,
    url: r.url,
    snippet: (r.snippet ?? r.content ?? r.description ?? "").slice(0, 1000),
  }));
}
