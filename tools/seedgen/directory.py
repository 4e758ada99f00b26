"""The public provider directory (Da Vinci PDex Plan-Net 1.1.0), written to seed-data/directory/.

Two parts:
  - the providers the members' claims name (catalog.py: payers, provider organizations,
    practitioners, their roles and locations), under the same ids, NPIs and names, with the
    Plan-Net profile and extensions, in the networks that make their claims in or out of
    network (NETWORK_MEMBERS);
  - about 2,000 synthetic practitioners in 30 cities, with their organizations, locations,
    services and network participation, drawn from a local random.Random seeded with a fixed
    string (no global random state), so the output is the same on every run.

The payers' products (InsurancePlan) carry the plan identifiers and names of the members'
Coverage `class` of type plan, and their networks the names of `Coverage.network`.
"""

import random

import catalog
from fhirkit import CS, npi, ref, stable_int, timestamp

PLANNET = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
PLANNET_VERSION = "1.1.0"
PNCS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/"
NUCC = CS["nucc"]
DHP = "org-demo-health-plan"
BSD = "org-bright-smile-dental"
DHP_BASE = catalog.PAYER_BY_ID[DHP][5]


def meta(kind, day, *salt):
    return {"lastUpdated": timestamp(day, kind, *salt),
            "profile": [PLANNET + "plannet-" + kind + "|" + PLANNET_VERSION]}


def code(system, c, display=None):
    out = {"system": system, "code": c}
    if display:
        out["display"] = display
    return out


def cc(system, c, display=None):
    return {"coding": [code(system, c, display)]}


def ext(name, **value):
    return dict({"url": PLANNET + name}, **value)


# ------------------------------------------------------------------ code tables
ORG_TYPE = {"payer": ("payer", "Payer"), "fac": ("fac", "Facility"), "prvgrp": ("prvgrp", "Provider Group"),
            "atyprv": ("atyprv", "Atypical Provider")}
ACCEPTING = {"newpt": "Accepting", "nopt": "Not Accepting", "existptonly": "Accepting existing patients",
             "existptfam": "Accepting existing patients and their families"}
PROVIDER_ROLE = {"ph": "Physician", "de": "Dentist", "oo": "Optometrist", "pt": "Physical Therapist",
                 "em": "Emergency Medical Service Provider", "pa": "Physician Assistant",
                 "crnp": "Certified Registered Nurse Practitioner", "py": "Psychologist", "sw": "Social Worker",
                 "ch": "Chiropractor", "po": "Podiatrist", "ot": "Occupational Therapist",
                 "sp": "Speech Language Pathologist", "rx": "Pharmacy Service Providers",
                 "apn": "Advanced Practice Nursing Providers"}
AFFILIATION_ROLE = {"hospital": "Hospital", "pharmacy": "Pharmacy", "outpatient": "Clinic or Outpatient Facility",
                    "group": "Medical Group", "urgent": "Urgent Care Center", "transport": "Transporation Provider",
                    "laboratory": "Laboratory"}
SERVICE_CATEGORY = {"hosp": "Hospital", "emerg": "Emergency care", "pharm": "Pharmacy", "urg": "Urgent Care",
                    "dent": "Dental", "vis": "Vision", "prov": "Medical Provider", "outpat": "Clinic or Outpatient Facility",
                    "lab": "Laboratory", "trans": "Transportation", "group": "Medical Group", "behav": "Behavioral Health"}
SERVICE_TYPE = "http://terminology.hl7.org/CodeSystem/service-type"

# Individual specialties (NUCC codes and displays of Plan-Net's IndividualAndGroupSpecialtiesVS),
# with the Plan-Net provider role, the degree (v2-0360) and where the specialty practises.
SPECIALTIES = [
    # code, display, role, degree, setting, weight
    ("207Q00000X", "Family Medicine Physician", "ph", "MD", "primary", 14),
    ("207R00000X", "Internal Medicine Physician", "ph", "MD", "primary", 12),
    ("208000000X", "Pediatrics Physician", "ph", "MD", "pediatric", 8),
    ("207QA0505X", "Adult Medicine Physician", "ph", "DO", "primary", 3),
    ("207RG0300X", "Geriatric Medicine (Internal Medicine) Physician", "ph", "MD", "primary", 2),
    ("363LF0000X", "Family Nurse Practitioner", "crnp", "NP", "primary", 7),
    ("363LP0200X", "Pediatric Nurse Practitioner", "crnp", "NP", "pediatric", 2),
    ("363A00000X", "Physician Assistant", "pa", "PA", "primary", 5),
    ("207V00000X", "Obstetrics & Gynecology Physician", "ph", "MD", "specialty", 5),
    ("207RC0000X", "Cardiovascular Disease Physician", "ph", "MD", "specialty", 4),
    ("207RE0101X", "Endocrinology, Diabetes & Metabolism Physician", "ph", "MD", "specialty", 2),
    ("207RG0100X", "Gastroenterology Physician", "ph", "MD", "specialty", 2),
    ("207RN0300X", "Nephrology Physician", "ph", "MD", "specialty", 1),
    ("207RP1001X", "Pulmonary Disease Physician", "ph", "MD", "specialty", 2),
    ("207RH0003X", "Hematology & Oncology Physician", "ph", "MD", "specialty", 2),
    ("207RI0200X", "Infectious Disease Physician", "ph", "MD", "specialty", 1),
    ("207RR0500X", "Rheumatology Physician", "ph", "MD", "specialty", 1),
    ("207K00000X", "Allergy & Immunology Physician", "ph", "MD", "specialty", 1),
    ("207N00000X", "Dermatology Physician", "ph", "MD", "specialty", 2),
    ("2084N0400X", "Neurology Physician", "ph", "MD", "specialty", 2),
    ("2084P0800X", "Psychiatry Physician", "ph", "MD", "specialty", 3),
    ("103T00000X", "Psychologist", "py", "PhD", "specialty", 2),
    ("1041C0700X", "Clinical Social Worker", "sw", "MSW", "specialty", 2),
    ("207W00000X", "Ophthalmology Physician", "ph", "MD", "specialty", 1),
    ("207Y00000X", "Otolaryngology Physician", "ph", "MD", "specialty", 1),
    ("208800000X", "Urology Physician", "ph", "MD", "specialty", 1),
    ("207X00000X", "Orthopaedic Surgery Physician", "ph", "MD", "hospital", 3),
    ("208600000X", "Surgery Physician", "ph", "MD", "hospital", 3),
    ("207T00000X", "Neurological Surgery Physician", "ph", "MD", "hospital", 1),
    ("2086S0129X", "Vascular Surgery Physician", "ph", "MD", "hospital", 1),
    ("207P00000X", "Emergency Medicine Physician", "ph", "MD", "hospital", 4),
    ("207L00000X", "Anesthesiology Physician", "ph", "MD", "hospital", 3),
    ("2085R0202X", "Diagnostic Radiology Physician", "ph", "MD", "hospital", 2),
    ("225100000X", "Physical Therapist", "pt", "DPT", "hospital", 3),
    ("225X00000X", "Occupational Therapist", "ot", "OTR", "hospital", 1),
    ("235Z00000X", "Speech-Language Pathologist", "sp", "MS", "hospital", 1),
    ("213E00000X", "Podiatrist", "po", "DPM", "specialty", 1),
    ("111N00000X", "Chiropractor", "ch", "DC", "specialty", 1),
    ("1223G0001X", "General Practice Dentistry", "de", "DDS", "dental", 6),
    ("1223P0221X", "Pediatric Dentist", "de", "DDS", "dental", 1),
    ("1223X0400X", "Orthodontics and Dentofacial Orthopedic Dentist", "de", "DMD", "dental", 1),
    ("152W00000X", "Optometrist", "oo", "OD", "vision", 2),
]
SPECIALTY_BY_CODE = {s[0]: s for s in SPECIALTIES}
# The shared practitioners' specialties not listed above (by the displays of the value set).
EXTRA_SPECIALTIES = {"146L00000X": ("146L00000X", "Paramedic", "em", "EMT-P", "transport", 0)}

DEGREE_DISPLAY = {"MD": "Doctor of Medicine", "DO": "Doctor of Osteopathy", "NP": "Nurse practitioner",
                  "PA": "Physician Assistant", "PhD": "Doctor of Philosophy", "MSW": "Master of Social Work",
                  "DPT": "Doctor of Physical Therapy", "OTR": "Occupational Therapist Registered",
                  "MS": "Master of Science", "DPM": "Doctor of Podiatric Medicine", "DC": "Doctor of Chiropractic",
                  "DDS": "Doctor of Dental Surgery", "DMD": "Doctor of Dental Medicine", "OD": "Doctor of Optometry",
                  "EMT-P": "Emergency Medical Technician - Paramedic"}

