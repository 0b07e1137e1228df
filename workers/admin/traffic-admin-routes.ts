import { createRoute, z } from "@hono/zod-openapi";
import { requireAdminKey } from "../auth/bearer";
import { loadConfig } from "../../domain/config/config";
import { bearerSecurity, openApiApp } from "../http/openapi";
import { errorResponses, json } from "../http/responses";
import { objectTraffic } from "../../domain/object-traffic";

const ObjectTrafficSchema = z
  .object({
    enabled: z.boolean(),
    note: z.string(),
    since: z.string().nullable(),
    objects: z.array(z.object({ object: z.string(), calls: z.number().int() })),
  })
  .openapi("ObjectTraffic");

export const trafficAdminRoutes = openApiApp().openapi(
  createRoute({
    method: "get",
    path: "/api/v1/admin/object-traffic",
    summary: "Calls this isolate made to each Durable Object since it started counting (OBJECT_TRAFFIC_METER)",
    security: bearerSecurity,
    middleware: [requireAdminKey()],
    tags: ["admin"],
    responses: { 200: json(ObjectTrafficSchema, "Counts by object name, busiest first"), 401: errorResponses[401] },
  }),
  (c) => {
    if (!loadConfig(c.env).objectTrafficMeter) {
      return c.json({ enabled: false, note: "OBJECT_TRAFFIC_METER is off: nothing is counted", since: null, objects: [] }, 200);
    }
    const traffic = objectTraffic();
    return c.json({ enabled: true, note: "this isolate's own calls only (on local workerd, every object's)", ...traffic }, 200);
  },
);
