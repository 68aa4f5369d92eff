"""Publishing the program: versions, diagnostics, notice versions, rollback, roles."""

from fastapi.testclient import TestClient

from tests.loyalty.consent_program import PROGRAM, consent_of, publish, sign_up


def test_publish_and_read(client: TestClient, staff_headers) -> None:  # type: ignore[no-untyped-def]
    marketer = staff_headers("marketer")
    body = publish(client, marketer)
    assert body["version"] == 1
    assert {p["name"] for p in body["program"]["purposes"]} == {
        "loyalty",
        "personalised_offers",
        "newsletter",
    }
    assert body["notice_versions"] == {"loyalty": "1", "newsletter": "1", "personalised_offers": "1"}
    read = client.get("/api/v1/admin/program", headers=marketer)
    assert read.status_code == 200
    assert read.json()["version"] == 1 and "purpose newsletter" in read.json()["source"]


def test_publish_json_body(client: TestClient, staff_headers) -> None:  # type: ignore[no-untyped-def]
    marketer = staff_headers("marketer")
    response = client.put(
        "/api/v1/admin/program", json={"source": [["main.rules", PROGRAM]]}, headers=marketer
    )
    assert response.status_code == 200, response.text
    assert response.json()["sources"][0][0] == "main.rules"


def test_broken_program_is_422_with_diagnostics_and_changes_nothing(  # type: ignore[no-untyped-def]
    client: TestClient, staff_headers
) -> None:
    marketer = staff_headers("marketer")
    publish(client, marketer)
    broken = PROGRAM.replace("reads birthday\n", "")
    response = client.put(
        "/api/v1/admin/program", content=broken, headers={**marketer, "Content-Type": "text/plain"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "compile_error"
    assert any(d["severity"] == "error" and "birthday" in d["message"] for d in body["diagnostics"])
    assert client.get("/api/v1/admin/program", headers=marketer).json()["version"] == 1


def test_sources_of_the_wrong_shape_or_blank_are_422_and_change_nothing(  # type: ignore[no-untyped-def]
    client: TestClient, staff_headers
) -> None:
    marketer = staff_headers("marketer")
    publish(client, marketer)
    for source in (123, None, True, [["a"]], [[1, 2]], {"a": "b"}, [], "", "  \n", [["main.rules", " "]]):
        for method, path in (("put", "/api/v1/admin/program"), ("post", "/api/v1/admin/program/simulate")):
            response = getattr(client, method)(path, json={"source": source}, headers=marketer)
            assert response.status_code == 422, (method, source, response.text)
            assert response.json()["error"] == "invalid_source"
    text = {**marketer, "Content-Type": "text/plain"}
    blank = client.put("/api/v1/admin/program", content=b"", headers=text)
    assert blank.status_code == 422
    assert client.get("/api/v1/admin/program", headers=marketer).json()["version"] == 1


def test_changed_text_is_a_new_notice_version_and_consents_keep_theirs(  # type: ignore[no-untyped-def]
    client: TestClient, staff_headers
) -> None:
    marketer = staff_headers("marketer")
    publish(client, marketer)
    _, member = sign_up(client, "ana@example.org")
    client.put("/api/v1/me/consents/personalised_offers", json={"granted": True}, headers=member)
    changed = PROGRAM.replace("to give you personal bonuses.", "to give you personal bonuses and vouchers.")
    body = publish(client, marketer, changed)
    assert body["version"] == 2
    assert body["notice_versions"]["personalised_offers"] == "2"
    assert body["notice_versions"]["newsletter"] == "1"
    offers = consent_of(client, member, "personalised_offers")
    assert offers["notice_version"] == "2" and offers["consented_notice_version"] == "1"
    assert offers["text"].endswith("and vouchers.")
    # Back to the first text: the same notice version as before.
    rolled = client.post("/api/v1/admin/program/rollback", json={"version": 1}, headers=marketer)
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["version"] == 3 and rolled.json()["notice_versions"]["personalised_offers"] == "1"
    versions = client.get("/api/v1/admin/program/versions", headers=marketer).json()
    assert [v["version"] for v in versions] == [3, 2, 1]


def test_roles(client: TestClient, staff_headers, member_headers) -> None:  # type: ignore[no-untyped-def]
    cashier = staff_headers("cashier")
    response = client.put(
        "/api/v1/admin/program", content=PROGRAM, headers={**cashier, "Content-Type": "text/plain"}
    )
    assert response.status_code == 403
    assert client.get("/api/v1/admin/program", headers=member_headers).status_code == 403
    assert client.get("/api/v1/admin/program", headers=staff_headers("admin")).status_code == 404
