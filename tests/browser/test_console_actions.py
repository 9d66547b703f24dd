"""What coordinators do on an incident's page, in a real browser, with the whole system behind
it and the Twilio stand-in as the phones: the Bureau Director consult (kck) pages the on-duty
specialist who waited for it; the member's consent makes a waiting incident activate; standing
the team down texts everyone paged or accepted and closes the incident; paging by hand fills a
free place; an alert is acknowledged with who and when."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from shared.clock import ManualClock
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, example, specialist
from tests.harness.browser import check_accessibility, screenshot
from tests.harness.waiting import eventually


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=True) as started:
        yield started


def page_code(body: str) -> str:
    return body.split("YES ")[1][:4]


async def test_the_bureau_director_consult_pages_the_on_duty_specialist(
    system: ConsoleSystem, page: Page
) -> None:
    # kck pages an on-duty specialist only after a coordinator consults their Bureau Director
    await system.roster("kck", [specialist("kck", n, on_duty=True) for n in (1, 2)])
    coordinator = await system.account("coordinator", "kck")
    secret = await system.cad_secret("kck")
    await system.sign_in(page, coordinator)
    incident_id = await system.send_cad("kck", secret, example("10-kck-spouse-died"))
    card = page.locator(".incident")
    await expect(card.get_by_text("waiting for the Bureau Director consult")).to_have_count(2)
    assert system.twilio is not None
    assert system.twilio.messages == [], "nobody is paged before the consult"

    await card.get_by_role("link", name="Family death").click()
    await expect(page).to_have_url(system.incident_url(incident_id))
    await check_accessibility(page, "incident-awaiting-consult")
    await screenshot(page, "incident-awaiting-consult")
    await page.get_by_role(
        "button", name="Record the Bureau Director consult for Specialist KCK 1"
    ).click()

    sms = await system.sms_to("+19135550001", "YES ")
    assert "+19135550002" not in {m.form["To"] for m in system.twilio.messages}
    row = page.locator("tr").filter(has_text="Specialist KCK 1")
    await expect(row.get_by_text("paged by SMS")).to_be_visible()
    other = page.locator("tr").filter(has_text="Specialist KCK 2")
    await expect(other.get_by_text("waiting for the Bureau Director consult")).to_be_visible()
    await expect(
        page.locator(".timeline").get_by_text(
            f"{coordinator.name} recorded the Bureau Director consult for KC001"
        )
    ).to_be_visible()
    assert page_code(sms.form["Body"]).isdigit()

    await page.get_by_role("link", name="Board").first.click()
    board_card = page.locator(".incident").filter(has_text="Family death")
    await expect(
        board_card.locator("li").filter(has_text="Specialist KCK 1").get_by_text("paged by SMS")
    ).to_be_visible()


async def test_recording_consent_decides_the_incident_again_and_pages(
    system: ConsoleSystem, page: Page
) -> None:
    await system.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    incident_id = await system.send_cad("kcmo", secret, example("04-kcmo-illness-no-consent"))
    card = page.locator(".incident").filter(has_text="Member illness")
    await expect(card.get_by_text("waiting for the member's consent")).to_be_visible()
    assert system.twilio is not None
    assert system.twilio.messages == []

    await page.goto(system.incident_url(incident_id))
    await expect(page.get_by_text("revision 1", exact=False).first).to_be_visible()
    await page.get_by_role("button", name="Record the member's express consent").click()

    decision = page.locator("#incident-live")
    await expect(decision.locator(".badge").get_by_text("activate the team")).to_be_visible()
    timeline = page.locator(".timeline")
    await expect(timeline.get_by_text("Incident revised (revision 2)")).to_be_visible()
    await expect(timeline.get_by_text("Decided on revision 2: activate the team")).to_be_visible()
    await expect(decision.locator(".assign-table").get_by_text("paged by SMS")).to_have_count(2)
    sent = await system.first_sms(2)
    assert {m.form["To"] for m in sent} <= {f"+181655500{n:02d}" for n in range(1, 5)}
    await page.reload()
    await expect(page.locator(".facts").get_by_text("revision 2")).to_be_visible()
    await expect(
        page.get_by_role("button", name="Record the member's express consent")
    ).to_have_count(0)


async def test_standing_down_texts_everyone_paged_or_accepted_and_closes(
    system: ConsoleSystem, page: Page
) -> None:
    await system.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    incident_id = await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    assert system.twilio is not None
    first, second = await system.first_sms(2)
    await system.twilio.send_inbound_sms(first.form["To"], f"YES {page_code(first.form['Body'])}")
    card = page.locator(".incident").filter(has_text="Line of duty death")
    await expect(card.get_by_text("accepted", exact=True)).to_be_visible()

    await page.goto(system.incident_url(incident_id))
    await page.get_by_role("button", name="Stand the team down").click()

    for phone in (first.form["To"], second.form["To"]):
        notice = await system.sms_to(phone, "no longer needed")
        assert "YES" not in notice.form["Body"]
    live = page.locator("#incident-live")
    await expect(live.locator(".assign-table").get_by_text("cancelled")).to_have_count(2)
    await expect(live.get_by_text("closed", exact=False).first).to_be_visible()
    timeline = page.locator(".timeline")
    await expect(timeline.get_by_text("stood the team down").first).to_be_visible()
    await expect(
        timeline.get_by_text("is told by SMS that they are no longer needed")
    ).to_have_count(2)

    await page.get_by_role("link", name="Board").first.click()
    await expect(page.get_by_text("No open incident")).to_be_visible()
    await expect(page.locator(".incident")).to_have_count(0)
    await page.goto(system.incident_url(incident_id))
    await expect(page.get_by_role("button", name="Stand the team down")).to_have_count(0)
    await check_accessibility(page, "incident-stood-down")
    await screenshot(page, "incident-stood-down")


async def test_a_coordinator_pages_a_specialist_by_hand_for_a_free_place(
    system: ConsoleSystem, page: Page
) -> None:
    # two on the roster, two places: once one declines there is nobody left for the place
    await system.roster("kcmo", [specialist("kcmo", n) for n in (1, 2)])
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    incident_id = await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    assert system.twilio is not None
    first = await system.sms_to("+18165550001", "YES ")
    await system.twilio.send_inbound_sms(first.form["To"], "no")
    card = page.locator(".incident").filter(has_text="Line of duty death")
    await expect(card.get_by_text("declined")).to_be_visible()
    # a third specialist joins the roster: the dispatcher does not page them by itself
    await system.roster("kcmo", [specialist("kcmo", n) for n in (1, 2, 3)])

    await page.goto(system.incident_url(incident_id))
    choice = page.get_by_label("Page a specialist by hand")
    options = await choice.locator("option").all_text_contents()
    assert options == ["Specialist KCMO 3 (KC003)"], "only who may be paged is offered"
    await choice.select_option("KC003")
    await page.get_by_role("button", name="Page", exact=True).click()

    sms = await system.sms_to("+18165550003", "YES ")
    assert page_code(sms.form["Body"]).isdigit()
    row = page.locator("tr").filter(has_text="Specialist KCMO 3")
    await expect(row.get_by_text("paged by SMS")).to_be_visible()
    await expect(page.locator(".timeline").get_by_text("asked for KC003 by hand")).to_be_visible()


async def test_an_alert_is_acknowledged_with_who_and_when(
    system: ConsoleSystem, page: Page
) -> None:
    # one specialist for two places: the coordinators are told nobody is left
    await system.roster("kcmo", [specialist("kcmo", 1)])
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    await system.sign_in(page, coordinator)
    incident_id = await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    await expect(page.locator(".incident").get_by_text("paged by SMS")).to_be_visible()
    alerts_link = page.get_by_role("navigation", name="Console").get_by_role("link", name="Alerts")

    async def counted() -> bool:  # the navigation is not live: it counts at each page load
        await page.reload()
        return await alerts_link.locator(".count").count() == 1

    await eventually(counted, what="the alert counted in the navigation")
    await expect(alerts_link.locator(".count")).to_have_text("1")

    await alerts_link.click()
    await expect(page.get_by_role("heading", name="Coordinator alerts")).to_be_visible()
    alert = page.locator(".alert-list li").first
    await expect(alert.get_by_text("Nobody left to page")).to_be_visible()
    await expect(alert.get_by_role("link", name="the incident")).to_have_attribute(
        "href", f"/console/incidents/{incident_id}"
    )
    system.clock.advance(60)
    await alert.get_by_role("button", name="Acknowledge").click()
    await expect(alert.get_by_text("Acknowledged by")).to_be_visible()
    ack = await alert.get_by_text("Acknowledged by").text_content()
    assert ack is not None
    assert coordinator.name in ack, ack
    assert "Fri 20 Nov 23:01" in ack, ack  # 05:01 UTC, the agency's clock
    await expect(alert.get_by_role("button", name="Acknowledge")).to_have_count(0)
    await expect(alerts_link.locator(".count")).to_have_count(0)
