"""Runs scim2-tester's conformance checks against a SCIM service provider
and writes one line of result per check, for tests/conformance.rs (and the
gateway's tests) to compare with tests/interop/conformance-expected.txt.

Usage: conformance.py BASE_URL [--token TOKEN] --out RESULTS.json

RESULTS.json is a JSON list of {"check", "status", "level", "reason"}, in
the order scim2-tester ran them. `status` is "passed" (scim2-tester's
SUCCESS, COMPLIANT or ACCEPTABLE), "deviation" (a SHOULD not followed),
"failed" (ERROR: a MUST broken), "critical" or "skipped"; `level` is
scim2-tester's own status name. Exits 0 whenever the checks ran, whatever
they found; 2 when the server could not be reached at all.

Every check runs: against scim2-server on loopback the whole suite (about
135 results: discovery, the 405s of the discovery endpoints, an unknown
URL, then create, read, filtered reads, replace, delete and a PATCH add,
remove and replace of every attribute, for each resource type) takes about
5 s, most of it the PATCH checks, one request each. No tag is left out.
"""

import argparse
import json
import sys
from collections import Counter

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import ResourceType, Schema
from scim2_tester import Status, check_server
from scim2_tester.utils import ResourceManager

STATUS = {
    Status.SUCCESS: "passed",
    Status.COMPLIANT: "passed",
    Status.ACCEPTABLE: "passed",
    Status.DEVIATION: "deviation",
    Status.ERROR: "failed",
    Status.CRITICAL: "critical",
    Status.SKIPPED: "skipped",
}

METHODS = ("POST", "PUT", "PATCH", "DELETE")


def cleanup_once():
    """Makes scim2-tester forget the resources it has deleted.

    Its `ResourceManager.cleanup` runs after every check and deletes every
    resource made since the run began, without forgetting them: each check
    deletes again all that the checks before it made (565 DELETEs of 850
    requests against scim2-server, nearly all of them answered 404). The
    checks and their results are the same; the run takes a third of the
    time."""
    delete_all = ResourceManager.cleanup

    def cleanup(self):
        delete_all(self)
        self.resources.clear()

    ResourceManager.cleanup = cleanup


def detail(result):
    """What tells apart the results one check gives: the attribute a PATCH
    check acted on, the method a 405 check sent, the resource type or
    schema a discovery check read. None when the result carries none (the
    caller numbers those)."""
    data = result.data
    if isinstance(data, dict) and isinstance(data.get("urn"), str):
        return data["urn"]
    if isinstance(data, (ResourceType, Schema)) and data.id:
        return data.id
    reason = result.reason or ""
    method = reason.split(" ", 1)[0]
    if method in METHODS and result.title and result.title.endswith("_methods"):
        return method
    return None


def names(results):
    """A stable name per result: `RESOURCE/check[detail]`, the detail
    numbered from 1 for a check that gives several results without one
    (the `attributes` then the `excludedAttributes` read)."""
    bases = [
        (f"{r.resource_type}/" if r.resource_type else "") + (r.title or "unnamed")
        for r in results
    ]
    details = [detail(r) for r in results]
    several = Counter(base for base, d in zip(bases, details) if d is None)
    seen = Counter()
    out = []
    for base, d in zip(bases, details):
        if d is None and several[base] > 1:
            seen[base] += 1
            d = str(seen[base])
        out.append(f"{base}[{d}]" if d is not None else base)
    # Two results of one name (a server that answers the same thing twice)
    # are kept apart rather than merged.
    counts = Counter()
    unique = []
    for name in out:
        counts[name] += 1
        unique.append(name if counts[name] == 1 else f"{name}#{counts[name]}")
    return unique


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--token", help="sent as `Authorization: Bearer TOKEN`")
    parser.add_argument("--out", required=True, help="where the JSON list of results goes")
    args = parser.parse_args()

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    http = httpx2.Client(base_url=args.base_url, headers=headers, timeout=10)
    try:
        http.get("/ServiceProviderConfig")
    except httpx2.HTTPError as e:
        print(f"conformance.py: cannot reach {args.base_url}: {e}", file=sys.stderr)
        return 2

    cleanup_once()
    results = check_server(SyncSCIMClient(http))
    report = [
        {
            "check": name,
            "status": STATUS.get(r.status, r.status.name.lower()),
            "level": r.status.name,
            "reason": r.reason or "",
        }
        for name, r in zip(names(results), results)
    ]
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
