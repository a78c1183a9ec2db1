"""A real IMAP server for tests: Debian's Dovecot (package dovecot-imapd) on a free loopback port.

:func:`dovecot` starts ``dovecot -F`` with a configuration of its own in a temporary folder (no
system configuration is read or changed): IMAP over TLS only, with a certificate made for
``localhost`` (trusted by pointing ``SSL_CERT_FILE`` at it), one user from a passwd-file, a
Maildir in the folder. Run as root, the mail and login processes take Dovecot's own unprivileged
users (the package creates them); otherwise everything runs as the current user. Nothing here
imports pytest or kb: a missing binary raises :class:`tests.servers.ServerUnavailable`.
"""
from __future__ import annotations

import email.utils
import grp
import imaplib
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers import LOOPBACK, ServerUnavailable, free_port, wait_until

DOVECOT = "/usr/sbin/dovecot"
USER = "neuvo-inbox"
PASSWORD = "mailbox password 2026"


@dataclass(frozen=True)
class ImapServer:
    """A running Dovecot: where it listens, its one account, and the CA file that trusts its certificate."""

    host: str
    port: int
    user: str
    password: str
    ca_file: str
    folder: Path
    pid: int

    def config(self) -> dict[str, object]:
        """Neuvo's settings for polling this server."""
        return {"IMAP_HOST": self.host, "IMAP_PORT": self.port, "IMAP_USERNAME": self.user,
                "IMAP_PASSWORD": self.password, "IMAP_TIMEOUT": 10}

    @contextmanager
    def client(self) -> Iterator[imaplib.IMAP4_SSL]:
        """A logged-in IMAP connection with INBOX selected (the test's side of the mailbox)."""
        context = ssl.create_default_context(cafile=self.ca_file)
        conn = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context, timeout=10)
        try:
            conn.login(self.user, self.password)
            conn.select("INBOX")
            yield conn
        finally:
            try:
                conn.logout()
            except (imaplib.IMAP4.error, OSError):
                try:
                    conn.shutdown()
                except OSError:
                    pass

    def deliver(self, raw: bytes) -> None:
        """Put a message in INBOX, unseen, as a mail server would."""
        with self.client() as conn:
            status, _ = conn.append("INBOX", None, None, raw)
            assert status == "OK", status  # nosec B101 # test helper

    def empty(self) -> None:
        """Delete every message in INBOX (between tests)."""
        with self.client() as conn:
            _, data = conn.search(None, "ALL")
            if (data[0] or b"").split():
                conn.store("1:*", "+FLAGS", r"(\Deleted)")
                conn.expunge()

    def unseen(self) -> int:
        with self.client() as conn:
            status, data = conn.uid("search", None, "UNSEEN")
            return len((data[0] or b"").split())

    def drop_connections(self) -> int:
        """Kill the server's IMAP session processes (not the listener): every client connection drops
        as when the server or the network goes away mid-session. Returns how many were killed."""
        killed = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")[0]
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == self.pid and command.startswith(b"dovecot/imap") and b"login" not in command:
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        return killed

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def message(*, subject: str, sender: str = "Aino Virtanen <aino@example.com>", body: str = "Missä pakettini on?",
            message_id: str | None = None, in_reply_to: str | None = None) -> tuple[bytes, str]:
    """A plain-text message as a customer's mail program sends it; returns (raw bytes, its Message-ID
    without the angle brackets, as Neuvo stores it)."""
    message_id = message_id or email.utils.make_msgid(domain="example.com")
    headers = [f"From: {sender}", "To: asiakaspalvelu@tupa.example", f"Subject: {subject}",
               f"Date: {email.utils.formatdate(localtime=False)}", f"Message-ID: {message_id}",
               "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    if in_reply_to:
        headers += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    raw = ("\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()
    return raw, message_id.strip("<>")


def _accounts() -> tuple[str, str, int, int]:
    """(login user, internal user/group, mail uid, mail gid): Dovecot's own users when run as root."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, os.geteuid(), os.getegid()
    try:
        pwd.getpwnam("dovenull")
        internal = pwd.getpwnam("dovecot")
        grp.getgrgid(internal.pw_gid)
    except KeyError as error:
        raise ServerUnavailable(f"Dovecot's system users are missing: {error}") from None
    return "dovenull", "dovecot", internal.pw_uid, internal.pw_gid


def _certificate(folder: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise ServerUnavailable("openssl not found (needed for the test server's certificate)")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", f"subjectAltName=DNS:localhost,IP:{LOOPBACK}",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True, timeout=60)


@contextmanager
def dovecot() -> Iterator[ImapServer]:
    """A private Dovecot serving IMAPS on a free port; stopped and removed afterwards."""
    if not os.access(DOVECOT, os.X_OK):
        raise ServerUnavailable(f"{DOVECOT} not found (Debian package dovecot-imapd)")
    folder = Path(tempfile.mkdtemp(prefix="neuvo-dovecot-"))
    process = None
    try:
        login_user, internal, uid, gid = _accounts()
        _certificate(folder)
        for sub in ("run", "state", "home"):
            (folder / sub).mkdir()
        (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        if os.geteuid() == 0:
            os.chown(folder / "home", uid, gid)
            os.chmod(folder, 0o755)
        port = free_port()
        (folder / "dovecot.conf").write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
listen = {LOOPBACK}
protocols = imap
ssl = required
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(gid).gr_name}
mail_location = maildir:~/Maildir
first_valid_uid = {uid}
first_valid_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
""")
        with open(folder / "stderr.log", "wb") as errors:
            process = subprocess.Popen([DOVECOT, "-F", "-c", str(folder / "dovecot.conf")], stdout=subprocess.DEVNULL,
                                       stderr=errors, start_new_session=True)
        server = ImapServer("localhost", port, USER, PASSWORD, str(folder / "cert.pem"), folder, process.pid)

        def answers() -> bool:
            if process.poll() is not None:
                raise ServerUnavailable(f"dovecot exited: {(folder / 'stderr.log').read_text()} {server.log()}")
            try:
                with server.client() as conn:
                    return conn.noop()[0] == "OK"
            except (OSError, imaplib.IMAP4.error):
                return False

        if not wait_until(answers, 30, 0.1):
            raise ServerUnavailable(f"dovecot did not answer on port {port}: {server.log()[-1500:]}")
        yield server
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(15)
        shutil.rmtree(folder, ignore_errors=True)
