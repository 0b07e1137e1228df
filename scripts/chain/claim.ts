/**
 * `npm run chain -- claim`: a miner claims its earnings from the
 * RewardDistributor. Its proof comes from the router
 * (`GET /neuroshard/api/v1/wallet/claims?address=…`, with a wallet:read key of
 * its payout account); the claim is sent from the miner's own key, since the
 * contract pays the sender only what a leaf under the sender's address says.
 * Plain fetch and viem: it runs in Node (the CLI) and in workerd (the tests).
 */
import { type Address, type Hex, isAddressEqual } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { rewardDistributorAbi, rewardTokenAbi } from "../../contracts/artifacts.ts";
import { WalletClaimsSchema } from "../../domain/schemas/wallet-claims.ts";
import { devChainClients } from "../../tools/dev-chain/deploy.ts";

export type ClaimInput = {
  rpcUrl: string;
  chainId: number;
  routerUrl: string;
  /** A wallet:read key of the miner's payout account. */
  apiKey: string;
  /** The miner's private key (its registered address's). */
  key: Hex;
  fetch?: typeof fetch;
};

export type ClaimOutcome = {
  address: Address;
  distributor: Address;
  token: Address;
  epoch: number;
  /** What this claim paid (0: nothing was left to claim, no transaction sent). */
  paid_micros: number;
  transaction: Hex | null;
  claimed_micros: number;
  /** The address's token balance after the claim, in token units (= micros). */
  balance_micros: number;
};

export async function claimRewards(input: ClaimInput): Promise<ClaimOutcome> {
  const account = privateKeyToAccount(input.key);
  const url = `${input.routerUrl.replace(/\/$/, "")}/neuroshard/api/v1/wallet/claims?address=${account.address}`;
  const res = await (input.fetch ?? fetch)(url, { headers: { authorization: `Bearer ${input.apiKey}` } });
  if (res.status !== 200) throw new Error(`the router answered ${res.status} to ${url}: ${await res.text()}`);
  const claims = WalletClaimsSchema.parse(await res.json());
  const mine = claims.claims.find((c) => isAddressEqual(c.address as Address, account.address));
  if (!mine) throw new Error(`the key's account has no miner registered with ${account.address}`);
  if (!mine.claim) throw new Error(`${account.address} is in no posted epoch yet (earned ${mine.earned_micros} micros; the next epoch posts it)`);
  if (claims.chain_id !== input.chainId) throw new Error(`the router posts rewards on chain ${claims.chain_id}, not ${input.chainId}`);
  const distributor = claims.distributor as Address;
  const { publicClient, wallet, confirm } = devChainClients(input.rpcUrl, input.chainId, account);
  const read = <T>(functionName: "claimed" | "token", args: readonly unknown[] = []) =>
    publicClient.readContract({ address: distributor, abi: rewardDistributorAbi, functionName, args } as never) as Promise<T>;
  const token = await read<Address>("token");
  const before = await read<bigint>("claimed", [account.address]);
  let transaction: Hex | null = null;
  if (BigInt(mine.claim.cumulative_micros) > before) {
    const receipt = await confirm(
      await wallet.writeContract({
        address: distributor,
        abi: rewardDistributorAbi,
        functionName: "claim",
        args: [BigInt(mine.claim.epoch), BigInt(mine.claim.cumulative_micros), mine.claim.proof as Hex[]],
      }),
    );
    transaction = receipt.transactionHash;
  }
  const after = await read<bigint>("claimed", [account.address]);
  const balance = await publicClient.readContract({ address: token, abi: rewardTokenAbi, functionName: "balanceOf", args: [account.address] });
  return {
    address: account.address,
    distributor,
    token,
    epoch: mine.claim.epoch,
    paid_micros: Number(after - before),
    transaction,
    claimed_micros: Number(after),
    balance_micros: Number(balance),
  };
}
