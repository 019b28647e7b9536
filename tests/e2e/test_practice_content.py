"""P6 on the local stack: a practice's URLs and templates as a hostile practice would set
them, and what the pipeline does with them."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from notify.practice_settings import SettingsProblem


class Server:
    """A small HTTP server on 127.0.0.1 answering every request with `answer(request)`."""

    def __init__(self, answer) -> None:
        self.requests: list[str] = []
        self.answer = answer
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.path)
        return self.answer(request)(environ, start_response)


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(answer):
        started.append(Server(answer))
        return started[-1]

    yield start
    for server in started:
        server.server.shutdown()


def test_p6_a_callback_redirect_is_never_followed(scenario, control, servers):
    from ops.practice import configure

    inside = servers(lambda r: Response("secret"))  # stands for a service inside our network
    practice = servers(lambda r: Response("", status=302, headers={"Location": f"{inside.url}/steal"}))
    s = scenario()
    configure(
        s.pms.practice_id,
        callback_url=f"{practice.url}/hooks",
        name="Harbour",
        timezone="Europe/Warsaw",
        country="PL",
    )
    s.patient("pat")
    s.book("a1", "pat", s.local(4))
    assert s.tap("a1", "confirm").status_code == 200
    control.advance(60)
    assert practice.requests and set(practice.requests) == {"/hooks"}  # tried, retried
    assert inside.requests == []  # the redirect was not followed


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1/hooks",
        "file:///etc/passwd",
        "https://10.1.2.3/",
    ],
)
def test_p6_a_practice_cannot_point_its_callbacks_into_our_network(scenario, url):
    from ops.practice import configure

    s = scenario()
    with pytest.raises(SettingsProblem) as refused:
        configure(s.pms.practice_id, callback_url=url, name="Harbour", timezone="Europe/Warsaw")
    assert refused.value.field == "callback_url"


def test_p6_a_stored_template_that_fails_when_sending_falls_back_to_ours_and_says_so(scenario, control):
    """A template that slipped past configuration (stored directly here, as an older
    version could have) never costs the patient their message."""
    from notify.dal.practices import get_practice, save_practice
    from notify.domain.model import PracticeSettings

    s = scenario()
    current = get_practice(s.pms.practice_id).settings
    broken = "{% block sms %}{{ diagnosis.upper() }}{% endblock %}"
    settings = PracticeSettings(**{**current.__dict__, "templates": (("en/confirmation.j2", broken),)})
    save_practice(s.pms.practice_id, settings)
    s.patient("pat")
    s.book("a1", "pat", s.local(4))
    (sms,) = s.messages("a1", kind="confirmation")
    assert sms["text"].startswith("Harbour Dental") or "Harbour" in sms["text"]
    rows = s.pms.get("appointments/a1").json()["messages"]
    (sent,) = [r for r in rows if r["kind"] == "confirmation" and r["status"] == "sent"]
    assert sent["reason"] == "practice template en/confirmation.j2 failed: UndefinedError"
