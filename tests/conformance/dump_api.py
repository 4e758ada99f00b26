#!/usr/bin/env python3
"""Dump what the API serves, for the conformance suite: every resource of every test member.

Starts payer-sandbox on a free loopback port, logs in as each member through the sandbox's
headless authorize, and saves every response body (Bundles and resources) under OUT:
the member's Patient, a search of every resource type (all pages), `$everything` (all pages),
and the CARIN include searches. Then `tests/conformance/run.sh OUT` validates them all.

    python3 tests/conformance/dump_api.py --binary target/debug/payer-sandbox --out target/conformance/api
"""
import argparse
import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request

TYPES = [
    "Patient", "Coverage", "ExplanationOfBenefit", "Organization", "Practitioner", "PractitionerRole",
    "Location", "RelatedPerson", "Observation", "Encounter", "Condition", "AllergyIntolerance",
    "Immunization", "MedicationRequest", "Procedure",
]


def request(method, url, token=None, form=None, body=None):
    headers = {"Accept": "application/fhir+json"}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as response:
        return json.loads(response.read())


def login(base, member_id):
    code = request("POST", f"{base}/sandbox/api/authorize",
                   body={"client_id": "sandbox-app", "member_id": member_id, "scope": "patient/*.read"})["code"]
    return request("POST", f"{base}/oauth2/token", form={
        "grant_type": "authorization_code", "code": code,
        "client_id": "sandbox-app", "client_secret": "sandbox-secret"})


def all_pages(url, token, save):
    pages = 0
    while url and pages < 50:
        bundle = request("GET", url, token)
        save(bundle)
        pages += 1
        url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)
    return pages


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default="target/debug/payer-sandbox")
    parser.add_argument("--out", default="target/conformance/api")
    args = parser.parse_args()
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
        print(f"dumped {counter['n']} API responses for {len(members)} members into {args.out}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