LANGUAGES = [("es", "Spanish"), ("zh", "Chinese"), ("vi", "Vietnamese"), ("fr", "French"), ("ko", "Korean"),
             ("ru", "Russian"), ("ar", "Arabic"), ("pt", "Portuguese"), ("hi", "Hindi"), ("tl", "Tagalog")]

# ------------------------------------------------------------------ cities
# name, state, area code, ZIP prefix, latitude, longitude
CITIES = [
    ("Boston", "MA", "617", "021", 42.3601, -71.0589),
    ("Chicago", "IL", "312", "606", 41.8781, -87.6298),
    ("Seattle", "WA", "206", "981", 47.6062, -122.3321),
    ("Denver", "CO", "303", "802", 39.7392, -104.9903),
    ("Atlanta", "GA", "404", "303", 33.7490, -84.3880),
    ("Minneapolis", "MN", "612", "554", 44.9778, -93.2650),
    ("New York", "NY", "212", "100", 40.7128, -74.0060),
    ("Philadelphia", "PA", "215", "191", 39.9526, -75.1652),
    ("Pittsburgh", "PA", "412", "152", 40.4406, -79.9959),
    ("Baltimore", "MD", "410", "212", 39.2904, -76.6122),
    ("Washington", "DC", "202", "200", 38.9072, -77.0369),
    ("Charlotte", "NC", "704", "282", 35.2271, -80.8431),
    ("Raleigh", "NC", "919", "276", 35.7796, -78.6382),
    ("Miami", "FL", "305", "331", 25.7617, -80.1918),
    ("Tampa", "FL", "813", "336", 27.9506, -82.4572),
    ("Nashville", "TN", "615", "372", 36.1627, -86.7816),
    ("New Orleans", "LA", "504", "701", 29.9511, -90.0715),
    ("Houston", "TX", "713", "770", 29.7604, -95.3698),
    ("Dallas", "TX", "214", "752", 32.7767, -96.7970),
    ("Austin", "TX", "512", "787", 30.2672, -97.7431),
    ("Phoenix", "AZ", "602", "850", 33.4484, -112.0740),
    ("Salt Lake City", "UT", "801", "841", 40.7608, -111.8910),
    ("Las Vegas", "NV", "702", "891", 36.1699, -115.1398),
    ("Los Angeles", "CA", "213", "900", 34.0522, -118.2437),
    ("San Diego", "CA", "619", "921", 32.7157, -117.1611),
    ("San Francisco", "CA", "415", "941", 37.7749, -122.4194),
    ("Portland", "OR", "503", "972", 45.5152, -122.6784),
    ("Detroit", "MI", "313", "482", 42.3314, -83.0458),
    ("Columbus", "OH", "614", "432", 39.9612, -82.9988),
    ("Tacoma", "WA", "253", "984", 47.2529, -122.4443),
]
CITY = {c[0]: c for c in CITIES}
STATE_NAMES = {"MA": "Massachusetts", "IL": "Illinois", "WA": "Washington", "CO": "Colorado", "GA": "Georgia",
               "MN": "Minnesota", "NY": "New York", "PA": "Pennsylvania", "MD": "Maryland",
               "DC": "District of Columbia", "NC": "North Carolina", "FL": "Florida", "TN": "Tennessee",
               "LA": "Louisiana", "TX": "Texas", "AZ": "Arizona", "UT": "Utah", "NV": "Nevada", "CA": "California",
               "OR": "Oregon", "MI": "Michigan", "OH": "Ohio"}

# ------------------------------------------------------------------ networks and products
# id, name, payer, cities (None: every city), description
NETWORKS = [
    ("net-demo-ppo", "Demo PPO Network", DHP, None),
    ("net-demo-chicagoland-hmo", "Demo Chicagoland HMO Network", DHP, ("Chicago",)),
    ("net-demo-puget-sound-hmo", "Demo Puget Sound HMO Network", DHP, ("Seattle", "Tacoma")),
    ("net-demo-atlanta-medicare-hmo", "Demo Atlanta Medicare HMO Network", DHP, ("Atlanta",)),
    ("net-demo-medicare-ppo", "Demo Medicare PPO Network", DHP,
     ("Atlanta", "Charlotte", "Raleigh", "Nashville", "Miami", "Tampa", "New Orleans")),
    ("net-bright-smile-dental-ppo", "Bright Smile Dental PPO Network", BSD, None),
]
NETWORK_BY_ID = {n[0]: n for n in NETWORKS}
NET_SHORT = {"net-demo-ppo": "ppo", "net-demo-chicagoland-hmo": "chi", "net-demo-puget-sound-hmo": "pug",
             "net-demo-atlanta-medicare-hmo": "atl", "net-demo-medicare-ppo": "mppo",
             "net-bright-smile-dental-ppo": "bsd"}

# The payers' products: identifier and name as in the members' Coverage class of type plan.
# id, plan identifier, name, payer, product type (InsuranceProductTypeCS), plan type
# (InsurancePlanTypeCS) or None, networks, coverage states, alias, start
PRODUCTS = [
    ("insplan-dhp-gold-ppo", "DHP-GOLD-PPO", "Demo Gold PPO", DHP, ("commppo", "Commercial PPO"),
     ("gold", "Gold-QHP"), ("net-demo-ppo",), None, None, "2019-01-01"),
    ("insplan-dhp-complete-ppo", "DHP-CMP-PPO", "Demo Complete PPO (medical and dental)", DHP,
     ("commppo", "Commercial PPO"), ("lowdeductible", "Low Deductible"), ("net-demo-ppo",), None, None, "2019-01-01"),
    ("insplan-dhp-family-hmo", "DHP-FAM-HMO", "Demo Family HMO", DHP, ("commhmo", "Commercial HMO"),
     ("silver", "Silver-QHP"), ("net-demo-puget-sound-hmo",), ("WA",), None, "2019-01-01"),
    ("insplan-dhp-ma-hmo", "DHP-MA-HMO", "Demo Medicare Advantage HMO", DHP,
     ("mediadvhmo", "Medicare Advantage HMO"), None, ("net-demo-chicagoland-hmo", "net-demo-atlanta-medicare-hmo"),
     ("IL", "GA"), "Demo Health Plan Medicare Advantage HMO", "2022-01-01"),
    ("insplan-dhp-ma-ppo", "DHP-MA-PPO", "Demo Medicare Advantage PPO", DHP, ("mediadv", "Medicare Advantage"),
     None, ("net-demo-medicare-ppo",), ("GA", "NC", "TN", "FL", "LA"), "Demo Health Plan Medicare Advantage PPO",
     "2024-01-01"),
    ("insplan-bsd-ppo-plus", "BSD-PPO-PLUS", "Bright Smile PPO Plus", BSD, ("dent", "Dental Plan"), None,
     ("net-bright-smile-dental-ppo",), None, None, "2019-01-01"),
]
PLAN_ID_SYSTEM = {DHP: DHP_BASE + "/plan-id", BSD: catalog.PAYER_BY_ID[BSD][5] + "/plan-id"}

