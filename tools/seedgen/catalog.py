"""The shared directory (payers, provider organizations, practitioners, their roles and
locations) and the code tables the claim generators draw from.

All names, addresses, phone numbers, NPIs and tax IDs are synthetic. NPIs carry a valid
check digit; phone numbers use the 555-01xx range.
"""

from fhirkit import CS, cc, meta, npi, npi_identifier, ref, tax_identifier, timestamp

# ------------------------------------------------------------------ payers
# id, name, payer id, NAIC code, tax id, system base, address, phone
PAYERS = [
    ("org-demo-health-plan", "Demo Health Plan", "DHP01", "60054", "042345678",
     "https://demohealthplan.example.org",
     ("100 Federal Street", "Boston", "MA", "02110"), "617-555-0100"),
    ("org-bright-smile-dental", "Bright Smile Dental Insurance", "BSD22", "52632", "043456789",
     "https://brightsmiledental.example.org",
     ("2 Seaport Lane", "Boston", "MA", "02210"), "617-555-0150"),
]

# ------------------------------------------------------- provider organizations
# id, name, taxonomy (code, display), address, phone, npi seed, tax id
PROVIDER_ORGS = [
    ("org-beacon-hill-general", "Beacon Hill General Hospital", ("282N00000X", "General Acute Care Hospital"),
     ("55 Cambridge Street", "Boston", "MA", "02114"), "617-555-0110", 11, "041110001"),
    ("org-charles-river-family-medicine", "Charles River Family Medicine", ("261QP2300X", "Primary Care Clinic/Center"),
     ("210 Charles Street", "Boston", "MA", "02114"), "617-555-0120", 12, "041110002"),
    ("org-harborview-pharmacy", "Harborview Pharmacy", ("3336C0003X", "Community/Retail Pharmacy"),
     ("18 Hanover Street", "Boston", "MA", "02113"), "617-555-0130", 13, "041110003"),
    ("org-back-bay-dental", "Back Bay Dental Associates", ("1223G0001X", "General Practice Dentist"),
     ("300 Newbury Street", "Boston", "MA", "02115"), "617-555-0140", 14, "041110004"),
    ("org-lakeshore-medical-center", "Lakeshore Medical Center", ("282N00000X", "General Acute Care Hospital"),
     ("2900 North Lake Shore Drive", "Chicago", "IL", "60657"), "312-555-0110", 21, "361110001"),
    ("org-lincoln-park-internal-medicine", "Lincoln Park Internal Medicine", ("261QP2300X", "Primary Care Clinic/Center"),
     ("2450 North Clark Street", "Chicago", "IL", "60614"), "312-555-0120", 22, "361110002"),
    ("org-lakeview-pharmacy", "Lakeview Pharmacy", ("3336C0003X", "Community/Retail Pharmacy"),
     ("3100 North Broadway", "Chicago", "IL", "60657"), "312-555-0130", 23, "361110003"),
    ("org-puget-sound-childrens-clinic", "Puget Sound Children's Clinic", ("261QP2300X", "Primary Care Clinic/Center"),
     ("4020 Stone Way North", "Seattle", "WA", "98103"), "206-555-0110", 31, "911110001"),
    ("org-cascade-urgent-care", "Cascade Urgent Care Center", ("261QU0200X", "Urgent Care Clinic/Center"),
     ("1200 North 45th Street", "Seattle", "WA", "98103"), "206-555-0120", 32, "911110002"),
    ("org-fremont-kids-dental", "Fremont Kids Dental", ("1223P0221X", "Pediatric Dentist"),
     ("3410 Fremont Avenue North", "Seattle", "WA", "98103"), "206-555-0130", 33, "911110003"),
    ("org-greenlake-pharmacy", "Green Lake Pharmacy", ("3336C0003X", "Community/Retail Pharmacy"),
     ("7200 Woodlawn Avenue NE", "Seattle", "WA", "98115"), "206-555-0140", 34, "911110004"),
    ("org-front-range-hospital", "Front Range Hospital", ("282N00000X", "General Acute Care Hospital"),
     ("1650 Fillmore Street", "Denver", "CO", "80206"), "303-555-0110", 41, "841110001"),
    ("org-mile-high-ambulance", "Mile High Ambulance Service", ("3416L0300X", "Land Ambulance"),
     ("901 West Colfax Avenue", "Denver", "CO", "80204"), "303-555-0120", 42, "841110002"),
    ("org-clearview-vision", "Clearview Vision Center", ("152W00000X", "Optometrist"),
     ("1535 Grant Street", "Denver", "CO", "80203"), "303-555-0130", 43, "841110003"),
    ("org-capitol-hill-dental", "Capitol Hill Dental Group", ("1223G0001X", "General Practice Dentist"),
     ("1200 Pennsylvania Street", "Denver", "CO", "80203"), "303-555-0140", 44, "841110004"),
    ("org-colfax-pharmacy", "Colfax Avenue Pharmacy", ("3336C0003X", "Community/Retail Pharmacy"),
     ("1400 East Colfax Avenue", "Denver", "CO", "80218"), "303-555-0150", 45, "841110005"),
    ("org-peachtree-medical-group", "Peachtree Medical Group", ("261QP2300X", "Primary Care Clinic/Center"),
     ("1100 Peachtree Street NE", "Atlanta", "GA", "30309"), "404-555-0110", 51, "581110001"),
    ("org-midtown-atlanta-hospital", "Midtown Atlanta Hospital", ("282N00000X", "General Acute Care Hospital"),
     ("550 Peachtree Street NE", "Atlanta", "GA", "30308"), "404-555-0120", 52, "581110002"),
    ("org-ansley-pharmacy", "Ansley Park Pharmacy", ("3336C0003X", "Community/Retail Pharmacy"),
     ("1544 Piedmont Avenue NE", "Atlanta", "GA", "30324"), "404-555-0130", 53, "581110003"),
]

