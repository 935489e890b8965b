// A storefront's whole conversation with the loyalty service, written against a client generated
// from the served OpenAPI document (tests/clients/test_typescript_client.py generates it into
// generated/schema.ts). It must type-check under strict settings with no casts, no `any`, no `!`:
// every field it reads has to be declared, required and non-null exactly where the document says,
// or this file stops compiling. Run with node against a live server, it also proves the document
// describes what the service answers.
import createClient from "openapi-fetch";
import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Api = Client<paths>;
type Member = components["schemas"]["Member"];
type Problem = components["schemas"]["Problem"];
type Line = components["schemas"]["OrderItemIn"];

function setting(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set (tests/clients/test_typescript_client.py sets it)`);
  }
  return value;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(`storefront flow: ${message}`);
  }
}

// The error side of every call is the document's problem+json; its `detail` says what went wrong.
function answered<T>(step: string, result: { data?: T; error?: Problem; response: Response }): T {
  if (result.data === undefined) {
    const why = result.error === undefined ? "no body" : `${result.error.code}: ${result.error.detail}`;
    throw new Error(`${step}: HTTP ${result.response.status} (${why})`);
  }
  return result.data;
}

function client(baseUrl: string, key: string): Api {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${key}` } });
}

const BASKET: Line[] = [
  { sku: "TEA-OOLONG-250", category: "tea", quantity: 2, unit_price: "49.00" },
  { sku: "CUP-CELADON", category: "teaware", quantity: 1, unit_price: "30.00", discount: "0" },
];

async function enrol(api: Api, run: string, n: number): Promise<Member> {
  const result = await api.POST("/v1/members", {
    params: { header: { "Idempotency-Key": `${run}-enrol-${n}` } },
    body: {
      external_id: `${run}-${n}`,
      name: `Flow Member ${n}`,
      email: `${run}-${n}@example.com`,
      tags: [run],
      consent: { email: true },
    },
  });
  const member = answered("enrol", result);
  check(member.id.startsWith("mbr_"), `member id ${member.id}`);
  check(member.member_number.length === 12, `member number ${member.member_number}`);
  check(member.tags.includes(run), "tags come back");
  // Nullable fields are `string | null`: using one as a string needs the null handled first.
  const email: string = member.email ?? "";
  check(email === `${run}-${n}@example.com`, `email ${email}`);
  return member;
}

async function quoteThenOrder(api: Api, member: Member, run: string, placedAt: string): Promise<number> {
  const quote = answered("quote", await api.POST("/v1/quote", {
    body: { member_id: member.id, items: BASKET, placed_at: placedAt },
  }));
  check(quote.net_amount === "128.00", `quoted net ${quote.net_amount}`);
  const order = answered("post order", await api.POST("/v1/orders", {
    body: { member_id: member.id, order_id: `${run}-SO-1`, placed_at: placedAt, items: BASKET },
  }));
  check(order.points_earned === quote.points_to_earn, `earned ${order.points_earned}, quoted ${quote.points_to_earn}`);
  check(order.bonus_points === quote.bonus_points, "the first-order bonus is what the quote said");
  const store: string = order.store_id ?? "online";
  check(store === "online", `store ${store}`);
  return quote.total_points;
}

async function holdAndCapture(api: Api, member: Member, run: string, points: number): Promise<void> {
  const hold = answered("redeem", await api.POST("/v1/redemptions", {
    body: { member_id: member.id, points, order_id: `${run}-SO-1` },
  }));
  check(hold.status === "held", `hold status ${hold.status}`);
  const captured = answered("capture", await api.POST("/v1/redemptions/{redemption_id}/capture", {
    params: { path: { redemption_id: hold.id } },
  }));
  check(captured.status === "captured", `captured status ${captured.status}`);
  check(captured.points === points, `captured ${captured.points} of ${points}`);
}