# ------------------------------------------------------------------ the claims' providers
# Networks of the providers the members' claims name, with the day each joined (their claims are
# in network from then on; the claims that are out of network name providers outside the
# member's network on the day of service).
EARLY = "2015-01-01"
NETWORK_MEMBERS = {
    "net-demo-ppo": {
        "org-beacon-hill-general": EARLY, "org-charles-river-family-medicine": EARLY,
        "org-harborview-pharmacy": EARLY, "org-front-range-hospital": EARLY, "org-mile-high-ambulance": EARLY,
        "org-clearview-vision": EARLY, "org-capitol-hill-dental": EARLY, "org-back-bay-dental": EARLY,
        # Colfax Avenue Pharmacy joined the PPO network in 2026: Carin Bluebutton's fill of July 2025
        # was out of network, her fill of May 2026 in network.
        "org-colfax-pharmacy": "2026-01-01",
        "pract-amelia-chen": EARLY, "pract-priya-raman": EARLY, "pract-marcus-reed": EARLY,
        "pract-omar-haddad": EARLY, "pract-lena-fischer": "2026-06-15", "pract-samuel-ortiz": EARLY,
        "pract-nora-whitfield": EARLY, "pract-ruth-mensah": EARLY, "pract-ana-sousa": EARLY,
        "pract-irene-park": EARLY, "pract-james-holloway": EARLY,
    },
    "net-demo-chicagoland-hmo": {
        "org-lakeshore-medical-center": EARLY, "org-lincoln-park-internal-medicine": EARLY,
        "org-lakeview-pharmacy": EARLY, "pract-helen-kowalski": EARLY, "pract-david-okonkwo": EARLY,
    },
    "net-demo-puget-sound-hmo": {
        "org-puget-sound-childrens-clinic": EARLY, "org-cascade-urgent-care": EARLY,
        "org-fremont-kids-dental": EARLY, "org-greenlake-pharmacy": EARLY, "pract-grace-liu": EARLY,
        "pract-tomas-alvarez": EARLY,
    },
    "net-demo-atlanta-medicare-hmo": {
        "org-peachtree-medical-group": EARLY, "org-midtown-atlanta-hospital": EARLY, "org-ansley-pharmacy": EARLY,
        "pract-leah-goldberg": EARLY, "pract-kevin-brandt": EARLY,
    },
    "net-demo-medicare-ppo": {
        "org-peachtree-medical-group": EARLY, "org-midtown-atlanta-hospital": EARLY, "org-ansley-pharmacy": EARLY,
        "pract-leah-goldberg": EARLY, "pract-kevin-brandt": EARLY,
    },
    "net-bright-smile-dental-ppo": {
        "org-back-bay-dental": EARLY, "pract-samuel-ortiz": EARLY, "org-capitol-hill-dental": EARLY,
        "pract-james-holloway": EARLY,
    },
}

# Organization kinds of the shared provider organizations, by NUCC taxonomy.
TAXONOMY_KIND = {"282N00000X": "hospital", "261QP2300X": "clinic", "3336C0003X": "pharmacy",
                 "1223G0001X": "dental", "1223P0221X": "dental", "261QU0200X": "urgent", "3416L0300X": "ambulance",
                 "152W00000X": "vision"}
# kind: org type, affiliation role, service category, location type (v3-RoleCode), service types
KINDS = {
    "hospital": ("fac", "hospital", ("hosp", "emerg"), ("HOSP", "Hospital"), (("554", "Chronic Disease Management"),)),
    "clinic": ("prvgrp", "group", ("prov",), ("PC", "primary care clinic"), (("554", "Chronic Disease Management"),)),
    "specialty": ("prvgrp", "outpatient", ("outpat",), ("HOSP", "Hospital"), (("537", "Medication Reviews"),)),
    "pediatric": ("prvgrp", "group", ("prov",), ("PEDC", "pediatrics clinic"), (("495", "Youth Health"),)),
    "pharmacy": ("fac", "pharmacy", ("pharm",), ("PHARM", "Pharmacy"), (("537", "Medication Reviews"),)),
    "dental": ("prvgrp", "outpatient", ("dent",), ("DENT", "dental office"), ()),
    "urgent": ("fac", "urgent", ("urg",), ("ER", "Emergency room"), ()),
    "ambulance": ("atyprv", "transport", ("trans",), ("AMB", "Ambulance"), (("230", "Patient Transport"),)),
    "vision": ("prvgrp", "outpatient", ("vis",), ("OPTC", "optometry clinic"), ()),
    "lab": ("fac", "laboratory", ("lab",), ("HLAB", "hospital laboratory"), ()),
}
ORG_SPECIALTY = {"hospital": ("282N00000X", "General Acute Care Hospital"),
                 "clinic": ("261QP2300X", "Primary Care Clinic/Center"),
                 "specialty": ("261QM1300X", "Multi-Specialty Clinic/Center"),
                 "pediatric": ("261QP2300X", "Primary Care Clinic/Center"),
                 "pharmacy": ("3336C0003X", "Community/Retail Pharmacy"),
                 "dental": ("1223G0001X", "General Practice Dentistry"),
                 "urgent": ("261QU0200X", "Urgent Care Clinic/Center"),
                 "ambulance": ("3416L0300X", "Land Ambulance"),
                 "vision": ("152W00000X", "Optometrist"),
                 "lab": ("291U00000X", "Clinical Medical Laboratory")}
SETTING_KINDS = {"primary": ("clinic",), "pediatric": ("pediatric", "clinic"), "specialty": ("specialty", "hospital"),
                 "hospital": ("hospital",), "dental": ("dental",), "vision": ("vision",), "transport": ("ambulance",)}

# ------------------------------------------------------------------ synthetic names
GIVEN = ["Aaron", "Abigail", "Adrian", "Aisha", "Alan", "Alejandro", "Alice", "Amir", "Ana", "Andrea", "Angela",
         "Anthony", "Arjun", "Beatriz", "Benjamin", "Bianca", "Brandon", "Brian", "Camila", "Carlos", "Caroline",
         "Catherine", "Chen", "Chloe", "Christopher", "Claire", "Daniel", "David", "Deborah", "Diego", "Dmitri",
         "Eleanor", "Elena", "Elijah", "Elizabeth", "Emily", "Emmanuel", "Erin", "Esther", "Ethan", "Fatima",
         "Felix", "Fernando", "Fiona", "Gabriel", "George", "Gloria", "Hannah", "Harold", "Hiroshi", "Ibrahim",
         "Imani", "Isabel", "Jacob", "Jamal", "Janet", "Javier", "Jennifer", "Jia", "Joanna", "Jonathan", "Jose",
         "Joseph", "Julia", "Julian", "Kamala", "Karen", "Katherine", "Kenji", "Kevin", "Laura", "Lauren", "Leon",
         "Lily", "Lucas", "Luis", "Maria", "Marisol", "Mark", "Martha", "Mateo", "Matthew", "Maya", "Mei",
         "Michael", "Miguel", "Min-jun", "Miriam", "Mohammed", "Nadia", "Naomi", "Nathan", "Nicole", "Nikhil",
         "Olivia", "Omar", "Patricia", "Paul", "Peter", "Priscilla", "Rachel", "Rafael", "Rebecca", "Ricardo",
         "Robert", "Rohan", "Rosa", "Samantha", "Samir", "Sandra", "Sarah", "Sean", "Sofia", "Sophie", "Stephen",
         "Susan", "Tamara", "Teresa", "Thomas", "Valentina", "Victor", "Vikram", "Wei", "William", "Yara",
         "Yusuf", "Zoe"]
FAMILY = ["Abbott", "Acosta", "Adeyemi", "Aguilar", "Ahmed", "Alvarado", "Anderson", "Andrews", "Bailey",
          "Baker", "Banerjee", "Barnes", "Becker", "Bell", "Bennett", "Bhatt", "Bishop", "Brooks", "Bui", "Burke",
          "Caldwell", "Campbell", "Carter", "Castillo", "Chang", "Chavez", "Cho", "Clarke", "Coleman", "Collins",
          "Cooper", "Cruz", "Daniels", "Das", "Delgado", "Diaz", "Dixon", "Doherty", "Dunn", "Edwards", "Ellis",
          "Evans", "Farah", "Fernandes", "Fitzgerald", "Flores", "Foster", "Franklin", "Fujita", "Garcia",
          "Gibson", "Gomez", "Gordon", "Grant", "Green", "Gupta", "Hall", "Hamilton", "Hansen", "Harris",
          "Hayes", "Henderson", "Hernandez", "Hoang", "Hughes", "Ibrahim", "Iyer", "Jackson", "James", "Jensen",
          "Johnson", "Jones", "Joshi", "Kaplan", "Kaur", "Keller", "Kennedy", "Khan", "Kim", "Klein", "Kumar",
          "Lam", "Larsen", "Lee", "Lewis", "Lin", "Lopez", "Lyons", "Malik", "Marshall", "Martin", "Martinez",
          "Mason", "Mehta", "Mendoza", "Meyer", "Mitchell", "Molina", "Moore", "Morales", "Morgan", "Murphy",
          "Nakamura", "Nguyen", "Nielsen", "Novak", "Obi", "Oliveira", "Olson", "Ortega", "Owens", "Pak",
          "Palmer", "Park", "Patel", "Pearson", "Perez", "Peterson", "Phillips", "Pierce", "Porter", "Price",
          "Quinn", "Ramirez", "Rao", "Reyes", "Richards", "Rivera", "Roberts", "Robinson", "Rojas", "Romero",
          "Rossi", "Russell", "Saito", "Salazar", "Sanchez", "Santos", "Schmidt", "Scott", "Shah", "Shapiro",
          "Silva", "Singh", "Sullivan", "Sutton", "Tanaka", "Taylor", "Thompson", "Torres", "Tran", "Turner",
          "Vargas", "Vasquez", "Wagner", "Walker", "Wang", "Ward", "Watanabe", "Watson", "Weber", "White",
          "Williams", "Wilson", "Wong", "Wright", "Wu", "Yamamoto", "Yang", "Young", "Zhang", "Zimmerman"]