# ------------------------------------------------------------ practitioners
# id, given, family, prefix, taxonomy, organization id, npi seed, with tax id?
PRACTITIONERS = [
    ("pract-amelia-chen", "Amelia", "Chen", "Dr.", ("207Q00000X", "Family Medicine Physician"),
     "org-charles-river-family-medicine", 101, None),
    ("pract-marcus-reed", "Marcus", "Reed", "Dr.", ("208600000X", "Surgery Physician"),
     "org-beacon-hill-general", 102, "047770102"),
    ("pract-priya-raman", "Priya", "Raman", "Dr.", ("207P00000X", "Emergency Medicine Physician"),
     "org-beacon-hill-general", 103, None),
    ("pract-samuel-ortiz", "Samuel", "Ortiz", "Dr.", ("1223G0001X", "General Practice Dentist"),
     "org-back-bay-dental", 104, None),
    ("pract-helen-kowalski", "Helen", "Kowalski", "Dr.", ("207R00000X", "Internal Medicine Physician"),
     "org-lincoln-park-internal-medicine", 105, None),
    ("pract-david-okonkwo", "David", "Okonkwo", "Dr.", ("207RE0101X", "Endocrinology, Diabetes & Metabolism Physician"),
     "org-lakeshore-medical-center", 106, None),
    ("pract-grace-liu", "Grace", "Liu", "Dr.", ("208000000X", "Pediatrics Physician"),
     "org-puget-sound-childrens-clinic", 107, None),
    ("pract-tomas-alvarez", "Tomas", "Alvarez", "Dr.", ("1223P0221X", "Pediatric Dentist"),
     "org-fremont-kids-dental", 108, None),
    ("pract-nora-whitfield", "Nora", "Whitfield", "Dr.", ("207X00000X", "Orthopaedic Surgery Physician"),
     "org-front-range-hospital", 109, None),
    ("pract-irene-park", "Irene", "Park", "Dr.", ("152W00000X", "Optometrist"),
     "org-clearview-vision", 110, None),
    ("pract-james-holloway", "James", "Holloway", "Dr.", ("1223X0400X", "Orthodontics and Dentofacial Orthopedic Dentist"),
     "org-capitol-hill-dental", 111, None),
    ("pract-leah-goldberg", "Leah", "Goldberg", "Dr.", ("207Q00000X", "Family Medicine Physician"),
     "org-peachtree-medical-group", 112, None),
    ("pract-omar-haddad", "Omar", "Haddad", "Dr.", ("207L00000X", "Anesthesiology Physician"),
     "org-beacon-hill-general", 113, None),
    ("pract-ruth-mensah", "Ruth", "Mensah", "Dr.", ("207R00000X", "Internal Medicine Physician"),
     "org-front-range-hospital", 114, None),
    ("pract-kevin-brandt", "Kevin", "Brandt", "Dr.", ("207RC0000X", "Cardiovascular Disease Physician"),
     "org-midtown-atlanta-hospital", 115, None),
    ("pract-ana-sousa", "Ana", "Sousa", None, ("146L00000X", "Paramedic"),
     "org-mile-high-ambulance", 116, None),
]

