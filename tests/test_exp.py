from tests.harness import Harness, Person

async def test_exp(bot: Harness, reporter: Person) -> None:
    await reporter.sends("/start")
    await reporter.sends("/start")
    await reporter.sends("")
    await reporter.sends("ya")
    await reporter.sends("/start")
    print([(c.method, c.error) for c in bot.telegram.refused()], bot.runtime.metrics)
