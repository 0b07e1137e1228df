import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("GET /api/v1/about", () => {
  it("lists every router API version it serves, the same ones its OpenAPI document describes", async () => {
    const about = await call("/api/v1/about", { key: null });
    expect(about.status).toBe(200);
    const { api_versions } = (await about.json()) as { api_versions: string[] };
    expect(api_versions).toEqual(["v1", "v2", "v3"]);

    const doc = (await (await call("/openapi.json", { key: null })).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: { About: { properties: { api_versions: { description?: string } } } } };
    };
    const described = [...new Set(Object.keys(doc.paths).flatMap((p) => /^\/api\/(v\d+)\//.exec(p)?.[1] ?? []))].sort();
    expect(api_versions).toEqual(described);
    expect(doc.components.schemas.About.properties.api_versions.description).toMatch(/serves/);
  });
});
