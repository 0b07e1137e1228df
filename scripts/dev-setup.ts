/**
 * Provisions the local dev deployment through the admin API, idempotently:
 * re-running points existing miners at the current dev miner URLs and
 * resets the dev sessions' settings.
 */
type DevMinerSpec = { id: string; url: string; credential: string };

const DEV_SESSIONS = [
  { id: 0, name: "dev session 0 (redundancy 1)", redundancy: 1, model: "dev-model" },
  { id: 1, name: "dev session 1 (redundancy 3)", redundancy: 3, model: "dev-model" },
];

export async function provisionDevSetup(options: { origin: string; adminKey: string; miners: DevMinerSpec[] }) {
  const send = async (method: string, path: string, body: unknown) => {
    const res = await fetch(options.origin + path, {
      method,
      headers: { authorization: `Bearer ${options.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const upsert = async (createPath: string, updatePath: string, create: Record<string, unknown>, update: Record<string, unknown>) => {
    const created = await send("POST", createPath, create);
    if (created.status === 201) return;
    if (created.status !== 409) throw new Error(`POST ${createPath}: ${created.status} ${created.text}`);
    const updated = await send("PATCH", updatePath, update);
    if (updated.status !== 200) throw new Error(`PATCH ${updatePath}: ${updated.status} ${updated.text}`);
  };

  for (const m of options.miners) {
    const fields = { url: m.url, credential: m.credential, models: ["dev-model"], max_concurrency: 16 };
    await upsert("/api/v1/admin/miners", `/api/v1/admin/miners/${m.id}`, { id: m.id, name: m.id, ...fields }, fields);
  }
  for (const s of DEV_SESSIONS) {
    const { id, ...fields } = s;
    await upsert("/api/v1/admin/sessions", `/api/v1/admin/sessions/${id}`, s, { ...fields, active: true });
  }
}