async function refundCup(api: Api, run: string): Promise<{ reversed: number; returned: number }> {
  const refund = answered("refund", await api.POST("/v1/orders/{order_id}/refunds", {
    params: { path: { order_id: `${run}-SO-1` } },
    body: { refund_id: `${run}-RF-1`, items: [{ sku: "CUP-CELADON", quantity: 1 }] },
  }));
  check(refund.amount === "30.00", `refunded ${refund.amount}`);
  check(refund.points_reversed > 0, "a refund takes points back");
  return { reversed: refund.points_reversed, returned: refund.points_returned };
}

async function spendable(api: Api, member: Member): Promise<number> {
  const balance = answered("balance", await api.GET("/v1/members/{member_id}/balance", {
    params: { path: { member_id: member.id } },
  }));
  const soonest = balance.expiring_soon[0];
  const expiring = soonest === undefined ? 0 : soonest.points;
  check(expiring >= 0, "expiring points are a count");
  // Integers in the document are numbers here: the sum is arithmetic, not string concatenation.
  return balance.available + balance.held;
}

async function everyTagged(api: Api, tag: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    // exactOptionalPropertyTypes: an absent cursor is left out, never sent as undefined.
    const query: NonNullable<paths["/v1/members"]["get"]["parameters"]["query"]> =
      cursor === null ? { tag, limit: 2 } : { tag, limit: 2, cursor };
    const page = answered("list members", await api.GET("/v1/members", { params: { query } }));
    check(page.data.length <= 2, `page of ${page.data.length}`);
    ids.push(...page.data.map((member) => member.id));
    cursor = page.next_cursor;
  } while (cursor !== null);
  return ids;
}

async function atTheTill(api: Api, member: Member): Promise<number> {
  const found = answered("pos lookup", await api.GET("/v1/pos/members/{identifier}", {
    params: { path: { identifier: member.member_number } },
  }));
  check(found.member_id === member.id, `till found ${found.member_id}`);
  check(typeof found.flags.can_redeem === "boolean", "flags are booleans");
  return found.available_points;
}

// A refused body is application/problem+json; `errors` is there only for validation errors, so
// the field's messages are reached by narrowing, and indexing a record may find nothing.
async function refusedEmail(api: Api): Promise<string> {
  const { data, error, response } = await api.POST("/v1/members", { body: { email: "not an email" } });
  check(data === undefined, "a bad email was accepted");
  check(response.status === 422, `bad email answered ${response.status}`);
  check(error !== undefined, "a 422 without a problem body");
  const code: string = error.code;
  check(code === "validation_error", `code ${code}`);
  const messages = error.errors === undefined ? undefined : error.errors["email"];
  const first = messages?.[0];
  check(first !== undefined, `no message for email in ${JSON.stringify(error.errors)}`);
  return first;
}

async function main(): Promise<void> {
  const baseUrl = setting("LOYALTY_BASE_URL");
  const storefront = client(baseUrl, setting("LOYALTY_STOREFRONT_KEY"));
  const till = client(baseUrl, setting("LOYALTY_POS_KEY"));
  const staff = client(baseUrl, setting("LOYALTY_STAFF_KEY"));
  const placedAt = setting("LOYALTY_PLACED_AT");
  const run = setting("LOYALTY_FLOW_RUN");

  const members = [await enrol(storefront, run, 1), await enrol(storefront, run, 2), await enrol(storefront, run, 3)];
  const [buyer] = members;
  check(buyer !== undefined, "enrolled nobody");
  const credited = await quoteThenOrder(storefront, buyer, run, placedAt);
  await holdAndCapture(storefront, buyer, run, 20);
  const { reversed, returned } = await refundCup(storefront, run);
  const points = await spendable(storefront, buyer);
  check(points === credited - 20 - reversed + returned,
    `spendable ${points}: credited ${credited}, paid 20, reversed ${reversed}, given back ${returned}`);

  const listed = await everyTagged(staff, run);
  check(listed.length === members.length, `paged through ${listed.length} of ${members.length}`);
  check(members.every((member) => listed.includes(member.id)), "every enrolled member was listed once");
  const tillPoints = await atTheTill(till, buyer);
  check(tillPoints === points, `till shows ${tillPoints}, balance ${points}`);
  const message = await refusedEmail(storefront);
  console.log(JSON.stringify({ ok: true, credited, reversed, returned, points, listed: listed.length, message }));
}

await main();
