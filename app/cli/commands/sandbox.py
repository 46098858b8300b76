"""``mailsetup sandbox``: run the local test SMTP server until Ctrl+C."""

from __future__ import annotations

import argparse
import json
import logging
import queue
import signal
import sys
from pathlib import Path
from typing import TextIO

from app.cli.exits import Exit
from app.core.sandbox import ReceivedMessage, SandboxInfo, SandboxServer

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sandbox`` subcommand."""
    p = subparsers.add_parser(
        "sandbox",
        help="run a local test SMTP server (TLS + login) and show what it receives",
        description=(
            "Start a local SMTP server on 127.0.0.1 with implicit TLS and STARTTLS, a generated login and its own "
            "certificate authority, and print every message it receives. Nothing is delivered anywhere. "
            "Stop it with Ctrl+C."
        ),
    )
    p.add_argument("--save-eml", action="store_true", help="also save each received message as an .eml file")
    p.add_argument("--data-dir", type=Path, help="where the certificate, login and .eml files live")
    p.add_argument("--json", action="store_true", help="one JSON object per line: started, each message, stopped")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the sandbox in the foreground; returns 0 after Ctrl+C (or SIGTERM), 1 if it cannot start."""
    out = out or sys.stdout
    server = SandboxServer(args.data_dir, save_eml=args.save_eml)
    arrivals: queue.Queue[ReceivedMessage] = queue.Queue()
    server.add_listener(arrivals.put)
    try:
        info = server.start()
    except OSError as exc:
        print(f"The sandbox could not start: {exc}", file=sys.stderr)
        return Exit.FAILED
    previous_term = _stop_on_sigterm()
    try:
        _emit_started(info, server, args.json, out)
        while True:
            try:
                message = arrivals.get(timeout=0.5)  # a timeout keeps Ctrl+C responsive on Windows too
            except queue.Empty:
                continue
            _emit_message(message, args.json, out)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)
    count = len(server.inbox)
    if args.json:
        _line(out, {"event": "sandbox_stopped", "received": count})
    else:
        print(f"Sandbox stopped; it received {count} message(s).", file=out, flush=True)
    return Exit.OK


def _stop_on_sigterm():
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


def _line(out: TextIO, data: dict) -> None:
    out.write(json.dumps(data, ensure_ascii=False) + "\n")
    out.flush()


def _emit_started(info: SandboxInfo, server: SandboxServer, json_mode: bool, out: TextIO) -> None:
    if json_mode:
        data = {"event": "sandbox_started", **info.to_dict(), "data_dir": str(server.data_dir)}
        data["eml_dir"] = str(server.eml_dir) if server.save_eml else None
        _line(out, data)
        return
    lines = [
        "MailSetup sandbox is running (local test server; nothing is delivered anywhere).",
        f"  server:        {info.host}",
        f"  implicit TLS:  port {info.ssl_port}   (like 465; security 'ssl')",
        f"  STARTTLS:      port {info.starttls_port}   (like 587; security 'starttls')",
        f"  login:         {info.username}",
        f"  password:      {info.password}",
        f"  CA file:       {info.ca_file}   (trust it only for this server, e.g. --cafile)",
    ]
    if server.save_eml:
        lines.append(f"  saving .eml:   {server.eml_dir}")
    lines += [
        "Try it:",
        f"  MAILSETUP_PW='{info.password}' mailsetup check --host {info.host} --port {info.ssl_port} --security ssl "
        f"--user {info.username} --password-env MAILSETUP_PW --cafile '{info.ca_file}'",
        "Waiting for messages; press Ctrl+C to stop.",
    ]
    print("\n".join(lines), file=out, flush=True)


def _emit_message(message: ReceivedMessage, json_mode: bool, out: TextIO) -> None:
    if json_mode:
        _line(out, {"event": "message_received", **message.to_dict()})
        return
    when = message.received_at.astimezone().strftime("%H:%M:%S")
    parts = [
        f"[{when}] message {message.id}: from {message.mail_from or '<>'} to {', '.join(message.rcpt_tos)}",
        f"    subject: {message.subject or '(no subject)'}   size: {message.size} bytes",
    ]
    if message.attachments:
        parts.append("    attachments: " + ", ".join(f"{n} ({s} bytes)" for n, s in message.attachments))
    if message.eml_path:
        parts.append(f"    saved: {message.eml_path}")
    print("\n".join(parts), file=out, flush=True)
