"""Bounce messages written for the reply decoder's tests: an RFC 3464 DSN per provider style and the
non-standard text bounces (Postfix, Exim, Exchange). Hand-written from the RFCs and the providers'
published reply texts; addresses use example and provider domains only."""

from __future__ import annotations

GMAIL_DSN = """\
Return-Path: <>
Received: by mail-ed1-f69.google.com with SMTP id a640c23a62f3a
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: sender@example.com
Subject: Delivery Status Notification (Failure)
Date: Sat, 05 Dec 2026 07:00:00 -0800
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="0000000000001"

--0000000000001
Content-Type: text/plain; charset="UTF-8"

Address not found

Your message wasn't delivered to nobody@gmail.com because the address couldn't be found.

The response from the remote server was:
550 5.1.1 The email account that you tried to reach does not exist.

--0000000000001
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: Sat, 05 Dec 2026 07:00:00 -0800

Final-Recipient: rfc822; nobody@gmail.com
Action: failed
Status: 5.1.1
Remote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:4013:c01::1a)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try
 550-5.1.1 double-checking the recipient's email address for typos or
 550-5.1.1 unnecessary spaces. For more information, go to
 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp

Final-Recipient: rfc822; ghost@yandex.ru
Action: failed
Status: 5.7.1
Remote-MTA: dns; mx.yandex.ru. (77.88.21.249)
Diagnostic-Code: smtp; 550 5.7.1 No such user!

Final-Recipient: rfc822; later@example.org
Action: delayed
Status: 4.4.1
Remote-MTA: dns; mx.example.org

--0000000000001
Content-Type: message/rfc822

From: sender@example.com
To: nobody@gmail.com
Subject: hello

550 5.7.8 this line is in the returned original and is not a reply
--0000000000001--
"""

EXCHANGE_DSN = """\
From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>
To: admin@contoso.com
Subject: Undeliverable: report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/html; charset="us-ascii"

<html><body><p><b>Your message to nouser@contoso.com couldn't be delivered.</b></p>
<p>Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'</p>
</body></html>
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com

Final-Recipient: rfc822;nouser@contoso.com
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

--b1--
"""

# Postfix as Yandex's users see it relayed: the reply is only in the text (no delivery-status part)
YANDEX_TEXT_BOUNCE = """\
From: MAILER-DAEMON@relay.example.com (Mail Delivery System)
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
Content-Type: text/plain; charset=us-ascii

This is the mail system at host relay.example.com.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<ghost@yandex.ru>: host mx.yandex.ru[77.88.21.249] said: 550 5.7.1 No such
    user! (in reply to RCPT TO command)
"""

# Exim as Mail.ru's users see it: the reply has no enhanced status code
MAILRU_TEXT_BOUNCE = """\
From: Mail Delivery System <Mailer-Daemon@smtp.example.net>
To: sender@example.net
Subject: Mail delivery failed: returning message to sender
Content-Type: text/plain; charset=utf-8

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  nobody@mail.ru
    host mxs.mail.ru [94.100.180.31]
    SMTP error from remote mail server after RCPT TO:<nobody@mail.ru>:
    550 Message was not accepted -- invalid mailbox.  Local mailbox nobody@mail.ru is unavailable: user not found
"""


def dsn(diagnostic_code: str, *, recipient: str = "rfc822; bob@example.org", status: str = "5.0.0") -> str:
    """A minimal RFC 3464 report with one recipient block (values inserted verbatim)."""
    return (
        "From: postmaster@example.org\n"
        "To: sender@example.com\n"
        "Subject: failure\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="X"\n\n'
        "--X\nContent-Type: text/plain\n\nDelivery failed.\n"
        "--X\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\n"
        f"Final-Recipient: {recipient}\nAction: failed\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {diagnostic_code}\n\n"
        "--X--\n"
    )
