"""The outbox (DESIGN §7): a notification is a row written in the transaction that causes it
(``queue.enqueue``), and the sender (``sender.OutboxSender``) delivers it. The sender is woken
once per commit that queued something (``queue.wake_on_commit``), never by the callers."""

from bot.outbox.queue import PRIVATE_BUCKET, enqueue, wake_on_commit

__all__ = ["PRIVATE_BUCKET", "enqueue", "wake_on_commit"]
