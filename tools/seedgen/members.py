"""The curated test members of payer-sandbox.

Each function returns (file slug, Member) with the member's Patient and whatever else the plan
has on file for them: RelatedPerson, Coverage(s), ExplanationOfBenefit and clinical resources
(none at all for member 6).
"""

import json
import clinical
from builder import (CoverageRef, Member, area, coverage_resource, cpt, hcpcs,
                     not_applicable, patient_resource, related_person_resource, rev, tooth)
from claims import CostShare, qty, si
from fhirkit import cc, coding, timestamp
from priorauth import record_utilization

DHP = "org-demo-health-plan"
BSD = "org-bright-smile-dental"

# Drugs (NDC product codes here are illustrative 11-digit identifiers).
ALBUTEROL = ("00173068220", "Albuterol sulfate 90 mcg/actuation inhalation aerosol, 200 actuations")
FLUTICASONE = ("00173071920", "Fluticasone propionate 110 mcg/actuation inhalation aerosol, 120 actuations")
AMOXICILLIN = ("00093415573", "Amoxicillin 400 mg/5 mL powder for oral suspension, 100 mL")
METFORMIN = ("00093104801", "Metformin hydrochloride 500 mg oral tablet")
LISINOPRIL = ("00172375810", "Lisinopril 10 mg oral tablet")
ATORVASTATIN = ("00378201705", "Atorvastatin calcium 20 mg oral tablet")
CLOPIDOGREL = ("00093731456", "Clopidogrel 75 mg oral tablet")
METOPROLOL = ("00378018201", "Metoprolol succinate 25 mg extended-release oral tablet")
NAPROXEN = ("00093014901", "Naproxen 500 mg oral tablet")
AZITHROMYCIN = ("00093714656", "Azithromycin 250 mg oral tablet")
OMEPRAZOLE = ("00093738398", "Omeprazole 20 mg delayed-release oral capsule")
BRAND_PPI = ("00186504031", "Esomeprazole magnesium 40 mg delayed-release oral capsule (brand)")
HYDROCORTISONE_BASE = ("00713063531", "Hydrocortisone 2.5% cream, 30 g")
KETOCONAZOLE_BASE = ("00472083730", "Ketoconazole 2% cream, 30 g")
EMOLLIENT_BASE = ("51552092406", "Hydrophilic ointment base, 454 g")

# Clinical codes shared by the members' clinical records.
HOME = ("01", "Discharged to home or self care (routine discharge)")
NEVER_SMOKED = ("266919005", "Never smoked tobacco")
EX_SMOKER = ("8517006", "Ex-smoker")

CLAIM_NOTE_DEDUCTIBLE = "Part or all of this service was applied to your annual deductible."


