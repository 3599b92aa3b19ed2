"""ppa-bot core: configuration, services, scheduler jobs, outbox, i18n, CLI and wiring."""
