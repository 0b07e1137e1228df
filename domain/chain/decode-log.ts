import { decodeEventLog, type Hex } from "viem";
import type { ChainTarget } from "../config/config.ts";
import { CONTRACT_ABIS, type ContractName } from "./contracts.ts";

/** A value as stored and served: uint256 as a decimal string (it may not fit a number), addresses lower-case. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type RawLog = { address: Hex; topics: readonly Hex[]; data: Hex; blockNumber: bigint | null; blockHash: Hex | null; logIndex: number | null; transactionHash: Hex | null };

export type DecodedLog = { ok: true; contract: ContractName; eventName: string; args: Record<string, JsonValue> } | { ok: false; contract: ContractName | null; error: string };

export function toJsonValue(value: unknown): JsonValue {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return /^0x[0-9a-fA-F]{40}$/.test(value) ? value.toLowerCase() : value;
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (typeof value === "object" && value !== undefined) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonValue(v)]));
  return null;
}

export function contractAt(target: ChainTarget, address: string): ContractName | null {
  const a = address.toLowerCase();
  if (a === target.sessionAddress) return "SessionV2";
  if (a === target.queueAddress) return "SessionQueueV2";
  return null;
}

/**
 * Decodes a log with the ABI of the contract at its address: the two
 * contracts both have a `TaskAssigned`, with different parameters, so the
 * topic alone does not say which event a log is.
 */
export function decodeChainLog(target: ChainTarget, log: RawLog): DecodedLog {
  const contract = contractAt(target, log.address);
  if (!contract) return { ok: false, contract: null, error: `log from ${log.address}, which is neither watched contract` };
  try {
    const decoded = decodeEventLog({ abi: CONTRACT_ABIS[contract], topics: log.topics as [Hex, ...Hex[]], data: log.data, strict: true });
    return { ok: true, contract, eventName: decoded.eventName, args: toJsonValue(decoded.args) as Record<string, JsonValue> };
  } catch (err) {
    const message = err instanceof Error ? ((err as { shortMessage?: string }).shortMessage ?? err.message) : String(err);
    return { ok: false, contract, error: message };
  }
}