# ========================================================================== 1
def jason_argonaut(numbers):
    m = Member(numbers, "jason-argonaut", "jason-argonaut", "JA")
    pid = m.pid
    m.add(patient_resource(
        pid=pid, given="Jason", family="Argonaut", gender="male", birth_date="1986-01-01",
        member_id="08-testmemid", payer_id=DHP, address=("27 Joy Street", "Boston", "MA", "02114"),
        phone="617-555-0187", email="jason.argonaut@example.com", last_updated="2025-02-03T15:20:00Z",
        unique_member_id="DHP-U-0000000801", address_since="2015-08-01"))
    m.add(coverage_resource(
        cid="coverage-jason-argonaut-medical", last_updated="2025-01-06T09:12:30Z", payer_id=DHP,
        beneficiary_id=pid, subscriber=("Patient", pid), subscriber_id="08-testmemid", member_id="08-testmemid",
        relationship=("self", "Self"), period=("2019-01-01", None), plan=("DHP-GOLD-PPO", "Demo Gold PPO"),
        group=("ARGO-001", "Argonaut Project Employees"), dependent="01", network="Demo PPO Network"))
    m.add(coverage_resource(
        cid="coverage-jason-argonaut-dental", last_updated="2025-01-06T09:14:02Z", payer_id=BSD,
        beneficiary_id=pid, subscriber=("Patient", pid), subscriber_id="BSD-4471902", member_id="BSD-4471902",
        relationship=("self", "Self"), period=("2022-01-01", "2026-12-31"), kind="dental",
        plan=("BSD-PPO-PLUS", "Bright Smile PPO Plus"), group=("ARGO-D-01", "Argonaut Project Dental"),
        dependent="01"))
    med = CoverageRef(DHP, CostShare(deductible=50000, coinsurance_pct=20, office_copay=2500, er_copay=15000,
                                     rx_copay=1000), coverage_id="coverage-jason-argonaut-medical")
    dental = CoverageRef(BSD, CostShare(deductible=5000, coinsurance_pct=20), coverage_id="coverage-jason-argonaut-dental")

    asthma = ("J45.20", "Mild intermittent asthma, uncomplicated")
    # ---- 2019
    m.professional(med, date="2019-04-16", billing="org-charles-river-family-medicine", rendering="pract-amelia-chen",
                   dx=[("Z00.00", "Encounter for general adult medical examination without abnormal findings")],
                   lines=[(cpt("99395", "Periodic comprehensive preventive medicine, established patient, 18-39 years"), 1, 24000,
                           {"deductible": False, "coinsurance": False})])
    m.pharmacy(med, date="2019-04-18", pharmacy="org-harborview-pharmacy", prescriber="pract-amelia-chen",
               drug=ALBUTEROL, quantity=qty(1, "inhaler", "{inhaler}"), days=30, submitted=6480, refills_authorized=2,
               brand=True, daw="1", origin="1")
    # ---- 2020: emergency department visit after a fall
    m.outpatient(med, date="2020-02-09", facility="org-beacon-hill-general", attending="pract-priya-raman",
                 dx=[("S93.401A", "Sprain of unspecified ligament of right ankle, initial encounter"),
                     ("W19.XXXA", "Unspecified fall, initial encounter")],
                 admtype="1", copay=15000,
                 lines=[(rev("0450", "Emergency room - general"), cpt("99283", "Emergency department visit, moderate severity"), 1, 98000),
                        (rev("0320", "Radiology - diagnostic - general"), cpt("73610", "Radiologic examination, ankle; complete, minimum of 3 views"), 1, 41000,
                         {"modifier": [("hcpcs", "RT", "Right side")]}),
                        (rev("0270", "Medical/surgical supplies and devices - general"), hcpcs("L1906", "Ankle foot orthosis, multiligamentous ankle support, prefabricated"), 1, 12500,
                         {"noteNumber": [1]})],
                 notes=[(1, "Ankle brace supplied in the emergency department; no separate DME claim is needed.")])
    m.professional(med, date="2020-02-09", billing="org-beacon-hill-general", rendering="pract-priya-raman",
                   facility="org-beacon-hill-general", pos=("23", "Emergency Room - Hospital"),
                   dx=[("S93.401A", "Sprain of unspecified ligament of right ankle, initial encounter"),
                       ("W19.XXXA", "Unspecified fall, initial encounter")],
                   lines=[(cpt("99283", "Emergency department visit, moderate severity"), 1, 31000,
                           {"modifier": [("cpt", "25", "Significant, separately identifiable E/M service")]})])
    # ---- 2021: inpatient appendectomy, adjudicated at the header level (DRG payment)
    m.inpatient(med, start="2021-07-11", end="2021-07-13", facility="org-beacon-hill-general",
                attending="pract-marcus-reed", operating="pract-marcus-reed", referring="pract-priya-raman",
                dx=[("K35.80", "Unspecified acute appendicitis", "Y"), ("R10.31", "Right lower quadrant pain", "Y"),
                    ("J45.20", "Mild intermittent asthma, uncomplicated", "Y")],
                px=[("0DTJ4ZZ", "Resection of Appendix, Percutaneous Endoscopic Approach", "2021-07-11")],
                drg=("343", "Appendectomy without complicated principal diagnosis without CC/MCC"),
                admtype="1", origin="1", discharge="01", header_amounts=True,
                header_adjustment=("45",),
                notes=[(1, "Paid under the inpatient DRG rate; charges above the contracted rate are not billable to the member.")],
                lines=[(rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 2, 640000, {"date": "2021-07-11"}),
                       (rev("0250", "Pharmacy - general"), not_applicable(), 1, 118000, {"date": "2021-07-11"}),
                       (rev("0300", "Laboratory - general"), cpt("85025", "Blood count; complete (CBC), automated, with differential"), 1, 9500, {"date": "2021-07-11"}),
                       (rev("0360", "Operating room services - general"), cpt("44970", "Laparoscopy, surgical, appendectomy"), 1, 1450000,
                        {"date": "2021-07-11", "noteNumber": [1]}),
                       (rev("0370", "Anesthesia - general"), not_applicable(), 1, 260000, {"date": "2021-07-11"}),
                       (rev("0710", "Recovery room - general"), not_applicable(), 1, 98000, {"date": "2021-07-11"})])
    m.professional(med, date="2021-07-11", billing="org-beacon-hill-general", rendering="pract-marcus-reed",
                   facility="org-beacon-hill-general", pos=("21", "Inpatient Hospital"), referring="pract-priya-raman",
                   dx=[("K35.80", "Unspecified acute appendicitis")],
                   lines=[(cpt("44970", "Laparoscopy, surgical, appendectomy"), 1, 185000)])
    m.professional(med, date="2021-07-11", billing="org-beacon-hill-general", rendering="pract-omar-haddad",
                   facility="org-beacon-hill-general", pos=("21", "Inpatient Hospital"), referring="pract-marcus-reed",
                   dx=[("K35.80", "Unspecified acute appendicitis")],
                   lines=[(cpt("00840", "Anesthesia for intraperitoneal procedures in lower abdomen including laparoscopy"), 1, 96000,
                           {"modifier": [("hcpcs", "AA", "Anesthesia services performed personally by anesthesiologist")]})])
    # ---- 2022: asthma follow-up, dental
    m.professional(med, date="2022-03-22", billing="org-charles-river-family-medicine", rendering="pract-amelia-chen",
                   dx=[asthma], copay=2500,
                   lines=[(cpt("99213", "Office or other outpatient visit, established patient, low MDM"), 1, 17500),
                          (cpt("94010", "Spirometry"), 1, 8500, {"deductible": True, "coinsurance": True})])
    m.pharmacy(med, date="2022-03-23", pharmacy="org-harborview-pharmacy", prescriber="pract-amelia-chen",
               drug=FLUTICASONE, quantity=qty(1, "inhaler", "{inhaler}"), days=30, submitted=28900,
               refills_authorized=5, brand=True, daw="1", origin="3")
    m.oral(dental, date="2022-05-10", office="org-back-bay-dental", dentist="pract-samuel-ortiz",
           lines=[(("D0120", "Periodic oral evaluation - established patient"), None, None, 6500),
                  (("D1110", "Prophylaxis - adult"), area("00", "Entire oral cavity"), None, 11000),
                  (("D0274", "Bitewings - four radiographic images"), None, None, 7800)])
    # ---- 2023: labs, filling, compounded cream
    labs = [(rev("0300", "Laboratory - general"), cpt("80061", "Lipid panel"), 1, 9800),
            (rev("0300", "Laboratory - general"), cpt("83036", "Hemoglobin; glycosylated (A1C)"), 1, 6400),
            (rev("0300", "Laboratory - general"), cpt("80053", "Comprehensive metabolic panel"), 1, 8900),
            (rev("0300", "Laboratory - general"), cpt("36415", "Collection of venous blood by venipuncture"), 1, 1500)]
    lab_claim = dict(date="2023-02-14", facility="org-beacon-hill-general", attending="pract-amelia-chen",
                     dx=[("Z13.220", "Encounter for screening for lipoid disorders"),
                         ("Z13.1", "Encounter for screening for diabetes mellitus")], admtype="3", origin="2")
    m.corrected(m.outpatient, med,
                dict(lab_claim, lines=labs[:2] + labs[3:], lag=0,
                     notes=[(1, "Replaced by a corrected claim that adds the metabolic panel.")]),
                dict(lab_claim, lines=labs, lag=4))
    m.oral(dental, date="2023-06-06", office="org-back-bay-dental", dentist="pract-samuel-ortiz",
           dx=[("K02.52", "Dental caries on pit and fissure surface penetrating into dentin")],
           lines=[(("D0120", "Periodic oral evaluation - established patient"), None, None, 6500),
                  (("D1110", "Prophylaxis - adult"), area("00", "Entire oral cavity"), None, 11000),
                  (("D2391", "Resin-based composite - one surface, posterior"), tooth(30), ["O"], 21500)])
    m.pharmacy(med, date="2023-08-21", pharmacy="org-harborview-pharmacy", prescriber="pract-amelia-chen",
               drug=None, quantity=qty(60, "g"), days=30, submitted=7400, refills_authorized=1, origin="1",
               compound=[(HYDROCORTISONE_BASE, qty(30, "g")), (KETOCONAZOLE_BASE, qty(30, "g"))],
               notes=[(1, "Compounded topical preparation; ingredients listed on the line detail.")])
    m.professional(med, date="2023-08-21", billing="org-charles-river-family-medicine", rendering="pract-amelia-chen",
                   dx=[("L30.9", "Dermatitis, unspecified")], copay=2500,
                   lines=[(cpt("99213", "Office or other outpatient visit, established patient, low MDM"), 1, 17500)])
    # ---- 2024: inpatient pneumonia, adjudicated per line; crown
    m.inpatient(med, start="2024-01-18", end="2024-01-21", facility="org-beacon-hill-general",
                attending="pract-amelia-chen", referring="pract-priya-raman",
                dx=[("J18.9", "Pneumonia, unspecified organism", "Y"), ("R06.02", "Shortness of breath", "Y"),
                    ("J45.20", "Mild intermittent asthma, uncomplicated", "Y"), ("E87.1", "Hypo-osmolality and hyponatremia", "N")],
                px=[("BW03ZZZ", "Plain Radiography of Chest", "2024-01-18")],
                drg=("195", "Simple pneumonia and pleurisy without CC/MCC"), admtype="1", origin="1",
                discharge="01", header_amounts=False,
                lines=[(rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 3, 960000, {"date": "2024-01-18"}),
                       (rev("0450", "Emergency room - general"), cpt("99284", "Emergency department visit, high severity"), 1, 142000, {"date": "2024-01-18"}),
                       (rev("0250", "Pharmacy - general"), not_applicable(), 1, 86000, {"date": "2024-01-18"}),
                       (rev("0324", "Radiology - diagnostic - chest X-ray"), cpt("71046", "Radiologic examination, chest; 2 views"), 1, 38000, {"date": "2024-01-18"}),
                       (rev("0300", "Laboratory - general"), cpt("85025", "Blood count; complete (CBC), automated, with differential"), 2, 19000, {"date": "2024-01-19"}),
                       (rev("0410", "Respiratory services - general"), hcpcs("J7613", "Albuterol, inhalation solution, unit dose, 1 mg"), 6, 9000, {"date": "2024-01-19"})])
    m.pharmacy(med, date="2024-01-22", pharmacy="org-harborview-pharmacy", prescriber="pract-amelia-chen",
               drug=AZITHROMYCIN, quantity=qty(6, "tablet", "{tablet}"), days=5, submitted=2400, origin="3")
    m.oral(dental, date="2024-09-12", office="org-back-bay-dental", dentist="pract-samuel-ortiz",
           dx=[("K02.62", "Dental caries on smooth surface penetrating into dentin")],
           lines=[(("D2740", "Crown - porcelain/ceramic"), tooth(19), ["M", "O", "D"], 145000),
                  (("D0220", "Intraoral - periapical first radiographic image"), tooth(19), None, 3900,
                   {"modifier": [("cpt", "59", "Distinct procedural service")]})],
           notes=[(1, "Major services are covered at 50% after the deductible under Bright Smile PPO Plus.")])
    # ---- 2025
    m.outpatient(med, date="2025-03-04", facility="org-beacon-hill-general", attending="pract-marcus-reed",
                 referring="pract-amelia-chen",
                 dx=[("M25.561", "Pain in right knee"), ("S83.241A", "Other tear of medial meniscus, current injury, right knee, initial encounter")],
                 admtype="3", origin="2",
                 lines=[(rev("0610", "Magnetic resonance technology (MRT) - general"), cpt("73721", "MRI, any joint of lower extremity; without contrast"), 1, 182000,
                         {"modifier": [("hcpcs", "RT", "Right side")]})])
    m.pharmacy(med, date="2025-03-05", pharmacy="org-harborview-pharmacy", prescriber="pract-marcus-reed",
               drug=NAPROXEN, quantity=qty(60, "tablet", "{tablet}"), days=30, submitted=1800, origin="3")
    m.pharmacy(med, date="2025-05-14", pharmacy="org-harborview-pharmacy", prescriber="pract-amelia-chen",
               drug=BRAND_PPI, quantity=qty(30, "capsule", "{capsule}"), days=30, submitted=31200, brand=True,
               daw="1", origin="3", reject=("70", "Product/Service Not Covered - Plan/Benefit Exclusion"),
               notes=[(1, "Brand-name drug not on formulary; a generic alternative (omeprazole) is covered.")])
    m.pharmacy(med, date="2025-05-15", pharmacy="org-harborview-pharmacy", prescriber="pract-amelia-chen",
               drug=OMEPRAZOLE, quantity=qty(30, "capsule", "{capsule}"), days=30, submitted=2100, origin="3",
               refills_authorized=3)
    m.oral(dental, date="2025-06-17", office="org-back-bay-dental", dentist="pract-samuel-ortiz",
           lines=[(("D0120", "Periodic oral evaluation - established patient"), None, None, 6800),
                  (("D1110", "Prophylaxis - adult"), area("00", "Entire oral cavity"), None, 11500)])
    # ---- 2026
    m.professional(med, date="2026-03-10", billing="org-charles-river-family-medicine", rendering="pract-amelia-chen",
                   dx=[("Z00.00", "Encounter for general adult medical examination without abnormal findings"), asthma],
                   lines=[(cpt("99395", "Periodic comprehensive preventive medicine, established patient, 18-39 years"), 1, 26000,
                           {"deductible": False, "coinsurance": False}),
                          (cpt("90686", "Influenza virus vaccine, quadrivalent, split virus, preservative free, IM"), 1, 3200,
                           {"deductible": False, "coinsurance": False}),
                          (cpt("90471", "Immunization administration, one vaccine"), 1, 2500,
                           {"deductible": False, "coinsurance": False})])
    m.pharmacy(med, date="2026-03-11", pharmacy="org-harborview-pharmacy", prescriber="pract-amelia-chen",
               drug=ALBUTEROL, quantity=qty(1, "inhaler", "{inhaler}"), days=30, submitted=6900, refill=1,
               refills_authorized=2, brand=True, daw="1", origin="3")
    m.oral(dental, date="2026-06-23", office="org-back-bay-dental", dentist="pract-samuel-ortiz",
           lines=[(("D0120", "Periodic oral evaluation - established patient"), None, None, 7000),
                  (("D1110", "Prophylaxis - adult"), area("00", "Entire oral cavity"), None, 11800),
                  (("D0274", "Bitewings - four radiographic images"), None, None, 8200)])
    m.professional(med, date="2026-09-15", billing="org-charles-river-family-medicine", rendering="pract-amelia-chen",
                   dx=[asthma], copay=2500,
                   lines=[(cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 1, 24500)])

    # ---- prior authorizations: physical therapy, 12 visits approved, 5 used by the claims that
    # carry the authorization number; a lumbar MRI still pending review
    knee = ("S83.241D", "Other tear of medial meniscus, current injury, right knee, subsequent encounter")
    therapy = cpt("97110", "Therapeutic procedure, 1 or more areas, each 15 minutes; therapeutic exercises")
    pt_auth = m.prior_authorization(
        med, created="2026-07-27", decided="2026-07-29", requester="pract-marcus-reed",
        provider="org-beacon-hill-general", facility="org-beacon-hill-general",
        dx=[knee, ("M25.561", "Pain in right knee")], period=("2026-08-01", "2027-01-31"),
        disposition="Approved: 12 physical therapy visits between 2026-08-01 and 2027-01-31.",
        items=[dict(category=("PT", "Physical Therapy"), product=therapy, requested=12, unit="visit",
                    per_unit=16500, decision="approved", service=("2026-08-01", "2027-01-31"),
                    pos=("22", "On Campus-Outpatient Hospital"),
                    authorized_provider=("Practitioner", "pract-lena-fischer"))])
    visits = [m.professional(med, date=day, billing="org-beacon-hill-general", rendering="pract-lena-fischer",
                             facility="org-beacon-hill-general", pos=("22", "On Campus-Outpatient Hospital"),
                             referring="pract-marcus-reed", dx=[knee], copay=2500, lag=i,
                             pre_auth=pt_auth["preAuthRef"][0], lines=[(therapy, 1, 16500)])
              for i, day in enumerate(("2026-08-04", "2026-08-11", "2026-08-25", "2026-09-08", "2026-09-22"))]
    record_utilization(pt_auth, visits)
    mri_auth = m.prior_authorization(
        med, created="2026-11-23", requester="pract-amelia-chen", provider="org-charles-river-family-medicine",
        facility="org-beacon-hill-general", level="U",
        dx=[("M54.16", "Radiculopathy, lumbar region")],
        disposition="Pending clinical review: additional records were requested from the ordering provider.",
        items=[dict(category=("62", "MRI/CAT Scan"), product=cpt("72148", "Magnetic resonance imaging, spinal canal and contents, lumbar; without contrast material"),
                    requested=1, unit="study", per_unit=165000, decision="pending", service=("2026-12-01", "2027-02-28"),
                    pos=("22", "On Campus-Outpatient Hospital"))])
    # ---- the timeline: the MRI is approved three days after start-up; a sixth therapy visit's
    # claim posts three days later, and its unit is recorded on the authorization
    m.schedule("P3D", "The lumbar MRI is approved after clinical review",
               prior_authorization=mri_auth["id"], decide={"decision": "approve"})
    sixth = m.professional(med, date="2026-11-24", billing="org-beacon-hill-general", rendering="pract-lena-fischer",
                           facility="org-beacon-hill-general", pos=("22", "On Campus-Outpatient Hospital"),
                           referring="pract-marcus-reed", dx=[knee], copay=2500, lag=5,
                           pre_auth=pt_auth["preAuthRef"][0], lines=[(therapy, 1, 16500)])
    m.schedule("P6D", "The claim for the sixth physical therapy visit posts", resource=sixth)
    m.schedule("P6D", "The sixth visit is recorded on the physical therapy authorization: 6 of 12 used",
               prior_authorization=pt_auth["id"], use={"units": 1})

    # ---- clinical record
    enc_er = clinical.encounter(eid="enc-jason-argonaut-20200209", patient_id=pid, day="2020-02-09",
                                klass=("EMER", "emergency"), etype=cpt("99283", "Emergency department visit, moderate severity"),
                                practitioner="pract-priya-raman", organization="org-beacon-hill-general",
                                location="loc-beacon-hill-general",
                                reason=cc("snomed", "44465007", "Sprain of ankle"),
                                identifier_system="https://beaconhillgeneral.example.org/encounter-id")
    enc_ip = clinical.encounter(eid="enc-jason-argonaut-20210711", patient_id=pid, day="2021-07-11", end="2021-07-13",
                                klass=("IMP", "inpatient encounter"),
                                etype=cc("snomed", "32485007", "Hospital admission"),
                                practitioner="pract-marcus-reed", organization="org-beacon-hill-general",
                                location="loc-beacon-hill-general",
                                reason=cc("snomed", "85189001", "Acute appendicitis"),
                                discharge=HOME)
    enc_asthma = clinical.encounter(eid="enc-jason-argonaut-20220322", patient_id=pid, day="2022-03-22",
                                    etype=cpt("99213", "Office or other outpatient visit, established patient, low MDM"),
                                    practitioner="pract-amelia-chen", organization="org-charles-river-family-medicine",
                                    location="loc-charles-river-family-medicine",
                                    reason=cc("snomed", "427679007", "Mild intermittent asthma"))
    enc_pna = clinical.encounter(eid="enc-jason-argonaut-20240118", patient_id=pid, day="2024-01-18", end="2024-01-21",
                                 klass=("IMP", "inpatient encounter"), etype=cc("snomed", "32485007", "Hospital admission"),
                                 practitioner="pract-amelia-chen", organization="org-beacon-hill-general",
                                 location="loc-beacon-hill-general", reason=cc("snomed", "233604007", "Pneumonia"),
                                 reason_reference="cond-jason-argonaut-pneumonia", discharge=HOME)
    enc_phys = clinical.encounter(eid="enc-jason-argonaut-20260310", patient_id=pid, day="2026-03-10",
                                  etype=cpt("99395", "Periodic comprehensive preventive medicine, established patient, 18-39 years"),
                                  practitioner="pract-amelia-chen", organization="org-charles-river-family-medicine",
                                  location="loc-charles-river-family-medicine",
                                  identifier_system="https://charlesriverfm.example.org/encounter-id")
    for e in (enc_er, enc_ip, enc_asthma, enc_pna, enc_phys):
        m.add(e)
    m.add(clinical.condition(cid="cond-jason-argonaut-asthma", patient_id=pid,
                             snomed=("427679007", "Mild intermittent asthma"), icd10=asthma,
                             onset="2004-05-01", recorded="2019-04-16"))
    m.add(clinical.condition(cid="cond-jason-argonaut-appendicitis", patient_id=pid,
                             snomed=("85189001", "Acute appendicitis"), icd10=("K35.80", "Unspecified acute appendicitis"),
                             onset="2021-07-10", abatement="2021-07-11", recorded="2021-07-11", clinical="resolved",
                             category="encounter-diagnosis", encounter_id=enc_ip["id"]))
    m.add(clinical.condition(cid="cond-jason-argonaut-pneumonia", patient_id=pid,
                             snomed=("233604007", "Pneumonia"), icd10=("J18.9", "Pneumonia, unspecified organism"),
                             onset="2024-01-16", abatement="2024-02-05", recorded="2024-01-18", clinical="resolved",
                             category="encounter-diagnosis", encounter_id=enc_pna["id"], asserted="2024-01-18"))
    m.add(clinical.allergy(aid="allergy-jason-argonaut-penicillin", patient_id=pid,
                           code={"coding": [{"system": "http://snomed.info/sct", "code": "764146007", "display": "Penicillin"}],
                                 "text": "Penicillin"},
                           recorded="2019-04-16", manifestation=cc("snomed", "247472004", "Wheal"), criticality="high"))
    m.add(clinical.immunization(iid="imm-jason-argonaut-flu-2026", patient_id=pid, day="2026-03-10",
                                cvx=("150", "Influenza, injectable, quadrivalent, preservative free"), lot="FLU26A117",
                                performer_role="role-amelia-chen", encounter_id=enc_phys["id"]))
    m.add(clinical.immunization(iid="imm-jason-argonaut-tdap-2019", patient_id=pid, day="2019-04-16",
                                cvx=("115", "Tdap"), lot="TD19C442", performer="pract-amelia-chen"))
    m.add(clinical.medication_request(mid="medrx-jason-argonaut-albuterol", patient_id=pid, day="2019-04-16",
                                      rxnorm=("745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"),
                                      requester="pract-amelia-chen", refills=2, supply_days=30,
                                      dosage="Inhale 2 puffs every 4 to 6 hours as needed for wheezing.",
                                      dose=(2, "puff", "{puff}"), timing=(1, 4, "h"), as_needed=True,
                                      quantity=(1, "inhaler", "{inhaler}")))
    m.add(clinical.medication_request(mid="medrx-jason-argonaut-omeprazole", patient_id=pid, day="2025-05-15",
                                      rxnorm=("198053", "omeprazole 20 MG Delayed Release Oral Capsule"),
                                      requester="role-amelia-chen", refills=3, supply_days=30, status="completed",
                                      dosage="Take 1 capsule by mouth once daily before breakfast.",
                                      dose=(1, "capsule", "{capsule}"), timing=(1, 1, "d"),
                                      quantity=(30, "capsule", "{capsule}")))
    m.add(clinical.medication_request(mid="medrx-jason-argonaut-azithromycin", patient_id=pid, day="2024-01-21",
                                      rxnorm=("308460", "azithromycin 250 MG Oral Tablet"),
                                      requester="pract-amelia-chen", refills=0, status="completed",
                                      encounter_id=enc_pna["id"],
                                      dosage="Take 2 tablets by mouth on day 1, then 1 tablet once daily on days 2 to 5.",
                                      dose=(1, "tablet", "{tablet}"), timing=(1, 1, "d"),
                                      quantity=(6, "tablet", "{tablet}")))
    m.add(clinical.procedure(pid="proc-jason-argonaut-appendectomy", patient_id=pid, day="2021-07-11",
                             code={"coding": [{"system": "http://snomed.info/sct", "code": "80146002", "display": "Appendectomy"},
                                              {"system": "http://www.ama-assn.org/go/cpt", "code": "44970",
                                               "display": "Laparoscopy, surgical, appendectomy"}], "text": "Laparoscopic appendectomy"},
                             performer="pract-marcus-reed", encounter_id=enc_ip["id"],
                             reason=cc("snomed", "85189001", "Acute appendicitis")))
    m.add(clinical.lab(oid="obs-jason-argonaut-a1c-20230214", patient_id=pid, day="2023-02-14",
                       loinc=("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), value=5.3, unit="%", ucum_code="%",
                       high=5.6, interpretation=("N", "Normal")))
    m.add(clinical.lab(oid="obs-jason-argonaut-ldl-20230214", patient_id=pid, day="2023-02-14",
                       loinc=("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay"),
                       value=118, unit="mg/dL", ucum_code="mg/dL", high=100, interpretation=("H", "High")))
    blood = ("https://beaconhillgeneral.example.org/specimen-id", "BHG-24-0118-0412", "Venous blood")
    m.add(clinical.lab(oid="obs-jason-argonaut-wbc-20240118", patient_id=pid, day="2024-01-18",
                       loinc=("6690-2", "Leukocytes [#/volume] in Blood by Automated count"), value=14.2,
                       unit="10*3/uL", ucum_code="10*3/uL", low=4.5, high=11.0, interpretation=("H", "High"),
                       specimen=blood, encounter_id=enc_pna["id"]))
    m.add(clinical.lab(oid="obs-jason-argonaut-potassium-20240118", patient_id=pid, day="2024-01-18",
                       loinc=("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
                       absent=("error", "Error"), specimen=blood, encounter_id=enc_pna["id"]))
    m.add(clinical.lab(oid="obs-jason-argonaut-pneumococcal-ag-20240118", patient_id=pid, day="2024-01-18",
                       loinc=("31982-8", "Streptococcus pneumoniae Ag [Presence] in Urine"),
                       value_snomed=("10828004", "Positive"), interpretation=("A", "Abnormal"),
                       specimen=("https://beaconhillgeneral.example.org/specimen-id", "BHG-24-0118-0413", "Urine"),
                       encounter_id=enc_pna["id"]))
    m.add(clinical.lab(oid="obs-jason-argonaut-blood-culture-20240118", patient_id=pid, day="2024-01-18",
                       loinc=("600-7", "Bacteria identified in Blood by Culture"),
                       value_string="No growth after 5 days.", specimen=blood, encounter_id=enc_pna["id"]))
    # ---- the emergency visit: the automated cuff gave no reading (blood pressure components
    # without values, with the reason)
    er = dict(patient_id=pid, day="2020-02-09", encounter_id=enc_er["id"], at=timestamp("2020-02-09", enc_er["id"], "vitals"))
    m.add(clinical.blood_pressure(oid="obs-jason-argonaut-bp-20200209", systolic=None, diastolic=None,
                                  absent=("error", "Error"), **er))
    m.add(clinical.vital(oid="obs-jason-argonaut-heart-rate-20200209", kind="heart-rate", value=96, **er))
    # ---- the 2026 physical: vital signs, smoking status and a depression screening (PHQ-2)
    phys = dict(patient_id=pid, day="2026-03-10", encounter_id=enc_phys["id"],
                at=timestamp("2026-03-10", enc_phys["id"], "vitals"))
    m.add(clinical.blood_pressure(oid="obs-jason-argonaut-bp-20260310", systolic=118, diastolic=76, **phys))
    m.add(clinical.vital(oid="obs-jason-argonaut-heart-rate-20260310", kind="heart-rate", value=64, **phys))
    m.add(clinical.vital(oid="obs-jason-argonaut-height-20260310", kind="body-height", value=180.3, **phys))
    m.add(clinical.vital(oid="obs-jason-argonaut-weight-20260310", kind="body-weight", value=79.4, **phys))
    m.add(clinical.vital(oid="obs-jason-argonaut-bmi-20260310", kind="bmi", value=24.4, **phys))
    m.add(clinical.smoking_status(oid="obs-jason-argonaut-smoking-20260310", status=NEVER_SMOKED, **phys))
    q1, q2, total = ("obs-jason-argonaut-phq2-interest-20260310", "obs-jason-argonaut-phq2-down-20260310",
                     "obs-jason-argonaut-phq2-score-20260310")
    phq = dict(phys, performer="pract-amelia-chen", at=timestamp("2026-03-10", enc_phys["id"], "phq-2"))
    m.add(clinical.screening(oid="obs-jason-argonaut-phq2-20260310",
                             loinc=("55757-9", "Patient Health Questionnaire 2 item (PHQ-2) [Reported]"),
                             members=(q1, q2, total), **phq))
    m.add(clinical.screening(oid=q1, loinc=("44250-9", "Little interest or pleasure in doing things in last 2 weeks"),
                             answer=("LA6568-5", "Not at all"), **phq))
    m.add(clinical.screening(oid=q2, loinc=("44255-8", "Feeling down, depressed, or hopeless in last 2 weeks"),
                             answer=("LA6569-3", "Several days"), **phq))
    m.add(clinical.screening(oid=total, loinc=("55758-7", "Patient Health Questionnaire 2 item (PHQ-2) total score [Reported]"),
                             score=1, derived_from=(q1, q2), **phq))
    return "member-01-jason-argonaut", m


# ========================================================================== 2
def rosa_delgado(numbers):
    """Test Member 2: many claims (more than two pages at the default page size)."""
    m = Member(numbers, "rosa-delgado", "rosa-delgado", "RD")
    pid = m.pid
    m.add(patient_resource(
        pid=pid, given="Rosa", family="Delgado", middle="Maria", gender="female", birth_date="1957-06-14",
        member_id="08-testmemid2", payer_id=DHP, address=("2326 North Orchard Street", "Chicago", "IL", "60614"),
        phone="312-555-0162", email="rosa.delgado@example.com", last_updated="2025-11-18T13:45:10Z",
        ethnicity=("2135-2", "Hispanic or Latino"), language=("es", "Spanish")))
    m.add(coverage_resource(
        cid="coverage-rosa-delgado-medical", last_updated="2025-12-01T08:00:00Z", payer_id=DHP, beneficiary_id=pid,
        subscriber=("Patient", pid), subscriber_id="08-testmemid2", member_id="08-testmemid2",
        relationship=("self", "Self"), period=("2022-01-01", None),
        plan=("DHP-MA-HMO", "Demo Medicare Advantage HMO"), group=("MA-IL-01", "Illinois Medicare Advantage"),
        dependent="01", network="Demo Chicagoland HMO Network"))
    cov = CoverageRef(DHP, CostShare(deductible=25000, coinsurance_pct=20, office_copay=1500, rx_copay=500),
                      coverage_id="coverage-rosa-delgado-medical")
    dm = ("E11.9", "Type 2 diabetes mellitus without complications")
    htn = ("I10", "Essential (primary) hypertension")
    hld = ("E78.5", "Hyperlipidemia, unspecified")
    months = [(y, mo) for y in range(2023, 2027) for mo in range(1, 13) if (y, mo) <= (2026, 9)]
    for i, (y, mo) in enumerate(months):
        d = f"{y}-{mo:02d}"
        m.pharmacy(cov, date=f"{d}-03", pharmacy="org-lakeview-pharmacy", prescriber="pract-helen-kowalski",
                   drug=METFORMIN, quantity=qty(60, "tablet", "{tablet}"), days=30, submitted=1600,
                   refill=i % 12, refills_authorized=11, origin="3", lag=i % 4)
        m.pharmacy(cov, date=f"{d}-05", pharmacy="org-lakeview-pharmacy", prescriber="pract-helen-kowalski",
                   drug=LISINOPRIL, quantity=qty(30, "tablet", "{tablet}"), days=30, submitted=1100,
                   refill=i % 12, refills_authorized=11, origin="3", lag=(i + 1) % 4)
        if mo % 3 == 1:
            m.pharmacy(cov, date=f"{d}-08", pharmacy="org-lakeview-pharmacy", prescriber="pract-david-okonkwo",
                       drug=ATORVASTATIN, quantity=qty(90, "tablet", "{tablet}"), days=90, submitted=2700,
                       refill=(i // 3) % 4, refills_authorized=3, origin="3", lag=i % 3)
        if mo % 3 == 2:
            m.professional(cov, date=f"{d}-12", billing="org-lincoln-park-internal-medicine",
                           rendering="pract-helen-kowalski", dx=[dm, htn, hld], copay=1500, lag=i % 5,
                           lines=[(cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 1, 21000,
                                   {"dxseq": [1, 2, 3]})])
        if mo in (2, 8):
            m.outpatient(cov, date=f"{d}-12", facility="org-lakeshore-medical-center",
                         attending="pract-helen-kowalski", dx=[dm, hld], admtype="3", origin="2", lag=i % 3,
                         lines=[(rev("0300", "Laboratory - general"), cpt("83036", "Hemoglobin; glycosylated (A1C)"), 1, 6400),
                                (rev("0300", "Laboratory - general"), cpt("80061", "Lipid panel"), 1, 9800),
                                (rev("0300", "Laboratory - general"), cpt("36415", "Collection of venous blood by venipuncture"), 1, 1500)])
        if mo in (5, 11):
            m.professional(cov, date=f"{d}-20", billing="org-lakeshore-medical-center",
                           rendering="pract-david-okonkwo", referring="pract-helen-kowalski", dx=[dm, hld],
                           pos=("22", "On Campus-Outpatient Hospital"), copay=4000, lag=i % 4,
                           lines=[(cpt("99204", "Office or other outpatient visit, new or established patient, moderate MDM"), 1, 32000)])
    stay = [(rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 3, 720000, {"date": "2025-02-17"}),
            (rev("0250", "Pharmacy - general"), not_applicable(), 1, 64000, {"date": "2025-02-17"}),
            (rev("0300", "Laboratory - general"), cpt("80048", "Basic metabolic panel"), 4, 31000, {"date": "2025-02-17"})]
    admission = dict(start="2025-02-17", end="2025-02-20", facility="org-lakeshore-medical-center",
                     attending="pract-david-okonkwo", referring="pract-helen-kowalski",
                     dx=[("E11.65", "Type 2 diabetes mellitus with hyperglycemia", "Y"), ("E86.0", "Dehydration", "Y"),
                         htn + ("Y",), hld + ("Y",)],
                     px=[("3E033VJ", "Introduction of Other Hormone into Peripheral Vein, Percutaneous Approach", "2025-02-17")],
                     drg=("638", "Diabetes with CC"), admtype="2", origin="2", discharge="06", header_amounts=True)
    m.corrected(m.inpatient, cov,
                dict(admission, lines=stay[:2], lag=0,
                     notes=[(1, "Replaced by a corrected claim that adds the laboratory charges.")]),
                dict(admission, lines=stay, lag=4))

    # ---- clinical record
    m.add(clinical.condition(cid="cond-rosa-delgado-diabetes", patient_id=pid,
                             snomed=("44054006", "Diabetes mellitus type 2"), icd10=dm, onset="2016-09-01",
                             recorded="2023-02-12", asserted="2016-09-14"))
    m.add(clinical.condition(cid="cond-rosa-delgado-hypertension", patient_id=pid,
                             snomed=("59621000", "Essential hypertension"), icd10=htn, onset="2012-03-01",
                             recorded="2023-02-12"))
    m.add(clinical.condition(cid="cond-rosa-delgado-hyperlipidemia", patient_id=pid,
                             snomed=("55822004", "Hyperlipidemia"), icd10=hld, onset="2014-11-01",
                             recorded="2023-02-12"))
    m.add(clinical.allergy(aid="allergy-rosa-delgado-sulfonamide", patient_id=pid,
                           code={"coding": [{"system": "http://snomed.info/sct", "code": "387406002",
                                             "display": "Sulfonamide"}], "text": "Sulfa drugs"},
                           recorded="2023-02-12", manifestation=cc("snomed", "271807003", "Eruption of skin")))
    for rx, (code, disp), dose, who, timing, quantity in (
            ("metformin", ("861007", "metformin hydrochloride 500 MG Oral Tablet"), "Take 1 tablet by mouth twice daily with meals.", "pract-helen-kowalski", (2, 1, "d"), 60),
            ("lisinopril", ("314076", "lisinopril 10 MG Oral Tablet"), "Take 1 tablet by mouth once daily.", "pract-helen-kowalski", (1, 1, "d"), 30),
            ("atorvastatin", ("617310", "atorvastatin 20 MG Oral Tablet"), "Take 1 tablet by mouth at bedtime.", "pract-david-okonkwo", (1, 1, "d"), 30)):
        m.add(clinical.medication_request(mid=f"medrx-rosa-delgado-{rx}", patient_id=pid, day="2023-01-02",
                                          rxnorm=(code, disp), requester=who, dosage=dose, refills=11, supply_days=30,
                                          dose=(1, "tablet", "{tablet}"), timing=timing,
                                          quantity=(quantity, "tablet", "{tablet}")))
    m.add(clinical.medication_request(mid="medrx-rosa-delgado-aspirin", patient_id=pid, day="2023-02-12",
                                      rxnorm=("243670", "aspirin 81 MG Oral Tablet"), requester="pract-helen-kowalski",
                                      intent="plan", reported_by=pid, encounter_id="enc-rosa-delgado-20230212",
                                      dosage="Takes 1 tablet by mouth once daily (bought over the counter).",
                                      dose=(1, "tablet", "{tablet}"), timing=(1, 1, "d")))
    a1c = [7.9, 7.6, 7.4, 7.8, 8.6, 7.2, 7.0, 6.9]
    bp = [(148, 92), (142, 88), (138, 86), (136, 84), (144, 90), (134, 82), (130, 80), (128, 78)]
    weight = [88.2, 87.5, 86.9, 87.8, None, 85.6, 84.9, 84.1]
    for i, (y, mo) in enumerate([(y, mo) for y in range(2023, 2027) for mo in (2, 8)][:8]):
        day = f"{y}-{mo:02d}-12"
        enc_id = f"enc-rosa-delgado-{y}{mo:02d}12"
        m.add(clinical.encounter(eid=enc_id, patient_id=pid, day=day,
                                 etype=cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"),
                                 practitioner="pract-helen-kowalski", organization="org-lincoln-park-internal-medicine",
                                 location="loc-lincoln-park-internal-medicine",
                                 reason=cc("snomed", "44054006", "Diabetes mellitus type 2")))
        v = a1c[i]
        m.add(clinical.lab(oid=f"obs-rosa-delgado-a1c-{y}{mo:02d}12", patient_id=pid, day=day,
                           loinc=("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), value=v, unit="%", ucum_code="%",
                           high=5.6, interpretation=("H", "High"), encounter_id=enc_id))
        vitals_at = timestamp(day, enc_id, "vitals")
        m.add(clinical.blood_pressure(oid=f"obs-rosa-delgado-bp-{y}{mo:02d}12", patient_id=pid, day=day,
                                      systolic=bp[i][0], diastolic=bp[i][1], encounter_id=enc_id, at=vitals_at))
        # She declined the scale at one visit: a vital sign without a value, with the reason.
        m.add(clinical.vital(oid=f"obs-rosa-delgado-weight-{y}{mo:02d}12", kind="body-weight", patient_id=pid, day=day,
                             value=weight[i], absent=None if weight[i] else ("asked-declined", "Asked But Declined"),
                             encounter_id=enc_id, at=vitals_at))
    m.add(clinical.smoking_status(oid="obs-rosa-delgado-smoking-20230212", patient_id=pid, day="2023-02-12",
                                  status=EX_SMOKER, encounter_id="enc-rosa-delgado-20230212",
                                  at=timestamp("2023-02-12", "enc-rosa-delgado-20230212", "vitals")))
    # ---- food insecurity: the Hunger Vital Sign screening (a panel of two questions and the
    # risk derived from them; one question declined) and the health concern it led to,
    # resolved after a referral to a food pantry
    hvs = dict(patient_id=pid, day="2025-08-12", performer="pract-helen-kowalski", sdoh=True,
               encounter_id="enc-rosa-delgado-20250812", at=timestamp("2025-08-12", "enc-rosa-delgado-20250812", "hvs"))
    q1, q2, risk, note = ("obs-rosa-delgado-hvs-worried-20250812", "obs-rosa-delgado-hvs-ran-out-20250812",
                          "obs-rosa-delgado-hvs-risk-20250812", "obs-rosa-delgado-hvs-comment-20250812")
    m.add(clinical.screening(oid="obs-rosa-delgado-hvs-20250812", loinc=("88121-9", "Hunger Vital Sign [HVS]"),
                             members=(q1, q2, risk, note), **hvs))
    m.add(clinical.screening(oid=q1, loinc=("88122-7", "Within the past 12 months we worried whether our food would run out before we got money to buy more [U.S. FSS]"),
                             answer=("LA28397-0", "Often true"), **hvs))
    m.add(clinical.screening(oid=q2, loinc=("88123-5", "Within the past 12 months the food we bought just didn't last and we didn't have money to get more [U.S. FSS]"),
                             absent=("asked-declined", "Asked But Declined"), **hvs))
    m.add(clinical.screening(oid=risk, loinc=("88124-3", "Food insecurity risk [HVS]"),
                             answer=("LA19952-3", "At risk"), derived_from=(q1, q2), **hvs))
    m.add(clinical.screening(oid=note, loinc=("48767-8", "Annotation comment [Interpretation] Narrative"),
                             text="Referred to the Lakeview community food pantry; follow up in 6 months.", **hvs))
    m.add(clinical.condition(cid="cond-rosa-delgado-food-insecurity", patient_id=pid,
                             snomed=("733423003", "Food insecurity"), icd10=("Z59.41", "Food insecurity"),
                             category="health-concern", extra_categories=("sdoh",), onset="2025-08-12",
                             recorded="2025-08-12", asserted="2025-08-12", abatement="2026-02-10",
                             clinical="resolved", last_updated="2026-02-10T15:20:00Z"))
    for y in (2023, 2024, 2025):
        m.add(clinical.immunization(iid=f"imm-rosa-delgado-flu-{y}", patient_id=pid, day=f"{y}-10-05",
                                    cvx=("197", "Influenza, high-dose, quadrivalent"), lot=f"HD{y % 100}F{305 + y % 7}",
                                    performer_role="role-helen-kowalski"))
    m.add(clinical.immunization(iid="imm-rosa-delgado-zoster-2024", patient_id=pid, day="2024-08-12",
                                cvx=("187", "zoster vaccine recombinant"), not_done=("PATOBJ", "patient objection"),
                                encounter_id="enc-rosa-delgado-20240812"))
    refill = m.pharmacy(cov, date="2026-11-03", pharmacy="org-lakeview-pharmacy", prescriber="pract-helen-kowalski",
                        drug=METFORMIN, quantity=qty(60, "tablet", "{tablet}"), days=30, submitted=1600,
                        refill=2, refills_authorized=11, origin="3", lag=1)
    m.schedule("P1D", "A metformin refill's pharmacy claim posts", resource=refill)
    # ---- prior authorizations: a continuous glucose monitor (first half of 2026, expired) and its
    # renewal (approved), and a nuclear stress test that was denied
    cgm_dx = [("E11.65", "Type 2 diabetes mellitus with hyperglycemia")]
    sensors = hcpcs("A4239", "Supply allowance for non-adjunctive, non-implanted continuous glucose monitor (CGM), includes all supplies and accessories, 1 month supply = 1 unit of service")
    first_cgm = m.prior_authorization(
        cov, created="2026-01-12", decided="2026-01-14", requester="pract-david-okonkwo",
        provider="org-lakeshore-medical-center", dx=cgm_dx, period=("2026-02-01", "2026-07-31"),
        disposition="Approved: a CGM receiver and 6 months of sensor supplies, February to July 2026.",
        items=[dict(category=("12", "Durable Medical Equipment Purchase"),
                    product=hcpcs("E2103", "Non-adjunctive, non-implanted continuous glucose monitor or receiver"),
                    requested=1, unit="unit", per_unit=32000, decision="approved", service=("2026-02-01", "2026-07-31"),
                    authorized_provider=("Organization", "org-lakeview-pharmacy")),
               dict(category=("12", "Durable Medical Equipment Purchase"), product=sensors, requested=6,
                    unit="month", per_unit=21000, decision="approved", service=("2026-02-01", "2026-07-31"),
                    authorized_provider=("Organization", "org-lakeview-pharmacy"))])
    m.prior_authorization(
        cov, created="2026-07-20", decided="2026-07-22", requester="pract-david-okonkwo",
        provider="org-lakeshore-medical-center", dx=cgm_dx, period=("2026-08-01", "2027-01-31"),
        disposition="Approved: 6 months of CGM sensor supplies, August 2026 to January 2027 (renewal).",
        items=[dict(category=("12", "Durable Medical Equipment Purchase"), product=sensors, requested=6,
                    unit="month", per_unit=21500, decision="approved", service=("2026-08-01", "2027-01-31"),
                    previous=first_cgm["preAuthRef"][0],
                    authorized_provider=("Organization", "org-lakeview-pharmacy"))])
    m.prior_authorization(
        cov, created="2026-06-15", decided="2026-06-18", requester="pract-helen-kowalski",
        provider="org-lincoln-park-internal-medicine", facility="org-lakeshore-medical-center",
        dx=[("Z13.6", "Encounter for screening for cardiovascular disorders"), htn],
        disposition="Denied: a stress test for screening without symptoms is not medically necessary.",
        items=[dict(category=("4", "Diagnostic X-Ray"),
                    product=cpt("78452", "Myocardial perfusion imaging, tomographic (SPECT), multiple studies, at rest and/or stress"),
                    requested=1, unit="study", per_unit=240000, decision="denied", service=("2026-07-01", "2026-09-30"),
                    pos=("22", "On Campus-Outpatient Hospital"),
                    denial=("carc", "50", "These are non-covered services because this is not deemed a 'medical necessity' by the payer."))],
        notes=["The ordering provider may request a peer-to-peer review or submit an appeal within 60 days."])
    return "member-02-rosa-delgado", m


# ========================================================================== 3
def ethan_nakamura(numbers):
    """Test Member 3: a minor covered as a dependent; the parent is the subscriber and payee."""
    m = Member(numbers, "ethan-nakamura", "ethan-nakamura", "EN")
    pid = m.pid
    home = ("4417 Woodland Park Avenue North", "Seattle", "WA", "98103")
    m.add(patient_resource(
        pid=pid, given="Ethan", family="Nakamura", gender="male", birth_date="2014-09-03",
        member_id="08-testmemid3", payer_id=DHP, address=home, phone="206-555-0173",
        email="keiko.nakamura@example.com", last_updated="2025-08-29T17:02:44Z",
        race=("2028-9", "Asian")))
    parent = "relatedperson-keiko-nakamura"
    m.add(related_person_resource(
        rid=parent, patient_id=pid, given="Keiko", family="Nakamura", gender="female",
        relationship=("MTH", "mother"), address=home, phone="206-555-0173",
        last_updated="2025-08-29T17:05:12Z", birth_date="1983-05-19"))
    m.add(coverage_resource(
        cid="coverage-ethan-nakamura-medical", last_updated="2025-01-02T10:30:00Z", payer_id=DHP,
        beneficiary_id=pid, subscriber=("RelatedPerson", parent), subscriber_id="08-testsub3",
        member_id="08-testmemid3", relationship=("child", "Child"), period=("2020-01-01", None),
        plan=("DHP-FAM-HMO", "Demo Family HMO"), group=("PST-EMP-07", "Puget Sound Tech Employees"),
        dependent="02", network="Demo Puget Sound HMO Network"))
    cov = CoverageRef(DHP, CostShare(deductible=30000, coinsurance_pct=20, office_copay=2000, rx_copay=1000),
                      coverage_id="coverage-ethan-nakamura-medical")
    payee = {"type": ("payee", "subscriber"), "party": ("RelatedPerson", parent)}
    well = ("Z00.129", "Encounter for routine child health examination without abnormal findings")
    m.professional(cov, date="2023-09-08", billing="org-puget-sound-childrens-clinic", rendering="pract-grace-liu",
                   dx=[well, ("Z23", "Encounter for immunization")], payee=payee,
                   lines=[(cpt("99393", "Periodic comprehensive preventive medicine, established patient, 5-11 years"), 1, 21000,
                           {"deductible": False, "coinsurance": False}),
                          (cpt("90686", "Influenza virus vaccine, quadrivalent, split virus, preservative free, IM"), 1, 3200,
                           {"deductible": False, "coinsurance": False, "dxseq": [2]}),
                          (cpt("90460", "Immunization administration through 18 years, first component"), 1, 2800,
                           {"deductible": False, "coinsurance": False, "dxseq": [2]})])
    m.professional(cov, date="2024-02-20", billing="org-puget-sound-childrens-clinic", rendering="pract-grace-liu",
                   dx=[("J02.0", "Streptococcal pharyngitis")], copay=2000, payee=payee,
                   lines=[(cpt("99213", "Office or other outpatient visit, established patient, low MDM"), 1, 16500),
                          (cpt("87880", "Infectious agent antigen detection, Streptococcus, group A"), 1, 3500,
                           {"modifier": [("hcpcs", "QW", "CLIA waived test")], "deductible": True, "coinsurance": True})])
    m.pharmacy(cov, date="2024-02-20", pharmacy="org-greenlake-pharmacy", prescriber="pract-grace-liu",
               drug=AMOXICILLIN, quantity=qty(100, "mL"), days=10, submitted=1900, origin="3", payee=payee)
    m.outpatient(cov, date="2024-06-29", facility="org-cascade-urgent-care", attending="pract-grace-liu",
                 dx=[("S52.501A", "Unspecified fracture of the lower end of right radius, initial encounter for closed fracture"),
                     ("W19.XXXA", "Unspecified fall, initial encounter")],
                 admtype="2", origin="1", copay=7500, payee=payee,
                 lines=[(rev("0456", "Emergency room - urgent care"), cpt("99204", "Office or other outpatient visit, new patient, moderate MDM"), 1, 36000),
                        (rev("0320", "Radiology - diagnostic - general"), cpt("73110", "Radiologic examination, wrist; complete, minimum of 3 views"), 1, 29000,
                         {"modifier": [("hcpcs", "RT", "Right side")]}),
                        (rev("0270", "Medical/surgical supplies and devices - general"), hcpcs("Q4012", "Cast supplies, short arm cast, pediatric (0-10 years), fiberglass"), 1, 14000)])
    sealants = [(("D0120", "Periodic oral evaluation - established patient"), None, None, 5800),
                (("D1120", "Prophylaxis - child"), area("00", "Entire oral cavity"), None, 7600),
                (("D1206", "Topical application of fluoride varnish"), area("00", "Entire oral cavity"), None, 4200),
                (("D1351", "Sealant - per tooth"), tooth(3), ["O"], 5200),
                (("D1351", "Sealant - per tooth"), tooth(14), ["O"], 5200),
                (("D1351", "Sealant - per tooth"), tooth(19), ["O"], 5200),
                (("D1351", "Sealant - per tooth"), tooth(30), ["O"], 5200)]
    visit = dict(date="2025-03-18", office="org-fremont-kids-dental", dentist="pract-tomas-alvarez", payee=payee)
    m.corrected(m.oral, cov,
                dict(visit, lines=sealants[:6], lag=0,
                     notes=[(1, "Replaced by a corrected claim that adds the sealant on tooth 30.")]),
                dict(visit, lines=sealants, lag=5))
    m.professional(cov, date="2025-08-26", billing="org-puget-sound-childrens-clinic", rendering="pract-grace-liu",
                   dx=[well], payee=payee,
                   lines=[(cpt("99393", "Periodic comprehensive preventive medicine, established patient, 5-11 years"), 1, 22000,
                           {"deductible": False, "coinsurance": False})])
    # A visit to an out-of-network specialist, reimbursed to the parent.
    m.professional(cov, date="2026-04-07", billing="org-front-range-hospital", rendering="pract-nora-whitfield",
                   facility="org-front-range-hospital", pos=("22", "On Campus-Outpatient Hospital"),
                   dx=[("S52.501D", "Unspecified fracture of the lower end of right radius, subsequent encounter for closed fracture with routine healing")],
                   network="outofnetwork", payee=payee, paid_to="patient",
                   notes=[(1, "Out-of-network provider: the plan's payment was sent to the subscriber.")],
                   lines=[(cpt("99213", "Office or other outpatient visit, established patient, low MDM"), 1, 19500,
                           {"allowed_pct": 55, "noteNumber": [1]})])
    # ---- prior authorizations: occupational therapy after the wrist fracture, approved then
    # cancelled by the clinic; a sleep study, approved
    m.prior_authorization(
        cov, created="2026-03-09", decided="2026-03-11", updated="2026-03-30", status="cancelled",
        requester="pract-grace-liu", provider="org-puget-sound-childrens-clinic",
        dx=[("S52.501D", "Unspecified fracture of the lower end of right radius, subsequent encounter for closed fracture with routine healing")],
        period=("2026-03-16", "2026-06-15"),
        disposition="Cancelled at the provider's request: the wrist recovered its motion and therapy was not needed.",
        items=[dict(category=("AD", "Occupational Therapy"),
                    product=cpt("97530", "Therapeutic activities, direct (one-on-one) patient contact, each 15 minutes"),
                    requested=8, unit="visit", per_unit=14500, decision="cancelled", service=("2026-03-16", "2026-06-15"),
                    authorized_provider=("Organization", "org-puget-sound-childrens-clinic"))])
    m.prior_authorization(
        cov, created="2026-10-19", decided="2026-10-22", requester="pract-grace-liu",
        provider="org-puget-sound-childrens-clinic",
        dx=[("R06.83", "Snoring"), ("G47.30", "Sleep apnea, unspecified")], period=("2026-11-01", "2027-01-31"),
        disposition="Approved: one attended sleep study between 2026-11-01 and 2027-01-31.",
        items=[dict(category=("73", "Diagnostic Medical"),
                    product=cpt("95810", "Polysomnography; age 6 years or older, sleep staging with 4 or more additional parameters of sleep, attended by a technologist"),
                    requested=1, unit="study", per_unit=280000, decision="approved", service=("2026-11-01", "2027-01-31"),
                    authorized_provider=("Organization", "org-puget-sound-childrens-clinic"))])
    return "member-03-ethan-nakamura", m


# ========================================================================== 4
def carin_bluebutton(numbers):
    """The CARIN STU2 Test Member: exercises the rarer must-support elements (transport,
    vision, orthodontics, prosthesis, claim adjustments, payment to the member)."""
    m = Member(numbers, "carin-bluebutton", "carin-bluebutton", "CB")
    pid = m.pid
    home = ("1450 Grant Street Apt 12", "Denver", "CO", "80203")
    m.add(patient_resource(
        pid=pid, given="Carin", family="Bluebutton", gender="female", birth_date="1979-03-22",
        member_id="08-testmemidstu2", payer_id=DHP, address=home, phone="303-555-0144",
        email="carin.bluebutton@example.com", last_updated="2025-12-09T11:11:11Z",
        race=("2054-5", "Black or African American"), unique_member_id="DHP-U-0000000804",
        deceased=False, address_since="2018-06-01"))
    m.add(coverage_resource(
        cid="coverage-carin-bluebutton-medical", last_updated="2025-01-02T10:45:00Z", payer_id=DHP,
        beneficiary_id=pid, subscriber=("Patient", pid), subscriber_id="08-testmemidstu2",
        member_id="08-testmemidstu2", relationship=("self", "Self"), period=("2020-01-01", None),
        plan=("DHP-CMP-PPO", "Demo Complete PPO (medical and dental)"),
        group=("CO-FREC-02", "Front Range Employers Cooperative"), dependent="01", network="Demo PPO Network"))
    cov = CoverageRef(DHP, CostShare(deductible=75000, coinsurance_pct=20, office_copay=3000, rx_copay=1000),
                      coverage_id="coverage-carin-bluebutton-medical")
    oa = ("M17.11", "Unilateral primary osteoarthritis, right knee")
    fx = ("S82.61XA", "Displaced fracture of lateral malleolus of right fibula, initial encounter for closed fracture")
    # ---- 2023: knee replacement, adjudicated per line
    m.inpatient(cov, start="2023-10-02", end="2023-10-04", facility="org-front-range-hospital",
                attending="pract-nora-whitfield", operating="pract-nora-whitfield", referring="pract-ruth-mensah",
                dx=[oa + ("Y",), ("E66.9", "Obesity, unspecified", "Y"),
                    ("I10", "Essential (primary) hypertension", "Y"), ("Z79.899", "Other long term (current) drug therapy", "1")],
                px=[("0SRC0J9", "Replacement of Right Knee Joint with Synthetic Substitute, Cemented, Open Approach", "2023-10-02")],
                drg=("470", "Major hip and knee joint replacement or reattachment of lower extremity without MCC"),
                admtype="3", origin="2", discharge="06", header_amounts=False,
                header_adjustment=("45",),
                lines=[(rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 2, 660000, {"date": "2023-10-02"}),
                       (rev("0360", "Operating room services - general"), cpt("27447", "Arthroplasty, knee, condyle and plateau; medial and lateral compartments"), 1, 2850000,
                        {"date": "2023-10-02", "modifier": [("hcpcs", "RT", "Right side")]}),
                       (rev("0278", "Medical/surgical supplies - other implants"), hcpcs("C1776", "Joint device (implantable)"), 1, 1240000, {"date": "2023-10-02"}),
                       (rev("0420", "Physical therapy - general"), cpt("97161", "Physical therapy evaluation, low complexity"), 1, 42000, {"date": "2023-10-03"}),
                       (rev("0250", "Pharmacy - general"), not_applicable(), 1, 118000, {"date": "2023-10-02"})])
    # ---- 2024: ankle fracture with emergency ambulance, then a stretcher round trip
    m.professional(cov, date="2024-03-09", billing="org-mile-high-ambulance", rendering="pract-ana-sousa",
                   dx=[fx, ("W19.XXXA", "Unspecified fall, initial encounter")], pos=("41", "Ambulance - Land"),
                   extra_supporting=[
                       si("patientweight", key="weight", valueQuantity=qty(152, "[lb_av]")),
                       si("ambulancetransportreason", key="reason", reason=coding("ambulance", "A", "Patient was transported to nearest facility for care of symptoms, complaints, or both")),
                       si("transportationdistance", key="distance", valueQuantity=qty(6.4, "[mi_i]")),
                       si("pickuplocation", key="pickup", valueString="1450 Grant Street, Denver, CO 80203"),
                       si("dropofflocation", key="dropoff", valueString="Front Range Hospital Emergency Department, 1650 Fillmore Street, Denver, CO 80206"),
                   ],
                   lines=[(hcpcs("A0427", "Ambulance service, advanced life support, emergency transport, level 1 (ALS1-emergency)"), 1, 145000,
                           {"info": ["weight", "reason", "pickup", "dropoff"]}),
                          (hcpcs("A0425", "Ground mileage, per statute mile"), 7, 12600, {"info": ["distance"]})])
    m.outpatient(cov, date="2024-03-09", facility="org-front-range-hospital", attending="pract-ruth-mensah",
                 dx=[fx, ("M25.571", "Pain in right ankle and joints of right foot", None, "patientreasonforvisit"),
                     ("W19.XXXA", "Unspecified fall, initial encounter")],
                 admtype="1", origin="1", copay=15000, header_adjustment=("45",),
                 lines=[(rev("0450", "Emergency room - general"), cpt("99284", "Emergency department visit, high severity"), 1, 128000),
                        (rev("0320", "Radiology - diagnostic - general"), cpt("73610", "Radiologic examination, ankle; complete, minimum of 3 views"), 1, 39000,
                         {"modifier": [("hcpcs", "RT", "Right side")]}),
                        (rev("0270", "Medical/surgical supplies and devices - general"), hcpcs("L4361", "Walking boot, pneumatic and/or vacuum, prefabricated"), 1, 31000)])
    m.outpatient(cov, date="2024-03-09", facility="org-front-range-hospital", attending="pract-ruth-mensah",
                 dx=[("M25.571", "Pain in right ankle and joints of right foot"), fx], admtype="1", origin="1",
                 header_amounts=True,
                 notes=[(1, "Take-home medication from the emergency department, paid as a single case rate.")],
                 lines=[(rev("0250", "Pharmacy - general"), not_applicable(), 1, 4800, {"noteNumber": [1]})])
    m.professional(cov, date="2024-03-26", billing="org-mile-high-ambulance", rendering="pract-ana-sousa",
                   dx=[("S82.61XD", "Displaced fracture of lateral malleolus of right fibula, subsequent encounter for closed fracture with routine healing")],
                   pos=("41", "Ambulance - Land"),
                   extra_supporting=[
                       si("roudtrippurpose", key="roundtrip", valueString="Round trip to outpatient orthopaedic surgery and back home the same day"),
                       si("stretcherpurpose", key="stretcher", valueString="Non-weight-bearing after ankle fracture; cannot sit upright for transport"),
                       si("pickuplocation", key="pickup", valueString="1450 Grant Street, Denver, CO 80203"),
                       si("dropofflocation", key="dropoff", valueString="Front Range Hospital Outpatient Surgery, 1650 Fillmore Street, Denver, CO 80206"),
                       si("transportationdistance", key="distance", valueQuantity=qty(12.8, "[mi_i]")),
                   ],
                   lines=[(hcpcs("A0428", "Ambulance service, basic life support, non-emergency transport (BLS)"), 2, 84000,
                           {"info": ["roundtrip", "stretcher", "pickup", "dropoff"]}),
                          (hcpcs("A0425", "Ground mileage, per statute mile"), 13, 23400, {"info": ["distance"]})])
    m.professional(cov, date="2024-03-26", billing="org-front-range-hospital", rendering="pract-nora-whitfield",
                   facility="org-front-range-hospital", pos=("22", "On Campus-Outpatient Hospital"),
                   referring="pract-ruth-mensah", primary="pract-ruth-mensah",
                   dx=[fx, ("W19.XXXA", "Unspecified fall, initial encounter")],
                   lines=[(cpt("27792", "Open treatment of distal fibular fracture (lateral malleolus), includes internal fixation"), 1, 265000,
                           {"modifier": [("hcpcs", "RT", "Right side")]})])
    # ---- 2025: vision exam and glasses (vision claim; refraction not covered)
    m.professional(cov, date="2025-01-21", billing="org-clearview-vision", rendering="pract-irene-park",
                   type_code="vision", dx=[("H52.13", "Myopia, bilateral"), ("H52.4", "Presbyopia")],
                   lines=[(cpt("92004", "Ophthalmological services: medical examination and evaluation, comprehensive, new patient"), 1, 21000),
                          (cpt("92015", "Determination of refractive state"), 1, 6000, {"noncovered": 6000, "noteNumber": [1]}),
                          (hcpcs("V2203", "Lens, spherocylinder, single vision, plano to plus or minus 4.00d sphere, 0.12 to 2.00d cylinder, per lens"), 2, 18000,
                           {"modifier": [("hcpcs", "RT", "Right side"), ("hcpcs", "LT", "Left side")]})],
                   notes=[(1, "Refraction is not a covered benefit under this plan.")])
    # ---- 2025: a claim and its corrected replacement
    m.corrected(m.professional, cov,
                dict(date="2025-04-15", billing="org-front-range-hospital", rendering="pract-ruth-mensah",
                     dx=[("I10", "Essential (primary) hypertension")], copay=3000, lag=0,
                     lines=[(cpt("99215", "Office or other outpatient visit, established patient, high MDM"), 1, 32000)],
                     notes=[(1, "This claim was replaced by a corrected claim.")]),
                dict(date="2025-04-15", billing="org-front-range-hospital", rendering="pract-ruth-mensah",
                     dx=[("I10", "Essential (primary) hypertension"), ("R51.9", "Headache, unspecified")],
                     copay=3000, lag=4,
                     lines=[(cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 1, 24000)],
                     notes=[(1, "Corrected claim: the visit level was changed from 99215 to 99214.")]))
    # ---- 2025: an out-of-network visit paid to the member
    m.professional(cov, date="2025-07-08", billing="org-peachtree-medical-group", rendering="pract-leah-goldberg",
                   dx=[("J06.9", "Acute upper respiratory infection, unspecified")], network="outofnetwork",
                   payee={"type": ("c4bb-payee", "beneficiary"), "party": ("Patient", pid)}, paid_to="patient",
                   bill_as_practitioner=True, purchased="org-midtown-atlanta-hospital",
                   notes=[(1, "Out-of-network visit while travelling; payment was sent to the member.")],
                   lines=[(cpt("99203", "Office or other outpatient visit, new patient, low MDM"), 1, 19000,
                           {"allowed_pct": 60, "noteNumber": [1]}),
                          (cpt("87637", "Infectious agent detection, SARS-CoV-2, influenza A and B, and RSV, amplified probe"), 1, 14500,
                           {"allowed_pct": 60})])
    m.pharmacy(cov, date="2025-07-08", pharmacy="org-colfax-pharmacy", prescriber="pract-leah-goldberg",
               drug=AZITHROMYCIN, quantity=qty(6, "tablet", "{tablet}"), days=5, submitted=1500, origin="4",
               network="outofnetwork", payee={"type": ("c4bb-payee", "beneficiary"), "party": ("Patient", pid)})
    # ---- 2025-2026: orthodontics and a partial denture
    m.oral(cov, date="2025-09-16", office="org-capitol-hill-dental", dentist="pract-james-holloway",
           primary="pract-james-holloway",
           dx=[("M26.213", "Malocclusion, Angle's class III")],
           extra_supporting=[si("orthodontics", timingDate="2025-09-16", valueQuantity=qty(24, "month", "mo"))],
           lines=[(("D8090", "Comprehensive orthodontic treatment of the adult dentition"), area("00", "Entire oral cavity"), None, 560000,
                   {"noncovered": 280000, "noteNumber": [1]})],
           notes=[(1, "Adult orthodontics is covered up to a $2,800 lifetime maximum.")])
    m.oral(cov, date="2026-02-10", office="org-capitol-hill-dental", dentist="pract-james-holloway",
           dx=[("K08.409", "Partial loss of teeth, unspecified cause, unspecified class")],
           extra_supporting=[
               si("prosthesis", timingDate="2019-05-14", valueBoolean=False),
               si("missingtoothnumber", code=cc("tooth", "3")),
               si("missingtoothnumber", code=cc("tooth", "4")),
               si("additionalbodysite", key="site", code=cc("tooth", "5")),
           ],
           lines=[(("D5213", "Maxillary partial denture - cast metal framework with resin denture bases"), area("01", "Maxillary area"), None, 185000,
                   {"info": ["site"]}),
                  (("D2391", "Resin-based composite - one surface, posterior"), tooth(13), ["B"], 19500)])
    m.pharmacy(cov, date="2026-05-04", pharmacy="org-colfax-pharmacy", prescriber="pract-ruth-mensah",
               drug=LISINOPRIL, quantity=qty(90, "tablet", "{tablet}"), days=90, submitted=2900, refills_authorized=3,
               origin="2")
    m.professional(cov, date="2026-10-20", billing="org-front-range-hospital", rendering="pract-ruth-mensah",
                   dx=[("I10", "Essential (primary) hypertension")], copay=3000,
                   lines=[(cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 1, 25000)])
    # ---- prior authorizations: a home sleep test never done (expired), and a left knee
    # replacement approved with fewer days of the motion device than requested (partial)
    m.prior_authorization(
        cov, created="2026-02-23", decided="2026-02-25", requester="pract-ruth-mensah",
        provider="org-front-range-hospital", dx=[("G47.33", "Obstructive sleep apnea (adult) (pediatric)")],
        period=("2026-03-01", "2026-05-31"),
        disposition="Approved: one home sleep apnea test between 2026-03-01 and 2026-05-31.",
        items=[dict(category=("73", "Diagnostic Medical"),
                    product=cpt("95806", "Sleep study, unattended, simultaneous recording of heart rate, oxygen saturation, respiratory airflow, and respiratory effort"),
                    requested=1, unit="study", per_unit=48000, decision="approved", service=("2026-03-01", "2026-05-31"),
                    authorized_provider=("Organization", "org-front-range-hospital"))])
    m.prior_authorization(
        cov, created="2026-10-13", decided="2026-10-16", requester="pract-nora-whitfield",
        provider="org-front-range-hospital", facility="org-front-range-hospital", type_code="institutional",
        dx=[("M17.12", "Unilateral primary osteoarthritis, left knee")], period=("2026-11-02", "2027-01-31"),
        disposition="Partially approved: the knee replacement is approved; the motion device is approved "
                    "for 10 of the 21 days requested.",
        items=[dict(category=("2", "Surgical"),
                    product=cpt("27447", "Arthroplasty, knee, condyle and plateau; medial and lateral compartments"),
                    modifier=[("hcpcs", "LT", "Left side")], requested=1, unit="unit", per_unit=2850000,
                    decision="approved", service=("2026-11-02", "2027-01-31"), pos=("21", "Inpatient Hospital"),
                    authorized_provider=("Organization", "org-front-range-hospital")),
               dict(category=("18", "Durable Medical Equipment Rental"),
                    product=hcpcs("E0935", "Continuous passive motion exercise device for use on knee only"),
                    requested=21, approved=10, unit="day", per_unit=4500, decision="partial",
                    service=("2026-11-02", "2027-01-31"), pos=("12", "Home"),
                    denial=("carc", "150", "Payer deems the information submitted does not support this level of service."),
                    authorized_provider=("Organization", "org-front-range-hospital"))])
    return "member-04-carin-bluebutton", m


# ========================================================================== 5
def walter_okafor(numbers):
    """A member whose claims do not link to a Coverage resource: they carry the coverage's
    member identifier and a display only, as some payers' claim feeds do."""
    m = Member(numbers, "walter-okafor", "walter-okafor", "WO")
    pid = m.pid
    m.add(patient_resource(
        pid=pid, given="Walter", family="Okafor", gender="male", birth_date="1951-11-08",
        member_id="08-testmemid5", payer_id=DHP, address=("88 Peachtree Circle NE", "Atlanta", "GA", "30309"),
        phone="404-555-0191", email="walter.okafor@example.com", last_updated="2026-01-05T14:00:00Z",
        race=("2054-5", "Black or African American")))
    walter_cov = m.add(coverage_resource(
        cid="coverage-walter-okafor-medical", last_updated="2026-01-05T14:02:00Z", payer_id=DHP, beneficiary_id=pid,
        subscriber=("Patient", pid), subscriber_id="08-testmemid5", member_id="08-testmemid5",
        relationship=("self", "Self"), period=("2026-01-01", None),
        plan=("DHP-MA-PPO", "Demo Medicare Advantage PPO"), group=("MA-GA-01", "Georgia Medicare Advantage"),
        dependent="01"))
    cov = CoverageRef(DHP, CostShare(deductible=0, coinsurance_pct=20, office_copay=2000, rx_copay=500),
                      member_id="08-testmemid5",
                      display="Demo Health Plan Medicare Advantage HMO (2024-2025 plan years)")
    cad = ("I25.10", "Atherosclerotic heart disease of native coronary artery without angina pectoris")
    m.professional(cov, date="2024-04-02", billing="org-peachtree-medical-group", rendering="pract-leah-goldberg",
                   dx=[cad, ("I10", "Essential (primary) hypertension")], copay=2000,
                   lines=[(cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 1, 21000)])
    m.outpatient(cov, date="2024-04-19", facility="org-midtown-atlanta-hospital", attending="pract-kevin-brandt",
                 referring="pract-leah-goldberg", dx=[cad], admtype="3", origin="2",
                 lines=[(rev("0483", "Cardiology - echocardiology"), cpt("93306", "Echocardiography, transthoracic, complete, with Doppler"), 1, 168000),
                        (rev("0730", "EKG/ECG (electrocardiogram) - general"), cpt("93005", "Electrocardiogram, routine ECG with at least 12 leads; tracing only"), 1, 21000)])
    m.pharmacy(cov, date="2024-04-22", pharmacy="org-ansley-pharmacy", prescriber="pract-kevin-brandt",
               drug=CLOPIDOGREL, quantity=qty(90, "tablet", "{tablet}"), days=90, submitted=2400, refills_authorized=3)
    m.pharmacy(cov, date="2024-04-22", pharmacy="org-ansley-pharmacy", prescriber="pract-kevin-brandt",
               drug=METOPROLOL, quantity=qty(90, "tablet", "{tablet}"), days=90, submitted=3100, refills_authorized=3)
    m.inpatient(cov, start="2025-01-27", end="2025-01-29", facility="org-midtown-atlanta-hospital",
                attending="pract-kevin-brandt", referring="pract-leah-goldberg",
                dx=[("I20.0", "Unstable angina", "Y"), cad + ("Y",), ("I10", "Essential (primary) hypertension", "Y")],
                px=[("4A023N7", "Measurement of Cardiac Sampling and Pressure, Left Heart, Percutaneous Approach", "2025-01-28")],
                drg=("287", "Circulatory disorders except AMI, with cardiac catheterization without MCC"),
                admtype="1", origin="1", discharge="01", header_amounts=True,
                lines=[(rev("0120", "Room & board - semi-private (two beds) - general"), not_applicable(), 2, 540000, {"date": "2025-01-27"}),
                       (rev("0481", "Cardiology - cardiac cath lab"), cpt("93458", "Catheter placement in coronary artery(s) for coronary angiography, with left heart catheterization"), 1, 1120000, {"date": "2025-01-28"}),
                       (rev("0250", "Pharmacy - general"), not_applicable(), 1, 76000, {"date": "2025-01-27"})])
    m.professional(cov, date="2025-02-11", billing="org-midtown-atlanta-hospital", rendering="pract-kevin-brandt",
                   facility="org-midtown-atlanta-hospital", pos=("22", "On Campus-Outpatient Hospital"),
                   referring="pract-leah-goldberg", dx=[cad], copay=4000,
                   lines=[(cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 1, 26000)])
    refill = dict(date="2025-07-21", pharmacy="org-ansley-pharmacy", prescriber="pract-kevin-brandt",
                  drug=CLOPIDOGREL, days=90, refill=1, refills_authorized=3)
    m.corrected(m.pharmacy, cov,
                dict(refill, quantity=qty(30, "tablet", "{tablet}"), submitted=800, lag=0,
                     notes=[(1, "Reversed and re-billed: the quantity dispensed was corrected to 90 tablets.")]),
                dict(refill, quantity=qty(90, "tablet", "{tablet}"), submitted=2400, lag=2))
    m.pharmacy(cov, date="2025-07-21", pharmacy="org-ansley-pharmacy", prescriber="pract-kevin-brandt",
               drug=METOPROLOL, quantity=qty(90, "tablet", "{tablet}"), days=90, submitted=3100, refill=1,
               refills_authorized=3)
    m.professional(cov, date="2025-10-14", billing="org-peachtree-medical-group", rendering="pract-leah-goldberg",
                   dx=[cad, ("I10", "Essential (primary) hypertension")], copay=2000,
                   lines=[(cpt("99214", "Office or other outpatient visit, established patient, moderate MDM"), 1, 21500)])
    # ---- prior authorizations, unlinked like his claims: cardiac rehabilitation (expired) and a
    # coronary CT angiography (denied)
    m.prior_authorization(
        cov, created="2026-01-19", decided="2026-01-21", requester="pract-kevin-brandt",
        provider="org-midtown-atlanta-hospital", facility="org-midtown-atlanta-hospital",
        dx=[("I20.0", "Unstable angina"), cad], period=("2026-01-26", "2026-07-25"),
        disposition="Approved: 36 sessions of cardiac rehabilitation between 2026-01-26 and 2026-07-25.",
        items=[dict(category=("BG", "Cardiac Rehabilitation"),
                    product=cpt("93798", "Physician or other qualified health care professional services for outpatient cardiac rehabilitation; with continuous ECG monitoring (per session)"),
                    requested=36, unit="session", per_unit=12000, decision="approved",
                    service=("2026-01-26", "2026-07-25"), pos=("22", "On Campus-Outpatient Hospital"),
                    authorized_provider=("Organization", "org-midtown-atlanta-hospital"))])
    m.prior_authorization(
        cov, created="2026-04-13", decided="2026-04-15", requester="pract-kevin-brandt",
        provider="org-midtown-atlanta-hospital", facility="org-midtown-atlanta-hospital",
        dx=[cad], level="E",
        disposition="Denied: a coronary CT angiography is not medically necessary after the cardiac "
                    "catheterization of January 2025 without new symptoms.",
        items=[dict(category=("4", "Diagnostic X-Ray"),
                    product=cpt("75574", "Computed tomographic angiography, heart, coronary arteries and bypass grafts, with contrast material"),
                    requested=1, unit="study", per_unit=185000, decision="denied", service=("2026-05-01", "2026-07-31"),
                    pos=("22", "On Campus-Outpatient Hospital"),
                    denial=("carc", "50", "These are non-covered services because this is not deemed a 'medical necessity' by the payer."))])
    # ---- the timeline: he moves out of the plan's service area; the coverage ends on that day
    ended = json.loads(json.dumps(walter_cov))
    ended["period"]["end"] = "@date"
    m.schedule("P21D", "Walter Okafor's coverage ends: he moved out of the service area", resource=ended)
    return "member-05-walter-okafor", m


# ========================================================================== 6
def noelle_ferreira(numbers):
    """A newly enrolled member with nothing on file yet: the Patient and no other resource (no
    Coverage, no claims, no clinical records), so every search of her data is empty."""
    m = Member(numbers, "noelle-ferreira", "noelle-ferreira", "NF")
    m.add(patient_resource(
        pid=m.pid, given="Noelle", family="Ferreira", gender="female", birth_date="1998-02-11",
        member_id="08-testmemid6", payer_id=DHP, address=("3140 Bryant Avenue South", "Minneapolis", "MN", "55408"),
        phone="612-555-0158", email="noelle.ferreira@example.com", last_updated="2026-11-02T09:30:00Z",
        address_since="2026-09-01"))
    return "member-06-noelle-ferreira", m


ALL = [jason_argonaut, rosa_delgado, ethan_nakamura, carin_bluebutton, walter_okafor, noelle_ferreira]

# For seed-data/README.md: file slug -> (role, what is special about the member).
NOTES = {
    "member-01-jason-argonaut": (
        "Test Member 1",
        "The richest member: EOBs of all five CARIN types from 2019 to 2026; two coverages from different "
        "payors (medical from Demo Health Plan, dental from Bright Smile Dental Insurance); a rejected "
        "pharmacy claim, a compound drug, an inpatient stay paid at the header level and one paid per "
        "line, a corrected claim; a clinical record of every type (Encounter, Condition, "
        "AllergyIntolerance, Immunization, MedicationRequest, Procedure, Observation). Prior "
        "authorizations: physical therapy, 12 visits approved and 5 used (the five therapy claims carry "
        "its number in `preAuthRef`); a lumbar MRI pending review (`outcome` queued)."),
    "member-02-rosa-delgado": (
        "Test Member 2",
        "Many claims: monthly pharmacy fills and quarterly visits, more than 120 EOBs, so a search at "
        "the default page size of 50 returns three pages. Chronic conditions with clinical resources "
        "(Condition, Observation, MedicationRequest, Immunization, Encounter, AllergyIntolerance). Prior "
        "authorizations: a continuous glucose monitor for 2025 (expired) and its 2026 renewal (approved, "
        "naming the previous authorization), and a nuclear stress test that was denied (X12 CARC 50, not "
        "medically necessary)."),
    "member-03-ethan-nakamura": (
        "Test Member 3",
        "A minor covered as a dependent: his mother Keiko Nakamura (RelatedPerson) is the Coverage "
        "subscriber (subscriberId 08-testsub3) and the payee on his EOBs; includes an out-of-network "
        "visit reimbursed to her. Prior authorizations: occupational therapy after his wrist fracture, "
        "approved then cancelled by the clinic (`status` cancelled), and a sleep study (approved)."),
    "member-04-carin-bluebutton": (
        "CARIN STU2 Test Member",
        "Exercises the rarer must-support elements: emergency and stretcher ambulance transports, a "
        "vision claim, orthodontics, a partial denture with missing teeth, a corrected (replaced) "
        "claim, an out-of-network claim paid to the member, the unique member ID. Prior authorizations: a "
        "home sleep test never done (expired) and a knee replacement approved with 10 of the 21 days of "
        "motion-device rental requested (partially approved, X12 CARC 150)."),
    "member-05-walter-okafor": (
        "Unlinked coverage",
        "EOBs that do not link to a Coverage resource: insurance.coverage carries only the member "
        "identifier and a display, as some payers' claim feeds do. A current Coverage exists but no "
        "EOB points to it. His prior authorizations point to the coverage the same way: cardiac "
        "rehabilitation (expired) and a coronary CT angiography (denied, X12 CARC 50)."),
    "member-06-noelle-ferreira": (
        "Nothing on file",
        "A newly enrolled member with nothing on file but her Patient: no Coverage, no EOB, no "
        "RelatedPerson and no clinical records yet, so every search of her data (ExplanationOfBenefit, "
        "Coverage, Condition, Observation, ...) returns an empty searchset with `total` 0; only Patient "
        "and the Organization that assigned her member ID are readable. An app must handle a member "
        "with nothing on file."),
}
