"""The first test a user writes: log a member in through the fixture and read their record."""

from payer_sandbox import Sandbox


def test_login_and_read_the_patient(payer_sandbox: Sandbox) -> None:
    tokens = payer_sandbox.login("08-testmemid")
    assert tokens.patient == "jason-argonaut"
    response = payer_sandbox.fhir(f"Patient/{tokens.patient}", tokens)
    assert response.status == 200
    assert response.json()["resourceType"] == "Patient"
    assert response.json()["id"] == "jason-argonaut"
