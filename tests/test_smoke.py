from tests.harness import Person


async def test_start_greets_in_two_lines_and_offers_a_report(reporter: Person) -> None:
    await reporter.sends("/start")
    message = reporter.last_message()
    assert "confidential" in message.text
    assert any("report" in t.lower() for t in message.button_texts())


async def test_full_report_in_english_returns_a_reference(reporter: Person) -> None:
    reference = await reporter.completes_report()
    assert reference.startswith("PSR-")

