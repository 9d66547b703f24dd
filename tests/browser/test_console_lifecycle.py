"""The roster's life in a real browser (issue 14), with the whole system behind the console: a
new applicant taken step by step to active, and paged only once their phone is confirmed; a
training session recorded with an excused absence and its memo, and a memo that came later; a
review opened by a repeated-failures alert, decided, and the removal then recorded as its own
step. Every page passes axe at 1280 and 390 wide and is kept as screenshots in
test-artifacts/lifecycle/."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from shared.clock import ManualClock
from shared.events import CoordinatorAlertRaised
from shared.kafka.topics import Topics
from shared.outbox.rows import write_events
from shared.roster import phones
from shared.settings import Settings
from tests.browser.console_system import ConsoleSystem, console_system, specialist
from tests.browser.lifecycle_checks import checked


@pytest.fixture
async def system(settings: Settings, clock: ManualClock) -> AsyncIterator[ConsoleSystem]:
    async with console_system(settings, clock, twilio=False) as started:
        yield started


async def confirm_phone(system: ConsoleSystem, member_id: str, phone: str) -> None:
    """The code came back from the phone (the notifier's reply path does this)."""
    async with system.database() as session:
        assert await phones.mark_confirmed(
            session, agency="kcmo", member_id=member_id, phone=phone, now=system.clock.now()
        )


async def test_a_new_applicant_is_taken_to_active_and_then_paged(
    system: ConsoleSystem, page: Page
) -> None:
    await system.sign_in(page, await system.account("manager"))
    await page.get_by_role("navigation", name="Console").get_by_role("link", name="Roster").click()
    await expect(page.get_by_role("heading", name="Roster", level=1)).to_be_visible()
    form = page.locator("form[action$='/roster/apply']")
    await form.get_by_label("Member id").fill("A0101")
    await form.get_by_label("Name").fill("Jordan Applicant")
    await form.get_by_label("Phone").fill("+18165550101")
    await form.get_by_label("Languages").fill("en; es")
    await form.get_by_label("Reference of the written request").fill("request 2026-101")
    await form.get_by_label("Reason").fill("applied through the chain of command")
    await form.get_by_role("button", name="Record the application").click()

    await expect(page.get_by_role("heading", name="Jordan Applicant")).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("Application recorded")
    facts = page.locator(".facts-list")
    await expect(facts.get_by_text("applicant", exact=True)).to_be_visible()
    await expect(facts.get_by_text("phone not confirmed")).to_be_visible()
    await expect(facts.get_by_text("no training recorded")).to_be_visible()
    await checked(page, "member-applicant")

    step = page.locator("#step-confirm_eligibility")
    await step.locator("summary").click()
    for check in ("Not serving any POST suspension", "Not the subject", "Agrees to maintain"):
        await step.get_by_label(check).check()
    await step.get_by_label("Reason").fill("checked with Internal Affairs")
    await step.get_by_role("button", name="Record this step").click()
    await expect(page.get_by_role("status")).to_have_text("Step recorded.")

    step = page.locator("#step-pass_interview")
    await step.locator("summary").click()
    await step.get_by_label("Reference of the committee's interview record").fill("AC 2026-12")
    await step.get_by_label("Reason").fill("passed")
    await step.get_by_role("button", name="Record this step").click()
    await expect(facts.get_by_text("in training", exact=True)).to_be_visible()
    step = page.locator("#step-complete_training")
    await step.locator("summary").click()
    await expect(step.get_by_text("The records do not show it yet")).to_be_visible()
    await checked(page, "member-in-training")

    await page.get_by_role("link", name="Training", exact=True).first.click()
    await expect(page.get_by_role("heading", name="Training", level=1)).to_be_visible()
    record = page.locator("form[action$='/training/sessions']")
    await record.get_by_label("Title").fill("PSS initial training")
    await record.get_by_label("Topics (one a line)").fill("Listening\nReferral")
    member = record.locator("fieldset.mark").filter(has_text="Jordan Applicant")
    await member.get_by_label("Attended", exact=True).check()
    await record.get_by_role("button", name="Record the session").click()
    await expect(page.get_by_role("status")).to_have_text("Session recorded.")
    await expect(page.get_by_text("1 attended, 0 excused")).to_be_visible()

    await page.goto(f"{system.console}/roster/A0101")
    step = page.locator("#step-complete_training")
    await step.locator("summary").click()
    await expect(step.get_by_text("The records show it.")).to_be_visible()
    await step.get_by_label("Reason").fill("completed the initial training")
    await step.get_by_role("button", name="Record this step").click()
    await expect(facts.get_by_text("active", exact=True)).to_be_visible()
    await expect(facts.get_by_text("No: phone not confirmed")).to_be_visible()
    await expect(facts.get_by_text("current until 31 Mar 2027")).to_be_visible()

    await confirm_phone(system, "A0101", "+18165550101")
    await page.reload()
    await expect(facts.get_by_text("Yes", exact=True)).to_be_visible()
    history = page.locator("ol.history li")
    await expect(history).to_have_count(4)
    await expect(history.first).to_contain_text("Completed the training")
    await expect(history.last).to_contain_text("Document: request 2026-101")
    await checked(page, "member-active")

    await page.goto(f"{system.console}/roster")
    team = page.locator("section").filter(has=page.get_by_role("heading", name="On the team"))
    row = team.locator("tbody tr").filter(has_text="Jordan Applicant")
    await expect(row.get_by_text("Yes", exact=True)).to_be_visible()
    await expect(page.get_by_text("1 of 1 specialists can be paged now.")).to_be_visible()


async def test_a_session_is_recorded_with_an_excused_absence_and_a_later_memo(
    system: ConsoleSystem, page: Page
) -> None:
    await system.roster(
        "kcmo",
        [
            specialist("kcmo", 1),
            specialist("kcmo", 2, training_current=False),
            specialist("kcmo", 3, training_current=False),
            specialist("kcmo", 4, status="inactive"),
        ],
    )
    await system.sign_in(page, await system.account("coordinator"))
    await (
        page.get_by_role("navigation", name="Console").get_by_role("link", name="Training").click()
    )
    lapsed = page.locator("section").filter(has=page.get_by_role("heading", name="Lapsing"))
    await expect(lapsed.get_by_text("Specialist KCMO 2")).to_be_visible()
    await expect(lapsed.get_by_text("Specialist KCMO 3")).to_be_visible()
    record = page.locator("form[action$='/training/sessions']")
    await expect(record.locator("fieldset.mark")).to_have_count(3)  # not the inactive one
    await checked(page, "training")

    await record.get_by_label("Title").fill("Q4 quarterly training")
    await record.get_by_label("Topics (one a line)").fill("Debriefing")
    one = record.locator("fieldset.mark").filter(has_text="Specialist KCMO 1")
    two = record.locator("fieldset.mark").filter(has_text="Specialist KCMO 2")
    await one.get_by_label("Attended", exact=True).check()
    await two.get_by_label("Excused", exact=True).check()
    await record.get_by_role("button", name="Record the session").click()
    await expect(page.get_by_role("heading", name="Please check the form")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("memo the committee approved")
    await checked(page, "training-memo-missing")
    await page.get_by_role("link", name="Back").click()

    await record.get_by_label("Title").fill("Q4 quarterly training")
    await record.get_by_label("Topics (one a line)").fill("Debriefing")
    await one.get_by_label("Attended", exact=True).check()
    await two.get_by_label("Excused", exact=True).check()
    await two.get_by_label("Memo reference").fill("memo 2026-44")
    await record.get_by_role("button", name="Record the session").click()
    await expect(page.get_by_role("status")).to_have_text("Session recorded.")
    await expect(page.get_by_text("1 attended, 1 excused")).to_be_visible()

    marks = page.locator("fieldset.mark")
    three = marks.filter(has_text="Specialist KCMO 3")
    await expect(three.get_by_label("Absent", exact=True)).to_be_checked()
    await three.get_by_label("Excused", exact=True).check()
    await three.get_by_label("Memo reference").fill("memo 2026-45 (came later)")
    await page.get_by_role("button", name="Save the marks").click()
    await expect(page.get_by_role("status")).to_have_text("Marks saved.")
    await expect(page.get_by_text("1 attended, 2 excused")).to_be_visible()
    await expect(
        marks.filter(has_text="Specialist KCMO 3").get_by_label("Memo reference")
    ).to_have_value("memo 2026-45 (came later)")
    await checked(page, "training-session")

    await page.goto(f"{system.console}/training")
    await expect(lapsed.get_by_text("Specialist KCMO 3")).to_have_count(0)
    sessions = page.locator("table.sessions tbody tr")
    await expect(sessions.filter(has_text="Q4 quarterly training")).to_contain_text("Debriefing")
    await page.goto(f"{system.console}/roster/KC003")
    await expect(page.get_by_text("excused (memo memo 2026-45 (came later))")).to_be_visible()


async def test_a_review_is_decided_and_the_removal_recorded_as_its_own_step(
    system: ConsoleSystem, page: Page
) -> None:
    await system.roster("kck", [specialist("kck", 1), specialist("kck", 2)])
    alert = CoordinatorAlertRaised(
        occurred_at=system.clock.now(),
        alert_id=uuid.uuid4(),
        agency="kck",
        incident_id=None,
        reason="repeated_failures",
        message="Specialist KC001 has declined or not answered 3 pages in the last 12 months.",
        member_id="KC001",
    )
    async with system.database() as session:  # as the dispatcher sends it: via the outbox
        await write_events(session, Topics(system.settings.kafka_topic_prefix), alert)
    await system.sign_in(page, await system.account("coordinator", "kck"))
    await page.goto(f"{system.console}/roster")
    reviews = page.locator("section.reviews")
    for _ in range(50):
        if await reviews.count():
            break
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(reviews.get_by_text("Review: Specialist KCK 1")).to_be_visible()
    await expect(reviews).to_contain_text("3 failures to assist")
    await checked(page, "roster-review")

    system.clock.advance(60)
    await reviews.get_by_label("Remove (then record the removal step)").check()
    await reviews.get_by_label("Reason").fill("third failure; the Lodge President decides")
    await reviews.get_by_role("button", name="Record the decision").click()
    await expect(page.get_by_role("status")).to_contain_text("Decision recorded: remove")
    step = page.locator("#step-remove")
    await expect(step.get_by_role("button", name="Record this step")).to_be_visible()
    await expect(
        step.get_by_label("Failure to assist after requested three times", exact=False)
    ).to_be_checked()
    await expect(page.locator(".facts-list").get_by_text("active", exact=True)).to_be_visible()
    await checked(page, "member-remove-step")

    system.clock.advance(60)
    await step.get_by_label("Reference of the Lodge President's decision").fill("Lodge 2026-9")
    await step.get_by_label("Reason").fill("three failures to assist")
    await step.get_by_role("button", name="Record this step").click()
    await expect(page.get_by_role("status")).to_have_text("Step recorded.")
    facts = page.locator(".facts-list")
    await expect(facts.get_by_text("removed", exact=True)).to_be_visible()
    history = page.locator("ol.history li")
    await expect(history.nth(0)).to_contain_text("Removed by the President of the Lodge")
    await expect(history.nth(0)).to_contain_text("Grounds: Failure to assist")
    await expect(history.filter(has_text="Review decided: remove")).to_contain_text(
        "third failure; the Lodge President decides"
    )
    await expect(history.filter(has_text="Review opened")).to_have_count(1)
    await page.goto(f"{system.console}/roster")
    await expect(page.locator("section.reviews")).to_have_count(0)