STREETS = ["Main Street", "Oak Avenue", "Maple Avenue", "Park Avenue", "Washington Street", "Lincoln Avenue",
           "Jefferson Street", "Madison Avenue", "Elm Street", "Cedar Street", "Pine Street", "Lake Street",
           "Hill Street", "River Road", "Church Street", "Market Street", "Spring Street", "Center Street",
           "Highland Avenue", "Franklin Street", "Grove Street", "Union Street", "Broad Street", "Summit Avenue"]
NAME_WORDS = ["Riverside", "Lakeview", "Summit", "Northgate", "Southside", "Eastbrook", "Westfield", "Harbor",
              "Parkside", "Hillcrest", "Meadow", "Cornerstone", "Crossroads", "Heritage", "Liberty", "Pinecrest",
              "Union", "Valley", "Bayview", "Greenway"]


class City:
    """Addresses, phone numbers and coordinates in one city, all deterministic."""

    def __init__(self, name, first_phone=60):
        self.name, self.state, self.area, self.zip3, self.lat, self.lon = CITY[name]
        self.slug = name.lower().replace(" ", "-")
        self.phones = first_phone
        self.rng = random.Random("payer-sandbox-directory-" + name)

    def phone(self):
        self.phones += 1
        return f"{self.area}-555-{100 + self.phones % 100:04d}"

    def address(self):
        r = self.rng
        line = f"{r.randrange(10, 2400)} {r.choice(STREETS)}"
        if r.random() < 0.3:
            line += f", Suite {r.randrange(100, 600)}"
        return (line, self.name, self.state, f"{self.zip3}{r.randrange(1, 40):02d}")

    def position(self, *salt):
        dlat = (stable_int(self.name, *salt, "lat", mod=1201) - 600) / 10000
        dlon = (stable_int(self.name, *salt, "lon", mod=1201) - 600) / 10000
        return {"longitude": round(self.lon + dlon, 6), "latitude": round(self.lat + dlat, 6)}


def address(addr, text=False):
    line, city, state, postal = addr
    out = {"use": "work", "type": "both"}
    if text:
        out["text"] = f"{line}, {city}, {state} {postal}"
    out.update({"line": [line], "city": city, "state": state, "postalCode": postal, "country": "US"})
    return out


def phone(value, rank=None, hours=None, via=None):
    t = {"system": "phone", "value": value, "use": "work"}
    exts = []
    if hours:
        days, start, end = hours
        sub = [{"url": "daysOfWeek", "valueCode": d} for d in days]
        if start:
            sub += [{"url": "availableStartTime", "valueTime": start}, {"url": "availableEndTime", "valueTime": end}]
        else:
            sub.append({"url": "allDay", "valueBoolean": True})
        exts.append(ext("contactpoint-availabletime", extension=sub))
    if via:
        exts.append(ext("via-intermediary", valueReference=ref(*via)))
    if exts:
        t = dict({"extension": exts}, **t)
    if rank:
        t["rank"] = rank
    return t


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ALL_DAYS = WEEKDAYS + ["sat", "sun"]


def newpatients(code_, network_id=None, characteristics=None, lean=False):
    sub = [{"url": "acceptingPatients", "valueCodeableConcept": cc(PNCS + "AcceptingPatientsCS", code_,
                                                                    None if lean else ACCEPTING[code_])}]
    if network_id and code_ != "nopt":
        sub.append({"url": "fromNetwork", "valueReference": ref("Organization", network_id)})
    if characteristics and code_ != "nopt":
        sub.append({"url": "characteristics", "valueString": characteristics})
    return ext("newpatients", extension=sub)


def network_ref(network_id, lean=False):
    return ext("network-reference", valueReference=ref("Organization", network_id,
                                                       None if lean else NETWORK_BY_ID[network_id][1]))


