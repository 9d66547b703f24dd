"""The roster page, in a real browser: each specialist with why they cannot be paged; one entry
edited and saved; a CSV imported, which replaces the whole roster."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import FilePayload, Page, expect

from shared.clock import ManualClock
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, specialist

CSV = b"""member_id,name,phone,status,on_duty,on_call,training_current,under_investigation,languages
KC101,Imported One,+18165550101,active,false,true,true,false,en;es
KC102,Imported Two,+18165550102,suspended,false,true,true,false,
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
            ],
        )
        yield started


async def test_the_roster_says_why_someone_cannot_be_paged(
    system: ConsoleSystem, page: Page
) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.get_by_role("navigation", name="Console").get_by_role("link", name="Roster").click()
    await expect(page.get_by_role("heading", name="Roster", level=1)).to_be_visible()
    await expect(page.get_by_text("1 of 4 specialists can be paged now.")).to_be_visible()
    rows = page.locator("table.roster tbody tr")
    for name, paged in (
        ("Specialist KCMO 1", "Yes"),
        ("Specialist KCMO 2", "No: training not current"),
        ("Specialist KCMO 3", "No: not active (inactive)"),
        ("Specialist KCMO 4", "No: under investigation"),
    ):
        row = rows.filter(has=page.get_by_role("rowheader", name=name))
        await expect(row.get_by_role("cell").nth(3)).to_have_text(paged)


async def test_editing_one_entry_saves_it(system: ConsoleSystem, page: Page) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.goto(f"{system.console}/roster")
    await page.get_by_role("link", name="Edit Specialist KCMO 2").click()
    await expect(page.get_by_role("heading", name="Specialist KCMO 2")).to_be_visible()
    await expect(page.get_by_label("Phone")).to_have_value("+18165550002")
    await page.get_by_label("Phone").fill("+18165559902")
    await page.get_by_label("Training current").check()
    await page.get_by_role("button", name="Save").click()

    await expect(page).to_have_url(f"{system.console}/roster?saved=1")
    await expect(page.get_by_role("status")).to_have_text("Saved.")
    row = page.locator("table.roster tbody tr").filter(has_text="Specialist KCMO 2")
    await expect(row.get_by_text("+18165559902")).to_be_visible()
    await expect(row.get_by_text("Yes", exact=True)).to_be_visible()
    await expect(page.get_by_text("2 of 4 specialists can be paged now.")).to_be_visible()
    # the others are as they were
    other = page.locator("table.roster tbody tr").filter(has_text="Specialist KCMO 3")
    await expect(other.get_by_text("+18165550003")).to_be_visible()
    await expect(other.get_by_text("No: not active (inactive)")).to_be_visible()


async def test_a_wrong_phone_is_refused_and_changes_nothing(
    system: ConsoleSystem, page: Page
) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.goto(f"{system.console}/roster/KC001")
    phone = page.get_by_label("Phone")
    await phone.fill("0816 555")
    # the browser holds the form back (the field's pattern) ...
    assert not await phone.evaluate("(el) => el.checkValidity()")
    # ... and without that check the console refuses it, saying which field is wrong
    await page.locator("form.stack").evaluate("(form) => { form.noValidate = true; }")
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("heading", name="Please check the form")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("phone")
    await page.get_by_role("link", name="Back").click()
    await expect(page).to_have_url(f"{system.console}/roster/KC001")
    await page.goto(f"{system.console}/roster")
    await expect(page.get_by_text("+18165550001")).to_be_visible()


async def test_importing_a_csv_replaces_the_roster(system: ConsoleSystem, page: Page) -> None:
    await system.sign_in(page, await system.account("coordinator"))
    await page.goto(f"{system.console}/roster")
    await page.get_by_label("Roster file (CSV or JSON)").set_input_files(
        files=[FilePayload(name="roster.csv", mimeType="text/csv", buffer=CSV)]
    )
    await page.get_by_role("button", name="Import").click()

    await expect(page.get_by_role("status")).to_have_text("Saved.")
    rows = page.locator("table.roster tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.get_by_text("Specialist KCMO")).to_have_count(0)
    await expect(
        rows.filter(has_text="Imported One").get_by_text("Yes", exact=True)
    ).to_be_visible()
    await expect(
        rows.filter(has_text="Imported Two").get_by_text("No: not active (suspended)")
    ).to_be_visible()
    await expect(page.get_by_text("1 of 2 specialists can be paged now.")).to_be_visible()
    await page.get_by_role("link", name="Edit Imported One").click()
    await expect(page.get_by_label("Languages (separated by ;)")).to_have_value("en; es")
