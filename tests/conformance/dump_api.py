#!/usr/bin/env python3
"""Dump what the API serves, for the conformance suite: every resource of every test member.

Starts payer-sandbox on a free loopback port, logs in as each member through the sandbox's
headless authorize, and saves every response body (Bundles and resources) under OUT:
the member's Patient, a search of every resource type (all pages), `$everything` (all pages),
and the CARIN include searches; and, without a token, every page of every type of the public
provider directory (`/directory/r4`) and formulary (`/formulary/r4`), into OUT/directory and
OUT/formulary, which the suite checks as those data sets; and every other plan of the network the
same way, into OUT-plans/{id} (run.sh --without-seed checks each). Then it moves the sandbox clock past the data's timeline, makes a
few prior-authorization changes through the control API, and saves what changed: each member's
claims and coverage again, and the `_history` of every changed resource, so that the versions the
server makes are validated as well as those it loaded. Then `tests/conformance/run.sh OUT`
validates them all, and `tests/conformance/run.sh --without-seed OUT-changed` what changed.

    python3 tests/conformance/dump_api.py --binary target/debug/payer-sandbox --out target/conformance/api
"""
import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import time

TYPES = [
    "Patient", "Coverage", "ExplanationOfBenefit", "Organization", "Practitioner", "PractitionerRole",
    "Location", "RelatedPerson", "Observation", "Encounter", "Condition", "AllergyIntolerance",
    "Immunization", "MedicationRequest", "Procedure",
]


