"""The other health plans of the payer-sandbox network, written to seed-data/plans/{key}/.

Each plan is a data directory of its own, laid out like seed-data/ (the server can be started on
it with `--data seed-data/plans/{key}`): `shared.json` (the plan's payer and the providers its
members' claims name), one `member-NN-given-family.json` Bundle per member, `directory/` (a small
Plan-Net provider directory of the plan's own), `formulary/` for a plan that publishes one,
`README.md` and `logo.svg`. No timeline.

    cascade     Cascade Health Alliance: Washington and Oregon; commercial (PPO) and Medicare
                Advantage (HMO); a drug formulary.
    lakeshore   Lakeshore Mutual Health: Illinois, Michigan and Wisconsin; commercial (PPO) and
                Medicaid managed care (HMO); no formulary.

Marisol Vega-Lindqvist is a member of both: Lakeshore from 2022-01-01 to 2025-03-31 in Chicago,
then Cascade from 2025-04-01 in Portland (same name and birth date; another member ID, Patient id
and address).

The members, directories and formulary are built with the same builders as the Demo Health
Plan's (builder.Member, clinical, priorauth, directory.Directory, formulary): while a plan is
built, `scope()` points the tables those builders read (catalog's payers and providers,
directory's networks, cities and network members, formulary's payer) at the plan's own, and
puts the Demo tables back afterwards, so the Demo data set is untouched. The resources are
written with natural ids (`eob-theo-makoa-20260214-outpatient`, `org-elliott-bay-hospital`),
then `prefix_ids()` gives every id of the plan's folder the plan's key as a prefix
(`cascade-eob-...`; ids that already start with it, such as the payer's `cascade-health-alliance`
and the Patients', are kept) and rewrites the references: no id repeats the Demo data's, and
every reference is checked to resolve within its own data set (member data with shared.json, the
directory, the formulary).
"""

import contextlib
import os
import random
import re

import catalog
import clinical
import directory
import formulary
from builder import ClaimNumbers, CoverageRef, Member, coverage_resource, cpt, hcpcs, not_applicable, patient_resource, rev
from claims import CostShare, qty
from fhirkit import CS, PROFILES, cc, npi, npi_is_valid
from members import ALBUTEROL, FLUTICASONE, LISINOPRIL, METFORMIN, METOPROLOL, OMEPRAZOLE
from priorauth import record_utilization

EARLY = "2016-01-01"
HISPANIC = ("2135-2", "Hispanic or Latino")
SNOMED = CS["snomed"]
OUTPATIENT_HOSPITAL = ("22", "On Campus-Outpatient Hospital")
ER = ("23", "Emergency Room - Hospital")
NOT_NECESSARY = ("carc", "50", "These are non-covered services because this is not deemed a 'medical necessity' by the payer.")
LEVEL_NOT_SUPPORTED = ("carc", "150", "Payer deems the information submitted does not support this level of service.")
APPEAL = "The ordering provider may request a peer-to-peer review or submit an appeal within 60 days."

# The member who changed plans: Lakeshore Mutual Health until 2025-03-31, Cascade Health
# Alliance from 2025-04-01. The same person in both: name, birth date, phone and email.
MARISOL = dict(given="Marisol", family="Vega-Lindqvist", gender="female", birth_date="1983-10-09",
               phone="312-555-0147", email="marisol.vega.lindqvist@example.com", ethnicity=HISPANIC)
MARISOL_SLUG = "marisol-vega-lindqvist"

# Common diagnoses (ICD-10-CM).
HTN = ("I10", "Essential (primary) hypertension")
GERD = ("K21.9", "Gastro-esophageal reflux disease without esophagitis")
ADULT_EXAM = ("Z00.00", "Encounter for general adult medical examination without abnormal findings")

# Procedure codes used more than once.
NEW_PATIENT = cpt("99204", "Office or other outpatient visit, new patient, moderate MDM")
ESTABLISHED = cpt("99214", "Office or other outpatient visit, established patient, moderate MDM")
ED_VISIT = cpt("99284", "Emergency department visit, moderate MDM")
THERAPY = cpt("97110", "Therapeutic procedure, 1 or more areas, each 15 minutes; therapeutic exercises")
LAB = ("0300", "Laboratory - general")
NO_COST_SHARE = {"deductible": False, "coinsurance": False}


# ============================================================================ Cascade Health Alliance
CHA = "cascade-health-alliance"
# Members' providers (catalog.py's layouts).
WILLAMETTE = "org-willamette-river-hospital"
HAWTHORNE = "org-hawthorne-family-practice"
ALBERTA = "org-alberta-street-pharmacy"
COMMENCEMENT = "org-commencement-bay-medical-center"
PROCTOR = "org-proctor-district-clinic"
POINT_DEFIANCE = "org-point-defiance-pharmacy"
ELLIOTT = "org-elliott-bay-hospital"
COLUMBIA_CITY = "org-columbia-city-family-clinic"
DUWAMISH = "org-duwamish-urgent-care"
SOLBERG = "pract-ingrid-solberg"
QUINTERO = "pract-rafael-quintero"
FAIRWEATHER = "pract-naomi-fairweather"
WIERZBICKI = "pract-tomasz-wierzbicki"
CASTELLANOS = "pract-miriam-castellanos"
ADEBAYO = "pract-oluwaseun-adebayo"
TAKAHASHI = "pract-june-takahashi"
AKANA = "pract-kalani-akana"

HOSPITAL, CLINIC, PHARMACY, URGENT = (("282N00000X", "General Acute Care Hospital"),
                                      ("261QP2300X", "Primary Care Clinic/Center"),
                                      ("3336C0003X", "Community/Retail Pharmacy"),
                                      ("261QU0200X", "Urgent Care Clinic/Center"))
FAMILY_MEDICINE = ("207Q00000X", "Family Medicine Physician")


def cascade_marisol(numbers):
    """Marisol Vega-Lindqvist since she joined Cascade Health Alliance (2025-04-01)."""
    m = Member(numbers, MARISOL_SLUG, "cascade-" + MARISOL_SLUG, "MV")
    pid = m.pid
    mid = "CHA204518736"
    m.add(patient_resource(pid=pid, member_id=mid, payer_id=CHA, address=("2714 NE Going Street", "Portland", "OR", "97211"),
                           address_since="2025-03-15", last_updated="2025-04-02T16:20:05Z", **MARISOL))
    cid = "coverage-" + MARISOL_SLUG
    m.add(coverage_resource(
        cid=cid, last_updated="2025-04-01T08:05:12Z", payer_id=CHA, beneficiary_id=pid, subscriber=("Patient", pid),
        subscriber_id=mid, member_id=mid, relationship=("self", "Self"), period=("2025-04-01", None),
        plan=("CHA-EVERGREEN-PPO", "Cascade Evergreen PPO"), group=("RCD-0417", "Rose City Design Cooperative"),
        dependent="01", network="Cascade Northwest PPO Network"))
    cov = CoverageRef(CHA, CostShare(deductible=100000, coinsurance_pct=20, office_copay=3000, er_copay=20000,
                                     rx_copay=1000), coverage_id=cid)
    chole = ("K80.00", "Calculus of gallbladder with acute cholecystitis without obstruction")
    # ---- 2025: a new primary care physician after the move; her usual prescriptions
    m.professional(cov, date="2025-04-22", billing=HAWTHORNE, rendering=SOLBERG, dx=[HTN, GERD], copay=3000,
                   lines=[(NEW_PATIENT, 1, 29500)])
    m.pharmacy(cov, date="2025-04-23", pharmacy=ALBERTA, prescriber=SOLBERG, drug=LISINOPRIL,
               quantity=qty(30, "tablet", "{tablet}"), days=30, submitted=1400, refills_authorized=5, origin="3")
    # ---- acute cholecystitis: admitted through the emergency department, laparoscopic cholecystectomy
    m.inpatient(cov, start="2025-09-28", end="2025-09-30", facility=WILLAMETTE, attending=QUINTERO,
                operating=QUINTERO, referring=SOLBERG,
                dx=[chole + ("Y",), ("R10.11", "Right upper quadrant pain", "Y"), HTN + ("Y",)],
                px=[("0FT44ZZ", "Resection of Gallbladder, Percutaneous Endoscopic Approach", "2025-09-29")],
                drg=("419", "Laparoscopic cholecystectomy without C.D.E. without CC/MCC"), admtype="1", origin="1",
                discharge="01", header_amounts=False,
                lines=[(rev("0450", "Emergency room - general"), ED_VISIT, 1, 128000, {"date": "2025-09-28"}),
                       (rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 2, 720000,
                        {"date": "2025-09-28"}),
                       (rev("0360", "Operating room services - general"),
                        cpt("47562", "Laparoscopy, surgical; cholecystectomy"), 1, 1680000, {"date": "2025-09-29"})])
    # ---- 2026: annual physical, a 90-day refill
    m.professional(cov, date="2026-03-17", billing=HAWTHORNE, rendering=SOLBERG, dx=[ADULT_EXAM, HTN],
                   lines=[(cpt("99396", "Periodic comprehensive preventive medicine, established patient, 40-64 years"),
                           1, 28500, NO_COST_SHARE)])
    m.pharmacy(cov, date="2026-03-18", pharmacy=ALBERTA, prescriber=SOLBERG, drug=LISINOPRIL,
               quantity=qty(90, "tablet", "{tablet}"), days=90, submitted=3200, refills_authorized=3, origin="3")
    # ---- prior authorizations: an upper endoscopy (approved, done), a cervical spine MRI (denied)
    dysphagia = ("R13.10", "Dysphagia, unspecified")
    egd = cpt("43239", "Esophagogastroduodenoscopy, flexible, transoral; with biopsy, single or multiple")
    egd_auth = m.prior_authorization(
        cov, created="2026-05-18", decided="2026-05-20", requester=SOLBERG, provider=HAWTHORNE, facility=WILLAMETTE,
        dx=[dysphagia, GERD], period=("2026-05-25", "2026-08-24"),
        disposition="Approved: one upper endoscopy with biopsy between 2026-05-25 and 2026-08-24.",
        items=[dict(category=("73", "Diagnostic Medical"), product=egd, requested=1, unit="unit", per_unit=265000,
                    decision="approved", service=("2026-05-25", "2026-08-24"), pos=OUTPATIENT_HOSPITAL,
                    authorized_provider=("Practitioner", QUINTERO))])
    endoscopy = m.professional(cov, date="2026-06-09", billing=WILLAMETTE, rendering=QUINTERO, facility=WILLAMETTE,
                               pos=OUTPATIENT_HOSPITAL, referring=SOLBERG, dx=[dysphagia, GERD],
                               pre_auth=egd_auth["preAuthRef"][0], lines=[(egd, 1, 98000)])
    record_utilization(egd_auth, [endoscopy])
    m.prior_authorization(
        cov, created="2026-08-03", decided="2026-08-06", requester=SOLBERG, provider=HAWTHORNE, facility=WILLAMETTE,
        dx=[("M54.2", "Cervicalgia")],
        disposition="Denied: six weeks of conservative treatment must be documented before an MRI for neck pain "
                    "without neurological signs.",
        items=[dict(category=("62", "MRI/CAT Scan"),
                    product=cpt("72141", "Magnetic resonance imaging, spinal canal and contents, cervical; without contrast material"),
                    requested=1, unit="study", per_unit=158000, decision="denied", service=("2026-08-10", "2026-11-10"),
                    pos=OUTPATIENT_HOSPITAL, denial=NOT_NECESSARY)],
        notes=[APPEAL])
    # ---- clinical record
    m.add(clinical.condition(cid=f"cond-{MARISOL_SLUG}-hypertension", patient_id=pid,
                             snomed=("59621000", "Essential hypertension"), icd10=HTN, onset="2019-06-01",
                             recorded="2025-04-22"))
    m.add(clinical.condition(cid=f"cond-{MARISOL_SLUG}-gerd", patient_id=pid,
                             snomed=("235595009", "Gastroesophageal reflux disease"), icd10=GERD, onset="2021-03-01",
                             recorded="2025-04-22"))
    m.add(clinical.condition(cid=f"cond-{MARISOL_SLUG}-cholecystitis", patient_id=pid,
                             snomed=("65275009", "Acute cholecystitis"), icd10=chole, onset="2025-09-27",
                             abatement="2025-09-29", recorded="2025-09-28", clinical="resolved"))
    m.add(clinical.allergy(aid=f"allergy-{MARISOL_SLUG}-sulfonamide", patient_id=pid,
                           code={"coding": [{"system": SNOMED, "code": "387406002", "display": "Sulfonamide"}],
                                 "text": "Sulfonamide antibiotics"},
                           recorded="2025-04-22", manifestation=cc("snomed", "271807003", "Eruption of skin")))
    m.add(clinical.immunization(iid=f"imm-{MARISOL_SLUG}-flu-2025", patient_id=pid, day="2025-10-21",
                                cvx=("140", "Influenza, seasonal, injectable, preservative free"), lot="FL25P0931"))
    phys = dict(patient_id=pid, day="2026-03-17")
    m.add(clinical.blood_pressure(oid=f"obs-{MARISOL_SLUG}-bp-20260317", systolic=128, diastolic=82, **phys))
    m.add(clinical.lab(oid=f"obs-{MARISOL_SLUG}-ldl-20260317",
                       loinc=("13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation"),
                       value=104, unit="mg/dL", ucum_code="mg/dL", high=100, interpretation=("H", "High"), **phys))
    return "member-01-" + MARISOL_SLUG, m


