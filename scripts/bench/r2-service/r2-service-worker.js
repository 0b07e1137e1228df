// The R2 service's own Worker (scripts/bench/runtimes.ts startR2Service): the
// measured Worker's R2 calls reach this workerd's simulator through sockets
// (plugin.ts), not through this Worker. It only reads the buckets back, so the
// bench and a person can see that the objects are here:
//   GET /objects/<bucket>?prefix=...   the keys (at most 1000) and how many;
//   GET /object/<bucket>/<key>         an object's body, content type and custom metadata.
// Each bucket is bound under its own name.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, kind, bucketName, ...rest] = url.pathname.split("/");
    const bucket = bucketName ? env[decodeURIComponent(bucketName)] : undefined;
    if (request.method !== "GET" || !bucket) return Response.json({ error: "not found" }, { status: 404 });
    if (kind === "objects") {
      const listed = await bucket.list({ prefix: url.searchParams.get("prefix") ?? undefined });
      return Response.json({ count: listed.objects.length, truncated: listed.truncated, keys: listed.objects.map((o) => o.key) });
    }
    if (kind === "object") {
      const object = await bucket.get(rest.map(decodeURIComponent).join("/"));
      if (!object) return Response.json({ error: "no such object" }, { status: 404 });
      return new Response(object.body, {
        headers: { "content-type": object.httpMetadata?.contentType ?? "application/octet-stream", "x-custom-metadata": JSON.stringify(object.customMetadata ?? {}) },
      });
    }
    return Response.json({ error: "not found" }, { status: 404 });
  },
};
