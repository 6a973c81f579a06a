// Compile-time checks that the generated types are real. Nothing here runs:
// `npm run check` (tsc --noEmit) fails if src/schema.d.ts ever degrades to
// `any` or loses a rule, because each `@ts-expect-error` below then has no
// error to expect (TS2578), and the `IsAny` assertions stop compiling.

import type { Client } from "openapi-fetch";
import type { components, operations, paths } from "./schema.js";

type Schemas = components["schemas"];

type IsAny<T> = 0 extends 1 & T ? true : false;
type Assert<T extends true> = T;

export type GeneratedTypesAreNotAny = [
  Assert<IsAny<paths> extends false ? true : false>,
  Assert<IsAny<Schemas["NewPartnership"]> extends false ? true : false>,
  Assert<IsAny<Schemas["Sale"]["lines"]> extends false ? true : false>,
  Assert<IsAny<operations["recordSale"]["parameters"]["header"]["Idempotency-Key"]> extends false ? true : false>,
];

export const validPartnership: Schemas["NewPartnership"] = { title: "Looms together", kind: "other" };

// @ts-expect-error "guild" is not a PartnershipKind.
export const wrongKind: Schemas["NewPartnership"] = { title: "Looms together", kind: "guild" };

// @ts-expect-error `title` is required.
export const missingTitle: Schemas["NewPartnership"] = { kind: "other" };

// @ts-expect-error unknown members are refused (additionalProperties: false).
export const unknownMember: Schemas["NewPartnership"] = { title: "Looms", kind: "other", colour: "red" };

export const wrongShare: Schemas["SplitShare"] = {
  recipient: { party_id: "01900000-0000-7000-8000-000000000000" },
  // @ts-expect-error basis points are a number, not a string.
  share_bps: "6000",
};

export const notACurrency: Schemas["NewSaleBody"] = {
  amount_minor: 100,
  // @ts-expect-error currencies are the ISO 4217 enum.
  currency: "XYZ",
  occurred_at: "2026-01-01T00:00:00Z",
  channel: "online",
};

// A recipient is a party or a beneficiary, never both shapes at once.
export function recipientName(recipient: Schemas["Recipient"]): string {
  if ("party_id" in recipient) return recipient.party_id;
  // @ts-expect-error a beneficiary recipient has no party_id.
  void recipient.party_id;
  return recipient.beneficiary.name;
}

// Calls that must not compile (never invoked).
export async function misuses(api: Client<paths>, id: string, sale: Schemas["NewSaleBody"]): Promise<void> {
  // @ts-expect-error recordSale requires the Idempotency-Key header.
  await api.POST("/v1/partnerships/{id}/sales", { params: { path: { id } }, body: sale });

  // @ts-expect-error not a path of the API.
  await api.GET("/v1/partnership", {});

  // @ts-expect-error signAgreement needs `content_hash`.
  await api.POST("/v1/agreements/{id}/signatures", { params: { path: { id } }, body: {} });

  const { data, error } = await api.GET("/v1/me");
  if (error) {
    const problemType: string = error.type;
    void problemType;
    // @ts-expect-error a problem has no `email`.
    void error.email;
  } else {
    const email: string = data.email;
    void email;
    // @ts-expect-error `role` is "artisan" | "admin", not any string.
    const role: "partner" = data.role;
    void role;
  }
}