def cascade_gunnar(numbers):
    m = Member(numbers, "gunnar-halvorsen", "cascade-gunnar-halvorsen", "GH")
    pid = m.pid
    mid = "CHA318804527"
    m.add(patient_resource(pid=pid, given="Gunnar", family="Halvorsen", gender="male", birth_date="1951-04-26",
                           member_id=mid, payer_id=CHA, address=("3914 North 26th Street", "Tacoma", "WA", "98407"),
                           phone="253-555-0162", email="gunnar.halvorsen@example.com",
                           last_updated="2025-01-06T10:41:27Z", address_since="1988-05-01"))
    cid = "coverage-gunnar-halvorsen"
    m.add(coverage_resource(
        cid=cid, last_updated="2025-01-02T07:30:00Z", payer_id=CHA, beneficiary_id=pid, subscriber=("Patient", pid),
        subscriber_id=mid, member_id=mid, relationship=("self", "Self"), period=("2021-01-01", None),
        plan=("CHA-MA-HMO", "Cascade Medicare Advantage HMO"), group=("MA-WA-01", "Washington Medicare Advantage"),
        dependent="01", network="Cascade Medicare Advantage HMO Network"))
    cov = CoverageRef(CHA, CostShare(deductible=0, coinsurance_pct=20, office_copay=1000, er_copay=9000, rx_copay=500),
                      coverage_id=cid)
    acute = ("I50.23", "Acute on chronic systolic (congestive) heart failure")
    chronic = ("I50.22", "Chronic systolic (congestive) heart failure")
    hhd = ("I11.0", "Hypertensive heart disease with heart failure")
    lipid = ("E78.5", "Hyperlipidemia, unspecified")
    bnp = cpt("83880", "Natriuretic peptide")
    echo = cpt("93306", "Echocardiography, transthoracic, real-time with image documentation (2D), complete, with spectral and color flow Doppler")
    # ---- 2024: admitted with decompensated heart failure, paid at the DRG rate
    m.inpatient(cov, start="2024-02-11", end="2024-02-15", facility=COMMENCEMENT, attending=WIERZBICKI,
                referring=FAIRWEATHER, dx=[hhd + ("Y",), acute + ("Y",), lipid + ("Y",)], px=[],
                drg=("292", "Heart failure and shock with CC"), admtype="1", origin="1", discharge="01",
                header_amounts=True, header_adjustment=("45",),
                notes=[(1, "Paid under the inpatient DRG rate; charges above the contracted rate are not billable to the member.")],
                lines=[(rev("0450", "Emergency room - general"), cpt("99285", "Emergency department visit, high MDM"), 1, 168000,
                        {"date": "2024-02-11"}),
                       (rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 4, 1480000,
                        {"date": "2024-02-11"}),
                       (rev("0250", "Pharmacy - general"), not_applicable(), 1, 164000, {"date": "2024-02-11"}),
                       (rev(*LAB), bnp, 1, 8900, {"date": "2024-02-11"}),
                       (rev("0324", "Radiology - diagnostic - chest X-ray"), cpt("71046", "Radiologic examination, chest; 2 views"),
                        1, 36000, {"date": "2024-02-11"}),
                       (rev("0483", "Cardiology - echocardiology"), echo, 1, 310000, {"date": "2024-02-12"})])
    # ---- 2025: primary care visit with a pneumococcal vaccine; 90-day generic fills
    m.professional(cov, date="2025-06-10", billing=PROCTOR, rendering=FAIRWEATHER, dx=[chronic, hhd, lipid, ("Z23", "Encounter for immunization")],
                   copay=1000,
                   lines=[(ESTABLISHED, 1, 21000),
                          (cpt("90677", "Pneumococcal conjugate vaccine, 20 valent (PCV20), for intramuscular use"), 1, 28000,
                           dict(NO_COST_SHARE, dxseq=[4]))])
    m.pharmacy(cov, date="2025-06-11", pharmacy=POINT_DEFIANCE, prescriber=WIERZBICKI, drug=METOPROLOL,
               quantity=qty(90, "tablet", "{tablet}"), days=90, submitted=3300, refills_authorized=3, origin="3")
    # ---- 2026: follow-up echocardiogram; cardiac rehabilitation under a prior authorization
    m.outpatient(cov, date="2026-01-20", facility=COMMENCEMENT, attending=WIERZBICKI, referring=FAIRWEATHER,
                 dx=[chronic], admtype="3", origin="1",
                 lines=[(rev("0483", "Cardiology - echocardiology"), echo, 1, 298000)])
    rehab = cpt("93798", "Physician or other qualified health care professional services for outpatient cardiac rehabilitation; with continuous ECG monitoring (per session)")
    rehab_auth = m.prior_authorization(
        cov, created="2026-02-16", decided="2026-02-18", requester=WIERZBICKI, provider=COMMENCEMENT,
        facility=COMMENCEMENT, dx=[chronic], period=("2026-02-23", "2026-12-18"),
        disposition="Approved: 36 sessions of cardiac rehabilitation between 2026-02-23 and 2026-12-18.",
        items=[dict(category=("BG", "Cardiac Rehabilitation"), product=rehab, requested=36, unit="session",
                    per_unit=11500, decision="approved", service=("2026-02-23", "2026-12-18"), pos=OUTPATIENT_HOSPITAL,
                    authorized_provider=("Organization", COMMENCEMENT))])
    sessions = [m.professional(cov, date=day, billing=COMMENCEMENT, rendering=WIERZBICKI, facility=COMMENCEMENT,
                               pos=OUTPATIENT_HOSPITAL, dx=[chronic], copay=1500, lag=i,
                               pre_auth=rehab_auth["preAuthRef"][0], lines=[(rehab, 1, 11500)])
                for i, day in enumerate(("2026-03-03", "2026-03-05"))]
    record_utilization(rehab_auth, sessions)
    m.prior_authorization(
        cov, created="2026-10-12", requester=WIERZBICKI, provider=COMMENCEMENT, facility=COMMENCEMENT,
        dx=[chronic, ("I42.0", "Dilated cardiomyopathy")],
        disposition="Pending clinical review: the ejection fraction measured after three months of optimal medical "
                    "therapy was requested from the cardiologist.",
        items=[dict(category=("2", "Surgical"),
                    product=cpt("33249", "Insertion or replacement of permanent implantable defibrillator system, with transvenous lead(s), single or dual chamber"),
                    requested=1, unit="unit", per_unit=4850000, decision="pending", service=("2026-11-02", "2027-01-31"),
                    pos=OUTPATIENT_HOSPITAL)])
    # ---- clinical record
    m.add(clinical.condition(cid="cond-gunnar-halvorsen-heart-failure", patient_id=pid,
                             snomed=("441481004", "Chronic systolic heart failure"), icd10=chronic, onset="2024-02-11",
                             recorded="2024-02-15"))
    m.add(clinical.condition(cid="cond-gunnar-halvorsen-hyperlipidemia", patient_id=pid,
                             snomed=("55822004", "Hyperlipidemia"), icd10=lipid, onset="2009-01-01",
                             recorded="2021-02-03"))
    visit = dict(patient_id=pid, day="2025-06-10")
    m.add(clinical.blood_pressure(oid="obs-gunnar-halvorsen-bp-20250610", systolic=134, diastolic=78, **visit))
    m.add(clinical.vital(oid="obs-gunnar-halvorsen-weight-20250610", kind="body-weight", value=88.2, **visit))
    m.add(clinical.lab(oid="obs-gunnar-halvorsen-bnp-20260120", patient_id=pid, day="2026-01-20",
                       loinc=("30934-4", "Natriuretic peptide B [Mass/volume] in Serum or Plasma"), value=412,
                       unit="pg/mL", ucum_code="pg/mL", high=100, interpretation=("H", "High")))
    m.add(clinical.immunization(iid="imm-gunnar-halvorsen-pcv20-2025", patient_id=pid, day="2025-06-10",
                                cvx=("216", "Pneumococcal conjugate PCV20, polysaccharide CRM197, preservative free"),
                                lot="PC25K2207", performer=FAIRWEATHER))
    return "member-02-gunnar-halvorsen", m


