-- The two feeds of meter_usage_per_hour_v1: the live path (events_raw, each row's parallel
-- meter arrays ARRAY JOINed into one row per meter version, backfill_run 0) and backfill runs
-- (meter_values_backfill_v1). Both aggregate the same columns the same way, so an event counts
-- the same whichever path stored its value. A materialized view sees each INSERT block before any
-- merge: an event inserted twice is counted twice, which is why the sink drops stored identities
-- before it inserts (docs/ARCHITECTURE.md, "Idempotency"). An array index past the end reads ''.
CREATE MATERIALIZED VIEW IF NOT EXISTS meter_usage_per_hour_mv_v1
TO meter_usage_per_hour_v1
AS SELECT
    namespace,
    meter_version_id,
    subject,
    toStartOfHour(time) AS window_start,
    dims[1] AS dim_1,
    dims[2] AS dim_2,
    dims[3] AS dim_3,
    dims[4] AS dim_4,
    dims[5] AS dim_5,
    dims[6] AS dim_6,
    dims[7] AS dim_7,
    dims[8] AS dim_8,
    toUInt64(0) AS backfill_run,
    countState() AS event_count,
    sumState(toUInt64(valid)) AS valid_count,
    sumIfState(value, valid) AS value_sum,
    minIfState(value, valid) AS value_min,
    maxIfState(value, valid) AS value_max,
    argMaxIfState(value, (time_ms, concat(source, '\n', id)), valid) AS value_latest,
    uniqExactIfState(unique_key, valid AND unique_key != '') AS unique_keys
FROM events_raw
ARRAY JOIN
    meter_version_ids AS meter_version_id,
    meter_values AS value,
    meter_unique_keys AS unique_key,
    meter_dimensions AS dims,
    meter_valid AS valid
GROUP BY namespace, meter_version_id, subject, window_start, dim_1, dim_2, dim_3, dim_4, dim_5, dim_6, dim_7, dim_8;

CREATE MATERIALIZED VIEW IF NOT EXISTS meter_usage_per_hour_backfill_mv_v1
TO meter_usage_per_hour_v1
AS SELECT
    namespace,
    meter_version_id,
    subject,
    toStartOfHour(time) AS window_start,
    dimensions[1] AS dim_1,
    dimensions[2] AS dim_2,
    dimensions[3] AS dim_3,
    dimensions[4] AS dim_4,
    dimensions[5] AS dim_5,
    dimensions[6] AS dim_6,
    dimensions[7] AS dim_7,
    dimensions[8] AS dim_8,
    backfill_run,
    countState() AS event_count,
    sumState(toUInt64(valid)) AS valid_count,
    sumIfState(value, valid) AS value_sum,
    minIfState(value, valid) AS value_min,
    maxIfState(value, valid) AS value_max,
    argMaxIfState(value, (time_ms, event_key), valid) AS value_latest,
    uniqExactIfState(unique_key, valid AND unique_key != '') AS unique_keys
FROM meter_values_backfill_v1
GROUP BY namespace, meter_version_id, subject, window_start, dim_1, dim_2, dim_3, dim_4, dim_5, dim_6, dim_7, dim_8, backfill_run;
