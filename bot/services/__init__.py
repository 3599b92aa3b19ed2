"""Services: the core operations of the bot. They take plain values, use the database and the
clock, and know nothing of Telegram."""
