"""A real Kamailio for the tests: a digest-authenticating registrar, or an outbound proxy in front of one.

Each instance runs Debian's `kamailio` on 127.0.0.1 with a configuration
generated from its users: UDP and TCP on one port, TLS on another (with a
certificate from `TlsCertificates`) where the TLS module is installed.
Bindings live in memory (usrloc db_mode 0) and are read back with kamcmd.
`make test-deps` (run by .ci/run) installs Kamailio; the tests only
start and stop it.

    registrar = Kamailio(tmp_path / "registrar", users=[SipUser("alice", "s3cret-...")])
    registrar.start()
    registrar.contacts("alice")   # the Contact URIs bound to alice
    registrar.stop(); registrar.start()   # same ports again
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
KAMCMD = shutil.which("kamcmd") or "/usr/sbin/kamcmd"
STARTUP_SECONDS = 15
STOP_SECONDS = 1
DUMP_SECONDS = 5
REGISTRAR_REALM = "registrar.test"
PROXY_REALM = "outbound.test"


def module_directory() -> Path | None:
    found = sorted(glob.glob("/usr/lib/*/kamailio/modules")) + sorted(glob.glob("/usr/lib/kamailio/modules"))
    return Path(found[0]) if found else None


def missing() -> str | None:
    """Why Kamailio can't run here, or None."""
    if not os.access(KAMAILIO, os.X_OK) or not os.access(KAMCMD, os.X_OK) or module_directory() is None:
        return "Kamailio is not installed (`make test-deps` installs it)"
    return None


def tls_available() -> bool:
    directory = module_directory()
    return directory is not None and (directory / "tls.so").exists()


@dataclass(frozen=True)
class SipUser:
    """A digest identity and the addresses-of-record (To users) it may register; by default its own name."""

    auth_user: str
    password: str
    aors: tuple[str, ...] = ()

    def may_register(self) -> tuple[str, ...]:
        return self.aors or (self.auth_user,)


@dataclass
class TlsCertificates:
    """A private CA and a server certificate it signed, for 127.0.0.1 and the given names."""

    directory: Path
    names: tuple[str, ...] = ("localhost", "kamailio.test", "twilio.test")

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ca_file = self.directory / "ca.pem"
        self.certificate_file = self.directory / "server.pem"
        self.key_file = self.directory / "server.key"
        if self.ca_file.exists():
            return
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Switchboard test CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        alternative_names: list[x509.GeneralName] = [x509.DNSName(n) for n in self.names]
        alternative_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.names[0])]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def _free_port_pair() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port: int = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both UDP and TCP")


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _literal(text: str) -> str:
    if '"' in text or "\\" in text or "\n" in text:
        raise ValueError("Kamailio test strings may not hold quotes, backslashes or line breaks")
    return f'"{text}"'


