"""The reports in a real browser: the chief's statistics for a generated year (charts, "<5",
CSV and PDF) show no name, member id or incident id; the manager's overtime page names the
specialists and records an expense; the others are refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select

from services.reports.models import ReportContact
from shared.clock import ManualClock
from shared.db.engine import build_engine, build_session_factory
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, example, specialist
from tests.browser.test_console_actions import page_code
from tests.browser.test_console_pages import checked
from tests.harness.waiting import eventually
from tests.integration.reports.year import HARMED, MEMBERS, NAMES, Year, generate_year, load_year

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=False) as started:
        yield started


async def _year(system: ConsoleSystem) -> Year:
    year = generate_year(seed=13)
    engine = build_engine(system.settings.require_database_url(), pool_size=1)
    try:
        await load_year(build_session_factory(engine), year)
    finally:
        await engine.dispose()
    await system.roster(
        "kcmo",
        [
            {
                "member_id": member,
                "agency": "kcmo",
                "name": f"{NAMES[index % len(NAMES)]} {index}",
                "phone": f"+1816555{index:04d}",
                "status": "active",
                "on_duty": False,
                "on_call": True,
                "training_current": True,
                "under_investigation": False,
                "languages": ["en"],
            }
            for index, member in enumerate(MEMBERS)
        ],
    )
    return year


async def _names_nobody(page: Page, year: Year) -> None:
    content = await page.content()
    assert not UUID.search(content), "an id on the chief's page"
    for name in (*HARMED, *NAMES, *year.expected.member_ids):
        assert name not in content, name


async def test_the_chief_reads_the_quarter_and_takes_it_away(
    system: ConsoleSystem, page: Page
) -> None:
    year = await _year(system)
    await system.sign_in(page, await system.account("chief"))
    await expect(
        page.get_by_role("heading", name="Statistics, October to December 2026")
    ).to_be_visible()
    await expect(page.get_by_role("img", name="Activations by month")).to_be_visible()
    await expect(page.get_by_role("cell", name="<5").first).to_be_visible()
    await _names_nobody(page, year)
    await checked(page, "statistics-quarter")

    await page.get_by_label("Quarter").select_option("2026Q3")
    await page.get_by_role("button", name="Show").click()
    await expect(
        page.get_by_role("heading", name="Statistics, July to September 2026")
    ).to_be_visible()
    await _names_nobody(page, year)

    async with page.expect_download() as pdf:
        await page.get_by_role("link", name="PDF").click()
    assert (await (await pdf.value).path()).read_bytes().startswith(b"%PDF")
    async with page.expect_download() as got:
        await page.get_by_role("link", name="CSV").click()
    text = (await (await got.value).path()).read_text()
    assert text.startswith("group,measure,section,unit,July,August,September,Quarter")
    for name in (*HARMED, *NAMES, *year.expected.member_ids):
        assert name not in text

    answer = await page.goto(f"{system.console}/overtime")
    assert answer is not None and answer.status == 403
    answer = await page.goto(f"{system.console}/statistics?quarter=2026Q9")
    assert answer is not None and answer.status == 422
    await expect(page.get_by_text("write it as YYYYQn")).to_be_visible()


async def test_the_manager_sees_overtime_by_name_and_records_expenses(
    system: ConsoleSystem, page: Page
) -> None:
    await _year(system)
    await system.sign_in(page, await system.account("manager"))
    await page.get_by_role("link", name="Overtime & expenses").click()
    await expect(
        page.get_by_role("heading", name="Overtime, October to December 2026")
    ).to_be_visible()
    await expect(page.get_by_text("overtime-eligible call-outs by")).to_be_visible()
    content = await page.content()
    assert any(name in content for name in NAMES), "the manager's page names the specialists"
    await expect(page.get_by_text("No expenses recorded this quarter.")).to_be_visible()

    await page.get_by_label("Date").fill("2026-11-03")
    await page.get_by_label("Category").select_option("training")
    await page.get_by_label("Amount (dollars)").fill("1,250.50")
    await page.get_by_label("Note").fill("CISM refresher, two seats")
    await page.get_by_role("button", name="Record").click()
    await expect(page.get_by_role("status")).to_have_text("The expense was recorded.")
    await expect(page.get_by_role("cell", name="CISM refresher, two seats")).to_be_visible()
    await expect(page.get_by_role("cell", name="$1,250.50").last).to_be_visible()
    await checked(page, "overtime")

    await page.get_by_label("Date").fill("2026-11-04")
    await page.get_by_label("Amount (dollars)").fill("0")
    await page.get_by_role("button", name="Record").click()
    await expect(page.get_by_text("give an amount above 0")).to_be_visible()
    await page.goto(f"{system.console}/overtime")
    assert await page.get_by_role("cell", name="$1,250.50").count() == 2, "the one and its total"


async def test_who_sees_the_statistics(system: ConsoleSystem, page: Page) -> None:
    await system.sign_in(page, await system.account("commander"))
    nav = page.get_by_role("navigation", name="Console")
    assert "Statistics" not in await nav.get_by_role("link").all_text_contents()
    answer = await page.goto(f"{system.console}/statistics")
    assert answer is not None and answer.status == 403


@pytest.fixture
async def texting(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=True) as started:
        await started.roster("kcmo", [specialist("kcmo", n) for n in range(1, 5)])
        yield started


async def test_a_specialist_logs_contacts_on_the_one_use_form(
    texting: ConsoleSystem, page: Page
) -> None:
    system = texting
    assert system.twilio is not None
    coordinator = await system.account("coordinator")
    secret = await system.cad_secret("kcmo")
    incident_id = await system.send_cad("kcmo", secret, example("02-kcmo-line-of-duty-death"))
    first, _ = await system.first_sms(2)
    phone = first.form["To"]
    await system.twilio.send_inbound_sms(phone, f"YES {page_code(first.form['Body'])}")
    await system.sign_in(page, coordinator)
    await page.goto(system.incident_url(incident_id))
    await expect(page.get_by_text("accepted", exact=True).first).to_be_visible()
    await page.get_by_role("button", name="Stand the team down").click()

    invitation = await system.sms_to(phone, "log its contacts")
    body = invitation.form["Body"]
    assert "Line of duty" not in body and "Main" not in body, "nothing of the incident"
    link = re.search(r"https?://\S+/console/log/\S+", body)
    assert link is not None, body
    await page.get_by_role("button", name="Sign out").click()

    await page.goto(link.group(0))
    await expect(page.get_by_role("heading", name="Log contacts")).to_be_visible()
    await page.get_by_label("How many people did you support?").fill("2")
    await page.get_by_label("Family").check()
    await page.get_by_label("EAP").check()
    await page.get_by_label("Hours given").fill("abc")
    await page.get_by_role("button", name="Log", exact=True).click()
    await expect(page.get_by_role("alert")).to_contain_text("Hours given: a number")
    await checked(page, "contact-log-form")
    await page.get_by_label("Hours given").fill("1.5")
    await page.get_by_role("button", name="Log", exact=True).click()
    await expect(page.get_by_role("status")).to_have_text("Thank you, logged.")

    answer = await page.goto(link.group(0))
    assert answer is not None and answer.status == 404
    await expect(page.get_by_role("alert")).to_contain_text("used or has expired")

    async def logged() -> int:
        async with system.database() as session:
            return int(await session.scalar(select(func.count()).select_from(ReportContact)) or 0)

    assert await eventually(logged, what="the contact in the reports") == 1
    async with system.database() as session:
        (contact,) = (await session.scalars(select(ReportContact))).all()
    assert (contact.people, contact.kind, contact.referral, float(contact.hours)) == (
        2,
        "family",
        "eap",
        1.5,
    )
    assert contact.month == "2026-11"
