/** What the load generators send (load-worker.ts, wrk.ts): the same bytes whoever sends them. */
export const CREATE_BODY = JSON.stringify({
  origin_owner_id: "bench-customer",
  origin_owner_name: "Bench Customer Inc",
  categories: ["hris", "ats"],
});
