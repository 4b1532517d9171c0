"""The issuing agency's signing key and certificate, and the roots a signature is checked against.

Development (the default): a development CA made on first use under ``DATA_DIR/pki`` (or
``DANCU_DOCUMENTS_PKI_DIR``) — a root CA and an issuing-agency certificate it signs, the keys
written 0600 — so a fresh install signs results with nothing to set up. Its root is the trust
root of verification; any other validator (Adobe, ``pdfsig``) calls the signature valid but the
signer untrusted, as it must for a CA nobody installed.

Production: the agency's certificate comes from the national CA (the Government Cipher
Committee's root, or a licensed CA) as a PKCS#12 file — ``DANCU_DOCUMENTS_SIGNER_PKCS12`` and its
passphrase in ``DANCU_DOCUMENTS_SIGNER_PASSPHRASE`` — and the roots verification trusts as a PEM
file, ``DANCU_DOCUMENTS_TRUST_ROOTS``. With ``DANCU_ENV=production`` and no PKCS#12 file, issuing
a signed document refuses (``ImproperlyConfigured``) instead of making a development CA. A key
held in an HSM is signed through pyHanko's PKCS#11 signer (see docs/documents.md).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from functools import lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign import signers

ROOT_CERT, ROOT_KEY = "root-ca.pem", "root-ca.key"
AGENCY_CERT, AGENCY_KEY = "agency.pem", "agency.key"
ROOT_NAME = "dancu development root CA (not for production)"
AGENCY_NAME = "dancu development issuing agency"


def pki_dir() -> Path:
    configured = getattr(settings, "DANCU_DOCUMENTS_PKI_DIR", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "pki"


def _pkcs12() -> str:
    return str(getattr(settings, "DANCU_DOCUMENTS_SIGNER_PKCS12", "") or "")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "dancu (development)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def ensure_dev_ca(directory: Path | None = None) -> Path:
    """The development root CA and agency certificate, made once (under a file lock, so two
    worker processes starting together make one CA). Returns the directory."""
    directory = directory or pki_dir()
    if (directory / AGENCY_CERT).exists() and (directory / ROOT_CERT).exists():
        return directory
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / AGENCY_CERT).exists():
            _make_dev_ca(directory)
    return directory


def _make_dev_ca(directory: Path) -> None:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (x509.CertificateBuilder()
            .subject_name(_name(ROOT_NAME)).issuer_name(_name(ROOT_NAME))
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=20 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(root_ski, critical=False)
            .sign(root_key, hashes.SHA256()))
    agency_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    agency = (x509.CertificateBuilder()
              .subject_name(_name(AGENCY_NAME)).issuer_name(root.subject)
              .public_key(agency_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now).not_valid_after(now + dt.timedelta(days=5 * 365))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                           key_encipherment=False, data_encipherment=False,
                                           key_agreement=False, key_cert_sign=False, crl_sign=False,
                                           encipher_only=False, decipher_only=False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(agency_key.public_key()),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
                             critical=False)
              .sign(root_key, hashes.SHA256()))
    _write(directory / ROOT_KEY, _key_pem(root_key), 0o600)
    _write(directory / AGENCY_KEY, _key_pem(agency_key), 0o600)
    _write(directory / ROOT_CERT, root.public_bytes(serialization.Encoding.PEM), 0o644)
    # Written last: its presence means the CA is complete.
    _write(directory / AGENCY_CERT, agency.public_bytes(serialization.Encoding.PEM), 0o644)


def signer() -> signers.SimpleSigner:
    """The issuing agency's signer: the configured PKCS#12 file, else the development CA's."""
    pkcs12 = _pkcs12()
    if pkcs12:
        passphrase = str(getattr(settings, "DANCU_DOCUMENTS_SIGNER_PASSPHRASE", "") or "")
        loaded = signers.SimpleSigner.load_pkcs12(pkcs12, passphrase=passphrase.encode() or None)
    else:
        if getattr(settings, "PRODUCTION", False):
            raise ImproperlyConfigured(
                "No signing certificate: set DANCU_DOCUMENTS_SIGNER_PKCS12 to the issuing agency's "
                "PKCS#12 file (docs/documents.md); production never makes a development CA")
        directory = ensure_dev_ca()
        loaded = signers.SimpleSigner.load(str(directory / AGENCY_KEY), str(directory / AGENCY_CERT),
                                           ca_chain_files=(str(directory / ROOT_CERT),))
    if loaded is None:
        raise ImproperlyConfigured("The signing key or certificate could not be read")
    return loaded


@lru_cache(maxsize=8)
def _roots_from(paths: tuple[str, ...]) -> tuple:
    return tuple(load_certs_from_pemder(list(paths)))


def trust_roots() -> tuple:
    """The roots a document's signature must chain to (asn1crypto certificates): those of
    ``DANCU_DOCUMENTS_TRUST_ROOTS`` and, unless production, the development CA's root."""
    paths: list[str] = []
    configured = str(getattr(settings, "DANCU_DOCUMENTS_TRUST_ROOTS", "") or "")
    if configured:
        paths.append(configured)
    if not getattr(settings, "PRODUCTION", False):
        paths.append(str(ensure_dev_ca() / ROOT_CERT))
    return _roots_from(tuple(paths))
