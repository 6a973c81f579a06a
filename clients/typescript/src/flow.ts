// A typed walk through the partnership money flow, written the way a
// TypeScript client author would write it: every path, parameter, body and
// response comes from the types generated from ../../openapi.yaml
// (`npm run generate` → src/schema.d.ts), called through openapi-fetch.
//
// Two artisans sign up and sign in, start a partnership, agree on a 60/40
// revenue split in PEN, both sign it, and record a sale of 10 000 minor
// units; the allocation lines must sum to the sale and split 6000/4000.
// Anything unexpected ends the process with exit code 1 and the problem
// (RFC 9457) body the server answered.
//
// Usage: API_BASE_URL=http://127.0.0.1:8080 node dist/flow.js

import { createHash, randomUUID } from "node:crypto";
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];
type Agreement = Schemas["Agreement"];
type Partnership = Schemas["Partnership"];
type PartnershipParty = Schemas["PartnershipParty"];
type ApiClient = Client<paths>;

const PASSWORD = "typescript-client-password";
const SALE_AMOUNT = 10_000;
const SPLIT = { a: 6_000, b: 4_000 } as const;

class FlowFailure extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

function fail(step: string, message: string, body?: unknown): never {
  throw new FlowFailure(step, message, body);
}

function check(condition: boolean, step: string, message: string, body?: unknown): asserts condition {
  if (!condition) fail(step, message, body);
}

/** The two shapes every openapi-fetch call resolves to. */
type Success<D> = { data: D; error?: never; response: Response };
type Failure<E> = { data?: never; error: E; response: Response };
type Outcome<D, E> = Success<D> | Failure<E>;

function isFailure<D, E>(outcome: Outcome<D, E>): outcome is Failure<E> {
  return outcome.error !== undefined;
}

/**
 * Awaits a call and narrows it: a problem+json error, a transport failure or
 * another status than `status` is a failure of `step`; otherwise the typed
 * `data` (and the response, for its headers).
 */
async function expectStatus<D, E>(
  step: string,
  status: number,
  call: Promise<Outcome<D, E>>,
): Promise<{ data: D; response: Response }> {
  let outcome: Outcome<D, E>;
  try {
    outcome = await call;
  } catch (cause) {
    fail(step, `request failed before an answer: ${String(cause)}`);
  }
  if (isFailure(outcome)) {
    const { response, error } = outcome;
    fail(step, `HTTP ${response.status} (${response.headers.get("content-type") ?? "no content type"})`, error);
  }
  const { data, response } = outcome;
  check(response.status === status, step, `expected HTTP ${status}, got ${response.status}`, data);
  return { data, response };
}

/** `"3"` for version 3: the strong ETag the API derives from `version`. */
function etagOf(version: number): string {
  return `"${version}"`;
}

function checkEtag(step: string, response: Response, version: number): void {
  const etag = response.headers.get("etag");
  check(etag === etagOf(version), step, `ETag ${etag ?? "(none)"} does not match version ${version}`);
}

/** RFC 8785 canonical JSON for the values the API sends (integers, strings, arrays, objects, null). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)); // UTF-16 code unit order, as RFC 8785 says
    return `{${members.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`not JSON: ${value}`);
  return JSON.stringify(value);
}

/** The agreement's `content_hash`, computed as `Agreement.content_hash` documents it. */
function contentHashOf(agreement: Agreement): string {
  const document = {
    kind: agreement.kind,
    commitments: agreement.commitments,
    revenue_split: agreement.revenue_split,
    promotion_plan: agreement.promotion_plan,
    cultural_attribution: agreement.cultural_attribution,
    effective_from: agreement.effective_from,
    effective_until: agreement.effective_until ?? null,
  };
  return createHash("sha256").update(canonicalJson(document), "utf8").digest("hex");
}

interface Artisan {
  readonly label: string;
  readonly id: string;
  readonly api: ApiClient;
}

