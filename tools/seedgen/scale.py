"""Scale mode: any number of synthetic members for benchmarks.

Each member gets a Patient (member ID and postal code), a Coverage and 10-20 EOBs of
mixed CARIN types that reference the shared organizations and practitioners of
shared.json. Member i depends only on (seed, i), so the output is deterministic and can be
produced in parallel; files are written in member order.
"""

import json
import multiprocessing
import os
import random

import catalog
import fhirkit
from builder import (ClaimNumbers, CoverageRef, Member, add_days, area, coverage_resource, cpt,
                     not_applicable, patient_resource, rev)
from claims import CostShare, qty

DHP = "org-demo-health-plan"

REGIONS = [
    {"city": "Boston", "state": "MA", "zips": ["02108", "02114", "02115", "02116", "02118", "02127", "02130"],
     "hospital": "org-beacon-hill-general", "clinic": "org-charles-river-family-medicine",
     "pharmacy": "org-harborview-pharmacy", "dental": "org-back-bay-dental",
     "doctors": ["pract-amelia-chen", "pract-marcus-reed", "pract-priya-raman"], "dentist": "pract-samuel-ortiz",
     "phone": "617"},
    {"city": "Chicago", "state": "IL", "zips": ["60610", "60613", "60614", "60618", "60622", "60657"],
     "hospital": "org-lakeshore-medical-center", "clinic": "org-lincoln-park-internal-medicine",
     "pharmacy": "org-lakeview-pharmacy", "dental": None,
     "doctors": ["pract-helen-kowalski", "pract-david-okonkwo"], "dentist": None, "phone": "312"},
    {"city": "Seattle", "state": "WA", "zips": ["98103", "98105", "98107", "98115", "98117"],
     "hospital": "org-cascade-urgent-care", "clinic": "org-puget-sound-childrens-clinic",
     "pharmacy": "org-greenlake-pharmacy", "dental": "org-fremont-kids-dental",
     "doctors": ["pract-grace-liu"], "dentist": "pract-tomas-alvarez", "phone": "206", "no_inpatient": True},
    {"city": "Denver", "state": "CO", "zips": ["80203", "80205", "80206", "80210", "80218"],
     "hospital": "org-front-range-hospital", "clinic": "org-front-range-hospital",
     "pharmacy": "org-colfax-pharmacy", "dental": "org-capitol-hill-dental",
     "doctors": ["pract-ruth-mensah", "pract-nora-whitfield"], "dentist": "pract-james-holloway", "phone": "303"},
    {"city": "Atlanta", "state": "GA", "zips": ["30305", "30306", "30308", "30309", "30324"],
     "hospital": "org-midtown-atlanta-hospital", "clinic": "org-peachtree-medical-group",
     "pharmacy": "org-ansley-pharmacy", "dental": None,
     "doctors": ["pract-leah-goldberg", "pract-kevin-brandt"], "dentist": None, "phone": "404"},
]

GIVEN_F = ["Ava", "Maya", "Olivia", "Sofia", "Grace", "Chloe", "Nora", "Leila", "Hana", "Zoe", "Amara", "Ines",
           "Priya", "Mei", "Lucia", "Ruth", "Ellen", "Tamar", "Yara", "Camila"]
GIVEN_M = ["Liam", "Noah", "Mateo", "Elijah", "Omar", "Kenji", "Arjun", "Lucas", "Samuel", "Diego", "Tobias",
           "Isaac", "Malik", "Felix", "Hugo", "Andre", "Ravi", "Jonah", "Caleb", "Wei"]
FAMILY = ["Abbott", "Baptiste", "Castillo", "Dubois", "Eriksen", "Fontaine", "Gallagher", "Haddad", "Ibarra",
          "Jensen", "Kowalczyk", "Lindqvist", "Mbeki", "Novak", "Oyelaran", "Petrov", "Quintero", "Rasmussen",
          "Sato", "Thornton", "Umarov", "Varga", "Whitaker", "Xiong", "Yilmaz", "Zamora"]
STREETS = ["Maple Avenue", "Oak Street", "Elm Street", "Cedar Lane", "Park Avenue", "Lake Street", "Hill Road",
           "River Drive", "Pine Street", "Washington Street", "Highland Avenue", "Grove Street"]

DX_OFFICE = [("I10", "Essential (primary) hypertension"), ("E11.9", "Type 2 diabetes mellitus without complications"),
             ("J06.9", "Acute upper respiratory infection, unspecified"), ("J02.9", "Acute pharyngitis, unspecified"),
             ("M54.50", "Low back pain, unspecified"), ("E78.5", "Hyperlipidemia, unspecified"),
             ("R51.9", "Headache, unspecified"), ("L30.9", "Dermatitis, unspecified")]
