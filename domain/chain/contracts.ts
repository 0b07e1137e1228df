import { sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";

/** The two watched contracts, by the name their logs are stored under. */
export const CONTRACT_ABIS = { SessionV2: sessionV2Abi, SessionQueueV2: sessionQueueV2Abi } as const;
export type ContractName = keyof typeof CONTRACT_ABIS;