# Practitioners who joined the directory later: listed after everything else, so that the
# resources above keep their timestamps.
LATE_PRACTITIONERS = [
    ("pract-lena-fischer", "Lena", "Fischer", None, ("225100000X", "Physical Therapist"),
     "org-beacon-hill-general", 117, None),
]

# Direct secure messaging addresses of some practitioners, on their PractitionerRole as a
# contained Endpoint (US Core PractitionerRole.endpoint; the sandbox serves no Endpoint type).
DIRECT_ADDRESSES = {
    "pract-amelia-chen": "amelia.chen@direct.charlesriverfm.example.org",
    "pract-helen-kowalski": "helen.kowalski@direct.lincolnparkim.example.org",
}

ORG_BY_ID = {o[0]: o for o in PROVIDER_ORGS}
PAYER_BY_ID = {p[0]: p for p in PAYERS}
PRACT_BY_ID = {p[0]: p for p in PRACTITIONERS + LATE_PRACTITIONERS}


def org_name(org_id):
    if org_id in PAYER_BY_ID:
        return PAYER_BY_ID[org_id][1]
    return ORG_BY_ID[org_id][1]


def pract_name(pract_id):
    p = PRACT_BY_ID[pract_id]
    return " ".join(x for x in (p[3], p[1], p[2]) if x)


def pract_taxonomy(pract_id):
    return PRACT_BY_ID[pract_id][4]


def org_taxonomy(org_id):
    return ORG_BY_ID[org_id][2]


def claim_system(payer_id):
    return PAYER_BY_ID[payer_id][5] + "/claim-id"


def member_system(payer_id):
    return PAYER_BY_ID[payer_id][5] + "/member-id"


def prior_auth_system(payer_id):
    return PAYER_BY_ID[payer_id][5] + "/prior-authorization-number"


def _address(addr, use="work"):
    line, city, state, postal = addr
    return {"use": use, "type": "both", "line": [line], "city": city, "state": state,
            "postalCode": postal, "country": "US"}


def payer_org(p, day):
    oid, name, payerid, naic, tax, base, addr, phone = p
    return {
        "resourceType": "Organization",
        "id": oid,
        "meta": meta("Organization", timestamp(day, oid)),
        "identifier": [
            {"type": cc("c4bb-id", "payerid", "Payer ID"), "system": base + "/payer-id", "value": payerid},
            {"type": cc("c4bb-id", "naiccode", "NAIC Code"), "system": CS["naic"], "value": naic},
            tax_identifier(tax),
        ],
        "active": True,
        "type": [cc("http://terminology.hl7.org/CodeSystem/organization-type", "pay", "Payer")],
        "name": name,
        "telecom": [{"system": "phone", "value": phone, "use": "work"},
                    {"system": "url", "value": base, "use": "work"}],
        "address": [_address(addr)],
    }


