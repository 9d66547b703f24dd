"""The roster page, in a real browser (issue 14): the team first, then who is joining, then the
others, each specialist with their status in the policy's words, an unconfirmed phone, their
training currency, an OFF window and why they cannot be paged; one entry's details edited (the
status and training are not typed in there); a wrong phone refused; a CSV imported, which
replaces the whole roster."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import FilePayload, Locator, Page, expect
from sqlalchemy import update

from shared.clock import ManualClock
from shared.roster.models import RosterEntry
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, specialist
from tests.browser.lifecycle_checks import checked

CSV = b"""member_id,name,phone,status,on_duty,on_call,under_investigation,languages
KC101,Imported One,+18165550101,active,false,true,false,en;es
KC102,Imported Two,+18165550102,suspended,false,true,false,
"""


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=False) as started:
        await started.roster(
            "kcmo",
            [
                specialist("kcmo", 1),
                specialist("kcmo", 2, training_current=False),
                specialist("kcmo", 3, status="inactive"),
                specialist("kcmo", 4, under_investigation=True, on_duty=True),
                specialist("kcmo", 5),
                specialist("kcmo", 6),
            ],
        )
        async with started.database() as session:
            await session.execute(  # KC005's number changed and has not answered its code yet
                update(RosterEntry)
                .where(RosterEntry.member_id == "KC005")
                .values(phone_verified_at=None)
            )
            await session.execute(  # KC006 texted OFF 8H an hour ago
                update(RosterEntry)
                .where(RosterEntry.member_id == "KC006")
                .values(off_call_until=clock.now() + timedelta(hours=7))
            )
        yield started


def row(page: Page, name: str) -> Locator:
    return page.locator("table.roster tbody tr").filter(
        has=page.get_by_role("rowheader", name=name, exact=True)
    )


def group(page: Page, title: str) -> Locator:
    heading = page.get_by_role("heading", name=re.compile(f"^{re.escape(title)} \\("))
    return page.locator("section").filter(has=heading)


async def test_the_roster_puts_the_team_first_and_says_why_someone_cannot_be_paged(
    system: ConsoleSystem, page: Page
) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.get_by_role("navigation", name="Console").get_by_role("link", name="Roster").click()
    await expect(page.get_by_role("heading", name="Roster", level=1)).to_be_visible()
    await expect(page.get_by_text("2 of 6 specialists can be paged now.")).to_be_visible()
    await expect(group(page, "On the team").locator("tbody tr")).to_have_count(5)
    await expect(group(page, "Joining or returning").get_by_text("Nobody.")).to_be_visible()
    await expect(group(page, "Not on the team now").locator("tbody tr")).to_have_count(1)
    cells = ("Status", "Phone", "Training", "Duty", "Can be paged")
    for name, expected in (
        (
            "Specialist KCMO 1",
            ("active", "+18165550001", "current until 31 Mar 2027", "on call", "Yes"),
        ),
        (
            "Specialist KCMO 2",
            ("active", "+18165550002", "no training recorded", "", "No: training not current"),
        ),
        (
            "Specialist KCMO 3",
            ("inactive", "", "current until", "", "No: not active (inactive)"),
        ),
        ("Specialist KCMO 4", ("active", "", "", "on duty, on call", "No: under investigation")),
        (
            "Specialist KCMO 5",
            ("active", "phone not confirmed", "current", "", "No: phone not confirmed"),
        ),
        ("Specialist KCMO 6", ("active", "", "current", "off call until Sat 21 Nov 06:00", "Yes")),
    ):
        found = row(page, name)
        for label, text in zip(cells, expected, strict=True):
            cell = found.locator(f"td[data-label='{label}']")
            await expect(cell).to_contain_text(text)
    await expect(
        row(page, "Specialist KCMO 1").locator("td[data-label='Phone']")
    ).not_to_contain_text("not confirmed")
    await checked(page, "roster")


async def test_editing_one_entry_saves_its_details_only(system: ConsoleSystem, page: Page) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.goto(f"{system.console}/roster")
    await page.get_by_role("link", name="Edit Specialist KCMO 2").click()
    await expect(page.get_by_role("heading", name="Specialist KCMO 2", level=1)).to_be_visible()
    details = page.locator("form.stack").filter(has=page.get_by_role("button", name="Save"))
    await expect(details.get_by_label("Status")).to_have_count(0)
    await expect(details.get_by_label("Training current")).to_have_count(0)
    await expect(details.get_by_label("Phone")).to_have_value("+18165550002")
    await details.get_by_label("Name").fill("Specialist KCMO Two")
    await details.get_by_label("Phone").fill("+18165559902")
    await details.get_by_label("On duty").check()
    await details.get_by_role("button", name="Save").click()

    await expect(page).to_have_url(f"{system.console}/roster/KC002?done=phone")
    await expect(page.get_by_role("status")).to_contain_text("The new phone was sent a code")
    facts = page.locator(".facts-list")
    await expect(facts.get_by_text("+18165559902")).to_be_visible()
    await expect(facts.get_by_text("phone not confirmed")).to_be_visible()
    await expect(facts.get_by_role("button", name="Send a new code")).to_be_visible()
    await expect(facts.get_by_text("on duty; on call")).to_be_visible()

    await page.goto(f"{system.console}/roster")
    edited = row(page, "Specialist KCMO Two")
    await expect(edited.locator("td[data-label='Status']")).to_contain_text("active")
    await expect(edited.locator("td[data-label='Can be paged']")).to_have_text(
        "No: training not current"
    )
    other = row(page, "Specialist KCMO 3")
    await expect(other.get_by_text("+18165550003")).to_be_visible()
    await expect(other.get_by_text("No: not active (inactive)")).to_be_visible()


async def test_a_wrong_phone_is_refused_and_changes_nothing(
    system: ConsoleSystem, page: Page
) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.goto(f"{system.console}/roster/KC001")
    details = page.locator("form[action$='/roster/KC001']")
    phone = details.get_by_label("Phone")
    await phone.fill("0816 555")
    # the browser holds the form back (the field's pattern) ...
    assert not await phone.evaluate("(el) => el.checkValidity()")
    # ... and without that check the console refuses it, saying which field is wrong
    await details.evaluate("(form) => { form.noValidate = true; }")
    await details.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", name="Please check the form")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("phone")
    await page.get_by_role("link", name="Back").click()
    await expect(page).to_have_url(f"{system.console}/roster/KC001")
    await page.goto(f"{system.console}/roster")
    await expect(row(page, "Specialist KCMO 1").get_by_text("+18165550001")).to_be_visible()
    await expect(row(page, "Specialist KCMO 1").get_by_text("Yes", exact=True)).to_be_visible()


async def test_importing_a_csv_replaces_the_roster(system: ConsoleSystem, page: Page) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.goto(f"{system.console}/roster")
    await page.get_by_label("Roster file (CSV or JSON)").set_input_files(
        files=[FilePayload(name="roster.csv", mimeType="text/csv", buffer=CSV)]
    )
    await page.get_by_role("button", name="Import", exact=True).click()

    await expect(page.get_by_role("status")).to_have_text("Saved.")
    rows = page.locator("table.roster tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.get_by_text("Specialist KCMO")).to_have_count(0)
    one = row(page, "Imported One")
    await expect(one.locator("td[data-label='Phone']")).to_contain_text("phone not confirmed")
    await expect(one.locator("td[data-label='Training']")).to_have_text("no training recorded")
    await expect(one.locator("td[data-label='Can be paged']")).to_have_text(
        "No: training not current"
    )
    others = group(page, "Not on the team now")
    await expect(others.get_by_role("rowheader", name="Imported Two")).to_be_visible()
    await expect(
        row(page, "Imported Two").get_by_text("No: not active (suspended)")
    ).to_be_visible()
    await expect(page.get_by_text("0 of 2 specialists can be paged now.")).to_be_visible()
    await page.get_by_role("link", name="Edit Imported One").click()
    await expect(page.get_by_label("Languages (separated by ;)")).to_have_value("en; es")