def request(method, url, token=None, form=None, body=None, basic=None):
    headers = {"Accept": "application/fhir+json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    for _ in range(20):
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as e:
            # A plan with a rate limit (docs/plans.md#behaviour-profiles): wait as told.
            if e.code != 429:
                raise
            time.sleep(float(e.headers.get("Retry-After", "1")))
    raise RuntimeError(f"{url}: still rate-limited")


def login(base, member_id):
    code = request("POST", f"{base}/sandbox/api/authorize",
                   body={"client_id": "sandbox-app", "member_id": member_id, "scope": "patient/*.read"})["code"]
    return request("POST", f"{base}/oauth2/token", form={
        "grant_type": "authorization_code", "code": code,
        "client_id": "sandbox-app", "client_secret": "sandbox-secret"})


def plan_login(base, plan, member_id):
    """A token of another plan, asked for the way its profile wants (docs/plans.md): PKCE always,
    its scope syntax, HTTP Basic where it takes only that; the Patient id from the token response
    or, where the plan gives it only there, the id_token's fhirUser."""
    profile = plan["profile"]
    verifier = "conformance-dump-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    scope = "openid fhirUser launch/patient " + ("patient/*.rs" if profile["scopes"] == "v2" else "patient/*.read")
    code = request("POST", f"{base}/sandbox/api/authorize", body={
        "plan": plan["id"], "client_id": "sandbox-app", "member_id": member_id, "scope": scope,
        "code_challenge": challenge, "code_challenge_method": "S256"})["code"]
    form = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    if profile["client-auth"] == "basic":
        token = request("POST", f"{base}/oauth2/token", form=form, basic="sandbox-app:sandbox-secret")
    else:
        token = request("POST", f"{base}/oauth2/token",
                        form={**form, "client_id": "sandbox-app", "client_secret": "sandbox-secret"})
    if "patient" not in token:
        claims = token["id_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
        token["patient"] = claims["fhirUser"].rsplit("/", 1)[-1]
    return token


def dump_plans(base, out, saver):
    """Every other plan of the network, as the default plan is dumped: each member's data through
    that plan's FHIR base, and its directory and formulary, each plan in a folder of its own."""
    count = 0
    for plan in request("GET", f"{base}/sandbox/api/plans"):
        if plan["default"]:
            continue
        root = os.path.join(out, plan["id"])
        fhir = plan["fhir_base"]
        saver(root)(request("GET", f"{fhir}/metadata"))
        for member in plan["members"]:
            token = plan_login(base, plan, member["member_id"])
            access, patient = token["access_token"], token["patient"]
            save = saver(os.path.join(root, patient))
            save(request("GET", f"{fhir}/Patient/{patient}", access))
            for resource_type in TYPES:
                all_pages(f"{fhir}/{resource_type}?_count=200", access, save)
            all_pages(f"{fhir}/Patient/{patient}/$everything?_count=200", access, save)
            all_pages(f"{fhir}/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*"
                      f"&_count=200", access, save)
            count += 1
        dump_public(plan["issuer"], {api: saver(os.path.join(root, api)) for api in ("directory", "formulary")})
    return count


def all_pages(url, token, save):
    pages = 0
    while url and pages < 500:
        bundle = request("GET", url, token)
        save(bundle)
        pages += 1
        url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
    return pages


# Changes made through the control API after the timeline has run: every kind of decision the
# server writes, and units used (ids of the embedded data).
CONTROL_CHANGES = [
    ("pa-ethan-nakamura-20261019-1", "use", {"units": 1}),
    ("pa-rosa-delgado-20260615-1", "decision", {"decision": "approve", "disposition": "Approved on appeal."}),
    ("pa-carin-bluebutton-20261013-1", "decision", {"decision": "partial", "item": 2, "units": 15, "reason": "151"}),
    ("pa-walter-okafor-20260413-1", "decision", {"decision": "pend"}),
    ("pa-jason-argonaut-20261123-1", "decision", {"decision": "deny", "reason": "50"}),
    ("pa-rosa-delgado-20260720-1", "decision", {"decision": "cancel"}),
]


def dump_changes(base, fhir, members, save):
    request("POST", f"{base}/sandbox/api/clock/advance", body={"seconds": 31 * 86400})
    for pa_id, action, body in CONTROL_CHANGES:
        try:
            request("POST", f"{base}/sandbox/api/prior-authorizations/{pa_id}/{action}", body=body)
        except urllib.error.HTTPError as e:
            if e.code != 404:  # not in this data
                raise
    changed = {c["resource"] for c in request("GET", f"{base}/sandbox/api/changes")["changes"] if c.get("version_id")}
    for member in members:
        token = login(base, member["member_id"])
        access, patient = token["access_token"], token["patient"]
        # With what they reference, so that references resolve and their profiles are checked.
        save(request("GET", f"{fhir}/Patient/{patient}", access))
        all_pages(f"{fhir}/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*"
                  f"&_include:iterate=Coverage:payor&_count=200", access, save)
        all_pages(f"{fhir}/Coverage?patient={patient}&_include=Coverage:payor", access, save)
        for resource in sorted(changed):
            try:
                save(request("GET", f"{fhir}/{resource}/_history", access))
            except urllib.error.HTTPError as e:
                if e.code != 404:  # another member's
                    raise


def dump_public(base, savers):
    """Every page of every type of the public provider directory and formulary, without a token."""
    for api, save in savers.items():
        fhir = f"{base}/{api}/r4"
        statement = request("GET", f"{fhir}/metadata")
        save(statement)
        for resource in statement["rest"][0]["resource"]:
            all_pages(f"{fhir}/{resource['type']}?_count=200", None, save)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/debug/payer-sandbox")
    parser.add_argument("--out", default="target/conformance/api")
    parser.add_argument("--changed-out", help="where the responses after the changes go (default: OUT-changed)")
    parser.add_argument("--plans-out", help="where the other plans' responses go, one folder per plan (default: OUT-plans)")
    args = parser.parse_args()
    args.changed_out = args.changed_out or args.out.rstrip("/") + "-changed"
    args.plans_out = args.plans_out or args.out.rstrip("/") + "-plans"

    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    server = subprocess.Popen([args.binary, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
    try:
        line = server.stdout.readline().decode()
        base = line.strip().rsplit(" ", 1)[-1]
        fhir = f"{base}/r4"
        counter = {"n": 0}

        def saver(folder):
            os.makedirs(folder, exist_ok=True)

            def save(document):
                counter["n"] += 1
                with open(os.path.join(folder, f"{counter['n']:05d}.json"), "w") as f:
                    json.dump(document, f)
            return save

        saver(args.out)(request("GET", f"{fhir}/metadata"))
        members = request("GET", f"{base}/sandbox/api/members")
        for member in members:
            token = login(base, member["member_id"])
            access, patient = token["access_token"], token["patient"]
            save = saver(os.path.join(args.out, patient))
            save(request("GET", f"{fhir}/Patient/{patient}", access))
            for resource_type in TYPES:
                all_pages(f"{fhir}/{resource_type}?_count=200", access, save)
            all_pages(f"{fhir}/Patient/{patient}/$everything?_count=200", access, save)
            all_pages(f"{fhir}/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*"
                      f"&_include:iterate=Coverage:payor&_count=200", access, save)
            all_pages(f"{fhir}/Coverage?patient={patient}&_include=Coverage:payor&_include=Coverage:beneficiary",
                      access, save)
        # In folders named as the data's, so that the suite checks them as the public data sets
        # they are (the directory serves the members' providers under the member data's ids).
        dump_public(base, {api: saver(os.path.join(args.out, api)) for api in ("directory", "formulary")})
        shutil.rmtree(args.plans_out, ignore_errors=True)
        plan_members = dump_plans(base, args.plans_out, saver)
        shutil.rmtree(args.changed_out, ignore_errors=True)
        dump_changes(base, fhir, members, saver(args.changed_out))
        print(f"dumped {counter['n']} API responses for {len(members)} members into {args.out}, "
              f"{plan_members} members of the other plans into {args.plans_out}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
