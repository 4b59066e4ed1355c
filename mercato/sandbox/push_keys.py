"""The credentials of the push stand-ins, made once under var/keys (as Apple and Google would hand them
out): what the notifications service signs with, and what the stand-ins verify with.

* `push-sandbox-apns-key.p8`: an APNs auth key, a P-256 private key in PKCS#8 PEM, as Apple's
  developer portal lets you download it; its key id and team id are `APNS_KEY_ID` and `APNS_TEAM_ID`.
* `push-sandbox-fcm-service-account.json`: a Google service account key file (RSA, as the Cloud
  console downloads it), for project `FCM_PROJECT_ID`, whose `token_uri` is the FCM stand-in's.
* `push-sandbox-tls.pem` and `push-sandbox-tls-key.pem`: the APNs stand-in's self-signed certificate
  (for 127.0.0.1 and localhost) and its key; the client trusts that certificate and nothing else.

`ensure(keys_dir, token_uri)` makes whichever file is missing (private keys mode 0600), atomically, so
that `mercato up` and the stand-in may both call it. Nothing here imports the platform.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

APNS_KEY_ID = "MERCATO0KY"  # ten characters, like Apple's key ids
APNS_TEAM_ID = "MERCATO0TM"
FCM_PROJECT_ID = "mercato-sandbox"
FCM_CLIENT_EMAIL = f"mercato-push@{FCM_PROJECT_ID}.iam.gserviceaccount.com"

APNS_KEY = "push-sandbox-apns-key.p8"
FCM_SERVICE_ACCOUNT = "push-sandbox-fcm-service-account.json"
TLS_CERT = "push-sandbox-tls.pem"
TLS_KEY = "push-sandbox-tls-key.pem"


def _write_once(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write `path` unless it exists: a whole file or none, even with a concurrent writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)  # fails if another writer was first: theirs stays
    finally:
        os.unlink(temporary)


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def ensure(keys_dir: Path, *, token_uri: str) -> None:
    """Make the stand-ins' credentials that are missing under `keys_dir`."""
    if not (keys_dir / APNS_KEY).exists():
        _write_once(keys_dir / APNS_KEY, _pem(ec.generate_private_key(ec.SECP256R1())))
    if not (keys_dir / FCM_SERVICE_ACCOUNT).exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        account = {
            "type": "service_account",
            "project_id": FCM_PROJECT_ID,
            "private_key_id": secrets.token_hex(20),
            "private_key": _pem(key).decode(),
            "client_email": FCM_CLIENT_EMAIL,
            "client_id": str(secrets.randbelow(10**20)),
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": token_uri,
        }
        _write_once(keys_dir / FCM_SERVICE_ACCOUNT, json.dumps(account, indent=2).encode())
    if not (keys_dir / TLS_CERT).exists():
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mercato APNs stand-in")])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        # the key first: a certificate on disk means its key is there too
        _write_once(keys_dir / TLS_KEY, _pem(key))
        _write_once(keys_dir / TLS_CERT, certificate.public_bytes(serialization.Encoding.PEM), 0o644)


def apns_public_key(keys_dir: Path) -> ec.EllipticCurvePublicKey:
    key = serialization.load_pem_private_key((keys_dir / APNS_KEY).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key.public_key()


def fcm_service_account(keys_dir: Path) -> dict[str, str]:
    return json.loads((keys_dir / FCM_SERVICE_ACCOUNT).read_text())


def fcm_public_key(keys_dir: Path) -> rsa.RSAPublicKey:
    account = fcm_service_account(keys_dir)
    key = serialization.load_pem_private_key(account["private_key"].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.public_key()