VISITS = [(cpt("99213", "Office or other outpatient visit, established patient, low MDM"), 17500),
          (cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 24000),
          (cpt("99203", "Office or other outpatient visit, new patient, low MDM"), 19000)]
DRUGS = [(("00093104801", "Metformin hydrochloride 500 mg oral tablet"), 60, 30, 1600),
         (("00172375810", "Lisinopril 10 mg oral tablet"), 30, 30, 1100),
         (("00378201705", "Atorvastatin calcium 20 mg oral tablet"), 90, 90, 2700),
         (("00093415573", "Amoxicillin 400 mg/5 mL powder for oral suspension, 100 mL"), 100, 10, 1900),
         (("00093738398", "Omeprazole 20 mg delayed-release oral capsule"), 30, 30, 2100),
         (("00093014901", "Naproxen 500 mg oral tablet"), 60, 30, 1800)]
LABS = [(rev("0300", "Laboratory - general"), cpt("80061", "Lipid panel"), 1, 9800),
        (rev("0300", "Laboratory - general"), cpt("83036", "Hemoglobin; glycosylated (A1C)"), 1, 6400),
        (rev("0300", "Laboratory - general"), cpt("80053", "Comprehensive metabolic panel"), 1, 8900),
        (rev("0320", "Radiology - diagnostic - general"), cpt("71046", "Radiologic examination, chest; 2 views"), 1, 38000)]
KINDS = ["professional"] * 8 + ["pharmacy"] * 7 + ["outpatient"] * 3 + ["oral"] * 2 + ["inpatient"]
START = "2021-01-01"
SPAN_DAYS = 2098  # to 2026-09-30


def member_resources(seed, i):
    rng = random.Random(f"{seed}:{i}")
    region = REGIONS[rng.randrange(len(REGIONS))]
    slug = f"bench-{i:06d}"
    numbers = ClaimNumbers(tag=f"B{i:06d}")
    m = Member(numbers, slug, slug, "BX")
    female = rng.random() < 0.5
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    family = rng.choice(FAMILY)
    birth = add_days("1940-01-01", rng.randrange(0, 23700))  # adults: born 1940-2004
    mid = f"08-bench{i:06d}"
    address = (f"{rng.randrange(1, 9900)} {rng.choice(STREETS)}", region["city"], region["state"],
               rng.choice(region["zips"]))
    m.add(patient_resource(
        pid=slug, given=given, family=family, gender="female" if female else "male", birth_date=birth,
        member_id=mid, payer_id=DHP, address=address, phone=f"{region['phone']}-555-{rng.randrange(100, 200):04d}",
        email=f"{given.lower()}.{family.lower()}.{i}@example.com",
        last_updated=f"{add_days('2024-01-01', rng.randrange(0, 700))}T12:00:00Z"))
    cid = f"coverage-{slug}"
    m.add(coverage_resource(
        cid=cid, last_updated="2025-01-02T08:00:00Z", payer_id=DHP, beneficiary_id=slug,
        subscriber=("Patient", slug), subscriber_id=mid, member_id=mid, relationship=("self", "Self"),
        period=(START, None), plan=("DHP-GOLD-PPO", "Demo Gold PPO"), group=("BENCH-01", "Benchmark Employers"),
        dependent="01"))
    cov = CoverageRef(DHP, CostShare(deductible=rng.choice([25000, 50000, 100000]), coinsurance_pct=20,
                                     office_copay=2500, rx_copay=1000), coverage_id=cid)
    n = rng.randint(10, 20)
    days = sorted(add_days(START, rng.randrange(SPAN_DAYS)) for _ in range(n))
    for k, day in enumerate(days):
        kind = rng.choice(KINDS)
        if kind == "oral" and not region["dental"]:
            kind = "professional"
        if kind == "inpatient" and region.get("no_inpatient"):
            kind = "outpatient"
        doctor = rng.choice(region["doctors"])
        lag = rng.randrange(12)
        if kind == "professional":
            visit, price = rng.choice(VISITS)
            m.professional(cov, date=day, billing=region["clinic"], rendering=doctor, copay=2500, lag=lag,
                           dx=rng.sample(DX_OFFICE, rng.randint(1, 2)), lines=[(visit, 1, price)])
        elif kind == "pharmacy":
            drug, q, supply, price = rng.choice(DRUGS)
            m.pharmacy(cov, date=day, pharmacy=region["pharmacy"], prescriber=doctor, drug=drug,
                       quantity=qty(q, "tablet", "{tablet}") if supply > 10 else qty(q, "mL"), days=supply,
                       submitted=price, refill=rng.randrange(4), refills_authorized=3, lag=lag)
        elif kind == "outpatient":
            lines = rng.sample(LABS, rng.randint(1, 3))
            m.outpatient(cov, date=day, facility=region["hospital"], attending=doctor, admtype="3", origin="2",
                         dx=rng.sample(DX_OFFICE, rng.randint(1, 2)), lag=lag, lines=lines)
        elif kind == "oral":
            m.oral(cov, date=day, office=region["dental"], dentist=region["dentist"], lag=lag,
                   lines=[(("D0120", "Periodic oral evaluation - established patient"), None, None, 6500),
                          (("D1110", "Prophylaxis - adult"), area("00", "Entire oral cavity"), None, 11000)])
        else:
            end = add_days(day, rng.randint(1, 4))
            nights = (int(end[8:]) - int(day[8:])) % 28 or 1
            m.inpatient(cov, start=day, end=end, facility=region["hospital"], attending=doctor, lag=lag,
                        dx=[("J18.9", "Pneumonia, unspecified organism", "Y"), ("I10", "Essential (primary) hypertension", "Y")],
                        px=[("BW03ZZZ", "Plain Radiography of Chest", day)],
                        drg=("195", "Simple pneumonia and pleurisy without CC/MCC"), admtype="1", origin="1",
                        discharge="01", header_amounts=rng.random() < 0.5,
                        lines=[(rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(),
                                nights, 320000 * nights, {"date": day}),
                               (rev("0250", "Pharmacy - general"), not_applicable(), 1, 64000, {"date": day})])
    return m.resources


