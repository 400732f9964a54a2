"""An email backend for worker processes started by the tests: each message
is a line appended to the file MAIL_SINK names ("<pid> <to>"), after
MAIL_SINK_DELAY seconds (a mail server taking its time)."""

import os
import time

from django.core.mail.backends.base import BaseEmailBackend


class Backend(BaseEmailBackend):
    def send_messages(self, messages) -> int:
        delay = float(os.environ.get("MAIL_SINK_DELAY", "0"))
        for message in messages:
            message.message()  # built as a real backend builds it
            if delay:
                time.sleep(delay)
            with open(os.environ["MAIL_SINK"], "a") as sink:  # one write: atomic
                sink.write(f"{os.getpid()} {','.join(message.to)}\n")
        return len(messages)