@dataclass
class Kamailio:
    """One Kamailio process; `start` and `stop` as often as a test likes, on the same ports.

    As a registrar (the default): REGISTERs are challenged (401) in
    REGISTRAR_REALM and saved after digest authentication with the user's
    password; `rejects` answers chosen To users with a fixed reply first;
    an authenticated user registering an AoR it doesn't own gets 403.
    As an outbound proxy (`outbound_proxy`): REGISTERs are challenged (407) in
    PROXY_REALM, then relayed, loose routing, to the port `forward` gives
    for the Request-URI's domain, as a proxy routes a domain it serves.
    OPTIONS to Kamailio itself are answered 200 either way.
    """

    directory: Path
    users: list[SipUser]
    algorithm: str = "MD5"
    rejects: dict[str, tuple[int, str]] = field(default_factory=dict)
    min_expires: int = 10
    reply_423: bool = False
    outbound_proxy: bool = False
    forward: dict[str, int] = field(default_factory=dict)  # outbound proxy: Request-URI domain -> port on 127.0.0.1
    certificates: TlsCertificates | None = None
    port: int = 0
    tls_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.control = self.directory / "ctl.sock"
        self.log_path = self.directory / "kamailio.log"
        self.dump_directory = self.directory / "sipdump"
        self.dump_directory.mkdir(exist_ok=True)
        self.tls = self.certificates is not None and tls_available()

    # --- process ------------------------------------------------------------------

    def start(self) -> None:
        keep_ports = self.port != 0
        for _ in range(1 if keep_ports else 3):
            if not keep_ports:
                self.port, self.tls_port = _free_port_pair(), _free_tcp_port()
            self._write_configuration()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [
                        KAMAILIO,
                        "-f",
                        str(self.directory / "kamailio.cfg"),
                        "-DD",
                        "-E",
                        "-m",
                        "32",
                        "-M",
                        "4",
                        "-w",
                        str(self.directory),
                        "-Y",
                        str(self.directory),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f"Kamailio did not start; its log:\n{self.log()[-4000:]}")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                return False
            if self.control.exists() and self._kamcmd("core.version").returncode == 0:
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self._settle_dump()
            # The main process stops its children, but now and then its TCP
            # worker never exits: after a grace period, the group is killed.
            self.process.terminate()
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # any child left behind
        self.process = None
        self.control.unlink(missing_ok=True)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- what it saw ---------------------------------------------------------------

    def _kamcmd(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([KAMCMD, "-s", f"unix:{self.control}", *args], capture_output=True, text=True, timeout=10)

    def contacts(self, aor: str) -> list[str]:
        """The Contact URIs bound to `aor` in the location table."""
        result = self._kamcmd("ul.lookup", "location", aor)
        if result.returncode != 0:
            if "not found" in (result.stdout + result.stderr).lower():
                return []
            raise RuntimeError(f"kamcmd ul.lookup failed: {result.stdout}{result.stderr}")
        return re.findall(r"Address:\s*(\S+)", result.stdout)

    def add_contact(self, aor: str, uri: str, expires: int = 3600) -> None:
        """Bind `uri` to `aor` directly, as another device of the number would have."""
        result = self._kamcmd("ul.add", "location", aor, uri, str(expires), "1.0", ".", "0", "0", "0")
        if result.returncode != 0:
            raise RuntimeError(f"kamcmd ul.add failed: {result.stdout}{result.stderr}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def events(self) -> list[dict[str, str]]:
        """The `SB ...` lines the configuration logs for each request, as dicts of their fields."""
        return [dict(re.findall(r"(\w+)=(\S*)", line)) for line in re.findall(r"SB (.*)", self.log())]

    def wire(self) -> str:
        """Every SIP message Kamailio received or sent, as its sipdump module wrote them so far."""
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.dump_directory.glob("*.data")))

    def wire_with(self, *texts: str) -> str:
        """The wire once it holds every one of `texts`: sipdump writes from its own process, a
        moment after the message. Gives up after DUMP_SECONDS and returns what is there."""
        deadline = time.monotonic() + DUMP_SECONDS
        while True:
            wire = self.wire()
            if all(text in wire for text in texts) or time.monotonic() > deadline:
                return wire
            time.sleep(0.02)

    def _settle_dump(self) -> None:
        """Let sipdump write what it has queued before the process stops."""
        deadline, size = time.monotonic() + DUMP_SECONDS, -1
        while time.monotonic() < deadline:
            current = sum(p.stat().st_size for p in self.dump_directory.glob("*.data"))
            if current == size:
                return
            size = current
            time.sleep(0.05)

    # --- configuration ----------------------------------------------------------------

    def _write_configuration(self) -> None:
        directory = module_directory()
        assert directory is not None
        listen = [f"listen=udp:127.0.0.1:{self.port}", f"listen=tcp:127.0.0.1:{self.port}"]
        modules = [
            "kex",
            "corex",
            "tm",
            "sl",
            "rr",
            "pv",
            "xlog",
            "textops",
            "ctl",
            "usrloc",
            "registrar",
            "auth",
            "sipdump",
        ]
        parameters = [
            f'modparam("ctl", "binrpc", "unix:{self.control}")',
            'modparam("usrloc", "db_mode", 0)',
            f'modparam("auth", "secret", {_literal(os.urandom(16).hex())})',
            f'modparam("auth", "algorithm", {_literal(self.algorithm)})',
            f'modparam("registrar", "min_expires", {self.min_expires})',
            f'modparam("registrar", "min_expires_mode", {1 if self.reply_423 else 0})',
            'modparam("sipdump", "enable", 1)',
            f'modparam("sipdump", "folder", {_literal(str(self.dump_directory))})',
        ]
        if self.tls:
            assert self.certificates is not None
            listen.append(f"listen=tls:127.0.0.1:{self.tls_port}")
            modules.append("tls")
            tls_configuration = self.directory / "tls.cfg"
            tls_configuration.write_text(
                "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n"
                f"private_key = {self.certificates.key_file}\ncertificate = {self.certificates.certificate_file}\n"
                "[client:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n"
            )
            parameters.append(f'modparam("tls", "config", {_literal(str(tls_configuration))})')
        head = [
            "#!KAMAILIO",
            "debug=2",
            "log_stderror=yes",
            "children=2",
            "tcp_children=2",
            # No DNS at all: every address in these tests is a literal.
            "auto_aliases=no",
            "dns=no",
            "rev_dns=no",
            "use_dns_cache=off",
            "dns_try_ipv6=no",
            "dns_try_naptr=no",
            "dns_srv_lb=no",
            f"enable_tls={'yes' if self.tls else 'no'}",
            *listen,
            f'mpath="{directory}/"',
            *(f'loadmodule "{m}.so"' for m in modules),
            *parameters,
        ]
        route = self._proxy_routes() if self.outbound_proxy else self._registrar_routes()
        (self.directory / "kamailio.cfg").write_text("\n".join(head + route) + "\n")

    def _passwords(self) -> list[str]:
        lines = ['    $var(pw) = "";']
        for user in self.users:
            lines.append(f"    if ($au == {_literal(user.auth_user)}) {{ $var(pw) = {_literal(user.password)}; }}")
        return lines

    def _registrar_routes(self) -> list[str]:
        rejects = [
            f'    if ($tU == {_literal(user)}) {{ sl_send_reply("{code}", {_literal(reason)}); exit; }}'
            for user, (code, reason) in self.rejects.items()
        ]
        owns = (
            " || ".join(
                f"($au == {_literal(u.auth_user)} && ({' || '.join(f'$tU == {_literal(a)}' for a in u.may_register())}))"
                for u in self.users
            )
            or "0"
        )
        return [
            "request_route {",
            '    xlog("L_NOTICE", "SB method=$rm to=$tU au=$au expires=$hdr(Expires) proto=$pr src=$si\\n");',
            '    if (is_method("OPTIONS")) { sl_send_reply("200", "OK"); exit; }',
            '    if (!is_method("REGISTER")) { sl_send_reply("405", "Method Not Allowed"); exit; }',
            *rejects,
            *self._passwords(),
            f'    if ($var(pw) == "" || !pv_www_authenticate("{REGISTRAR_REALM}", "$var(pw)", "0")) {{',
            f'        www_challenge("{REGISTRAR_REALM}", "1");',
            "        exit;",
            "    }",
            f'    if (!({owns})) {{ sl_send_reply("403", "Forbidden auth ID"); exit; }}',
            # Logged before save() replies, so the line is there once the client has its answer.
            '    xlog("L_NOTICE", "SB store=$tU au=$au expires=$hdr(Expires)\\n");',
            '    if (!save("location")) { sl_reply_error(); exit; }',
            "    exit;",
            "}",
        ]

    def _proxy_routes(self) -> list[str]:
        return [
            "request_route {",
            '    xlog("L_NOTICE", "SB method=$rm to=$tU au=$au ruri=$ru proto=$pr src=$si\\n");',
            '    if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "OK"); exit; }',
            '    if (is_method("REGISTER")) {',
            *self._passwords(),
            f'        if ($var(pw) == "" || !pv_proxy_authenticate("{PROXY_REALM}", "$var(pw)", "0")) {{',
            f'            proxy_challenge("{PROXY_REALM}", "1");',
            "            exit;",
            "        }",
            "        consume_credentials();",
            "    }",
            "    loose_route();",
            *(
                f'    if ($rd == {_literal(domain)}) {{ $du = "sip:127.0.0.1:{port}"; }}'
                for domain, port in self.forward.items()
            ),
            "    if (!t_relay()) { sl_reply_error(); }",
            "    exit;",
            "}",
        ]
