from tests.live import LiveAgent


def test_nurse_logs_in_and_reads_patients(live_agent: LiveAgent) -> None:
    nurse = live_agent.add_account()
    client = live_agent.login(nurse)
    created = client.post(f"{live_agent.url}/api/v1/patients", json={
        "birth_name": "DUPONT", "first_names": ["Marcel"], "birth_date": "1931-11-02", "sex": "M"})
    assert created.status_code == 201, created.text
    listed = client.get(f"{live_agent.url}/api/v1/patients").json()
    assert [p["display_name"] for p in listed["items"]] == ["DUPONT Marcel"]