def provider_org(o, day):
    oid, name, taxonomy, addr, phone, npi_seed, tax = o
    return {
        "resourceType": "Organization",
        "id": oid,
        "meta": meta("Organization", timestamp(day, oid)),
        "identifier": [npi_identifier(npi(7000 + npi_seed * 7919)), tax_identifier(tax)],
        "active": True,
        "type": [cc("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")],
        "name": name,
        "telecom": [{"system": "phone", "value": phone, "use": "work"}],
        "address": [_address(addr)],
    }


def practitioner(p, day):
    pid, given, family, prefix, taxonomy, org_id, npi_seed, tax = p
    idents = [npi_identifier(npi(9000 + npi_seed * 104729))]
    if tax:
        idents.append(tax_identifier(tax))
    org = ORG_BY_ID[org_id]
    return {
        "resourceType": "Practitioner",
        "id": pid,
        "meta": meta("Practitioner", timestamp(day, pid)),
        "identifier": idents,
        "active": True,
        "name": [dict({"use": "official", "family": family, "given": [given]},
                      **({"prefix": [prefix]} if prefix else {}))],
        "telecom": [{"system": "phone", "value": org[4], "use": "work"}],
        "address": [_address(org[3])],
        "qualification": [{"code": cc("nucc", taxonomy[0], taxonomy[1])}],
    }


def location(o, day):
    oid, name, taxonomy, addr, phone, npi_seed, tax = o
    lid = "loc-" + oid[len("org-"):]
    return {
        "resourceType": "Location",
        "id": lid,
        "meta": meta("Location", timestamp(day, lid)),
        "status": "active",
        "name": name,
        "telecom": [{"system": "phone", "value": phone, "use": "work"}],
        "address": _address(addr),
        "managingOrganization": ref("Organization", oid, name),
    }


def practitioner_role(p, day):
    pid, given, family, prefix, taxonomy, org_id, npi_seed, tax = p
    rid = "role-" + pid[len("pract-"):]
    org = ORG_BY_ID[org_id]
    res = {
        "resourceType": "PractitionerRole",
        "id": rid,
        "meta": meta("PractitionerRole", timestamp(day, rid)),
    }
    direct = DIRECT_ADDRESSES.get(pid)
    if direct:
        res["contained"] = [{
            "resourceType": "Endpoint",
            "id": "direct",
            "status": "active",
            "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                               "code": "direct-project", "display": "Direct Project"},
            "name": "Direct address of " + pract_name(pid),
            "payloadType": [cc("http://terminology.hl7.org/CodeSystem/endpoint-payload-type", "any", "Any")],
            "address": "mailto:" + direct,
        }]
    res.update({
        "active": True,
        "practitioner": ref("Practitioner", pid, pract_name(pid)),
        "organization": ref("Organization", org_id, org[1]),
        "code": [cc("nucc", taxonomy[0], taxonomy[1])],
        "specialty": [cc("nucc", taxonomy[0], taxonomy[1])],
        "location": [ref("Location", "loc-" + org_id[len("org-"):], org[1])],
        "telecom": [{"system": "phone", "value": org[4], "use": "work"}],
    })
    if direct:
        res["endpoint"] = [{"reference": "#direct", "display": "Direct address"}]
    return res


SHARED_DAYS = ["2024-01-08", "2024-02-12", "2024-03-04", "2024-04-15", "2024-05-20",
               "2024-06-03", "2024-07-22", "2024-08-05", "2024-09-16", "2024-10-07"]


def shared_resources():
    """Every shared resource, in a stable order."""
    out = []
    n = 0

    def day():
        nonlocal n
        n += 1
        return SHARED_DAYS[n % len(SHARED_DAYS)]

    for p in PAYERS:
        out.append(payer_org(p, day()))
    for o in PROVIDER_ORGS:
        out.append(provider_org(o, day()))
    for p in PRACTITIONERS:
        out.append(practitioner(p, day()))
    for p in PRACTITIONERS:
        out.append(practitioner_role(p, day()))
    for o in PROVIDER_ORGS:
        out.append(location(o, day()))
    for p in LATE_PRACTITIONERS:
        out.append(practitioner(p, "2026-06-15"))
        out.append(practitioner_role(p, "2026-06-15"))
    return out
