"""The patient's pages in a real browser: Debian's Chromium driven by selenium, on a phone
(390x844) and a desktop, pressing the pages' own buttons; axe-core checks each state
against WCAG 2.2 A/AA (0 violations) and a screenshot of each state is written to
build/screenshots/ for a person to look at."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "build" / "screenshots"
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
RESULTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def chromium():
    binary = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert binary and driver_path, "make test installs chromium and chromium-driver (see Makefile)"
    assert AXE.exists(), "make test installs axe-core (package.json)"
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "pl,en"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    print("\naxe violations per page state:", json.dumps(RESULTS, sort_keys=True))


def _check(driver, state: str) -> None:
    """axe on the page as it is now, and a screenshot, for each viewport."""
    for viewport, (width, height) in VIEWPORTS.items():
        driver.set_window_size(width, height)
        driver.execute_script(AXE.read_text(encoding="utf-8"))
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}}).then(r => done(r.violations));",
            WCAG,
        )
        RESULTS[f"{state}/{viewport}"] = len(result)
        driver.save_screenshot(str(SHOTS / f"{state}-{viewport}.png"))
        assert result == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result]
    html = driver.find_element(By.TAG_NAME, "html")
    assert html.get_attribute("lang") in ("en", "pl", "fr")
    assert driver.find_elements(By.TAG_NAME, "main")


def _gone(element) -> bool:
    """The element's page was replaced. Chromium reports a node of a replaced document as
    stale, or (mid-navigation) as not belonging to the document."""
    try:
        element.is_enabled()
    except (StaleElementReferenceException, WebDriverException):
        return True
    return False


def _press(driver, text: str) -> None:
    for element in driver.find_elements(By.CSS_SELECTOR, "button, a.button"):
        if element.text.strip() == text:
            element.click()
            # The click only starts the navigation: wait for the old page to go and the
            # new one to load, or the next read may see the old page (a race under load).
            WebDriverWait(driver, 60).until(lambda _, gone=element: _gone(gone))
            WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
            return
    raise LookupError(f"no button {text!r} on {driver.current_url}")


def test_r4_every_page_state_passes_axe_in_chromium_on_a_phone_and_a_desktop(scenario, control, chromium):
    s = scenario(phone="+48 22 123 45 67", recalls_enabled=True)
    s.patient("pat")
    s.patient("other", phone="601 555 666", locale="pl")
    s.patient("recalled", phone="601 777 888", locale="fr")
    s.pms.send(
        "recall.due", {"patient_id": "recalled", "recall_type": "checkup", "due_at": control.now().isoformat()}
    )
    control.advance_to(s.local(1, 10, 5))
    s.book("a1", "pat", s.local(4))
    s.book("a2", "other", s.local(7))
    driver = chromium

    driver.get(s.link("a1"))
    _check(driver, "appointment-booked")
    _press(driver, "Confirm")
    assert "Confirmed. See you soon!" in driver.page_source
    _check(driver, "appointment-confirmed")
    _press(driver, "Ask for another time")  # D22: the practice is asked, nothing moves yet
    _check(driver, "change-time-form")
    driver.find_element(By.CSS_SELECTOR, "input[name=times][value=morning]").click()
    driver.find_element(By.ID, "note").send_keys("Not on Fridays")
    _press(driver, "Send my request")
    assert "will contact you to agree a new time" in driver.page_source
    _check(driver, "appointment-change-asked")
    _press(driver, "Keep my booked time")  # D22: after all, the booked time suits
    assert "you are keeping this time" in driver.page_source
    _check(driver, "appointment-kept-time")
    _press(driver, "Cancel appointment")
    _check(driver, "cancel-question")
    _press(driver, "Yes, cancel it")
    assert "Your appointment is cancelled." in driver.page_source
    _check(driver, "appointment-cancelled")
    s.settle()  # the freed slot is offered once the cancellation has settled

    (offer,) = s.messages("a2", kind="slot_offer")  # a1's slot, offered to a2 (Polish)
    driver.get(offer["link"])
    _check(driver, "offer-open")
    _press(driver, "Biorę ten termin")
    assert "Gotowe" in driver.page_source
    _check(driver, "offer-won")

    (recall,) = [m for m in s.messages(kind="recall") if m["channel"] == "sms"]
    driver.get(recall["link"])
    _check(driver, "recall")

    driver.get(s.link("a2")[:-4])  # a truncated link: the browser asks for Polish
    assert 'lang="pl"' in driver.page_source
    _check(driver, "error-broken-link")
    assert len(list(SHOTS.glob("*.png"))) >= 2 * 10


def test_r11_the_page_of_a_days_grouped_reminder_passes_axe_and_confirms_all(scenario, control, chromium):
    s = scenario()
    for patient_id, name in (("mum", "Zofia Mazur"), ("kid", "Antek Mazur")):
        s.patient(patient_id, name=name, phone="609 444 555", locale="pl")
    s.book("g1", "mum", s.local(5, 9))
    s.book("g2", "kid", s.local(5, 9, 30))
    control.advance_to(s.local(5, 8))
    (reminder,) = s.messages(kind="reminder", channel="sms")
    driver = chromium
    driver.get(reminder["link"])
    assert "Zofia" in driver.page_source and "Antek" in driver.page_source
    _check(driver, "group-open")
    _press(driver, "Potwierdź wszystkie")
    assert "Potwierdzone. Do zobaczenia!" in driver.page_source
    _check(driver, "group-confirmed")
    for appointment_id in ("g1", "g2"):
        assert s.pms.get(f"appointments/{appointment_id}").json()["appointment"]["status"] == "confirmed"
