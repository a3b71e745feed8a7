-- Meter usage per UTC hour, per subject and dimension values, one row per backfill run
-- (0 = the live path). Filled only by the two views in 0007_meter_usage_per_hour_mv_v1.sql.
-- Queries read it with the -Merge combinators and GROUP BY, never FINAL (clickhouse/src/meter-usage/).
-- dim_k is the meter's k-th dimension, '' when the meter has fewer.
CREATE TABLE IF NOT EXISTS meter_usage_per_hour_v1
(
    namespace        String,
    meter_version_id UInt64,
    subject          String,
    window_start     DateTime('UTC'),
    dim_1            String,
    dim_2            String,
    dim_3            String,
    dim_4            String,
    dim_5            String,
    dim_6            String,
    dim_7            String,
    dim_8            String,
    backfill_run     UInt64,
    event_count      AggregateFunction(count),
    valid_count      AggregateFunction(sum, UInt64),
    value_sum        AggregateFunction(sumIf, Decimal128(9), UInt8),
    value_min        AggregateFunction(minIf, Decimal128(9), UInt8),
    value_max        AggregateFunction(maxIf, Decimal128(9), UInt8),
    -- LATEST: the value of the valid event with the greatest (time_ms, source + '\n' + id).
    value_latest     AggregateFunction(argMaxIf, Decimal128(9), Tuple(UInt64, String), UInt8),
    -- UNIQUE_COUNT: keys of valid events; '' is never a key.
    unique_keys      AggregateFunction(uniqExactIf, String, UInt8)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (namespace, meter_version_id, subject, window_start, dim_1, dim_2, dim_3, dim_4, dim_5, dim_6, dim_7, dim_8, backfill_run);