async function signUp(baseUrl: string, label: string): Promise<Artisan> {
  const anonymous = createClient<paths>({ baseUrl });
  const email = `ts-${label.toLowerCase()}-${randomUUID()}@example.org`;
  const registration: Schemas["RegisterRequest"] = {
    email,
    password: PASSWORD,
    display_name: `TypeScript artisan ${label}`,
  };
  const { data: registered } = await expectStatus(
    `register ${label}`,
    201,
    anonymous.POST("/v1/auth/register", { body: registration }),
  );
  check(registered.email === email, `register ${label}`, "the new account shows another e-mail", registered);

  const login: Schemas["LoginRequest"] = { email, password: PASSWORD };
  const { data: tokens } = await expectStatus(`login ${label}`, 200, anonymous.POST("/v1/auth/login", { body: login }));
  check(tokens.access_token.length > 0, `login ${label}`, "empty access_token", tokens);

  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${tokens.access_token}` } });
  const { data: me, response } = await expectStatus(`GET /v1/me as ${label}`, 200, api.GET("/v1/me"));
  check(me.id === registered.id, `GET /v1/me as ${label}`, "another account than the one registered", me);
  check(me.profile.id === me.id, `GET /v1/me as ${label}`, "the profile does not share the account's id", me);
  check(me.role === "artisan", `GET /v1/me as ${label}`, `role ${me.role}, expected artisan`, me);
  checkEtag(`GET /v1/me as ${label}`, response, me.profile.version);
  return { label, id: me.id, api };
}

function partyOf(step: string, partnership: Partnership, artisan: Artisan): PartnershipParty {
  const party = partnership.parties.find((p) => p.artisan_id === artisan.id);
  return party ?? fail(step, `artisan ${artisan.label} is not a party`, partnership);
}

async function main(): Promise<void> {
  const baseUrl = process.env["API_BASE_URL"];
  if (baseUrl === undefined || baseUrl === "") {
    fail("configuration", "set API_BASE_URL, e.g. API_BASE_URL=http://127.0.0.1:8080");
  }

  // 1. Two artisans.
  const a = await signUp(baseUrl, "A");
  const b = await signUp(baseUrl, "B");

  // 2. A starts a partnership inviting B; B accepts, which makes it active.
  const newPartnership: Schemas["NewPartnership"] = {
    title: "TypeScript client check",
    kind: "co_branded_collection",
    description: "Created by clients/typescript/src/flow.ts",
    shared_goals: ["Prove the contract"],
    invitees: [{ artisan_id: b.id }],
  };
  const created = await expectStatus(
    "create partnership",
    201,
    a.api.POST("/v1/partnerships", {
      params: { header: { "Idempotency-Key": randomUUID() } },
      body: newPartnership,
    }),
  );
  let partnership = created.data;
  checkEtag("create partnership", created.response, partnership.version);
  check(partnership.status === "forming", "create partnership", `status ${partnership.status}`, partnership);
  const partyA = partyOf("create partnership", partnership, a);
  const partyB = partyOf("create partnership", partnership, b);
  check(partyA.status === "accepted", "create partnership", "the creator is not accepted", partnership);
  check(partyB.status === "invited", "create partnership", "the invitee is not invited", partnership);

  ({ data: partnership } = await expectStatus(
    "B accepts the invitation",
    200,
    b.api.POST("/v1/partnerships/{id}/invitations/{party_id}/accept", {
      params: { path: { id: partnership.id, party_id: partyB.id } },
    }),
  ));
  check(partnership.status === "active", "B accepts the invitation", `status ${partnership.status}`, partnership);
  check(
    partnership.parties.every((p) => p.status === "accepted"),
    "B accepts the invitation",
    "not every party is accepted",
    partnership,
  );

  // 3. A drafts a 60/40 agreement in PEN, in force from today (UTC).
  const today = new Date().toISOString().slice(0, 10);
  const terms: Schemas["AgreementTerms"] = {
    revenue_split: {
      currency: "PEN",
      shares: [
        { recipient: { party_id: partyA.id }, share_bps: SPLIT.a },
        { recipient: { party_id: partyB.id }, share_bps: SPLIT.b },
      ],
    },
    effective_from: today,
    effective_until: null,
    commitments: [{ party_id: partyB.id, description: "Weave the first twelve pieces" }],
    promotion_plan: { summary: "Market stalls and online", channels: ["instagram"] },
  };
  const drafted = await expectStatus(
    "draft agreement",
    201,
    a.api.POST("/v1/partnerships/{id}/agreements", { params: { path: { id: partnership.id } }, body: terms }),
  );
  let agreement = drafted.data;
  checkEtag("draft agreement", drafted.response, agreement.version);
  check(agreement.status === "draft", "draft agreement", `status ${agreement.status}`, agreement);
  check(agreement.kind === "original", "draft agreement", `kind ${agreement.kind}`, agreement);
  check(
    [partyA.id, partyB.id].every((id) => agreement.awaiting_signature.includes(id)),
    "draft agreement",
    "both parties should be awaited",
    agreement,
  );
  const hash = contentHashOf(agreement);
  check(
    hash === agreement.content_hash,
    "draft agreement",
    `content_hash ${agreement.content_hash} is not the SHA-256 of the canonical document (${hash})`,
    agreement,
  );

  // 4. Both sign the hash they reviewed. A wrong hash is refused (409).
  const signature: Schemas["NewSignature"] = { content_hash: agreement.content_hash };
  const signedByA = await expectStatus(
    "A signs",
    201,
    a.api.POST("/v1/agreements/{id}/signatures", {
      params: { path: { id: agreement.id }, header: { "Idempotency-Key": randomUUID() } },
      body: signature,
    }),
  );
  agreement = signedByA.data;
  checkEtag("A signs", signedByA.response, agreement.version);
  check(agreement.status === "draft", "A signs", "one signature must not activate it", agreement);
  check(
    agreement.awaiting_signature.length === 1 && agreement.awaiting_signature[0] === partyB.id,
    "A signs",
    "only B should be awaited",
    agreement,
  );

  const stale = await b.api.POST("/v1/agreements/{id}/signatures", {
    params: { path: { id: agreement.id } },
    body: { content_hash: "0".repeat(64) },
  });
  if (stale.error === undefined) {
    fail("B signs a hash that is not the current one", `expected 409, got ${stale.response.status}`, stale.data);
  } else {
    const problem: Problem = stale.error;
    check(
      stale.response.status === 409 && problem.status === 409 && problem.type === "/problems/conflict",
      "B signs a hash that is not the current one",
      `expected a 409 /problems/conflict, got HTTP ${stale.response.status}`,
      problem,
    );
    check(
      stale.response.headers.get("content-type")?.startsWith("application/problem+json") === true,
      "B signs a hash that is not the current one",
      `content type ${stale.response.headers.get("content-type") ?? "(none)"}`,
    );
  }

  ({ data: agreement } = await expectStatus(
    "B signs",
    201,
    b.api.POST("/v1/agreements/{id}/signatures", { params: { path: { id: agreement.id } }, body: signature }),
  ));
  check(agreement.status === "active", "B signs", `status ${agreement.status}, expected active`, agreement);
  check(agreement.signatures.length === 2, "B signs", "expected two signatures", agreement);
  check(agreement.awaiting_signature.length === 0, "B signs", "nobody should be awaited", agreement);
  check(typeof agreement.activated_at === "string", "B signs", "activated_at is not set", agreement);

  // 5. A records a sale; the lines split it 6000/4000. Idempotency-Key is
  // required here (the types make it a required header parameter).
  const sale: Schemas["NewSaleBody"] = {
    amount_minor: SALE_AMOUNT,
    currency: "PEN",
    occurred_at: new Date().toISOString(),
    channel: "online",
    description: "Twelve belts",
  };
  const idempotencyKey = `ts-sale-${randomUUID()}`;
  const recordSale = () =>
    a.api.POST("/v1/partnerships/{id}/sales", {
      params: { path: { id: partnership.id }, header: { "Idempotency-Key": idempotencyKey } },
      body: sale,
    });
  const recorded = await expectStatus("record sale", 201, recordSale());
  const recordedSale = recorded.data;
  check(recordedSale.agreement_id === agreement.id, "record sale", "split by another agreement", recordedSale);
  check(recordedSale.content_hash === agreement.content_hash, "record sale", "names another hash", recordedSale);
  check(recordedSale.amount_minor === SALE_AMOUNT, "record sale", "another amount", recordedSale);

  const saleLines = recordedSale.lines.filter((line) => line.refund_id === null || line.refund_id === undefined);
  const total = saleLines.reduce((sum, line) => sum + line.amount_minor, 0);
  check(total === SALE_AMOUNT, "record sale", `lines sum to ${total}, not ${SALE_AMOUNT}`, recordedSale);
  const byParty = new Map<string, number>();
  for (const line of saleLines) {
    const recipient = line.recipient;
    if ("party_id" in recipient) {
      byParty.set(recipient.party_id, (byParty.get(recipient.party_id) ?? 0) + line.amount_minor);
    } else {
      fail("record sale", `unexpected beneficiary line for ${recipient.beneficiary.name}`, recordedSale);
    }
  }
  const toA = byParty.get(partyA.id);
  const toB = byParty.get(partyB.id);
  check(
    toA === (SALE_AMOUNT * SPLIT.a) / 10_000 && toB === (SALE_AMOUNT * SPLIT.b) / 10_000 && byParty.size === 2,
    "record sale",
    `split ${toA ?? "none"}/${toB ?? "none"}, expected 6000/4000`,
    recordedSale,
  );

  // The same key and body again: the first answer, replayed.
  const replayed = await expectStatus("replay the sale", 201, recordSale());
  check(replayed.data.id === recordedSale.id, "replay the sale", "a second sale was recorded", replayed.data);
  check(
    replayed.response.headers.get("idempotent-replayed") === "true",
    "replay the sale",
    "no Idempotent-Replayed: true header",
  );

  console.log(
    `typescript flow ok: partnership ${partnership.id} (${partnership.status}), agreement ${agreement.id} ` +
      `(${agreement.status}, ${agreement.content_hash.slice(0, 12)}…), sale ${recordedSale.id} ` +
      `${recordedSale.amount_minor} ${recordedSale.currency} → ${toA}/${toB}`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof FlowFailure) {
    console.error(`typescript flow FAILED at "${error.step}": ${error.message}`);
    if (error.body !== undefined) console.error(JSON.stringify(error.body, null, 2));
  } else {
    console.error("typescript flow FAILED:", error);
  }
  process.exit(1);
});
