/**
 * Writes docs/receipt.schema.json, the receipt format as JSON Schema, from
 * its zod schema (domain/receipts/receipt-schema.ts); a test fails when the
 * file and the schema differ:  npm run receipt-schema
 */
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { ReceiptSchema } from "../domain/receipts/receipt-schema.ts";

const path = new URL("../docs/receipt.schema.json", import.meta.url);
writeFileSync(path, `${JSON.stringify(z.toJSONSchema(ReceiptSchema, { target: "draft-2020-12" }), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
