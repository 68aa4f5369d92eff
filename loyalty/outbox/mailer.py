"""Mail backends: a directory of .eml files for development, SMTP for production."""

import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from loyalty.settings import Settings


def build_message(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@loyalty>"
    message.set_content(body)
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    if settings.mail_backend == "dir":
        directory = Path(settings.mail_dir)
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.eml"
        (directory / name).write_bytes(bytes(message))
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
