/**
 * Provisions miners and sessions through the admin API, idempotently: an
 * existing miner is pointed at the given URL, an existing session gets the
 * given settings.
 */
export type MinerSpec = {
  id: string;
  url: string;
  credential: string;
  models: string[];
  max_concurrency?: number;
  offchain?: boolean;
  protocol?: "openai" | "neuroshard";
  evm_address?: string;
};
export type SessionSpec = { id: number; name: string; model: string; redundancy: number; max_nodes?: number; shards?: number; signatures?: "off" | "prefer" | "require" };

export async function provision(options: { origin: string; adminKey: string; miners: MinerSpec[]; sessions: SessionSpec[] }) {
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

  for (const { id, ...fields } of options.miners) {
    const update = { max_concurrency: 16, ...fields };
    await upsert("/api/v1/admin/miners", `/api/v1/admin/miners/${id}`, { id, name: id, ...update }, update);
  }
  for (const { id, ...fields } of options.sessions) {
    await upsert("/api/v1/admin/sessions", `/api/v1/admin/sessions/${id}`, { id, ...fields }, { ...fields, active: true });
  }
}