def _chunk(args):
    """Writes members lo..hi-1 to their own files; returns (members, EOBs, resources)."""
    seed, lo, hi, fmt, out_dir, part = args
    fhirkit.LEAN = True
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    eobs = resources_n = 0
    if fmt == "bundle":
        from seedgen import bundle
        for i in range(lo, hi):
            resources = member_resources(seed, i)
            eobs += sum(1 for r in resources if r["resourceType"] == "ExplanationOfBenefit")
            resources_n += len(resources)
            with open(os.path.join(out_dir, "members", f"bench-{i:06d}.json"), "w", encoding="utf-8",
                      newline="\n") as f:
                f.write(dumps(bundle(f"bench-{i:06d}", resources)) + "\n")
        return hi - lo, eobs, resources_n
    lines = {"Patient": [], "Coverage": [], "ExplanationOfBenefit": []}
    for i in range(lo, hi):
        for r in member_resources(seed, i):
            lines[r["resourceType"]].append(dumps(r))
    for t, ls in lines.items():
        with open(os.path.join(out_dir, f"{t}-{part:05d}.ndjson"), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(ls) + "\n")
    return hi - lo, len(lines["ExplanationOfBenefit"]), sum(len(v) for v in lines.values())


CHUNK = 500


def generate(n, out_dir, seed="payer-sandbox", fmt="ndjson", jobs=0):
    """Writes shared.json plus Patient-NNNNN.ndjson, Coverage-NNNNN.ndjson and
    ExplanationOfBenefit-NNNNN.ndjson (one set per 500 members), or members/bench-NNNNNN.json
    Bundles with fmt="bundle"."""
    from seedgen import bundle, dump_pretty, write
    os.makedirs(out_dir, exist_ok=True)
    shared = catalog.shared_resources()
    write(os.path.join(out_dir, "shared.json"), dump_pretty(bundle("bench-shared", shared)))
    if fmt == "bundle":
        os.makedirs(os.path.join(out_dir, "members"), exist_ok=True)
    tasks = [(seed, lo, min(lo + CHUNK, n + 1), fmt, out_dir, k)
             for k, lo in enumerate(range(1, n + 1, CHUNK), start=1)]
    jobs = jobs or min(8, os.cpu_count() or 1)
    if jobs > 1 and len(tasks) > 1:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        with ctx.Pool(min(jobs, len(tasks))) as pool:
            results = pool.map(_chunk, tasks, chunksize=1)
    else:
        results = [_chunk(t) for t in tasks]
    return {"members": sum(r[0] for r in results), "eobs": sum(r[1] for r in results),
            "resources": len(shared) + sum(r[2] for r in results)}
