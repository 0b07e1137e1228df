import type { TestProject } from "vitest/node";

export default async function setup(project: TestProject) {
  project.provide("miners", {});
  return async () => {};
}

declare module "vitest" {
  export interface ProvidedContext {
    miners: Record<string, string>;
  }
}
