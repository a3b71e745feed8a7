"""Runs a plan of SQL on a current ClickHouse engine (chdb, in-process) and prints the results.

stdin:  {"database"?: name, "statements": [sql, ...],
         "checks": [{"name": str, "sql": str, "expect_rows"?: [row, ...]}, ...]}
stdout: {"version": str, "statements": [{"error"?: str}, ...],
         "checks": [{"name": str, "rows"?: [row, ...], "error"?: str, "match"?: bool}, ...]}
Rows are JSONEachRow objects. A failing statement or check is a result, not a crash: the exit
code is non-zero only when the harness itself fails (bad plan, chdb missing).
"""
import json
import sys
import tempfile

from chdb.session import Session


def run(session, sql):
    text = session.query(sql, "JSONEachRow").bytes().decode()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def main():
    plan = json.load(sys.stdin)
    with tempfile.TemporaryDirectory(prefix="polaris-chdb-") as path:
        session = Session(path)
        try:
            out = {"version": run(session, "SELECT version() AS v")[0]["v"], "statements": [], "checks": []}
            if plan.get("database"):
                session.query(f"CREATE DATABASE IF NOT EXISTS `{plan['database']}`")
                session.query(f"USE `{plan['database']}`")
            for sql in plan["statements"]:
                try:
                    session.query(sql)
                    out["statements"].append({})
                except Exception as error:  # noqa: BLE001 - the engine's error is the result
                    out["statements"].append({"error": str(error)})
            for check in plan["checks"]:
                result = {"name": check["name"]}
                try:
                    result["rows"] = run(session, check["sql"])
                    if "expect_rows" in check:
                        result["match"] = result["rows"] == check["expect_rows"]
                except Exception as error:  # noqa: BLE001
                    result["error"] = str(error)
                out["checks"].append(result)
        finally:
            session.close()
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
