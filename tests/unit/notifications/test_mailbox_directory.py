"""The development mailbox: one .eml file per message, newest first, no way out of the folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from idp.notifications.mail import MailboxDirectory, RenderedMessage, build_email
from idp.notifications.mailbox_directory import body_text, links_in

SENT_AT = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def _message(subject: str, sent_at: datetime = SENT_AT) -> EmailMessage:
    rendered = RenderedMessage(
        subject=subject,
        text="Open https://id.district.example/confirm?a=1&b=2 now.\n",
        html="<p>HTML</p>\n",
    )
    return build_email(
        rendered,
        sender="Portal <no-reply@district.example>",
        recipient="maria@example.org",
        locale="ar",
        sent_at=sent_at,
    )


def test_sent_message_is_listed_and_read_back(tmp_path: Path) -> None:
    mailbox = MailboxDirectory(tmp_path / "mailbox")

    mailbox.send(_message("تأكيد عنوان بريدك الإلكتروني"))

    (entry,) = mailbox.list_messages()
    message = mailbox.read(entry.name)
    assert (entry.recipient, entry.subject, entry.sent_at) == (
        "maria@example.org",
        "تأكيد عنوان بريدك الإلكتروني",
        SENT_AT,
    )
    assert entry.name.startswith("20260901T120000Z-")
    assert entry.name.endswith(".eml")
    assert message is not None
    assert message["Subject"] == "تأكيد عنوان بريدك الإلكتروني"
    assert body_text(message, "html") == "<p>HTML</p>\n"


def test_list_is_newest_first(tmp_path: Path) -> None:
    mailbox = MailboxDirectory(tmp_path)
    for minutes, subject in [(0, "first"), (5, "third"), (1, "second")]:
        mailbox.send(_message(subject, SENT_AT + timedelta(minutes=minutes)))

    subjects = [entry.subject for entry in mailbox.list_messages()]

    assert subjects == ["third", "second", "first"]


def test_messages_sent_in_the_same_second_get_different_names(tmp_path: Path) -> None:
    mailbox = MailboxDirectory(tmp_path)
    for _ in range(20):
        mailbox.send(_message("same second"))

    names = {entry.name for entry in mailbox.list_messages()}

    assert len(names) == 20
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(names)  # no temp files


@pytest.mark.parametrize("date", [None, "not a date"])
def test_message_without_a_readable_date_is_kept_and_listed_undated(
    tmp_path: Path, date: str | None
) -> None:
    message = _message("undated")
    del message["Date"]
    if date is not None:
        message["Date"] = date
    mailbox = MailboxDirectory(tmp_path)

    mailbox.send(message)

    (entry,) = mailbox.list_messages()
    assert entry.name.startswith("19700101T000000Z-")
    assert (entry.subject, entry.sent_at) == ("undated", None)


def test_missing_folder_is_an_empty_mailbox(tmp_path: Path) -> None:
    assert MailboxDirectory(tmp_path / "nothing-yet").list_messages() == []


@pytest.mark.parametrize(
    "name",
    [
        "../secret.eml",
        "../../etc/passwd",
        "/etc/passwd",
        "sub/20260901T120000Z-0123456789abcdef.eml",
        ".20260901T120000Z-0123456789abcdef.eml.tmp",
        "20260901T120000Z-0123456789abcdef.eml/..",
        "notes.txt",
        "",
    ],
)
def test_read_refuses_names_that_are_not_a_stored_message(tmp_path: Path, name: str) -> None:
    mailbox = MailboxDirectory(tmp_path / "mailbox")
    mailbox.send(_message("hello"))
    (tmp_path / "secret.eml").write_text("Subject: secret\n\nsecret\n", encoding="utf-8")

    assert mailbox.read(name) is None


def test_read_of_an_unknown_message_is_none(tmp_path: Path) -> None:
    assert MailboxDirectory(tmp_path).read("20260901T120000Z-0123456789abcdef.eml") is None


def test_links_are_found_once_each_in_order_without_trailing_punctuation() -> None:
    text = (
        "Go to https://a.example/x?y=1&z=2, then (http://b.example/).\nhttps://a.example/x?y=1&z=2"
    )

    assert links_in(text) == ["https://a.example/x?y=1&z=2", "http://b.example/"]
