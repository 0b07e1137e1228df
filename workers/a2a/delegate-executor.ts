import { Message, Task, TaskState, type Part, type TaskStatus } from "@a2a-js/sdk";
import { AgentEvent, type AgentExecutor, type ExecutionEventBus, type RequestContext } from "@a2a-js/sdk/server";
import type { RouterConfig } from "../../domain/config/config";
import type { Env } from "../env";
import { ApiError } from "../../domain/errors";
import type { Caller } from "../../domain/sessions/caller";
import { runDelegate } from "../work/delegate";
import type { DurableTaskStore } from "./task-store";

const text = (parts: readonly Part[]) =>
  parts
    .map((p) => (p.content?.$case === "text" ? p.content.value : p.content?.$case === "data" ? JSON.stringify(p.content.value) : ""))
    .filter(Boolean)
    .join("\n");

const status = (state: TaskState, message?: string, taskId?: string, contextId?: string): TaskStatus => ({
  state,
  timestamp: new Date().toISOString(),
  message: message
    ? Message.fromJSON({ messageId: crypto.randomUUID(), role: "ROLE_AGENT", parts: [{ text: message }], ...(taskId ? { taskId } : {}), ...(contextId ? { contextId } : {}) })
    : undefined,
});

const FINAL_STATES: readonly TaskState[] = [TaskState.TASK_STATE_COMPLETED, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_CANCELED, TaskState.TASK_STATE_REJECTED];

/**
 * Runs an A2A message as a delegate task: the message's text is the
 * objective, the result comes back as an artifact. The session is
 * A2A_SESSION_ID, else the default session.
 *
 * A cancel usually arrives in another request, with its own handler and
 * executor, and lands in the task store; so before publishing a result this
 * executor reads the stored task, and a task ended meanwhile keeps its end
 * (the store also refuses to change an ended task, closing the gap between
 * that read and the write).
 */
export class DelegateExecutor implements AgentExecutor {
  constructor(
    private readonly env: Env,
    private readonly config: RouterConfig,
    /** The caller key's namespace: `a2a-{taskId}` request ids are its own. */
    private readonly caller: Caller,
    private readonly tasks: Pick<DurableTaskStore, "load">,
  ) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = ctx;
    const objective = text(ctx.userMessage.parts);
    bus.publish(
      AgentEvent.task(
        Task.fromJSON({ id: taskId, contextId, status: { state: "TASK_STATE_SUBMITTED", timestamp: new Date().toISOString() }, history: [Message.toJSON(ctx.userMessage)] }),
      ),
    );
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: status(TaskState.TASK_STATE_WORKING), metadata: undefined }));
    try {
      const sessionId = this.config.a2aSessionId ?? this.config.defaultSessionId;
      if (sessionId === undefined) throw new ApiError(400, "missing_session", "no A2A_SESSION_ID or DEFAULT_SESSION_ID is configured");
      if (!objective) throw new ApiError(400, "invalid_request", "the message has no text");
      const { result } = await runDelegate(
        this.env,
        this.config,
        sessionId,
        { objective, fetch_web: false, policy: {}, model_policy: {}, request_id: `a2a-${taskId}` },
        "a2a",
        this.caller,
      );
      const stored = await this.tasks.load(taskId);
      if (stored?.status && FINAL_STATES.includes(stored.status.state)) {
        // Cancelled from another request while the router task ran: the result is discarded,
        // and this request answers with the task as it ended.
        bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: stored.status, metadata: undefined }));
        return;
      }
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: {
            artifactId: crypto.randomUUID(),
            name: "result",
            description: "The delegate task's agreed result",
            parts: [{ content: { $case: "text", value: result.result }, metadata: undefined, filename: "", mediaType: "text/plain" }],
            metadata: { session_id: result.session_id, task_id: result.task_id, consensus: result.consensus },
            extensions: [],
          },
          append: false,
          lastChunk: true,
          metadata: undefined,
        }),
      );
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: status(TaskState.TASK_STATE_COMPLETED), metadata: undefined }));
    } catch (err) {
      const why = err instanceof ApiError ? `${err.code}: ${err.message}` : "the task failed";
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: status(TaskState.TASK_STATE_FAILED, why, taskId, contextId), metadata: undefined }));
    } finally {
      bus.finished();
    }
  }

  /** A cancel in the request that runs the task (the SDK calls this only then); `execute` then finds the task ended. */
  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.statusUpdate({ taskId, contextId: "", status: status(TaskState.TASK_STATE_CANCELED), metadata: undefined }));
    bus.finished();
  }
}
