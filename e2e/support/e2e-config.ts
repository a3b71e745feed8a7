/**
 * Settings the e2e services run with (global-setup.ts passes them), exported so that tests bound
 * their waits by the configuration, not by a machine's speed.
 */
export const E2E_API_KEY_CACHE_TTL_MS = 1_000;
/** How late a cache expiry may be noticed on a loaded 2-core machine: generous, but far below "never". */
export const E2E_EXPIRY_MARGIN_MS = 4_000;
/** The suite's collector takes events this old (about a century): tests pin calendar days of the past. */
export const E2E_EVENT_MAX_AGE_DAYS = 36_500;
/**
 * The suite's sinks recognise copies this long, one day more than the collector accepts: a sink
 * dead-letters what is older than its window (`outside_dedup_window`), so the two travel together.
 */
export const E2E_SINK_DEDUP_WINDOW_DAYS = E2E_EVENT_MAX_AGE_DAYS + 1;
