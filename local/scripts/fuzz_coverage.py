"""What the schema fuzzer reached: per documented operation, the statuses it was answered with.

usage: fuzz_coverage.py docs/openapi.yaml RUN.ndjson [RUN.ndjson ...]
Prints how many operations saw a 2xx, and lists those that never did (with what they saw), so a
change that cuts the fuzzer off from real objects shows up in the log.
"""

import collections
import json
import re
import sys

import yaml

document, reports = sys.argv[1], sys.argv[2:]
paths = yaml.safe_load(open(document, encoding="utf-8"))["paths"]
templates = []
for path, item in paths.items():
    pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
    for method in item:
        if method in {"get", "put", "post", "patch", "delete"}:
            # Literal paths win over templated ones (/api/users/search before /api/users/{id}).
            templates.append((path.count("{"), pattern, method.upper(), path))
templates.sort(key=lambda t: t[0])


def operation(method, concrete):
    for _, pattern, m, path in templates:
        if m == method and pattern.match(concrete):
            return f"{method} {path}"
    return None


statuses = collections.defaultdict(set)
for report in reports:
    for line in open(report, encoding="utf-8"):
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        cases = recorder.get("cases") or {}
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            case = (cases.get(case_id) or {}).get("value") or {}
            response = interaction.get("response")
            name = operation(case.get("method", ""), (case.get("path") or "").split("?")[0])
            if name and response:
                statuses[name].add(response["status_code"])

documented = {f"{m} {p}" for _, _, m, p in templates}
reached = {name for name, seen in statuses.items() if any(200 <= code < 300 for code in seen)}
print(f"fuzz coverage: {len(reached)} of {len(statuses)} exercised operations saw a 2xx "
      f"({len(documented)} documented)")
for name in sorted(set(statuses) - reached):
    print(f"  no 2xx: {name} {sorted(statuses[name])}")
