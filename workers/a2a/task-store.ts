import { Task, type ListTasksRequest, type ListTasksResponse } from "@a2a-js/sdk";
import type { TaskStore } from "@a2a-js/sdk/server";
import type { Env } from "../env";
import { a2aTaskStoreStub } from "../../domain/objects/stubs";

/** The SDK's TaskStore over the caller's A2ATaskStore Durable Object. */
export class DurableTaskStore implements TaskStore {
  constructor(
    private readonly env: Env,
    private readonly owner: string,
  ) {}

  private get stub() {
    return a2aTaskStoreStub(this.env, this.owner);
  }

  async save(task: Task): Promise<void> {
    await this.stub.save(task.id, JSON.stringify(Task.toJSON(task)));
  }

  async load(taskId: string): Promise<Task | undefined> {
    const json = await this.stub.load(taskId);
    return json ? Task.fromJSON(JSON.parse(json)) : undefined;
  }

  async list(params: ListTasksRequest): Promise<ListTasksResponse> {
    const pageSize = Math.min(Math.max(params.pageSize ?? 50, 1), 100);
    const page = await this.stub.list({ pageSize, after: params.pageToken || undefined, contextId: params.contextId || undefined });
    return {
      tasks: page.tasks.map((t) => Task.fromJSON(JSON.parse(t))),
      nextPageToken: page.next ?? "",
      pageSize,
      totalSize: page.total,
    };
  }
}