def cascade_theo(numbers):
    m = Member(numbers, "theo-makoa", "cascade-theo-makoa", "TM")
    pid = m.pid
    mid = "CHA411270935"
    m.add(patient_resource(pid=pid, given="Theo", family="Makoa", gender="male", birth_date="1996-07-30", member_id=mid,
                           payer_id=CHA, address=("5217 South Genesee Street", "Seattle", "WA", "98118"),
                           phone="206-555-0139", email="theo.makoa@example.com", last_updated="2024-01-03T09:15:42Z",
                           race=("2076-8", "Native Hawaiian or Other Pacific Islander")))
    cid = "coverage-theo-makoa"
    m.add(coverage_resource(
        cid=cid, last_updated="2024-01-02T08:12:40Z", payer_id=CHA, beneficiary_id=pid, subscriber=("Patient", pid),
        subscriber_id=mid, member_id=mid, relationship=("self", "Self"), period=("2024-01-01", None),
        plan=("CHA-EVERGREEN-PPO", "Cascade Evergreen PPO"), group=("SSR-0112", "Salish Sea Robotics"),
        dependent="01", network="Cascade Northwest PPO Network"))
    cov = CoverageRef(CHA, CostShare(deductible=100000, coinsurance_pct=20, office_copay=3000, er_copay=20000,
                                     rx_copay=1000), coverage_id=cid)
    acl = ("S83.511A", "Sprain of anterior cruciate ligament of right knee, initial encounter")
    acl_later = ("S83.511D", "Sprain of anterior cruciate ligament of right knee, subsequent encounter")
    right = [("hcpcs", "RT", "Right side")]
    mri = cpt("73721", "Magnetic resonance imaging, any joint of lower extremity; without contrast material")
    m.professional(cov, date="2025-05-20", billing=COLUMBIA_CITY, rendering=CASTELLANOS, dx=[ADULT_EXAM],
                   lines=[(cpt("99395", "Periodic comprehensive preventive medicine, established patient, 18-39 years"),
                           1, 24500, NO_COST_SHARE)])
    # ---- 2026: a knee injury playing soccer
    m.outpatient(cov, date="2026-02-14", facility=DUWAMISH, attending=ADEBAYO, admtype="2", origin="1", copay=7500,
                 dx=[acl, ("W03.XXXA", "Other fall on same level due to collision with another person, initial encounter"),
                     ("Y93.66", "Activity, soccer")],
                 lines=[(rev("0456", "Emergency room - urgent care"),
                         cpt("99203", "Office or other outpatient visit, new patient, low MDM"), 1, 26000),
                        (rev("0320", "Radiology - diagnostic - general"), cpt("73562", "Radiologic examination, knee; 3 views"),
                         1, 21000, {"modifier": right})])
    m.professional(cov, date="2026-02-24", billing=ELLIOTT, rendering=TAKAHASHI, facility=ELLIOTT, pos=OUTPATIENT_HOSPITAL,
                   referring=CASTELLANOS, dx=[acl], copay=5000, lines=[(NEW_PATIENT, 1, 33500)])
    mri_auth = m.prior_authorization(
        cov, created="2026-02-24", decided="2026-02-26", requester=TAKAHASHI, provider=ELLIOTT, facility=ELLIOTT,
        dx=[acl], period=("2026-03-01", "2026-05-31"),
        disposition="Approved: one MRI of the right knee between 2026-03-01 and 2026-05-31.",
        items=[dict(category=("62", "MRI/CAT Scan"), product=mri, requested=1, unit="study", per_unit=182000,
                    decision="approved", service=("2026-03-01", "2026-05-31"), pos=OUTPATIENT_HOSPITAL,
                    modifier=right, authorized_provider=("Organization", ELLIOTT))])
    m.outpatient(cov, date="2026-03-04", facility=ELLIOTT, attending=TAKAHASHI, referring=CASTELLANOS, dx=[acl],
                 admtype="3", origin="2",
                 lines=[(rev("0610", "Magnetic resonance technology (MRT) - general"), mri, 1, 182000, {"modifier": right})],
                 notes=[(1, "Prior authorization " + mri_auth["preAuthRef"][0] + " on file.")])
    pt_auth = m.prior_authorization(
        cov, created="2026-03-09", decided="2026-03-11", requester=TAKAHASHI, provider=ELLIOTT, facility=ELLIOTT,
        dx=[acl_later], period=("2026-03-16", "2026-06-15"),
        disposition="Partially approved: 8 of the 12 physical therapy visits requested, between 2026-03-16 and "
                    "2026-06-15; more visits may be requested with a progress report.",
        items=[dict(category=("PT", "Physical Therapy"), product=THERAPY, requested=12, unit="visit", per_unit=16000,
                    decision="partial", approved=8, denial=LEVEL_NOT_SUPPORTED, service=("2026-03-16", "2026-06-15"),
                    pos=OUTPATIENT_HOSPITAL, authorized_provider=("Practitioner", AKANA))])
    visits = [m.professional(cov, date=day, billing=ELLIOTT, rendering=AKANA, facility=ELLIOTT, pos=OUTPATIENT_HOSPITAL,
                             referring=TAKAHASHI, dx=[acl_later], copay=3000, lag=i,
                             pre_auth=pt_auth["preAuthRef"][0], lines=[(THERAPY, 1, 16000)])
              for i, day in enumerate(("2026-03-17", "2026-03-24"))]
    record_utilization(pt_auth, visits)
    # ---- clinical record
    m.add(clinical.condition(cid="cond-theo-makoa-acl-tear", patient_id=pid,
                             snomed=("239720000", "Tear of anterior cruciate ligament of knee joint"), icd10=acl,
                             onset="2026-02-13", recorded="2026-02-14"))
    m.add(clinical.condition(cid="cond-theo-makoa-allergic-rhinitis", patient_id=pid,
                             snomed=("61582004", "Allergic rhinitis"), icd10=("J30.9", "Allergic rhinitis, unspecified"),
                             onset="2010-04-01", recorded="2025-05-20"))
    visit = dict(patient_id=pid, day="2025-05-20")
    m.add(clinical.blood_pressure(oid="obs-theo-makoa-bp-20250520", systolic=118, diastolic=74, **visit))
    m.add(clinical.vital(oid="obs-theo-makoa-bmi-20250520", kind="bmi", value=24.9, **visit))
    m.add(clinical.smoking_status(oid="obs-theo-makoa-smoking-20250520", status=("266919005", "Never smoked tobacco"),
                                  **visit))
    m.add(clinical.immunization(iid="imm-theo-makoa-tdap-2025", patient_id=pid, day="2025-05-20", cvx=("115", "Tdap"),
                                lot="TD25B0618", performer=CASTELLANOS))
    return "member-03-theo-makoa", m


# ============================================================================ Lakeshore Mutual Health
LMH = "lakeshore-mutual-health"
NORTH_BRANCH = "org-north-branch-hospital"
LOGAN_SQUARE = "org-logan-square-medical-group"
WICKER_PARK = "org-wicker-park-pharmacy"
PILSEN = "org-pilsen-community-health-center"
HALSTED = "org-halsted-street-pharmacy"
MENOMONEE = "org-menomonee-valley-medical-center"
BAY_VIEW = "org-bay-view-family-medicine"
DOWNER = "org-downer-avenue-pharmacy"
NWOSU = "pract-adaeze-nwosu"
DUDEK = "pract-stanislaw-dudek"
CAMACHO = "pract-beatriz-camacho"
PRITCHARD = "pract-owen-pritchard"
MONTOYA = "pract-graciela-montoya"
SIDDIQUI = "pract-farah-siddiqui"
AALTO = "pract-henrik-aalto"
VANCE = "pract-keisha-vance"
SUBRAMANIAM = "pract-ravi-subramaniam"


