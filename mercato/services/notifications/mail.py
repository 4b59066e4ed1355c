"""E-mail over SMTP with aiosmtplib: the local SMTP sink in development, any SMTP relay in production."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from mercato.services.notifications.settings import NotificationsSettings

SMTP_POLICY = email.policy.SMTP.clone(max_line_length=998)


def is_permanent(exc: BaseException) -> bool:
    """A 5xx answer to a recipient or the data is final (no such mailbox, rejected); anything else — a
    4xx, a refused connection, a timeout — may work later."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPServerDisconnected)
    return False


class Mailer:
    """Keeps one SMTP connection open and reuses it; reconnects when the server closed it."""

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.sender = settings.mail_from
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock = asyncio.Lock()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )
        await smtp.connect()
        if s.smtp_username:
            await smtp.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
        self._smtp = smtp
        return smtp

    def build(
        self,
        *,
        message_id: str,
        to: str,
        subject: str,
        text: str,
        html: str | None,
        pdfs: Sequence[tuple[str, bytes]] = (),
    ) -> EmailMessage:
        """The e-mail: text, its HTML alternative, and PDFs attached as (file name, bytes)."""
        # Lines up to 998 characters (RFC 5322's limit): folding a long non-ASCII subject into several
        # encoded words loses a space in Python's email package (CPython #144156).
        message = EmailMessage(policy=SMTP_POLICY)
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        # Stable per message: a resend after a crash carries the same Message-ID, so it can be recognised.
        message["Message-ID"] = f"<{message_id}@mercato.localhost>"
        message.set_content(text)
        if html:
            message.add_alternative(html, subtype="html")
        for name, data in pdfs:
            message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
        return message

    async def send(self, message: EmailMessage) -> str:
        async with self._lock:  # one conversation at a time on the shared connection
            smtp = await self._connected()
            try:
                await smtp.send_message(message)
            except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, OSError):
                await self.close()
                raise
        return str(message["Message-ID"])

    async def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(Exception):
                await smtp.quit()
