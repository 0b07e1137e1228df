/**
 * Deploys SessionV2, SessionQueueV2, ReceiptAnchor and RewardDistributor (which deploys its
 * RewardToken) from the committed artifacts with viem and links them (SessionV2.setQueue). Used by the test setup, `npm run
 * dev` and tests that want a fresh pair of contracts; runs in Node and in workerd.
 */
import { createPublicClient, createWalletClient, defineChain, http, type Account, type Address, type Hex } from "viem";
import { receiptAnchorAbi, rewardDistributorAbi, sessionQueueV2Abi, sessionV2Abi } from "../../contracts/artifacts.ts";
import { receiptAnchorBytecode, rewardDistributorBytecode, sessionQueueV2Bytecode, sessionV2Bytecode } from "../../contracts/bytecode.ts";

/**
 * `anchorAddress`: the ReceiptAnchor contract receipts' Merkle roots are posted to; `distributorAddress`: the
 * RewardDistributor miners claim their earnings from, `tokenAddress` its RewardToken.
 */
export type Deployment = {
  sessionAddress: Address;
  queueAddress: Address;
  anchorAddress: Address;
  distributorAddress: Address;
  tokenAddress: Address;
  startBlock: number;
};

/** viem clients for a local chain: `from` is an address the node signs for (a dev account), or a local account that signs itself. */
export function devChainClients(rpcUrl: string, chainId: number, from: Address | Account) {
  const chain = defineChain({ id: chainId, name: `local-${chainId}`, nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
  const transport = http(rpcUrl, { retryCount: 0 });
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 });
  const wallet = createWalletClient({ account: from, chain, transport });
  /** Sends, waits for the receipt, and throws if the transaction reverted. */
  const confirm = async (hash: Hex) => {
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return receipt;
  };
  return { publicClient, wallet, confirm };
}

/** `rewardPoster`: the account that may post reward roots (the router's chain account); default: the deployer. */
export async function deployContracts(rpcUrl: string, chainId: number, from: Address | Account, options: { rewardPoster?: Address } = {}): Promise<Deployment> {
  const { wallet, confirm, publicClient } = devChainClients(rpcUrl, chainId, from);
  const sessionTx = await confirm(await wallet.deployContract({ abi: sessionV2Abi, bytecode: sessionV2Bytecode }));
  const sessionAddress = sessionTx.contractAddress;
  if (!sessionAddress) throw new Error("SessionV2 deployment made no contract");
  const queueTx = await confirm(await wallet.deployContract({ abi: sessionQueueV2Abi, bytecode: sessionQueueV2Bytecode, args: [sessionAddress] }));
  const queueAddress = queueTx.contractAddress;
  if (!queueAddress) throw new Error("SessionQueueV2 deployment made no contract");
  await confirm(await wallet.writeContract({ address: sessionAddress, abi: sessionV2Abi, functionName: "setQueue", args: [queueAddress] }));
  const anchorTx = await confirm(await wallet.deployContract({ abi: receiptAnchorAbi, bytecode: receiptAnchorBytecode }));
  const anchorAddress = anchorTx.contractAddress;
  if (!anchorAddress) throw new Error("ReceiptAnchor deployment made no contract");
  const poster = options.rewardPoster ?? (typeof from === "string" ? from : from.address);
  const distributorTx = await confirm(await wallet.deployContract({ abi: rewardDistributorAbi, bytecode: rewardDistributorBytecode, args: [poster] }));
  const distributorAddress = distributorTx.contractAddress;
  if (!distributorAddress) throw new Error("RewardDistributor deployment made no contract");
  const tokenAddress = await publicClient.readContract({ address: distributorAddress, abi: rewardDistributorAbi, functionName: "token" });
  return { sessionAddress, queueAddress, anchorAddress, distributorAddress, tokenAddress, startBlock: Number(sessionTx.blockNumber) };
}
