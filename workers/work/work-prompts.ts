import { VERDICT_INSTRUCTIONS } from "./verdict";

/**
 * The prompts miners receive for structured work. Inputs are fenced so that
 * text inside them reads as data, not as instructions to the model.
 */
const fence = (label: string, text: string) => `<<<${label}\n${text.replaceAll(">>>", "> > >")}\n>>>`;

export function delegatePrompt(task: { objective: string; input?: { kind: "text" | "url"; payload: string; source?: string } }): string {
  const parts = ["You are completing a task delegated through the Cortensor network.", `Objective: ${task.objective}`];
  if (task.input) {
    parts.push(task.input.kind === "url" ? `Input: the text of ${task.input.source ?? "a web page"}` : "Input:");
    parts.push(fence("INPUT", task.input.payload));
  }
  parts.push("Answer with the result only.");
  return parts.join("\n\n");
}

export function validatePrompt(claim: { type: string; description: string; output: string }, rules: readonly string[]): string {
  return [
    "You are validating a claim for the Cortensor network.",
    `Claim type: ${claim.type}`,
    claim.description ? `What to check: ${claim.description}` : "",
    "Candidate output:",
    fence("OUTPUT", claim.output),
    rules.length ? `Rules:\n${rules.map((r, i) => `${i + 1}. ${r}`).join("\n")}` : "Rules: accuracy, no unsupported claims.",
    VERDICT_INSTRUCTIONS,
  ]
    .filter(Boolean)
    .join("\n\n");
}

export function factcheckPrompt(claim: { type: string; statement: string }, evidence: readonly { title: string; url: string; snippet: string }[]): string {
  return [
    "You are fact-checking a statement for the Cortensor network. VALID means the statement is true, INVALID that it is false.",
    `Claim type: ${claim.type}`,
    "Statement:",
    fence("STATEMENT", claim.statement),
    evidence.length ? `Evidence gathered just now (cite it in "evidence"):\n${evidence.map((e, i) => `[${i + 1}] ${e.title} (${e.url}): ${e.snippet}`).join("\n")}` : "",
    VERDICT_INSTRUCTIONS,
  ]
    .filter(Boolean)
    .join("\n\n");
}