def lakeshore_marisol(numbers):
    """Marisol Vega-Lindqvist as Lakeshore Mutual Health knew her: a member from 2022-01-01 until
    she moved to Portland (coverage ended 2025-03-31)."""
    m = Member(numbers, MARISOL_SLUG, "lakeshore-" + MARISOL_SLUG, "MV")
    pid = m.pid
    mid = "LMH-40718265"
    m.add(patient_resource(pid=pid, member_id=mid, payer_id=LMH,
                           address=("1847 West Cortland Street", "Chicago", "IL", "60622"), address_since="2016-08-01",
                           last_updated="2025-04-03T14:02:18Z", **MARISOL))
    cid = "coverage-" + MARISOL_SLUG
    m.add(coverage_resource(
        cid=cid, last_updated="2025-04-01T06:00:00Z", payer_id=LMH, beneficiary_id=pid, subscriber=("Patient", pid),
        subscriber_id=mid, member_id=mid, relationship=("self", "Self"), period=("2022-01-01", "2025-03-31"),
        plan=("LMH-CHOICE-PPO", "Lakeshore Choice PPO"), group=("WPD-0022", "Wicker Park Design Studio"),
        dependent="01", network="Lakeshore Choice PPO Network"))
    cov = CoverageRef(LMH, CostShare(deductible=75000, coinsurance_pct=20, office_copay=2500, er_copay=15000,
                                     rx_copay=1000), coverage_id=cid)
    pyelo = ("N10", "Acute pyelonephritis")
    back = ("M54.50", "Low back pain, unspecified")
    m.professional(cov, date="2022-02-15", billing=LOGAN_SQUARE, rendering=NWOSU, dx=[HTN, GERD], copay=2500,
                   lines=[(NEW_PATIENT, 1, 27500)])
    m.pharmacy(cov, date="2022-02-16", pharmacy=WICKER_PARK, prescriber=NWOSU, drug=LISINOPRIL,
               quantity=qty(30, "tablet", "{tablet}"), days=30, submitted=1300, refills_authorized=5, origin="3")
    # ---- 2023: admitted from the emergency department with a kidney infection, paid at the DRG rate
    m.inpatient(cov, start="2023-11-12", end="2023-11-15", facility=NORTH_BRANCH, attending=DUDEK, referring=CAMACHO,
                dx=[pyelo + ("Y",), ("R50.9", "Fever, unspecified", "Y"), HTN + ("Y",)], px=[],
                drg=("690", "Kidney and urinary tract infections without MCC"), admtype="1", origin="1", discharge="01",
                header_amounts=True, header_adjustment=("45",),
                notes=[(1, "Paid under the inpatient DRG rate; charges above the contracted rate are not billable to the member.")],
                lines=[(rev("0450", "Emergency room - general"), ED_VISIT, 1, 118000, {"date": "2023-11-12"}),
                       (rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 3, 990000,
                        {"date": "2023-11-12"}),
                       (rev("0250", "Pharmacy - general"), not_applicable(), 1, 132000, {"date": "2023-11-12"}),
                       (rev(*LAB), cpt("81001", "Urinalysis, automated, with microscopy"), 1, 2400, {"date": "2023-11-12"}),
                       (rev(*LAB), cpt("87086", "Culture, bacterial; quantitative colony count, urine"), 1, 4100,
                        {"date": "2023-11-12"}),
                       (rev(*LAB), cpt("85025", "Blood count; complete (CBC), automated, with differential"), 2, 17600,
                        {"date": "2023-11-13"})])
    # ---- 2024: physical therapy for low back pain under a prior authorization (since expired)
    pt_auth = m.prior_authorization(
        cov, created="2024-02-05", decided="2024-02-07", requester=NWOSU, provider=LOGAN_SQUARE, facility=NORTH_BRANCH,
        dx=[back], period=("2024-02-12", "2024-05-10"),
        disposition="Approved: 8 physical therapy visits between 2024-02-12 and 2024-05-10.",
        items=[dict(category=("PT", "Physical Therapy"), product=THERAPY, requested=8, unit="visit", per_unit=15500,
                    decision="approved", service=("2024-02-12", "2024-05-10"), pos=OUTPATIENT_HOSPITAL,
                    authorized_provider=("Practitioner", PRITCHARD))])
    visits = [m.professional(cov, date=day, billing=NORTH_BRANCH, rendering=PRITCHARD, facility=NORTH_BRANCH,
                             pos=OUTPATIENT_HOSPITAL, referring=NWOSU, dx=[back], copay=2500, lag=i,
                             pre_auth=pt_auth["preAuthRef"][0], lines=[(THERAPY, 1, 15500)])
              for i, day in enumerate(("2024-02-13", "2024-02-20"))]
    record_utilization(pt_auth, visits)
    m.professional(cov, date="2024-09-10", billing=LOGAN_SQUARE, rendering=NWOSU, dx=[ADULT_EXAM, HTN],
                   lines=[(cpt("99396", "Periodic comprehensive preventive medicine, established patient, 40-64 years"),
                           1, 26500, NO_COST_SHARE)])
    m.pharmacy(cov, date="2024-09-11", pharmacy=WICKER_PARK, prescriber=NWOSU, drug=OMEPRAZOLE,
               quantity=qty(30, "capsule", "{capsule}"), days=30, submitted=2100, refills_authorized=5, origin="3")
    # ---- clinical record
    m.add(clinical.condition(cid=f"cond-{MARISOL_SLUG}-hypertension", patient_id=pid,
                             snomed=("59621000", "Essential hypertension"), icd10=HTN, onset="2019-06-01",
                             recorded="2022-02-15"))
    m.add(clinical.condition(cid=f"cond-{MARISOL_SLUG}-gerd", patient_id=pid,
                             snomed=("235595009", "Gastroesophageal reflux disease"), icd10=GERD, onset="2021-03-01",
                             recorded="2022-02-15"))
    m.add(clinical.condition(cid=f"cond-{MARISOL_SLUG}-pyelonephritis", patient_id=pid,
                             snomed=("36689008", "Acute pyelonephritis"), icd10=pyelo, onset="2023-11-10",
                             abatement="2023-11-28", recorded="2023-11-12", clinical="resolved"))
    m.add(clinical.allergy(aid=f"allergy-{MARISOL_SLUG}-sulfonamide", patient_id=pid,
                           code={"coding": [{"system": SNOMED, "code": "387406002", "display": "Sulfonamide"}],
                                 "text": "Sulfonamide antibiotics"},
                           recorded="2022-02-15", manifestation=cc("snomed", "271807003", "Eruption of skin")))
    m.add(clinical.immunization(iid=f"imm-{MARISOL_SLUG}-flu-2024", patient_id=pid, day="2024-10-08",
                                cvx=("140", "Influenza, seasonal, injectable, preservative free"), lot="FL24C1187",
                                performer=NWOSU))
    visit = dict(patient_id=pid, day="2024-09-10")
    m.add(clinical.blood_pressure(oid=f"obs-{MARISOL_SLUG}-bp-20240910", systolic=132, diastolic=84, **visit))
    m.add(clinical.lab(oid=f"obs-{MARISOL_SLUG}-ldl-20240910",
                       loinc=("13457-7", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation"),
                       value=118, unit="mg/dL", ucum_code="mg/dL", high=100, interpretation=("H", "High"), **visit))
    return "member-01-" + MARISOL_SLUG, m


def lakeshore_yesenia(numbers):
    m = Member(numbers, "yesenia-ruvalcaba", "lakeshore-yesenia-ruvalcaba", "YR")
    pid = m.pid
    mid = "LMH-52906184"
    m.add(patient_resource(pid=pid, given="Yesenia", family="Ruvalcaba", gender="female", birth_date="1997-02-19",
                           member_id=mid, payer_id=LMH, address=("1932 South Throop Street", "Chicago", "IL", "60608"),
                           phone="312-555-0176", email="yesenia.ruvalcaba@example.com",
                           last_updated="2023-07-05T11:22:09Z", ethnicity=HISPANIC, language=("es", "Spanish")))
    cid = "coverage-yesenia-ruvalcaba"
    m.add(coverage_resource(
        cid=cid, last_updated="2023-07-01T05:45:00Z", payer_id=LMH, beneficiary_id=pid, subscriber=("Patient", pid),
        subscriber_id=mid, member_id=mid, relationship=("self", "Self"), period=("2023-07-01", None),
        plan=("LMH-CCARE-MCD", "Lakeshore Community Care (Illinois Medicaid)"),
        group=("IL-MCD-COOK", "Illinois Medicaid managed care, Cook County"), dependent="01",
        network="Lakeshore Community Care Network"))
    # Medicaid: no deductible, coinsurance or copays.
    cov = CoverageRef(LMH, CostShare(deductible=0, coinsurance_pct=0, office_copay=0, er_copay=0, rx_copay=0),
                      coverage_id=cid)
    asthma = ("J45.40", "Moderate persistent asthma, uncomplicated")
    attack = ("J45.41", "Moderate persistent asthma with (acute) exacerbation")
    m.professional(cov, date="2024-01-16", billing=PILSEN, rendering=MONTOYA, dx=[asthma], lines=[(NEW_PATIENT, 1, 21000)])
    m.pharmacy(cov, date="2024-01-16", pharmacy=HALSTED, prescriber=MONTOYA, drug=ALBUTEROL,
               quantity=qty(1, "inhaler", "{inhaler}"), days=30, submitted=6600, refills_authorized=2, brand=True,
               daw="1", origin="3")
    m.pharmacy(cov, date="2024-01-16", pharmacy=HALSTED, prescriber=MONTOYA, drug=FLUTICASONE,
               quantity=qty(1, "inhaler", "{inhaler}"), days=30, submitted=29400, refills_authorized=5, brand=True,
               daw="1", origin="3")
    # ---- 2025: an asthma attack treated in the emergency department, then a pulmonologist
    m.outpatient(cov, date="2025-01-21", facility=NORTH_BRANCH, attending=CAMACHO, dx=[attack], admtype="1", origin="1",
                 lines=[(rev("0450", "Emergency room - general"), ED_VISIT, 1, 112000),
                        (rev("0410", "Respiratory services - general"),
                         cpt("94640", "Pressurized or nonpressurized inhalation treatment for acute airway obstruction"), 2, 18000)])
    m.professional(cov, date="2025-01-21", billing=NORTH_BRANCH, rendering=CAMACHO, facility=NORTH_BRANCH, pos=ER,
                   dx=[attack], lines=[(ED_VISIT, 1, 49000)])
    m.professional(cov, date="2025-02-04", billing=NORTH_BRANCH, rendering=SIDDIQUI, facility=NORTH_BRANCH,
                   pos=OUTPATIENT_HOSPITAL, referring=MONTOYA, dx=[asthma],
                   lines=[(NEW_PATIENT, 1, 31000), (cpt("94010", "Spirometry"), 1, 9200)])
    m.professional(cov, date="2026-02-03", billing=NORTH_BRANCH, rendering=SIDDIQUI, facility=NORTH_BRANCH,
                   pos=OUTPATIENT_HOSPITAL, dx=[asthma], lines=[(ESTABLISHED, 1, 24000)])
    # ---- prior authorizations: a home nebulizer (approved), an asthma biologic (denied)
    m.prior_authorization(
        cov, created="2026-02-09", decided="2026-02-11", requester=SIDDIQUI, provider=NORTH_BRANCH, dx=[asthma],
        period=("2026-02-16", "2027-02-15"),
        disposition="Approved: one compressor nebulizer between 2026-02-16 and 2027-02-15.",
        items=[dict(category=("12", "Durable Medical Equipment Purchase"), product=hcpcs("E0570", "Nebulizer, with compressor"),
                    requested=1, unit="unit", per_unit=18500, decision="approved", service=("2026-02-16", "2027-02-15"),
                    authorized_provider=("Organization", HALSTED))])
    m.prior_authorization(
        cov, created="2026-04-20", decided="2026-04-24", requester=SIDDIQUI, provider=NORTH_BRANCH, facility=NORTH_BRANCH,
        dx=[asthma],
        disposition="Denied: the criteria for an anti-IL-5 biologic are not met; a blood eosinophil count of at least "
                    "150 cells/uL and two exacerbations treated with oral steroids in the past 12 months must be documented.",
        items=[dict(category=("1", "Medical Care"), product=hcpcs("J2182", "Injection, mepolizumab, 1 mg"), requested=600,
                    unit="unit", per_unit=3300, decision="denied", service=("2026-05-01", "2026-10-31"),
                    pos=OUTPATIENT_HOSPITAL, denial=NOT_NECESSARY)],
        notes=[APPEAL])
    # ---- clinical record
    m.add(clinical.condition(cid="cond-yesenia-ruvalcaba-asthma", patient_id=pid,
                             snomed=("427295004", "Moderate persistent asthma"), icd10=asthma, onset="2012-05-01",
                             recorded="2024-01-16"))
    m.add(clinical.condition(cid="cond-yesenia-ruvalcaba-allergic-rhinitis", patient_id=pid,
                             snomed=("61582004", "Allergic rhinitis"), icd10=("J30.9", "Allergic rhinitis, unspecified"),
                             onset="2010-03-01", recorded="2024-01-16"))
    m.add(clinical.smoking_status(oid="obs-yesenia-ruvalcaba-smoking-20240116", patient_id=pid, day="2024-01-16",
                                  status=("266919005", "Never smoked tobacco")))
    m.add(clinical.lab(oid="obs-yesenia-ruvalcaba-eosinophils-20260203", patient_id=pid, day="2026-02-03",
                       loinc=("711-2", "Eosinophils [#/volume] in Blood by Automated count"), value=0.11,
                       unit="10*3/uL", ucum_code="10*3/uL", low=0.0, high=0.5, interpretation=("N", "Normal")))
    m.add(clinical.immunization(iid="imm-yesenia-ruvalcaba-flu-2025", patient_id=pid, day="2025-10-14",
                                cvx=("140", "Influenza, seasonal, injectable, preservative free"), lot="FL25T4410",
                                performer=MONTOYA))
    return "member-02-yesenia-ruvalcaba", m


def lakeshore_tobias(numbers):
    m = Member(numbers, "tobias-brandvold", "lakeshore-tobias-brandvold", "TB")
    pid = m.pid
    mid = "LMH-31077459"
    m.add(patient_resource(pid=pid, given="Tobias", family="Brandvold", gender="male", birth_date="1968-12-03",
                           member_id=mid, payer_id=LMH, address=("3021 North Stowell Avenue", "Milwaukee", "WI", "53211"),
                           phone="414-555-0158", email="tobias.brandvold@example.com",
                           last_updated="2025-12-15T10:07:51Z"))
    cid = "coverage-tobias-brandvold"
    m.add(coverage_resource(
        cid=cid, last_updated="2025-01-02T09:20:00Z", payer_id=LMH, beneficiary_id=pid, subscriber=("Patient", pid),
        subscriber_id=mid, member_id=mid, relationship=("self", "Self"), period=("2021-01-01", None),
        plan=("LMH-CHOICE-PPO", "Lakeshore Choice PPO"), group=("HDB-0301", "Harbor District Brewing Cooperative"),
        dependent="01", network="Lakeshore Choice PPO Network"))
    cov = CoverageRef(LMH, CostShare(deductible=150000, coinsurance_pct=20, office_copay=3000, er_copay=20000,
                                     rx_copay=1000), coverage_id=cid)
    diabetes = ("E11.9", "Type 2 diabetes mellitus without complications")
    snoring = ("R06.83", "Snoring")
    osa = ("G47.33", "Obstructive sleep apnea (adult) (pediatric)")
    colonoscopy = cpt("45380", "Colonoscopy, flexible; with biopsy, single or multiple")
    m.professional(cov, date="2025-03-11", billing=BAY_VIEW, rendering=AALTO, dx=[diabetes], copay=3000,
                   lines=[(ESTABLISHED, 1, 22000)])
    m.pharmacy(cov, date="2025-03-12", pharmacy=DOWNER, prescriber=AALTO, drug=METFORMIN,
               quantity=qty(60, "tablet", "{tablet}"), days=30, submitted=1500, refills_authorized=2, origin="3")
    m.outpatient(cov, date="2025-08-19", facility=MENOMONEE, attending=VANCE, referring=AALTO, admtype="3", origin="2",
                 dx=[("Z12.11", "Encounter for screening for malignant neoplasm of colon"), ("K63.5", "Polyp of colon")],
                 lines=[(rev("0750", "Gastrointestinal services - general"), colonoscopy, 1, 265000),
                        (rev("0310", "Laboratory pathology - general"),
                         cpt("88305", "Level IV - Surgical pathology, gross and microscopic examination"), 1, 16500)])
    m.professional(cov, date="2026-01-13", billing=BAY_VIEW, rendering=AALTO, dx=[diabetes, snoring], copay=3000,
                   lines=[(ESTABLISHED, 1, 22500)])
    m.pharmacy(cov, date="2026-01-14", pharmacy=DOWNER, prescriber=AALTO, drug=METFORMIN,
               quantity=qty(180, "tablet", "{tablet}"), days=90, submitted=3900, refills_authorized=3, origin="3")
    # ---- prior authorizations: a home sleep apnea test (approved, done), then a CPAP machine
    # (3 of the 13 months of rental approved until its use is reviewed)
    hst = cpt("95800", "Sleep study, unattended, simultaneous recording; heart rate, oxygen saturation, respiratory analysis, and sleep time")
    hst_auth = m.prior_authorization(
        cov, created="2026-02-16", decided="2026-02-18", requester=SUBRAMANIAM, provider=MENOMONEE,
        dx=[snoring, diabetes], period=("2026-02-23", "2026-05-22"),
        disposition="Approved: one home sleep apnea test between 2026-02-23 and 2026-05-22.",
        items=[dict(category=("73", "Diagnostic Medical"), product=hst, requested=1, unit="study", per_unit=24000,
                    decision="approved", service=("2026-02-23", "2026-05-22"), pos=("12", "Home"),
                    authorized_provider=("Practitioner", SUBRAMANIAM))])
    test = m.professional(cov, date="2026-03-02", billing=MENOMONEE, rendering=SUBRAMANIAM, facility=MENOMONEE,
                          pos=("12", "Home"), referring=AALTO, dx=[snoring], pre_auth=hst_auth["preAuthRef"][0],
                          lines=[(hst, 1, 24000)])
    record_utilization(hst_auth, [test])
    m.prior_authorization(
        cov, created="2026-03-16", decided="2026-03-19", requester=SUBRAMANIAM, provider=MENOMONEE,
        dx=[osa], period=("2026-04-01", "2027-04-30"),
        disposition="Partially approved: the first 3 months of CPAP rental; continued rental needs a download "
                    "showing use on at least 70% of nights.",
        items=[dict(category=("18", "Durable Medical Equipment Rental"),
                    product=hcpcs("E0601", "Continuous positive airway pressure (CPAP) device"),
                    modifier=[("hcpcs", "RR", "Rental")], requested=13, unit="month", per_unit=9500,
                    decision="partial", approved=3, denial=LEVEL_NOT_SUPPORTED, service=("2026-04-01", "2027-04-30"),
                    authorized_provider=("Organization", MENOMONEE))])
    # ---- clinical record
    m.add(clinical.condition(cid="cond-tobias-brandvold-diabetes", patient_id=pid,
                             snomed=("44054006", "Diabetes mellitus type 2"), icd10=diabetes, onset="2019-04-01",
                             recorded="2021-02-09"))
    m.add(clinical.condition(cid="cond-tobias-brandvold-sleep-apnea", patient_id=pid,
                             snomed=("78275009", "Obstructive sleep apnea syndrome"), icd10=osa, onset="2026-03-02",
                             recorded="2026-03-09"))
    visit = dict(patient_id=pid, day="2026-01-13")
    m.add(clinical.lab(oid="obs-tobias-brandvold-a1c-20260113",
                       loinc=("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), value=7.4, unit="%", ucum_code="%",
                       high=5.6, interpretation=("H", "High"), **visit))
    m.add(clinical.vital(oid="obs-tobias-brandvold-bmi-20260113", kind="bmi", value=33.1, **visit))
    m.add(clinical.immunization(iid="imm-tobias-brandvold-zoster-2025", patient_id=pid, day="2025-03-11",
                                cvx=("187", "Zoster vaccine recombinant"), lot="ZR25A0311", performer=AALTO))
    return "member-03-tobias-brandvold", m


# ============================================================================ the plans
class Plan:
    """One health plan: its payer, the providers its members' claims name (catalog.py layouts),
    its directory (networks, products, network members, further providers), its members and,
    optionally, its formulary."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.base = self.payer[5]
        self.host = self.base.split("//", 1)[1]


CASCADE = Plan(
    key="cascade",
    name="Cascade Health Alliance",
    region="Pacific Northwest: Washington and Oregon",
    lines_of_business="commercial (PPO) and Medicare Advantage (HMO)",
    payer=(CHA, "Cascade Health Alliance", "CHA01", "61457", "931234567", "https://cascadehealthalliance.example.org",
           ("1500 SW River Parkway", "Portland", "OR", "97201"), "503-555-0100"),
    description="Regional health plan of Washington and Oregon offering commercial PPO and Medicare Advantage HMO coverage.",
    claim_prefix="CHA",
    # catalog.PROVIDER_ORGS layout: id, name, taxonomy, address, phone, NPI seed, tax id
    orgs=[
        (WILLAMETTE, "Willamette River Hospital", HOSPITAL, ("2801 North Vancouver Avenue", "Portland", "OR", "97227"),
         "503-555-0110", 301, "931110301"),
        (HAWTHORNE, "Hawthorne Family Practice", CLINIC, ("3620 SE Hawthorne Boulevard", "Portland", "OR", "97214"),
         "503-555-0120", 302, "931110302"),
        (ALBERTA, "Alberta Street Pharmacy", PHARMACY, ("1530 NE Alberta Street", "Portland", "OR", "97211"),
         "503-555-0130", 303, "931110303"),
        (COMMENCEMENT, "Commencement Bay Medical Center", HOSPITAL, ("1420 South Yakima Avenue", "Tacoma", "WA", "98405"),
         "253-555-0110", 304, "911110304"),
        (PROCTOR, "Proctor District Clinic", CLINIC, ("2710 North Proctor Street", "Tacoma", "WA", "98407"),
         "253-555-0120", 305, "911110305"),
        (POINT_DEFIANCE, "Point Defiance Pharmacy", PHARMACY, ("5402 North Pearl Street", "Tacoma", "WA", "98407"),
         "253-555-0130", 306, "911110306"),
        (ELLIOTT, "Elliott Bay Hospital", HOSPITAL, ("2215 East Yesler Way", "Seattle", "WA", "98122"),
         "206-555-0160", 307, "911110307"),
        (COLUMBIA_CITY, "Columbia City Family Clinic", CLINIC, ("4869 Rainier Avenue South", "Seattle", "WA", "98118"),
         "206-555-0170", 308, "911110308"),
        (DUWAMISH, "Duwamish Urgent Care", URGENT, ("5950 Airport Way South", "Seattle", "WA", "98108"),
         "206-555-0175", 309, "911110309"),
    ],
    # catalog.PRACTITIONERS layout: id, given, family, prefix, taxonomy, organization, NPI seed, tax id
    practitioners=[
        (SOLBERG, "Ingrid", "Solberg", "Dr.", FAMILY_MEDICINE, HAWTHORNE, 301, None),
        (QUINTERO, "Rafael", "Quintero", "Dr.", ("208600000X", "Surgery Physician"), WILLAMETTE, 302, "931770302"),
        (FAIRWEATHER, "Naomi", "Fairweather", "Dr.", ("207R00000X", "Internal Medicine Physician"), PROCTOR, 303, None),
        (WIERZBICKI, "Tomasz", "Wierzbicki", "Dr.", ("207RC0000X", "Cardiovascular Disease Physician"), COMMENCEMENT,
         304, None),
        (CASTELLANOS, "Miriam", "Castellanos", "Dr.", FAMILY_MEDICINE, COLUMBIA_CITY, 305, None),
        (ADEBAYO, "Oluwaseun", "Adebayo", "Dr.", ("207P00000X", "Emergency Medicine Physician"), DUWAMISH, 306, None),
        (TAKAHASHI, "June", "Takahashi", "Dr.", ("207X00000X", "Orthopaedic Surgery Physician"), ELLIOTT, 307, None),
        (AKANA, "Kalani", "Akana", None, ("225100000X", "Physical Therapist"), ELLIOTT, 308, None),
    ],
    direct_addresses={SOLBERG: "ingrid.solberg@direct.hawthornefp.example.org"},
    # Providers of the directory only (no member's claim names them).
    directory_orgs=[
        ("org-spencer-butte-hospital", "Spencer Butte Hospital", HOSPITAL, ("3400 Hilyard Street", "Eugene", "OR", "97405"),
         "541-555-0110", 311, "931110311"),
        ("org-mckenzie-river-family-medicine", "McKenzie River Family Medicine", CLINIC,
         ("1890 Willamette Street", "Eugene", "OR", "97401"), "541-555-0120", 312, "931110312"),
        ("org-fourth-plain-family-clinic", "Fourth Plain Family Clinic", CLINIC,
         ("2300 East Fourth Plain Boulevard", "Vancouver", "WA", "98661"), "360-555-0110", 313, "911110313"),
        ("org-columbia-way-pharmacy", "Columbia Way Pharmacy", PHARMACY, ("600 Columbia Way", "Vancouver", "WA", "98660"),
         "360-555-0120", 314, "911110314"),

        ("org-othello-station-pharmacy", "Othello Station Pharmacy", PHARMACY,
         ("7141 Martin Luther King Jr Way South", "Seattle", "WA", "98118"), "206-555-0180", 310, "911110310"),
    ],
    # name, state, area code, ZIP prefix, latitude, longitude (directory.CITIES layout)
    cities=[("Portland", "OR", "503", "972", 45.5152, -122.6784), ("Seattle", "WA", "206", "981", 47.6062, -122.3321),
            ("Tacoma", "WA", "253", "984", 47.2529, -122.4443), ("Eugene", "OR", "541", "974", 44.0521, -123.0868),
            ("Vancouver", "WA", "360", "986", 45.6387, -122.6615)],
    # id, name, payer, cities (directory.NETWORKS layout)
    networks=[("net-northwest-ppo", "Cascade Northwest PPO Network", CHA, None),
              ("net-medicare-hmo", "Cascade Medicare Advantage HMO Network", CHA, ("Portland", "Tacoma", "Vancouver"))],
    # directory.PRODUCTS layout
    products=[
        ("insplan-evergreen-ppo", "CHA-EVERGREEN-PPO", "Cascade Evergreen PPO", CHA, ("commppo", "Commercial PPO"),
         ("gold", "Gold-QHP"), ("net-northwest-ppo",), ("OR", "WA"), None, "2018-01-01"),
        ("insplan-ma-hmo", "CHA-MA-HMO", "Cascade Medicare Advantage HMO", CHA, ("mediadvhmo", "Medicare Advantage HMO"),
         None, ("net-medicare-hmo",), ("OR", "WA"), "Cascade Health Alliance Medicare Advantage HMO", "2020-01-01"),
    ],
    # who is in which network, from when (directory.NETWORK_MEMBERS layout); None: every provider
    # of the plan not listed elsewhere
    network_members={
        "net-northwest-ppo": None,
        "net-medicare-hmo": {WILLAMETTE: EARLY, HAWTHORNE: EARLY, ALBERTA: EARLY, COMMENCEMENT: EARLY, PROCTOR: EARLY,
                             POINT_DEFIANCE: EARLY, "org-fourth-plain-family-clinic": "2021-01-01",
                             "org-columbia-way-pharmacy": "2021-01-01", SOLBERG: EARLY, QUINTERO: EARLY,
                             FAIRWEATHER: EARLY, WIERZBICKI: EARLY},
    },
    extra_practitioners=14,
    members=[cascade_marisol, cascade_gunnar, cascade_theo],
    notes={
        "member-01-marisol-vega-lindqvist": (
            "Joined from Lakeshore Mutual Health (see below) on 2025-04-01. A new primary care physician in "
            "Portland, lisinopril fills (30 days, then a 90-day retail refill at the 30-day copay), an emergency "
            "admission for acute cholecystitis with a laparoscopic cholecystectomy (inpatient, adjudicated per "
            "line), a 2026 physical. Prior authorizations: an upper endoscopy (approved; the claim that cites it "
            "used its 1 unit) and a cervical spine MRI (denied, X12 CARC 50). Conditions (one resolved), a "
            "sulfonamide allergy, a flu shot, a blood pressure and an LDL result."),
        "member-02-gunnar-halvorsen": (
            "Medicare Advantage HMO since 2021, no deductible: a heart failure admission paid at the DRG rate "
            "(header-level amounts), a primary care visit with a pneumococcal vaccine, a 90-day generic fill at "
            "the Medicare preferred-generic copay, a follow-up echocardiogram. Prior authorizations: cardiac "
            "rehabilitation (36 sessions approved, 2 used by the claims that cite it) and a defibrillator implant "
            "pending review (`outcome` queued). Conditions, a blood pressure, a body weight, a BNP result, a "
            "pneumococcal vaccine."),
        "member-03-theo-makoa": (
            "Commercial PPO since 2024: an annual physical, a soccer knee injury seen at urgent care "
            "(outpatient, with external cause codes), an orthopaedic visit, a knee MRI under an approved prior "
            "authorization, and physical therapy partially approved (8 of 12 visits, X12 CARC 150), 2 used by "
            "the claims that cite it. Conditions, vital signs, smoking status, a Tdap vaccine."),
    },
    formulary=dict(
        formularies=[("formulary-cha-commercial", "CHA-RX-COMM", "Cascade Health Alliance Commercial Formulary",
                      "2018-01-01", 5),
                     ("formulary-cha-medicare", "CHA-RX-PARTD", "Cascade Health Alliance Medicare Part D Formulary",
                      "2020-01-01", 6)],
        # formulary.PAYER_PLANS layout; cost sharing per tier as the members' pharmacy claims pay it
        payer_plans=[
            ("payerplan-cha-evergreen-ppo", "CHA-EVERGREEN-PPO", "Cascade Evergreen PPO", ("commppo", "Commercial PPO"),
             "formulary-cha-commercial",
             {"generic": (10, None), "preferred-brand": (30, None), "non-preferred-brand": (60, None),
              "specialty": (None, 25)}, ("OR", "WA"), None, "2018-01-01"),
            ("payerplan-cha-ma-hmo", "CHA-MA-HMO", "Cascade Medicare Advantage HMO",
             ("mediadvhmo", "Medicare Advantage HMO"), "formulary-cha-medicare",
             {"preferred-generic": (5, None), "generic": (12, None), "preferred-brand": (47, None),
              "non-preferred-brand": (None, 40), "specialty": (None, 33)}, ("OR", "WA"),
             "Cascade Health Alliance Medicare Advantage HMO", "2020-01-01"),
        ],
        # RxNorm codes of formulary.DRUGS (names, term types, tiers), among them every drug the claims dispense
        drugs=["314076", "198053", "198014", "866427", "617310",
               "859088", "2123076", "896001", "896209", "308189", "308460", "861007", "897122", "865098",
               "197361", "979485", "310798", "200031", "859747", "312941", "349332", "966222", "1650143",
               "2047241"],
    ),
    logo=(
        '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128" role="img" '
        'aria-labelledby="title">\n'
        '  <title id="title">Cascade Health Alliance</title>\n'
        '  <rect width="128" height="128" rx="24" fill="#0f766e"/>\n'
        '  <path d="M14 88 L44 40 L60 64 L78 30 L114 88 Z" fill="#5eead4"/>\n'
        '  <path d="M78 30 L88 48 L81 45 L75 50 L71 44 Z" fill="#f0fdfa"/>\n'
        '  <path d="M14 88 L114 88" stroke="#ccfbf1" stroke-width="4" stroke-linecap="round"/>\n'
        '  <text x="64" y="115" font-family="Helvetica, Arial, sans-serif" font-size="24" font-weight="700" '
        'fill="#ffffff" text-anchor="middle">CHA</text>\n'
        '</svg>\n'),
)

LAKESHORE = Plan(
    key="lakeshore",
    name="Lakeshore Mutual Health",
    region="Great Lakes: Illinois, Michigan and Wisconsin",
    lines_of_business="commercial (PPO) and Medicaid managed care (HMO)",
    payer=(LMH, "Lakeshore Mutual Health", "LMH01", "63218", "362345678", "https://lakeshoremutual.example.org",
           ("233 East Erie Street", "Chicago", "IL", "60611"), "312-555-0190"),
    description="Mutual health plan of Illinois, Michigan and Wisconsin offering commercial PPO coverage and "
                "Illinois Medicaid managed care.",
    claim_prefix="LMH",
    orgs=[
        (NORTH_BRANCH, "North Branch Hospital", HOSPITAL, ("1650 North Elston Avenue", "Chicago", "IL", "60642"),
         "312-555-0160", 401, "361110401"),
        (LOGAN_SQUARE, "Logan Square Medical Group", CLINIC, ("2630 North Milwaukee Avenue", "Chicago", "IL", "60647"),
         "312-555-0165", 402, "361110402"),
        (WICKER_PARK, "Wicker Park Pharmacy", PHARMACY, ("1520 North Damen Avenue", "Chicago", "IL", "60622"),
         "312-555-0170", 403, "361110403"),
        (PILSEN, "Pilsen Community Health Center", CLINIC, ("1840 South Blue Island Avenue", "Chicago", "IL", "60608"),
         "312-555-0175", 404, "361110404"),
        (HALSTED, "Halsted Street Pharmacy", PHARMACY, ("1900 South Halsted Street", "Chicago", "IL", "60608"),
         "312-555-0180", 405, "361110405"),
        (MENOMONEE, "Menomonee Valley Medical Center", HOSPITAL, ("1700 West Canal Street", "Milwaukee", "WI", "53233"),
         "414-555-0110", 406, "391110406"),
        (BAY_VIEW, "Bay View Family Medicine", CLINIC, ("2500 South Kinnickinnic Avenue", "Milwaukee", "WI", "53207"),
         "414-555-0120", 407, "391110407"),
        (DOWNER, "Downer Avenue Pharmacy", PHARMACY, ("2570 North Downer Avenue", "Milwaukee", "WI", "53211"),
         "414-555-0130", 408, "391110408"),
    ],
    practitioners=[
        (NWOSU, "Adaeze", "Nwosu", "Dr.", FAMILY_MEDICINE, LOGAN_SQUARE, 401, None),
        (DUDEK, "Stanislaw", "Dudek", "Dr.", ("207R00000X", "Internal Medicine Physician"), NORTH_BRANCH, 402, None),
        (CAMACHO, "Beatriz", "Camacho", "Dr.", ("207P00000X", "Emergency Medicine Physician"), NORTH_BRANCH, 403, None),
        (PRITCHARD, "Owen", "Pritchard", None, ("225100000X", "Physical Therapist"), NORTH_BRANCH, 404, None),
        (MONTOYA, "Graciela", "Montoya", None, ("363LF0000X", "Family Nurse Practitioner"), PILSEN, 405, None),
        (SIDDIQUI, "Farah", "Siddiqui", "Dr.", ("207RP1001X", "Pulmonary Disease Physician"), NORTH_BRANCH, 406, None),
        (AALTO, "Henrik", "Aalto", "Dr.", FAMILY_MEDICINE, BAY_VIEW, 407, None),
        (VANCE, "Keisha", "Vance", "Dr.", ("207RG0100X", "Gastroenterology Physician"), MENOMONEE, 408, "391770408"),
        (SUBRAMANIAM, "Ravi", "Subramaniam", "Dr.", ("207RP1001X", "Pulmonary Disease Physician"), MENOMONEE, 409, None),
    ],
    direct_addresses={NWOSU: "adaeze.nwosu@direct.logansquaremg.example.org"},
    directory_orgs=[
        ("org-fulton-street-medical-center", "Fulton Street Medical Center", HOSPITAL,
         ("1200 Fulton Street East", "Grand Rapids", "MI", "49503"), "616-555-0110", 411, "381110411"),
        ("org-heritage-hill-family-health", "Heritage Hill Family Health", CLINIC,
         ("410 Cherry Street SE", "Grand Rapids", "MI", "49503"), "616-555-0120", 412, "381110412"),
        ("org-grand-river-pharmacy", "Grand River Pharmacy", PHARMACY,
         ("88 Monroe Center Street NW", "Grand Rapids", "MI", "49503"), "616-555-0130", 413, "381110413"),
        ("org-davis-street-clinic", "Davis Street Clinic", CLINIC, ("1012 Davis Street", "Evanston", "IL", "60201"),
         "847-555-0110", 414, "361110414"),
    ],
    cities=[("Chicago", "IL", "312", "606", 41.8781, -87.6298), ("Evanston", "IL", "847", "602", 42.0451, -87.6877),
            ("Milwaukee", "WI", "414", "532", 43.0389, -87.9065),
            ("Grand Rapids", "MI", "616", "495", 42.9634, -85.6681)],
    networks=[("net-choice-ppo", "Lakeshore Choice PPO Network", LMH, None),
              ("net-community-care", "Lakeshore Community Care Network", LMH, ("Chicago", "Evanston"))],
    products=[
        ("insplan-choice-ppo", "LMH-CHOICE-PPO", "Lakeshore Choice PPO", LMH, ("commppo", "Commercial PPO"),
         ("silver", "Silver-QHP"), ("net-choice-ppo",), ("IL", "MI", "WI"), None, "2019-01-01"),
        ("insplan-community-care", "LMH-CCARE-MCD", "Lakeshore Community Care (Illinois Medicaid)", LMH,
         ("medihmo", "Medicaid HMO"), None, ("net-community-care",), ("IL",), "Lakeshore Community Care",
         "2019-07-01"),
    ],
    network_members={
        "net-choice-ppo": None,
        "net-community-care": {NORTH_BRANCH: EARLY, LOGAN_SQUARE: EARLY, WICKER_PARK: EARLY, PILSEN: EARLY,
                               HALSTED: EARLY, "org-davis-street-clinic": "2022-07-01", NWOSU: EARLY, DUDEK: EARLY,
                               CAMACHO: EARLY, PRITCHARD: EARLY, MONTOYA: EARLY, SIDDIQUI: EARLY},
    },
    extra_practitioners=13,
    members=[lakeshore_marisol, lakeshore_yesenia, lakeshore_tobias],
    notes={
        "member-01-marisol-vega-lindqvist": (
            "A former member: Lakeshore Choice PPO from 2022-01-01 to 2025-03-31 (the Coverage's `period.end`); "
            "she then moved to Portland and joined Cascade Health Alliance (see below). Her claims all fall "
            "within the coverage: a new-patient visit, generic fills, an emergency admission for acute "
            "pyelonephritis paid at the DRG rate (header-level amounts), physical therapy for low back pain, an "
            "annual exam. Prior authorization: the physical therapy, in 2024 (8 visits approved, 2 used by the "
            "claims that cite it; expired). Conditions (one resolved), a sulfonamide allergy, a flu shot, a "
            "blood pressure and an LDL result."),
        "member-02-yesenia-ruvalcaba": (
            "Illinois Medicaid managed care since 2023-07-01 (no deductible, coinsurance or copays: the plan pays "
            "the whole eligible amount): asthma care at a community health center with a nurse practitioner, "
            "brand-name inhalers, an emergency visit for an asthma attack (the hospital's outpatient claim and "
            "the emergency physician's), a pulmonologist with spirometry. Prior authorizations: a home nebulizer "
            "(approved) and an asthma biologic, mepolizumab (denied, X12 CARC 50). Conditions, smoking status, "
            "an eosinophil count, a flu shot; Spanish is her preferred language."),
        "member-03-tobias-brandvold": (
            "Commercial PPO in Wisconsin since 2021: diabetes visits, metformin fills (30 and 90 days), a "
            "screening colonoscopy with a biopsy (outpatient), a home sleep apnea test. Prior authorizations: "
            "the sleep test (approved; the claim that cites it used its 1 unit) and a CPAP machine (3 of the 13 "
            "months of rental requested approved, X12 CARC 150). Conditions, an HbA1c result, a BMI, a shingles "
            "vaccine."),
    },
    formulary=None,
    logo=(
        '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128" role="img" '
        'aria-labelledby="title">\n'
        '  <title id="title">Lakeshore Mutual Health</title>\n'
        '  <circle cx="64" cy="64" r="62" fill="#1e3a8a"/>\n'
        '  <path d="M18 78 Q32 68 46 78 T74 78 T102 78 T116 76" fill="none" stroke="#93c5fd" stroke-width="5" '
        'stroke-linecap="round"/>\n'
        '  <path d="M22 92 Q36 82 50 92 T78 92 T106 92" fill="none" stroke="#60a5fa" stroke-width="5" '
        'stroke-linecap="round"/>\n'
        '  <text x="64" y="58" font-family="Helvetica, Arial, sans-serif" font-size="28" font-weight="700" '
        'fill="#ffffff" text-anchor="middle">LMH</text>\n'
        '</svg>\n'),
)

PLANS = [CASCADE, LAKESHORE]


# ============================================================================ building a plan
class PlanClaimNumbers(ClaimNumbers):
    """Claim and prior authorization numbers of one plan (CHA-2025-001001, LMH-PA-2024-004001)."""

    def __init__(self, plan):
        super().__init__()
        self.PREFIX = {plan.payer[0]: plan.claim_prefix}


@contextlib.contextmanager
def _patched(module, **values):
    saved = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


def _catalog_tables(plan, orgs):
    return dict(PAYERS=[plan.payer], PROVIDER_ORGS=orgs, PRACTITIONERS=plan.practitioners, LATE_PRACTITIONERS=[],
                DIRECT_ADDRESSES=plan.direct_addresses, PAYER_BY_ID={plan.payer[0]: plan.payer},
                ORG_BY_ID={o[0]: o for o in orgs}, PRACT_BY_ID={p[0]: p for p in plan.practitioners})


def network_members(plan):
    """network id -> {provider id: day joined}, with None (every provider) expanded."""
    everyone = [o[0] for o in plan.orgs + plan.directory_orgs] + [p[0] for p in plan.practitioners]
    return {nid: dict(who) if who is not None else {x: EARLY for x in everyone}
            for nid, who in plan.network_members.items()}


@contextlib.contextmanager
def scope(plan):
    """The builders' tables pointed at the plan's own, for the time of the `with` block: catalog's
    payers and providers (the members' providers; `_directory` adds the directory's further ones
    while it writes them), directory's networks, cities and network members, formulary's payer
    (`_formulary` sets the NDCs of the plan's claims). The Demo tables are restored afterwards."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(_patched(catalog, **_catalog_tables(plan, plan.orgs)))
        stack.enter_context(_patched(
            directory, NETWORKS=plan.networks, NETWORK_BY_ID={n[0]: n for n in plan.networks},
            NETWORK_MEMBERS=network_members(plan), CITIES=plan.cities, CITY={c[0]: c for c in plan.cities},
            STATE_NAMES=dict(directory.STATE_NAMES, OR="Oregon", WI="Wisconsin")))
        stack.enter_context(_patched(
            formulary, DHP=plan.payer[0], DHP_BASE=plan.base, NDCS_BY_RXCUI={},
            STATE_NAMES=dict(formulary.STATE_NAMES, OR="Oregon", WI="Wisconsin", MI="Michigan")))
        yield


# ---------------------------------------------------------------------------- directory
def _endpoints(d, plan):
    fhir = ("http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "hl7-fhir-rest", "HL7 FHIR")
    apis = [("ep-provider-directory", f"{plan.name} provider directory (FHIR R4, Plan-Net)", "/directory/r4",
             ("HOPERAT", "healthcare operations"), "http://hl7.org/fhir/us/davinci-pdex-plan-net"),
            ("ep-patient-access", f"{plan.name} Patient Access API (FHIR R4)", "/fhir/r4",
             ("PATRQT", "patient requested"), "http://hl7.org/fhir/us/carin-bb")]
    if plan.formulary:
        apis.append(("ep-formulary", f"{plan.name} drug formulary (FHIR R4, US Drug Formulary)", "/formulary/r4",
                     ("COVERAGE", "eligibility verification and determination"),
                     "http://hl7.org/fhir/us/davinci-drug-formulary"))
    for eid, name, path, use, standard in apis:
        d.add({
            "resourceType": "Endpoint", "id": eid, "meta": directory.meta("Endpoint", "2024-01-08", plan.key, eid),
            "extension": [directory.ext("endpoint-usecase", extension=[
                {"url": "type", "valueCodeableConcept": directory.cc("http://terminology.hl7.org/CodeSystem/v3-ActReason", *use)},
                {"url": "standard", "valueUri": standard}])],
            "status": "active",
            "connectionType": directory.code(*fhir),
            "name": name,
            "managingOrganization": {"reference": "Organization/" + plan.payer[0], "display": plan.name},
            "contact": [{"system": "email", "value": "developers@" + plan.host, "use": "work"}],
            "payloadType": [directory.cc(directory.PNCS + "EndpointPayloadTypeCS", "NA", "Not Applicable")],
            "payloadMimeType": ["application/fhir+json"],
            "address": "https://sandbox." + plan.host + path,
        })


def _payer(d, plan):
    oid, name, payerid, naic, tax, base, addr, phone_ = plan.payer
    cc_, pncs = directory.cc, directory.PNCS
    d.add({
        "resourceType": "Organization", "id": oid, "meta": directory.meta("Organization", "2024-01-08", oid),
        "extension": [directory.ext("org-description", valueString=plan.description)],
        "identifier": [
            {"type": cc_(CS["c4bb-id"], "payerid", "Payer ID"), "system": base + "/payer-id", "value": payerid},
            {"type": cc_(CS["c4bb-id"], "naiccode", "NAIC Code"), "system": CS["naic"], "value": naic},
            {"type": cc_(CS["v2-0203"], "TAX", "Tax ID number"), "system": CS["tax"], "value": tax},
        ],
        "active": True,
        "type": [cc_(pncs + "OrgTypeCS", *directory.ORG_TYPE["payer"])],
        "name": name,
        "telecom": [directory.phone(phone_, rank=1, hours=(directory.WEEKDAYS, "08:00:00", "20:00:00")),
                    {"system": "url", "value": base, "use": "work", "rank": 2}],
        "address": [directory.address(addr, text=True)],
        "contact": [{"purpose": cc_("http://terminology.hl7.org/CodeSystem/contactentity-type", "PATINF", "Patient"),
                     "name": {"text": "Member Services"},
                     "telecom": [{"system": "phone", "value": phone_, "use": "work"}]}],
        "endpoint": [{"reference": "Endpoint/ep-provider-directory"}],
    })


def _networks(d, plan):
    payer = plan.payer
    for nid, name, _, cities in plan.networks:
        states = sorted({directory.CITY[c][1] for c in (cities or directory.CITY)})
        res = {"resourceType": "Organization", "id": nid, "meta": directory.meta("Network", "2024-01-08", nid),
               "extension": [directory.ext("location-reference",
                                           valueReference={"reference": "Location/" + d.service_area(s)})
                             for s in states],
               "identifier": [{"type": {"text": "Network identifier"}, "system": plan.base + "/network-id",
                               "value": nid[len("net-"):].upper()}],
               "active": True,
               "type": [directory.cc(directory.PNCS + "OrgTypeCS", "ntwk", "Network")],
               "name": name,
               "address": [directory.address(payer[6])],
               "partOf": {"reference": "Organization/" + payer[0], "display": payer[1]},
               "contact": [{"name": {"text": "Provider Network Management"},
                            "telecom": [{"system": "phone", "value": payer[7], "use": "work"},
                                        {"system": "email", "value": "networks@" + plan.host, "use": "work"}]}],
               "endpoint": [{"reference": "Endpoint/ep-provider-directory"}]}
        d.add(res)


def _products(d, plan):
    """The plan's products, as directory.Directory.products builds the Demo Health Plan's."""
    with _patched(directory, PRODUCTS=plan.products, DHP=plan.payer[0],
                  PLAN_ID_SYSTEM={plan.payer[0]: plan.base + "/plan-id"}):
        d.products()
    for r in d.out["InsurancePlan"]:
        r["identifier"][0] = dict({"type": {"text": "Plan identifier"}}, **r["identifier"][0])
        if "endpoint" in r:
            r["endpoint"] = [{"reference": "Endpoint/ep-patient-access"}]


CLINIC_SPECIALTIES = ["207Q00000X", "207R00000X", "363LF0000X", "363A00000X", "208000000X", "207RG0300X",
                      "2084P0800X", "1041C0700X"]
HOSPITAL_SPECIALTIES = ["207P00000X", "208600000X", "207RC0000X", "207X00000X", "225100000X", "2085R0202X",
                        "207L00000X", "207V00000X", "207RG0100X", "207RP1001X"]


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _synthetic_practitioners(d, plan, members):
    """A few more practitioners at the plan's clinics and hospitals, drawn from a random generator
    seeded with a fixed string; one PractitionerRole per network their organization is in."""
    rng = random.Random("payer-sandbox-plan-directory-" + plan.key)
    kinds = {}
    for o in plan.orgs + plan.directory_orgs:
        kinds.setdefault(directory.TAXONOMY_KIND[o[2][0]], []).append(o[0])
    taken = {(p[1], p[2]) for p in plan.practitioners}
    for n in range(plan.extra_practitioners):
        kind = "clinic" if n % 2 == 0 else "hospital"
        org_id = rng.choice(kinds[kind])
        spec = directory.SPECIALTY_BY_CODE[rng.choice(CLINIC_SPECIALTIES if kind == "clinic" else HOSPITAL_SPECIALTIES)]
        given, family = rng.choice(directory.GIVEN), rng.choice(directory.FAMILY)
        while (given, family) in taken:
            given, family = rng.choice(directory.GIVEN), rng.choice(directory.FAMILY)
        taken.add((given, family))
        suffix = _slug(f"{given}-{family}")
        pid = "pract-" + suffix
        prefix = "Dr." if spec[3] in ("MD", "DO", "PhD", "DPT") else None
        licensed = f"{rng.randrange(1995, 2022)}-07-01"
        language = None
        if rng.random() < 0.3:
            lang = rng.choice(directory.LANGUAGES)
            language = (lang[0], lang[1], rng.choice(("30", "40", "50")))
        day = f"2025-{1 + n % 12:02d}-{1 + (n * 5) % 28:02d}"
        state = d.org_info[org_id]["address"][2]
        seed = _synthetic_seed(plan, n)
        d.practitioner(pid, given, family, prefix, spec[3], state, d.unique_npi(9000 + seed * 104729), org_id, day,
                       language=language, licensed=licensed)
        accepting = rng.choices(("newpt", "existptonly", "nopt"), (75, 15, 10))[0]
        for i, (nid, org_start) in enumerate(members.get(org_id, [])):
            start = max(org_start, licensed)
            rid = "role-" + suffix if i == 0 else f"role-{suffix}-{nid[len('net-'):]}"
            d.role(rid, pid, org_id, spec, nid, start, day, accepting=accepting,
                   hours=directory.WEEKDAYS if rng.random() < 0.4 else None)


def _directory(plan):
    """-> {resource type: [resources]}: the plan's endpoints, payer, networks and products, its
    members' providers as directory.shared_providers writes the Demo plan's (same ids, NPIs and
    names as shared.json), its further providers, and a few more practitioners."""
    d = directory.Directory()
    _endpoints(d, plan)
    _payer(d, plan)
    _networks(d, plan)
    _products(d, plan)
    orgs = plan.orgs + plan.directory_orgs
    with _patched(catalog, **_catalog_tables(plan, orgs)):
        directory.shared_providers(d)
    members = {}
    for nid, who in directory.NETWORK_MEMBERS.items():
        for x, start in who.items():
            members.setdefault(x, []).append((nid, start))
    _synthetic_practitioners(d, plan, members)
    return d.out


# ---------------------------------------------------------------------------- formulary
def _formulary(plan, member_resources):
    """-> {resource type: [resources]}: the plan's formularies, its products that use them, one
    FormularyDrug per drug and one FormularyItem per drug and formulary (formulary.py's builders),
    with the NDCs the plan's pharmacy claims dispense on their drugs."""
    spec = plan.formulary
    ndcs = {}
    for r in member_resources:
        if r["resourceType"] == "ExplanationOfBenefit" and r["type"]["coding"][0]["code"] == "pharmacy":
            for it in r["item"]:
                c = it["productOrService"]["coding"][0]
                if c["system"] == CS["ndc"]:
                    ndcs.setdefault(formulary.CLAIM_NDC[c["code"]], set()).add(c["code"])
    missing = sorted(set(ndcs) - set(spec["drugs"]))
    assert not missing, f"{plan.key}: the claims dispense drugs not on the formulary: {missing}"
    out = {"InsurancePlan": [], "Basic": [], "MedicationKnowledge": [], "Location": []}
    with _patched(formulary, NDCS_BY_RXCUI={rx: sorted(v) for rx, v in ndcs.items()}):
        out["Location"] = [formulary.location(s) for s in sorted({s for p in spec["payer_plans"] for s in p[6]})]
        for fid, ident, name, start, _ in spec["formularies"]:
            # formulary.item() names items by what follows the 14 characters of "formulary-dhp-"
            assert re.fullmatch(r"formulary-[a-z]{3}-[a-z-]+", fid), fid
            out["InsurancePlan"].append(formulary.formulary(fid, ident, name, start))
        for p in spec["payer_plans"]:
            out["InsurancePlan"].append(formulary.payer_plan(*p))
        drugs = [formulary.DRUG_BY_RXCUI[rx] for rx in spec["drugs"]]
        out["MedicationKnowledge"] = [formulary.drug(dr) for dr in drugs]
        for fid, _, _, _, column in spec["formularies"]:
            for n, dr in enumerate(drugs):
                if dr[column]:
                    out["Basic"].append(formulary.item(fid, dr, formulary.T[dr[column]], n))
    return out


# ---------------------------------------------------------------------------- ids
def prefix_ids(key, resources):
    """Gives every resource of one data set an id starting with `key-` (ids that already do are
    kept) and rewrites the references to them. Every reference of the data set must resolve in it
    (contained `#...` references excepted)."""
    new = {}
    for r in resources:
        rid = r["id"] if r["id"].startswith(key + "-") else f"{key}-{r['id']}"
        assert len(rid) <= 64, f"id too long: {rid}"
        assert (r["resourceType"], rid) not in new.values(), f"duplicate {r['resourceType']}/{rid}"
        new[(r["resourceType"], r["id"])] = (r["resourceType"], rid)
    done = set(new.values())

    def walk(obj, where):
        if isinstance(obj, dict):
            target = obj.get("reference")
            if isinstance(target, str) and not target.startswith("#"):
                rtype, _, rid = target.partition("/")
                if (rtype, rid) in new:
                    obj["reference"] = "/".join(new[(rtype, rid)])
                else:
                    assert (rtype, rid) in done, f"{where}: {target} resolves to nothing"
            for k, v in obj.items():
                if k != "contained":
                    walk(v, where)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, where)

    for r in resources:
        walk(r, f"{r['resourceType']}/{r['id']}")
    for r in resources:
        r["id"] = new[(r["resourceType"], r["id"])][1]


# ---------------------------------------------------------------------------- writing
def build(plan):
    """-> (shared resources, [(file slug, member resources)], directory, formulary or None), with
    the plan's ids."""
    with scope(plan):
        numbers = PlanClaimNumbers(plan)
        shared = catalog.shared_resources()
        members = []
        for fn in plan.members:
            slug, m = fn(numbers)
            assert not m.timeline
            members.append((slug, m.resources))
        public = {"directory": _directory(plan)}
        if plan.formulary:
            public["formulary"] = _formulary(plan, [r for _, rs in members for r in rs])
    prefix_ids(plan.key, shared + [r for _, rs in members for r in rs])
    for by_type in public.values():
        prefix_ids(plan.key, [r for rs in by_type.values() for r in rs])
    return shared, members, public


def write_plan(plan, root, gen):
    """Writes seed-data/plans/{key}/ (root: the seed-data directory; gen: the seedgen module, for
    its Bundle and file writers) and removes the folder's stale files. -> (the paths written,
    relative to root; a line on the plan for seed-data/README.md)."""
    folder = os.path.join(root, "plans", plan.key)
    os.makedirs(folder, exist_ok=True)
    shared, members, public = build(plan)
    written = ["shared.json"]
    gen.write(os.path.join(folder, "shared.json"), gen.dump_pretty(gen.bundle(f"{plan.key}-shared", shared)))
    table = []
    for slug, resources in members:
        resources = gen._sort_member(resources)
        table.append((slug, resources))
        gen.write(os.path.join(folder, slug + ".json"), gen.dump_pretty(gen.bundle(f"{plan.key}-{slug}", resources)))
        written.append(slug + ".json")
    for name in ("directory", "formulary"):
        if name in public:
            written += gen.write_public(folder, name, public[name])
        elif os.path.isdir(os.path.join(folder, name)):
            for f in os.listdir(os.path.join(folder, name)):
                os.remove(os.path.join(folder, name, f))
            os.rmdir(os.path.join(folder, name))
    gen.write(os.path.join(folder, "logo.svg"), plan.logo)
    gen.write(os.path.join(folder, "README.md"), readme(plan, shared, table, public, gen))
    written += ["logo.svg", "README.md"]
    for name in sorted(os.listdir(folder)):
        if os.path.isfile(os.path.join(folder, name)) and name not in written:
            os.remove(os.path.join(folder, name))
    people = ", ".join(
        f"{p['name'][0]['given'][0]} {p['name'][0]['family']} (`{_member_id(p)}`, {p['address'][0]['postalCode']})"
        for p in (next(r for r in rs if r["resourceType"] == "Patient") for _, rs in table))
    line = (f"- `plans/{plan.key}/`: {plan.name} ({plan.region}; {plan.lines_of_business}; "
            f"{'a drug formulary' if plan.formulary else 'no drug formulary'}). Members: {people}.")
    return [f"plans/{plan.key}/{w}" for w in written], line


def write_all(root, gen):
    """Every plan of PLANS (a folder that is no plan's stops the run). -> (the paths written,
    relative to root; the plans' lines for seed-data/README.md)."""
    written, lines = [], []
    for plan in PLANS:
        files, line = write_plan(plan, root, gen)
        written += files
        lines.append(line)
    keys = {p.key for p in PLANS}
    plans_dir = os.path.join(root, "plans")
    for name in sorted(os.listdir(plans_dir)):
        assert name in keys, f"{plans_dir}/{name}: not a plan of tools/seedgen/plans.py; remove it"
    _check_network_npis()
    return written, "\n".join(lines)


def _synthetic_seed(plan, n):
    """The NPI seed of the plan's n-th synthetic practitioner (after those of its members' providers)."""
    return plan.practitioners[0][6] + 50 + n


def _check_network_npis():
    """NPIs name one provider across the network: each plan's providers have NPI seeds of their own."""
    seen = {}
    for plan in [None] + PLANS:
        orgs = catalog.PROVIDER_ORGS if plan is None else plan.orgs + plan.directory_orgs
        seeds = [p[6] for p in (catalog.PRACTITIONERS + catalog.LATE_PRACTITIONERS if plan is None else
                                plan.practitioners)]
        if plan is not None:
            seeds += [_synthetic_seed(plan, n) for n in range(plan.extra_practitioners)]
        for o in orgs:
            seen.setdefault(npi(7000 + o[5] * 7919), set()).add(o[0])
        for s in seeds:
            seen.setdefault(npi(9000 + s * 104729), set()).add(s)
    clash = {k: v for k, v in seen.items() if len(v) > 1 or not npi_is_valid(k)}
    assert not clash, f"NPIs naming more than one provider: {clash}"


# ---------------------------------------------------------------------------- README
def _member_id(p):
    return next(i["value"] for i in p["identifier"] if i["type"]["coding"][0]["code"] == "MB")


def _counts(by_type):
    return ", ".join(f"{len(rs)} {t}" for t, rs in by_type.items() if rs)


CLAIM_KINDS = ("inpatient", "outpatient", "professional", "pharmacy", "oral")


def _claim_kind(eob):
    return next(k for k in CLAIM_KINDS if PROFILES[k] == eob["meta"]["profile"][0])


def _pa_services(pa, gen):
    out = []
    for it in pa["item"]:
        req, unit = it["quantity"]["value"], it["quantity"]["unit"]
        text = f"{it['productOrService']['coding'][0]['code']} x {req} {unit}{'s' if req != 1 else ''}"
        approved, used = gen._units(it, "allowedunits"), gen._units(it, "consumedunits")
        if approved is not None and approved != req:
            text += f", {approved} approved"
        if used is not None:
            text += f", {used} used"
        out.append(text)
    return "; ".join(out)


def member_rows(plan, table, as_of, gen):
    rows, pas = [], []
    for slug, resources in table:
        p = next(r for r in resources if r["resourceType"] == "Patient")
        cov = next(r for r in resources if r["resourceType"] == "Coverage")
        name = f"{p['name'][0]['given'][0]} {p['name'][0]['family']}"
        auths = [r for r in resources if gen._is_pa(r)]
        claims = [r for r in resources if r["resourceType"] == "ExplanationOfBenefit" and not gen._is_pa(r)]
        kinds = [_claim_kind(c) for c in claims]
        by_kind = ", ".join(f"{kinds.count(k)} {k}" for k in CLAIM_KINDS if k in kinds)
        period = cov["period"]
        cover = f"{cov['class'][1]['name']}, " + (f"{period['start']} to {period['end']}" if period.get("end")
                                                  else f"from {period['start']}")
        rows.append(f"| {name} | `{_member_id(p)}` | {p['address'][0]['postalCode']} | {p['birthDate']} | "
                    f"`{p['id']}` | {cover} | {len(claims)} ({by_kind}) | {len(auths)} | {len(resources)} | "
                    f"{plan.notes[slug]} |")
        for pa in auths:
            pas.append(f"| `{pa['id']}` | {name} | `{pa['preAuthRef'][0]}` | {pa['created'][:10]} | "
                       f"{_pa_services(pa, gen)} | {gen.pa_state(pa, as_of)} |")
    return "\n".join(rows), "\n".join(pas)


def readme(plan, shared, table, public, gen):
    as_of = max(r["meta"]["lastUpdated"] for _, rs in table for r in rs)[:10]
    rows, pas = member_rows(plan, table, as_of, gen)
    other = next(p for p in PLANS if p is not plan)
    files = "\n".join(f"- `{slug}.json`: {len(rs)} resources" for slug, rs in table)
    products = "\n".join(
        f"| `{p['identifier'][0]['value']}` | {p['name']} | `{p['id']}` | "
        f"{', '.join(n['display'] for n in p['network'])} |"
        for p in public["directory"]["InsurancePlan"])
    if "formulary" in public:
        f = public["formulary"]
        formulary_text = (
            f"- `formulary/`: the plan's drug formulary (Da Vinci US Drug Formulary 2.0.1, served at\n"
            f"  `/formulary/r4`): {_counts(f)}. A commercial and a Medicare Part D formulary,\n"
            f"  the products that use them with their cost sharing per tier, and the drugs, among them every\n"
            f"  drug the members' pharmacy claims dispense (their NDCs are codings of the drug's `code`), on a\n"
            f"  tier whose copay is the claim's.")
    else:
        formulary_text = "- No `formulary/`: the plan publishes no drug formulary."
    return PLAN_README.format(
        name=plan.name, key=plan.key, region=plan.region, lines=plan.lines_of_business, payer_id=plan.payer[0],
        claim_prefix=plan.claim_prefix, shared=len(shared), files=files, directory=_counts(public["directory"]),
        n_practitioners=len(public["directory"]["Practitioner"]), formulary=formulary_text, products=products,
        rows=rows, pas=pas, as_of=as_of, other=other.name, other_key=other.key)


PLAN_README = """# {name}

A health plan of the payer-sandbox network ({region}; {lines}), with
synthetic data of its own: every name, address, identifier, NPI and amount is invented. Start the
server on it with

    payer-sandbox --data seed-data/plans/{key}

**These files are generated. Do not edit them by hand**: change `tools/seedgen/plans.py`, run
`python3 tools/seedgen/seedgen.py` and commit both. The layout, profiles and rules are those of
`seed-data/` (see `seed-data/README.md`). Every resource id starts with `{key}-` (the payer is
`Organization/{payer_id}`), so none repeats the Demo Health Plan's; references resolve within
this folder (the directory's and the formulary's within their own folders).

## Files

- `shared.json`: the payer and the providers the members' claims name, {shared} resources
{files}
- `directory/`: the plan's provider directory (Da Vinci PDex Plan-Net 1.1.0, served at
  `/directory/r4`): {directory}. The members' providers under the same ids, NPIs and
  names as in `shared.json`, further hospitals, clinics and pharmacies, {n_practitioners}
  practitioners in all, the plan's networks and products (below).
{formulary}
- `logo.svg`: the plan's logo.

| Plan identifier | Product | InsurancePlan | Networks |
|---|---|---|---|
{products}

## Members

A member signs in with the name, member ID and postal code below. Claim numbers are
`{claim_prefix}-YYYY-NNNNNN`, prior authorization numbers `{claim_prefix}-PA-YYYY-NNNNNN`. Every claim is
in network (the directory's networks agree).

| Name | Member ID | Postal code | Birth date | Patient id | Coverage | Claims | Prior authorizations | Resources | What they have |
|---|---|---|---|---|---|---|---|---|---|
{rows}

**Marisol Vega-Lindqvist is a member of both plans**: the same person (name, birth date, phone,
email) under another member ID, Patient id and address in `seed-data/plans/{other_key}/` ({other}).
She was a Lakeshore Mutual Health member in Chicago from 2022-01-01; her Lakeshore coverage ended
on 2025-03-31 when she moved to Portland, and her Cascade Health Alliance coverage began on
2025-04-01.

### Prior authorizations

Da Vinci PDex 2.0.0 Prior Authorization resources (ExplanationOfBenefit, `use`
`preauthorization`), with their state as of {as_of} (the newest `meta.lastUpdated` of the members'
data):

| Id | Member | Number | Requested | Service | State |
|---|---|---|---|---|---|
{pas}
"""