# ------------------------------------------------------------------ the directory
class Directory:
    def __init__(self):
        self.out = {t: [] for t in ("Organization", "Location", "Practitioner", "PractitionerRole",
                                    "HealthcareService", "OrganizationAffiliation", "Endpoint", "InsurancePlan")}
        self.npis = set()
        self.service_areas = {}
        self.org_info = {}      # org id -> dict(kind, city, location ids, services, phone, name)

    def add(self, r):
        self.out[r["resourceType"]].append(r)
        return r

    def unique_npi(self, seed):
        value = npi(seed)
        while value in self.npis:
            seed += 1
            value = npi(seed)
        self.npis.add(value)
        return value

    # -------------------------------------------------------------- service areas, payers, networks
    def service_area(self, state):
        lid = "loc-area-" + state.lower()
        if lid not in self.service_areas:
            res = {"resourceType": "Location", "id": lid, "meta": meta("Location", "2024-01-08", lid)}
            if state in REGION_SHAPES:
                res["extension"] = [region(state)]
            res.update({"status": "active", "name": f"State of {STATE_NAMES[state]}",
                        "description": f"Service area: {STATE_NAMES[state]}",
                        "address": {"state": state, "country": "US"}})
            self.service_areas[lid] = res
            self.add(res)
        return lid

    def payers(self):
        for p in catalog.PAYERS:
            oid, name, payerid, naic, tax, base, addr, phone_ = p
            res = {
                "resourceType": "Organization", "id": oid, "meta": meta("Organization", "2024-01-08", oid),
                "extension": [ext("org-description", valueString=(
                    "Health plan offering commercial, Medicare Advantage and dental coverage."
                    if oid == DHP else "Dental benefits carrier."))],
                "identifier": [
                    {"type": cc(CS["c4bb-id"], "payerid", "Payer ID"), "system": base + "/payer-id", "value": payerid},
                    {"type": cc(CS["c4bb-id"], "naiccode", "NAIC Code"), "system": CS["naic"], "value": naic},
                    {"type": cc(CS["v2-0203"], "TAX", "Tax ID number"), "system": CS["tax"], "value": tax},
                ],
                "active": True,
                "type": [cc(PNCS + "OrgTypeCS", *ORG_TYPE["payer"])],
                "name": name,
                "telecom": [phone(phone_, rank=1, hours=(WEEKDAYS, "08:00:00", "20:00:00")),
                            {"system": "url", "value": base, "use": "work", "rank": 2}],
                "address": [address(addr, text=True)],
                "contact": [{"purpose": cc("http://terminology.hl7.org/CodeSystem/contactentity-type", "PATINF",
                                           "Patient"),
                             "name": {"text": "Member Services"},
                             "telecom": [{"system": "phone", "value": phone_, "use": "work"}]}],
            }
            if oid == DHP:
                res["endpoint"] = [ref("Endpoint", "ep-dhp-provider-directory")]
            self.add(res)

    def endpoints(self):
        fhir = ("http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "hl7-fhir-rest", "HL7 FHIR")
        for eid, name, path, use, standard in (
                ("ep-dhp-provider-directory", "Demo Health Plan provider directory (FHIR R4, Plan-Net)", "/directory/r4",
                 ("HOPERAT", "healthcare operations"), "http://hl7.org/fhir/us/davinci-pdex-plan-net"),
                ("ep-dhp-patient-access", "Demo Health Plan Patient Access API (FHIR R4)", "/fhir/r4",
                 ("PATRQT", "patient requested"), "http://hl7.org/fhir/us/carin-bb"),
                ("ep-dhp-formulary", "Demo Health Plan drug formulary (FHIR R4, US Drug Formulary)", "/formulary/r4",
                 ("COVERAGE", "eligibility verification and determination"),
                 "http://hl7.org/fhir/us/davinci-drug-formulary")):
            self.add({
                "resourceType": "Endpoint", "id": eid, "meta": meta("Endpoint", "2024-01-08", eid),
                "extension": [ext("endpoint-usecase", extension=[
                    {"url": "type", "valueCodeableConcept": cc("http://terminology.hl7.org/CodeSystem/v3-ActReason", *use)},
                    {"url": "standard", "valueUri": standard}])],
                "status": "active",
                "connectionType": code(*fhir),
                "name": name,
                "managingOrganization": ref("Organization", DHP, "Demo Health Plan"),
                "contact": [{"system": "email", "value": "developers@demohealthplan.example.org", "use": "work"}],
                "payloadType": [cc(PNCS + "EndpointPayloadTypeCS", "NA", "Not Applicable")],
                "payloadMimeType": ["application/fhir+json"],
                "address": "https://sandbox.demohealthplan.example.org" + path,
            })

    def direct_endpoint(self, eid, name, address_, org_id, day):
        return self.add({
            "resourceType": "Endpoint", "id": eid, "meta": meta("Endpoint", day, eid),
            "extension": [ext("endpoint-usecase", extension=[
                {"url": "type", "valueCodeableConcept": cc("http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                                           "TREAT", "treatment")}])],
            "status": "active",
            "connectionType": code("http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "direct-project",
                                   "Direct Project"),
            "name": name,
            "managingOrganization": ref("Organization", org_id),
            "payloadType": [cc(PNCS + "EndpointPayloadTypeCS", "NA", "Not Applicable")],
            "payloadMimeType": ["application/pdf", "text/xml"],
            "address": "mailto:" + address_,
        })

    def networks(self):
        for nid, name, payer, cities in NETWORKS:
            states = sorted({CITY[c][1] for c in cities}) if cities else None
            res = {"resourceType": "Organization", "id": nid, "meta": meta("Network", "2024-01-08", nid)}
            if states:
                res["extension"] = [ext("location-reference", valueReference=ref("Location", self.service_area(s)))
                                    for s in states]
            payer_p = catalog.PAYER_BY_ID[payer]
            res.update({
                "identifier": [{"system": payer_p[5] + "/network-id", "value": nid[len("net-"):].upper()}],
                "active": True,
                "type": [cc(PNCS + "OrgTypeCS", "ntwk", "Network")],
                "name": name,
                "address": [address(payer_p[6])],
                "partOf": ref("Organization", payer, payer_p[1]),
                "contact": [{"name": {"text": "Provider Network Management"},
                             "telecom": [{"system": "phone", "value": payer_p[7], "use": "work"},
                                         {"system": "email", "value": "networks@" + payer_p[5].split("//")[1],
                                          "use": "work"}]}],
            })
            if payer == DHP:
                res["endpoint"] = [ref("Endpoint", "ep-dhp-provider-directory")]
            self.add(res)

    def products(self):
        for pid, ident, name, payer, ptype, plan_type, nets, states, alias, start in PRODUCTS:
            payer_p = catalog.PAYER_BY_ID[payer]
            if states is None:
                states = sorted({CITY[c][1] for nid in nets for c in (NETWORK_BY_ID[nid][3] or [x[0] for x in CITIES])})
            res = {"resourceType": "InsurancePlan", "id": pid, "meta": meta("InsurancePlan", "2025-10-15", pid),
                   "identifier": [{"system": PLAN_ID_SYSTEM[payer], "value": ident,
                                   "assigner": ref("Organization", payer, payer_p[1])}],
                   "status": "active", "type": [cc(PNCS + "InsuranceProductTypeCS", *ptype)], "name": name}
            if alias:
                res["alias"] = [alias]
            res.update({
                "period": {"start": start},
                "ownedBy": ref("Organization", payer, payer_p[1]),
                "administeredBy": ref("Organization", payer, payer_p[1]),
                "coverageArea": [ref("Location", self.service_area(s)) for s in states],
                "contact": [{"name": {"use": "official", "text": f"{payer_p[1]} Member Services"},
                             "telecom": [{"system": "phone", "value": payer_p[7], "use": "work"},
                                         {"system": "url", "value": payer_p[5] + "/plans/" + ident.lower(),
                                          "use": "work"}]}],
            })
            if payer == DHP:
                res["endpoint"] = [ref("Endpoint", "ep-dhp-patient-access")]
            res["network"] = [ref("Organization", n, NETWORK_BY_ID[n][1]) for n in nets]
            dental = ptype[0] == "dent"
            res["coverage"] = [{
                "type": cc("http://terminology.hl7.org/CodeSystem/v3-ActCode", "DENTPRG" if dental else "HIP",
                           "dental program" if dental else "health insurance plan policy"),
                "network": [ref("Organization", n) for n in nets],
                "benefit": [{"type": {"text": t}} for t in (
                    ("Preventive dental care", "Basic restorative care", "Major restorative care", "Orthodontics")
                    if dental else ("Primary care visit", "Specialist visit", "Emergency room", "Inpatient hospital",
                                    "Prescription drugs"))],
            }]
            plan = {}
            if plan_type:
                plan["type"] = cc(PNCS + "InsurancePlanTypeCS", *plan_type)
            plan["coverageArea"] = [ref("Location", self.service_area(s)) for s in states]
            plan["network"] = [ref("Organization", n) for n in nets]
            plan["generalCost"] = [{"type": {"text": "Annual deductible"}, "groupSize": 1,
                                    "cost": {"value": 0 if ptype[0].startswith("medi") else 500, "currency": "USD"}}]
            plan["specificCost"] = [{"category": {"text": "Office visit"}, "benefit": [{
                "type": {"text": "Primary care visit"},
                "cost": [{"type": {"text": "Copay"}, "applicability": cc(
                    "http://terminology.hl7.org/CodeSystem/applicability", "in-network", "In Network"),
                    "value": {"value": 20 if not dental else 0, "unit": "USD", "system": "urn:iso:std:iso:4217",
                              "code": "USD"}}]}]}]
            res["plan"] = [plan]
            self.add(res)

    # -------------------------------------------------------------- organizations and their places
    def organization(self, oid, name, kind, addr, phone_, npi_value, day, *, tax=None, part_of=None,
                     description=None, endpoint=None, contact=None):
        org_type, _, _, _, _ = KINDS[kind]
        res = {"resourceType": "Organization", "id": oid, "meta": meta("Organization", day, oid)}
        if description:
            res["extension"] = [ext("org-description", valueString=description)]
        idents = [{"type": cc(CS["v2-0203"], "NPI", "National provider identifier"), "system": CS["npi"],
                   "value": npi_value}]
        if tax:
            idents.append({"type": cc(CS["v2-0203"], "TAX", "Tax ID number"), "system": CS["tax"], "value": tax})
        if kind == "lab":
            idents.append({"system": "urn:oid:2.16.840.1.113883.4.7",
                           "value": f"{stable_int(oid, mod=90) + 10:02d}D{stable_int(oid, 'clia', mod=10**7):07d}"})
        res.update({"identifier": idents, "active": True, "type": [cc(PNCS + "OrgTypeCS", *ORG_TYPE[org_type])],
                    "name": name, "telecom": [phone(phone_)], "address": [address(addr)]})
        if part_of:
            res["partOf"] = ref("Organization", part_of)
        if contact:
            res["contact"] = [contact]
        if endpoint:
            res["endpoint"] = [ref("Endpoint", endpoint)]
        return self.add(res)

    def location(self, lid, name, kind, addr, phone_, org_id, position, day, *, part_of=None, hours=None,
                 accessible=(), accepting=None, alias=None, description=None):
        _, _, _, loc_type, _ = KINDS[kind]
        res = {"resourceType": "Location", "id": lid, "meta": meta("Location", day, lid)}
        exts = []
        if accepting:
            exts.append(newpatients(accepting))
        exts += [ext("accessibility", valueCodeableConcept=cc(PNCS + "AccessibilityCS", c, d)) for c, d in accessible]
        if exts:
            res["extension"] = exts
        res["status"] = "active"
        res["name"] = name
        if alias:
            res["alias"] = [alias]
        if description:
            res["description"] = description
        res.update({"type": [cc("http://terminology.hl7.org/CodeSystem/v3-RoleCode", *loc_type)],
                    "telecom": [phone(phone_)], "address": address(addr), "position": position,
                    "managingOrganization": ref("Organization", org_id)})
        if part_of:
            res["partOf"] = ref("Location", part_of)
        if kind in ("hospital", "urgent", "ambulance"):
            res["hoursOfOperation"] = [{"daysOfWeek": ALL_DAYS, "allDay": True}]
        else:
            days, opening, closing = hours or (WEEKDAYS, "08:00:00", "17:00:00")
            res["hoursOfOperation"] = [{"daysOfWeek": days, "openingTime": opening, "closingTime": closing}]
            res["availabilityExceptions"] = "Closed on federal holidays."
        return self.add(res)

    def service(self, sid, org, kind, category, name, loc_ids, phone_, state, day, *, virtual=False,
                accepting=None, comment=None, endpoint=None, closed=None):
        _, _, _, _, types = KINDS[kind]
        res = {"resourceType": "HealthcareService", "id": sid, "meta": meta("HealthcareService", day, sid)}
        exts = []
        if accepting:
            exts.append(newpatients(accepting))
        dm = [{"url": "type", "valueCodeableConcept": cc(PNCS + "DeliveryMethodCS", "physical", "Physical")}]
        exts.append(ext("delivery-method", extension=dm))
        if virtual:
            exts.append(ext("delivery-method", extension=[
                {"url": "type", "valueCodeableConcept": cc(PNCS + "DeliveryMethodCS", "virtual", "Virtual")},
                {"url": "virtualModalities", "valueCodeableConcept": cc(PNCS + "VirtualModalitiesCS", "video",
                                                                         "video chat")},
                {"url": "virtualModalities", "valueCodeableConcept": cc(PNCS + "VirtualModalitiesCS", "phone",
                                                                         "phone")}]))
        res["extension"] = exts
        res.update({"active": True, "providedBy": ref("Organization", org),
                    "category": [cc(PNCS + "HealthcareServiceCategoryCS", category, SERVICE_CATEGORY[category])]})
        if types:
            res["type"] = [cc(SERVICE_TYPE, c, d) for c, d in types]
        res["specialty"] = [cc(NUCC, *ORG_SPECIALTY[kind])]
        res["location"] = [ref("Location", lid) for lid in loc_ids]
        res["name"] = name
        if comment:
            res["comment"] = comment
        res["telecom"] = [phone(phone_)]
        res["coverageArea"] = [ref("Location", self.service_area(state))]
        res["appointmentRequired"] = category not in ("emerg", "urg", "pharm")
        if category in ("emerg", "urg", "hosp"):
            res["availableTime"] = [{"daysOfWeek": ALL_DAYS, "allDay": True}]
        else:
            res["availableTime"] = [{"daysOfWeek": WEEKDAYS, "availableStartTime": "08:00:00",
                                     "availableEndTime": "17:00:00"}]
            res["availabilityExceptions"] = "Closed on federal holidays."
        if closed:
            res["notAvailable"] = [{"description": closed[0], "during": {"start": closed[1], "end": closed[2]}}]
        if endpoint:
            res["endpoint"] = [ref("Endpoint", endpoint)]
        return self.add(res)

    def affiliation(self, org_id, network_id, start, day):
        info = self.org_info[org_id]
        kind = info["kind"]
        aid = f"aff-{org_id[len('org-'):]}-{network_id[len('net-'):]}"
        payer = NETWORK_BY_ID[network_id][2]
        res = {"resourceType": "OrganizationAffiliation", "id": aid,
               "meta": meta("OrganizationAffiliation", day, aid),
               "identifier": [{"system": catalog.PAYER_BY_ID[payer][5] + "/provider-contract",
                               "value": f"PC-{stable_int(aid, mod=10**6):06d}"}],
               "active": True, "period": {"start": start},
               "organization": ref("Organization", payer, catalog.PAYER_BY_ID[payer][1]),
               "participatingOrganization": ref("Organization", org_id, info["name"]),
               "network": [ref("Organization", network_id, NETWORK_BY_ID[network_id][1])],
               "code": [cc(PNCS + "OrganizationAffiliationRoleCS", KINDS[kind][1], AFFILIATION_ROLE[KINDS[kind][1]])],
               "specialty": [cc(NUCC, *ORG_SPECIALTY[kind])],
               "location": [ref("Location", lid) for lid in info["locations"]]}
        if info["services"]:
            res["healthcareService"] = [ref("HealthcareService", s) for s in info["services"]]
        res["telecom"] = [dict(phone(info["phone"]), rank=1)]
        if info.get("endpoint"):
            res["endpoint"] = [ref("Endpoint", info["endpoint"])]
        self.add(res)

    def role(self, rid, pract_id, org_id, spec, network_id, start, day, *, accepting="newpt", hours=False,
             phone_hours=False, endpoint=None, qualification=None, away=None, characteristics=None, lean=False):
        """One practitioner's role at one organization in one network (Plan-Net allows one network-reference
        per role). lean: the synthetic bulk, without reference displays."""
        info = self.org_info[org_id]
        res = {"resourceType": "PractitionerRole", "id": rid, "meta": meta("PractitionerRole", day, rid)}
        exts = [newpatients(accepting, network_id, characteristics, lean), network_ref(network_id, lean)]
        if qualification:
            exts.append(qualification)
        res["extension"] = exts
        res.update({"active": True, "period": {"start": start},
                    "practitioner": ref("Practitioner", pract_id),
                    "organization": ref("Organization", org_id, None if lean else info["name"]),
                    "code": [cc(PNCS + "ProviderRoleCS", spec[2], None if lean else PROVIDER_ROLE[spec[2]])],
                    "specialty": [cc(NUCC, spec[0], spec[1])],
                    "location": [ref("Location", info["locations"][0])]})
        if info["services"] and not lean:
            res["healthcareService"] = [ref("HealthcareService", info["services"][0])]
        res["telecom"] = [phone(info["phone"], hours=(WEEKDAYS, "08:00:00", "17:00:00") if phone_hours else None)]
        if hours:
            res["availableTime"] = [{"daysOfWeek": hours, "availableStartTime": "08:30:00",
                                     "availableEndTime": "16:30:00"}]
        if away:
            res["notAvailable"] = [{"description": away[0], "during": {"start": away[1], "end": away[2]}}]
        if endpoint:
            res["endpoint"] = [ref("Endpoint", endpoint)]
        return self.add(res)

    def practitioner(self, pid, given, family, prefix, degree, state, npi_value, org_id, day, *, tax=None,
                     language=None, specialty=None, licensed=EARLY, lean=False):
        """lean: the synthetic bulk, with the license number but not its period and issuer, and English
        left implicit."""
        info = self.org_info[org_id]
        idents = [{"system": CS["npi"], "value": npi_value}]
        if not lean:
            idents[0] = dict({"type": cc(CS["v2-0203"], "NPI", "National provider identifier")}, **idents[0])
        if tax:
            idents.append({"type": cc(CS["v2-0203"], "TAX", "Tax ID number"), "system": CS["tax"], "value": tax})
        name = {"use": "official", "family": family, "given": [given]}
        if not lean:
            name = dict({"use": "official", "text": " ".join(x for x in (prefix, given, family) if x) + f", {degree}"},
                        **name)
        if prefix:
            name["prefix"] = [prefix]
        name["suffix"] = [degree]
        qual = [{
            "extension": [ext("practitioner-qualification", extension=[
                {"url": "status", "valueCode": "active"},
                {"url": "whereValid", "valueCodeableConcept": cc("https://www.usps.com/", state)}])],
            "code": cc("http://terminology.hl7.org/CodeSystem/v2-0360", degree, DEGREE_DISPLAY[degree]),
        }]
        if not lean:
            qual[0] = dict({"extension": qual[0]["extension"], "identifier": [
                {"system": f"https://licensing.example.org/{state.lower()}",
                 "value": f"{state}-{degree.replace('-', '')}-{stable_int(pid, mod=10**6):06d}"}]}, **qual[0])
            qual[0]["period"] = {"start": licensed}
            qual[0]["issuer"] = {"display": f"{STATE_NAMES[state]} Board of Registration"}
        if specialty:
            qual.append({"code": cc(NUCC, specialty[0], specialty[1])})
        res = {"resourceType": "Practitioner", "id": pid, "meta": meta("Practitioner", day, pid),
               "identifier": idents, "active": True, "name": [name], "telecom": [phone(info["phone"])]}
        if not lean:
            res["address"] = [address(info["address"])]
        res["qualification"] = qual
        langs = [] if lean else [{"coding": [code("urn:ietf:bcp:47", "en", "English")]}]
        if language:
            langs.append({"extension": [ext("communication-proficiency", valueCodeableConcept=cc(
                PNCS + "LanguageProficiencyCS", language[2], PROFICIENCY[language[2]]))],
                "coding": [code("urn:ietf:bcp:47", language[0], language[1])]})
        if langs:
            res["communication"] = langs
        return self.add(res)


PROFICIENCY = {"30": "General professional proficiency", "40": "Advanced professional proficiency",
               "50": "Functional native proficiency"}

# Simple rectangles (longitude/latitude) for the service areas that carry a GeoJSON boundary.
REGION_SHAPES = {"MA": (-73.5, 41.2, -69.9, 42.9), "IL": (-91.5, 37.0, -87.5, 42.5),
                 "WA": (-124.8, 45.5, -116.9, 49.0), "GA": (-85.6, 30.4, -80.8, 35.0)}


def region(state):
    import base64
    import json
    w, s, e, n = REGION_SHAPES[state]
    shape = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
    data = base64.b64encode(json.dumps(shape, separators=(",", ":")).encode()).decode()
    return {"url": "http://hl7.org/fhir/StructureDefinition/location-boundary-geojson",
            "valueAttachment": {"contentType": "application/geo+json", "data": data}}


# ------------------------------------------------------------------ the claims' providers
def shared_providers(d):
    """The payers' and members' providers of catalog.py, under their ids, NPIs and names."""
    members = {}
    for nid, who in NETWORK_MEMBERS.items():
        for x, start in who.items():
            members.setdefault(x, []).append((nid, start))
    for o in catalog.PROVIDER_ORGS:
        oid, name, taxonomy, addr, phone_, npi_seed, tax = o
        kind = TAXONOMY_KIND[taxonomy[0]]
        suffix = oid[len("org-"):]
        city = City(addr[1])
        endpoint = None
        if kind == "hospital":
            endpoint = f"ep-{suffix}-direct"
            d.direct_endpoint(endpoint, f"{name} Direct messaging", f"referrals@direct.{suffix}.example.org", oid,
                              "2024-02-12")
        value = npi(7000 + npi_seed * 7919)
        d.npis.add(value)
        d.organization(oid, name, kind, addr, phone_, value, "2024-03-04", tax=tax, endpoint=endpoint,
                       description=f"{name}, {addr[1]}, {addr[2]}.",
                       contact={"purpose": cc("http://terminology.hl7.org/CodeSystem/contactentity-type", "ADMIN",
                                              "Administrative"),
                                "name": {"text": "Practice Manager"},
                                "telecom": [{"system": "phone", "value": phone_, "use": "work"}]})
        lid = "loc-" + suffix
        d.location(lid, name, kind, addr, phone_, oid, city.position(oid), "2024-03-04",
                   accessible=(("handiaccess", "handicap accessible"), ("pubtrans", "public transit options")),
                   accepting="newpt" if kind in ("clinic", "dental", "vision") else None)
        services = []
        if kind != "ambulance":
            sid = "hs-" + suffix
            category = KINDS[kind][2][0]
            d.service(sid, oid, kind, category, f"{name} {SERVICE_CATEGORY[category].lower()} services", [lid],
                      phone_, addr[2], "2024-03-04", virtual=kind == "clinic",
                      accepting="newpt" if kind in ("clinic", "dental", "vision") else None,
                      comment=f"Services of {name}.", endpoint=endpoint)
            services.append(sid)
        d.org_info[oid] = {"kind": kind, "name": name, "locations": [lid], "services": services, "phone": phone_,
                           "address": addr, "city": addr[1], "endpoint": endpoint}
        for nid, start in members.get(oid, []):
            d.affiliation(oid, nid, start, "2024-03-04")
    for p in catalog.PRACTITIONERS + catalog.LATE_PRACTITIONERS:
        pid, given, family, prefix, taxonomy, org_id, npi_seed, tax = p
        late = p in catalog.LATE_PRACTITIONERS
        day = "2026-06-15" if late else "2024-04-15"
        spec = SPECIALTY_BY_CODE.get(taxonomy[0]) or EXTRA_SPECIALTIES[taxonomy[0]]
        spec = (spec[0], taxonomy[1]) + spec[2:]
        state = d.org_info[org_id]["address"][2]
        value = npi(9000 + npi_seed * 104729)
        d.npis.add(value)
        d.practitioner(pid, given, family, prefix, spec[3], state, value, org_id, day, tax=tax, specialty=taxonomy,
                       language=("es", "Spanish", "40") if pid in ("pract-ruth-mensah", "pract-tomas-alvarez") else None)
        suffix = pid[len("pract-"):]
        endpoint = None
        if pid in catalog.DIRECT_ADDRESSES:
            endpoint = f"ep-{suffix}-direct"
            d.direct_endpoint(endpoint, f"Direct address of {catalog.pract_name(pid)}", catalog.DIRECT_ADDRESSES[pid],
                              org_id, day)
        for n, (nid, start) in enumerate(members[pid]):
            rid = "role-" + suffix if n == 0 else f"role-{suffix}-{nid[len('net-'):]}"
            qualification = ext("qualification", extension=[
                {"url": "code", "valueCodeableConcept": cc(NUCC, spec[0], spec[1])},
                {"url": "issuer", "valueReference": ref("Organization", org_id)},
                {"url": "status", "valueCode": "active"},
                {"url": "period", "valuePeriod": {"start": start}},
                {"url": "whereValid", "valueCodeableConcept": cc("https://www.usps.com/", state)}]) \
                if n == 0 else None
            d.role(rid, pid, org_id, spec, nid, start, day, hours=WEEKDAYS if n == 0 else None,
                   phone_hours=n == 0, endpoint=endpoint, qualification=qualification)


# ------------------------------------------------------------------ the synthetic directory
CITY_ORGS = ["hospital", "clinic", "clinic", "specialty", "pediatric", "urgent", "pharmacy", "pharmacy", "dental",
             "vision", "lab"]
PER_CITY = 67
PARTICIPATION = {"net-demo-ppo": 0.9, "net-demo-chicagoland-hmo": 0.8, "net-demo-puget-sound-hmo": 0.8,
                 "net-demo-atlanta-medicare-hmo": 0.8, "net-demo-medicare-ppo": 0.75,
                 "net-bright-smile-dental-ppo": 0.85}
CHARACTERISTICS = {"pediatric": "Ages 0 to 18", "primary": "Adults 18 and older",
                   "specialty": "By referral from a primary care provider"}


def org_name(kind, word, city):
    return {"hospital": f"{city} {word} Medical Center", "clinic": f"{word} Family Health",
            "specialty": f"{city} Specialty Physicians", "pediatric": f"{word} Pediatrics",
            "urgent": f"{word} Urgent Care", "pharmacy": f"{word} Pharmacy", "dental": f"{word} Dental Care",
            "vision": f"{word} Eye Care", "lab": f"{city} Diagnostic Laboratory"}[kind]


def networks_for(city, kind):
    out = []
    for nid, _, payer, cities in NETWORKS:
        if cities is not None and city not in cities:
            continue
        if payer == BSD and kind != "dental":
            continue
        out.append(nid)
    return out


def synthetic_city(d, name, counter):
    city = City(name)
    r = city.rng
    words = r.sample(NAME_WORDS, len(NAME_WORDS))
    orgs = {}
    for i, kind in enumerate(CITY_ORGS):
        oid = f"org-{city.slug}-{kind}-{i + 1}"
        oname = org_name(kind, words[i], name)
        addr = city.address()
        ph = city.phone()
        day = f"2025-{1 + stable_int(oid, mod=12):02d}-{1 + stable_int(oid, 'd', mod=28):02d}"
        endpoint = None
        if kind == "hospital":
            endpoint = f"ep-{city.slug}-hospital-direct"
            d.direct_endpoint(endpoint, f"{oname} Direct messaging", f"referrals@direct.{city.slug}-mc.example.org",
                              oid, day)
        d.organization(oid, oname, kind, addr, ph, d.unique_npi(1_300_000_000 + counter[0] * 7331 + i * 17), day,
                       tax=f"{stable_int(oid, 'tax', mod=9 * 10**8) + 10**8:09d}", endpoint=endpoint,
                       part_of=f"org-{city.slug}-hospital-1" if kind in ("specialty", "lab") else None)
        lid = f"loc-{city.slug}-{kind}-{i + 1}"
        loc_ids = [lid]
        accepting = "newpt" if kind in ("clinic", "pediatric", "dental", "vision") else None
        d.location(lid, oname, kind, addr, ph, oid, city.position(lid), day, accepting=accepting,
                   accessible=(("adacomp", "ADA compliant"),) if r.random() < 0.6 else (),
                   hours=(WEEKDAYS + ["sat"], "08:00:00", "20:00:00") if kind == "pharmacy" else None)
        if kind == "hospital":
            lid2 = lid + "-outpatient"
            d.location(lid2, f"{oname} Outpatient Pavilion", "specialty", city.address(), city.phone(), oid,
                       city.position(lid2), day, part_of=lid, alias=f"{words[i]} Pavilion",
                       description="Outpatient clinics, imaging and infusion services.")
            loc_ids.append(lid2)
        services = []
        for category in KINDS[kind][2]:
            sid = f"hs-{city.slug}-{kind}-{i + 1}-{category}"
            closed = ("Closed for renovation", "2026-12-21", "2027-01-04") if kind == "vision" and name == "Austin" \
                else None
            d.service(sid, oid, kind, category, f"{oname} {SERVICE_CATEGORY[category].lower()} services", loc_ids, ph,
                      city.state, day, virtual=kind in ("clinic", "specialty") and r.random() < 0.5,
                      accepting=accepting, closed=closed)
            services.append(sid)
        d.org_info[oid] = {"kind": kind, "name": oname, "locations": loc_ids, "services": services, "phone": ph,
                           "address": addr, "city": name, "endpoint": endpoint}
        nets = [n for n in networks_for(name, kind) if r.random() < min(1.0, PARTICIPATION[n] + 0.08)]
        orgs[oid] = []
        for nid in nets:
            start = f"{r.randrange(2012, 2025)}-{r.choice(('01', '04', '07', '10'))}-01"
            orgs[oid].append((nid, start))
            d.affiliation(oid, nid, start, day)
    by_kind = {}
    for oid in orgs:
        by_kind.setdefault(d.org_info[oid]["kind"], []).append(oid)
    weights = [s[5] for s in SPECIALTIES]
    for _ in range(PER_CITY):
        counter[0] += 1
        n = counter[0]
        spec = r.choices(SPECIALTIES, weights)[0]
        given, family = r.choice(GIVEN), r.choice(FAMILY)
        pid = f"pract-d{n:04d}"
        prefix = "Dr." if spec[3] in ("MD", "DO", "DDS", "DMD", "OD", "DPM", "DC", "PhD", "DPT") else None
        candidates = [o for k in SETTING_KINDS[spec[4]] for o in by_kind.get(k, [])]
        home = candidates[0] if spec[4] != "primary" else r.choice(candidates)
        places = [home]
        if spec[4] == "specialty" and r.random() < 0.3 and "hospital" in by_kind and home not in by_kind["hospital"]:
            places.append(by_kind["hospital"][0])
        day = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}"
        licensed = f"{r.randrange(1990, 2022)}-07-01"
        language = None
        if r.random() < 0.22:
            lang = r.choice(LANGUAGES)
            language = (lang[0], lang[1], r.choice(("30", "40", "50")))
        d.practitioner(pid, given, family, prefix, spec[3], city.state, d.unique_npi(1_400_000_000 + n * 104723),
                       home, day, language=language, licensed=licensed, lean=True)
        accepting = r.choices(("newpt", "existptonly", "nopt", "existptfam"), (70, 14, 10, 6))[0]
        away = None
        if r.random() < 0.02:
            away = ("On leave", "2026-11-01", "2027-02-28")
        for place in places:
            for nid, org_start in orgs[place]:
                if r.random() > 0.92:
                    continue
                start = max(org_start, licensed[:4] + "-07-01")
                rid = f"role-d{n:04d}-{place.rsplit('-', 1)[-1]}-{NET_SHORT[nid]}"
                d.role(rid, pid, place, spec, nid, start, day, accepting=accepting, lean=True,
                       hours=WEEKDAYS if r.random() < 0.3 else None, phone_hours=r.random() < 0.15, away=away,
                       characteristics=CHARACTERISTICS.get(spec[4]) if r.random() < 0.25 else None)


def geolocation(position):
    return {"url": "http://hl7.org/fhir/StructureDefinition/geolocation", "extension": [
        {"url": "latitude", "valueDecimal": position["latitude"]},
        {"url": "longitude", "valueDecimal": position["longitude"]}]}


def enrich_shared(d):
    """Fuller records for the members' providers: identifiers with their types, geolocated
    addresses, contact hours, accreditations, board certifications, answering services."""
    by_id = {(r["resourceType"], r["id"]): r for rs in d.out.values() for r in rs}
    typed = lambda text, system, value: {"type": {"text": text}, "system": system, "value": value}
    for p in PRODUCTS:
        ident = by_id[("InsurancePlan", p[0])]["identifier"][0]
        ident["type"] = {"text": "Plan identifier"}
    for n in NETWORKS:
        ident = by_id[("Organization", n[0])]["identifier"][0]
        by_id[("Organization", n[0])]["identifier"][0] = dict({"type": {"text": "Network identifier"}}, **ident)
    for o in catalog.PROVIDER_ORGS:
        oid, name, taxonomy, addr, phone_, npi_seed, tax = o
        suffix = oid[len("org-"):]
        org, loc = by_id[("Organization", oid)], by_id[("Location", "loc-" + suffix)]
        org["address"][0] = dict({"extension": [geolocation(loc["position"])]}, **org["address"][0])
        loc["identifier"] = [typed("Location identifier", DHP_BASE + "/location-id", "L-" + suffix.upper())]
        loc["telecom"][0] = phone(phone_, hours=(ALL_DAYS, None, None) if TAXONOMY_KIND[taxonomy[0]] == "hospital"
                                  else (WEEKDAYS, "08:00:00", "17:00:00"))
        if TAXONOMY_KIND[taxonomy[0]] == "hospital":
            loc["endpoint"] = [ref("Endpoint", f"ep-{suffix}-direct")]
            org["extension"].append(ext("qualification", extension=[
                {"url": "identifier", "valueIdentifier": {"system": "https://accreditation.example.org/hospital",
                                                          "value": f"ACC-{npi_seed:04d}"}},
                {"url": "code", "valueCodeableConcept": cc(NUCC, "282N00000X", "General Acute Care Hospital")},
                {"url": "issuer", "valueReference": {"display": "Hospital Accreditation Commission"}},
                {"url": "status", "valueCode": "active"},
                {"url": "period", "valuePeriod": {"start": "2024-01-01", "end": "2026-12-31"}},
                {"url": "whereValid", "valueCodeableConcept": cc("https://www.usps.com/", addr[2])}]))
        for (t, i), r in by_id.items():
            if t == "OrganizationAffiliation" and i.startswith(f"aff-{suffix}-"):
                ident = r["identifier"][0]
                r["identifier"][0] = dict({"type": {"text": "Provider contract number"}}, **ident)
        hs = by_id.get(("HealthcareService", "hs-" + suffix))
        if hs:
            idx = list(hs).index("active")
            items = list(hs.items())
            items.insert(idx, ("identifier", [typed("Service identifier", DHP_BASE + "/service-id",
                                                    "S-" + suffix.upper())]))
            hs.clear()
            hs.update(items)
            hs["telecom"][0] = phone(phone_, hours=(WEEKDAYS, "08:00:00", "17:00:00"))
    # After hours, the clinics' lines are answered through their hospitals.
    for clinic, hospital in (("org-charles-river-family-medicine", "org-beacon-hill-general"),
                             ("org-peachtree-medical-group", "org-midtown-atlanta-hospital")):
        org = by_id[("Organization", clinic)]
        org["telecom"].append(phone(catalog.ORG_BY_ID[hospital][4], rank=2, via=("Organization", hospital)))
        org["telecom"][0]["rank"] = 1
        loc = by_id[("Location", "loc-" + clinic[len("org-"):])]
        loc["telecom"].append(phone(catalog.ORG_BY_ID[hospital][4], via=("Location", "loc-" + hospital[len("org-"):])))
        hs = by_id[("HealthcareService", "hs-" + clinic[len("org-"):])]
        hs["telecom"].append(phone(catalog.ORG_BY_ID[hospital][4], via=("Organization", hospital)))
    for p in catalog.PRACTITIONERS + catalog.LATE_PRACTITIONERS:
        pid, org_id = p[0], p[5]
        suffix = pid[len("pract-"):]
        loc = by_id[("Location", "loc-" + org_id[len("org-"):])]
        pr = by_id[("Practitioner", pid)]
        pr["address"][0] = dict({"extension": [geolocation(loc["position"])]}, **pr["address"][0])
        role = by_id[("PractitionerRole", "role-" + suffix)]
        items = list(role.items())
        items.insert(list(role).index("active"), ("identifier", [
            typed("Practitioner role identifier", DHP_BASE + "/practitioner-role-id", "R-" + suffix.upper())]))
        role.clear()
        role.update(items)
        for e in role["extension"]:
            if e["url"] == PLANNET + "qualification":
                e["extension"].insert(0, {"url": "identifier", "valueIdentifier": {
                    "system": "https://board-certification.example.org", "value": f"BC-{p[6]:05d}"}})
        role["telecom"][0]["rank"] = 1
        role["telecom"].append(phone(catalog.ORG_BY_ID[org_id][4], rank=2, via=("Organization", org_id)))
        if p[4][0] == "207P00000X":  # emergency medicine: around the clock
            role["availableTime"] = [{"daysOfWeek": ALL_DAYS, "allDay": True}]


def generate():
    """-> {resource type: [resources]} of the provider directory, in a stable order."""
    d = Directory()
    d.endpoints()
    d.payers()
    d.networks()
    d.products()
    shared_providers(d)
    enrich_shared(d)
    counter = [0]
    for name, *_ in CITIES:
        synthetic_city(d, name, counter)
    return d.out
